"""Health probes for the programs a `uses` service runs on another service's image.

The image's own ``HEALTHCHECK`` probes the server its builder runs (an HTTP port); a Celery
worker on the same image would be "unhealthy" forever under it. So a `uses` service that
declares no probe gets one for its command when the program has a way to answer (a Celery
worker's ``inspect ping``, arq's ``--check``, Flower's ``/healthcheck``), and otherwise an
explicit ``disable`` with the reason (Celery beat, rq and dramatiq answer nothing).
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass, field
from typing import Any

# Wrappers that run the real program: `python -m celery`, `uv run celery`, `exec celery`.
_RUNNERS = {("uv", "run"), ("poetry", "run"), ("pdm", "run"), ("pipenv", "run"), ("hatch", "run")}
_PYTHONS = {"python", "python3"}
# Celery's options that take a value before the subcommand (celery 5) or after it (celery 4).
_CELERY_VALUED = {"-A", "--app", "-b", "--broker", "--result-backend", "--loader", "--config", "--workdir"}
_CELERY_KEPT = {"-A": "-A", "--app": "-A", "-b": "-b", "--broker": "-b"}  # what the ping needs too
_NO_PROBE = {
    ("celery", "beat"): "celery beat is a scheduler and answers no ping",
    ("celery", "events"): "celery events answers no ping",
    ("rq", "worker"): "an rq worker answers no probe of its own",
    ("dramatiq", None): "a dramatiq worker answers no probe of its own",
    ("huey_consumer", None): "a huey consumer answers no probe of its own",
}


@dataclass(frozen=True)
class CommandProbe:
    """A probe for one known program, or ``test=None`` when it has none."""

    program: str  # e.g. `celery worker`
    test: tuple[str, ...] | None
    note: str
    timing: dict[str, Any] = field(default_factory=dict)
    http: tuple[int, str] | None = None  # (port, path): a generated HTTP probe instead of `test`


def probe_for(entrypoint: str | list[str] | None, command: str | list[str] | None) -> CommandProbe | None:
    """The probe for what the container runs, or None when the program is not one we know."""
    argv = _argv(entrypoint) + _argv(command)
    prefix, rest = _program(argv)
    if not rest:
        return None
    program = posixpath.basename(rest[0])
    if program == "celery":
        return _celery(prefix + [rest[0]], rest[1:])
    if program == "arq":
        settings = next((a for a in rest[1:] if not a.startswith("-")), None)
        if settings is None:
            return None
        test = (*prefix, rest[0], "--check", settings)
        return CommandProbe("arq", ("CMD", *test), "arq --check reads the worker's health record in Redis", dict(_WORKER_TIMING))
    for (name, sub), reason in _NO_PROBE.items():
        if program == name and (sub is None or sub in rest[1:]):
            return CommandProbe(f"{name} {sub}" if sub else name, None, reason)
    return None


_WORKER_TIMING = {"interval": "30s", "timeout": "15s", "start_period": "30s", "retries": 3}


def _argv(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    try:
        return shlex.split(value)  # as Compose splits a string command
    except ValueError:
        return []


def _program(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split off what only launches the program: ``python -m``, ``uv run``, ``exec``."""
    prefix: list[str] = []
    rest = list(argv)
    while rest:
        head = posixpath.basename(rest[0])
        if head == "exec":
            rest = rest[1:]
        elif (head, rest[1] if len(rest) > 1 else None) in _RUNNERS:
            prefix, rest = prefix + rest[:2], rest[2:]
        elif head in _PYTHONS or head.startswith("python3."):
            if len(rest) < 3 or rest[1] != "-m":
                return prefix, []
            # `python -m celery ...`: the module stands where the program would.
            prefix, rest = prefix + rest[:2], rest[2:]
        else:
            return prefix, rest
    return prefix, rest


def _celery(launcher: list[str], args: list[str]) -> CommandProbe | None:
    kept: list[str] = []  # -A/-b, needed by `inspect ping` too
    sub: str | None = None
    node = "celery@%h"
    port, prefix_path = "5555", ""
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, inline = arg.partition("=")
        short = arg[:2] if arg.startswith("-") and not arg.startswith("--") and len(arg) > 2 else None
        if short in ("-A", "-b", "-n"):
            name, eq, inline = short, "=", arg[2:]
        value = inline if eq else (args[i + 1] if i + 1 < len(args) else "")
        step = 1 if eq else 2
        if name in _CELERY_KEPT:
            kept += [_CELERY_KEPT[name], value]
        elif name in ("-n", "--hostname") and sub == "worker":
            node = value
        elif name == "--port" and sub == "flower":
            port = value
        elif name == "--url_prefix" and sub == "flower":
            prefix_path = "/" + value.strip("/") if value.strip("/") else ""
        elif name in _CELERY_VALUED:
            pass
        elif not arg.startswith("-") and sub is None:
            sub, step = arg, 1
        else:
            step = 1
        i += step
    if sub == "worker":
        ping = shlex.join([*launcher, *kept, "inspect", "ping", "--timeout", "5"])
        destination = _node(node)
        if destination is not None:
            ping += f' -d "{destination}"'
        note = "celery inspect ping asks this worker (by its node name) to answer through the broker"
        return CommandProbe("celery worker", ("CMD-SHELL", ping), note, dict(_WORKER_TIMING))
    if sub == "flower" and port.isdigit():
        note = "Flower answers GET /healthcheck without authentication"
        return CommandProbe("celery flower", None, note, {}, http=(int(port), f"{prefix_path}/healthcheck"))
    if sub is not None and ("celery", sub) in _NO_PROBE:
        return CommandProbe(f"celery {sub}", None, _NO_PROBE[("celery", sub)])
    return None


def _node(name: str) -> str | None:
    """The worker's node name with the container's hostname for ``%h``/``%n``, or None when
    it uses other placeholders. ``$(hostname)``, not ``$HOSTNAME``: podman 4.3 leaves that
    variable out of a healthcheck's environment. ``$$`` keeps the ``$`` from Compose."""
    if "@" not in name:
        name = f"celery@{name}"
    if any(c in name for c in "\"`\\$"):
        return None
    expanded = name.replace("%h", "$$(hostname)").replace("%n", "$$(hostname)")
    return None if "%" in expanded else expanded
