"""Kubernetes probes from a service's resolved healthcheck.

- A generated HTTP healthcheck: `httpGet` startup and readiness probes (the kubelet asks,
  nothing runs in the container), and an exec liveness probe running the image's own
  probe entry point (``PROBE``, shipped by the Dockerfile templates), so that podman's
  `kube play`, which runs only liveness probes and turns `httpGet` into `curl` (absent from
  the images), checks the same endpoint.
- Any other healthcheck: the same command as an exec probe for all three. A `CMD-SHELL`
  string that is plain words runs without a shell; anything else runs under `sh -c`.
- No healthcheck but a port: a `tcpSocket` readiness probe, so a Service routes only to a
  pod that accepts connections.

podman 4.3 joins an exec probe's arguments with spaces into one shell line, unquoted; a
probe survives that only when every argument is a plain word (``podman_safe``).
"""

from __future__ import annotations

import math
import re
import shlex
from typing import Any

from dockergen.durations import DOCKER_DEFAULTS, DOCKER_RETRIES, count, literal
from dockergen.render.dockerfile import ships_probe
from dockergen.render.kubernetes.values import seconds, without_interpolation
from dockergen.resolve import ResolvedHealthcheck, ResolvedService, probe_timeout

PROBE = "/usr/local/bin/dockergen-probe"
DEFAULT_TIMEOUT = "30s"  # Docker's, for a healthcheck that names none
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def podman_safe(command: list[str]) -> bool:
    """Whether the command means the same joined into one unquoted shell line."""
    return all(_PLAIN_WORD.fullmatch(arg) for arg in command)


def exec_command(hc: ResolvedHealthcheck, service: ResolvedService, defaults: dict[str, str]) -> list[str] | None:
    """The healthcheck as an exec probe command; None when it has none or a `${VAR}`
    without a default (a probe is not interpolated)."""
    if hc.http is not None and service.plan is not None and ships_probe(service.plan):
        port, path = hc.http
        # The image's probe gives up when the generated Compose probe does (``probe_timeout``).
        return [PROBE, f"http://127.0.0.1:{port}{path}", f"{probe_timeout(literal(hc.timeout or DEFAULT_TIMEOUT, DEFAULT_TIMEOUT)):g}"]
    test = list(hc.test or ())
    if not test or test[0] == "NONE":
        return None
    args = [without_interpolation(arg, defaults.get) for arg in test[1:]]
    if any(arg is None for arg in args):
        return None
    words = [arg for arg in args if arg is not None]
    if test[0] == "CMD":
        return words
    script = " ".join(words)
    try:
        split = shlex.split(script)
    except ValueError:
        split = []
    # Plain words need no shell, and then podman's joined line is the same command.
    if split and podman_safe(split) and shlex.join(split) == script:
        return split
    return ["/bin/sh", "-c", script]


def probes(service: ResolvedService, http_port_name: str | None, first_port: int | None, defaults: dict[str, str]) -> dict[str, Any]:
    """``startupProbe``/``readinessProbe``/``livenessProbe`` of the service's container."""
    hc = service.healthcheck
    if hc is None or hc.disable:
        if hc is None and first_port is not None:
            return {"readinessProbe": {"tcpSocket": {"port": first_port}, "periodSeconds": 10}}
        return {}
    command = exec_command(hc, service, defaults)
    if command is None:
        return {}
    period = seconds(literal(hc.interval or "30s", DOCKER_DEFAULTS["interval"]))
    retries = count(hc.retries) if hc.retries is not None else DOCKER_RETRIES
    timing = {"periodSeconds": period, "timeoutSeconds": seconds(literal(hc.timeout or DEFAULT_TIMEOUT, DOCKER_DEFAULTS["timeout"])),
              "failureThreshold": retries}  # fmt: skip
    liveness: dict[str, Any] = {"exec": {"command": command}, **timing}
    check: dict[str, Any] = dict(liveness)
    if hc.http is not None and http_port_name is not None:
        check = {"httpGet": {"path": hc.http[1], "port": http_port_name}, **timing}
    out: dict[str, Any] = {}
    if hc.start_period:
        step = seconds(literal(hc.start_interval, DOCKER_DEFAULTS["start_interval"])) if hc.start_interval else min(period, 5)
        startup_budget = math.ceil(seconds(literal(hc.start_period, DOCKER_DEFAULTS["start_period"])) / step) + retries
        out["startupProbe"] = {**check, "periodSeconds": step, "failureThreshold": startup_budget}
    out["readinessProbe"] = check
    out["livenessProbe"] = liveness
    return out
