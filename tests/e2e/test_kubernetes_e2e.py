"""The Kubernetes prod overlay of three examples on podman 4.3.1's `kube play`: the very
manifests `kubectl kustomize k8s/overlays/prod` builds, every pod running with its
liveness probe passing and its app answering on its port, then `podman kube down` and
nothing of it left (volumes, secrets, the network).

podman ignores Services, so each Deployment is played with a network alias named like its
Service (the cluster's DNS); it cannot read a Secret document it stored itself, so the
test creates the podman secret the Deployments read; it does not expand `$(VAR)` in `env`
values, so the test expands them by the kubelet's rules first (docs/kubernetes.md says
what else podman cannot check)."""

from __future__ import annotations

import base64
import json
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dockergen.pipeline import render
from dockergen.render.kubernetes.probes import podman_safe
from dockergen.render.kubernetes.values import k8s_name
from tests.conftest import ROOT
from tests.e2e import engine as eng
from tests.e2e.conftest import not_available, rendered_copy
from tests.e2e.smoke import SMOKE
from tests.k8s_tools import kustomize

EXAMPLES = [ROOT / "examples" / name for name in ("fastapi-celery", "microservices", "uv-fastapi-celery")]


def _names(kind: str) -> set[str]:
    return set(eng.podman(kind, "ls", "--format", "{{.Name}}").stdout.split())


def _pods_of(name: str) -> list[str]:
    out = eng.podman("pod", "ps", "--format", "{{.Name}}", "--filter", f"name=^{name}-pod-", check=False).stdout
    return [line for line in out.split() if line]


def _play_order(deployments: list[dict[str, Any]], depends: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Dependencies first, so a pod finds what it connects to at start."""
    by_name = {d["metadata"]["name"]: d for d in deployments}
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order or name not in by_name:
            return
        for dep in depends.get(name, []):
            visit(dep)
        order.append(name)

    for name in by_name:
        visit(name)
    return [by_name[n] for n in order]


def _referenced(deployment: dict[str, Any], kind: str) -> set[str]:
    pod = deployment["spec"]["template"]["spec"]
    if kind == "ConfigMap":
        return {ref["configMapRef"]["name"] for c in pod["containers"] for ref in c.get("envFrom", [])}
    return {v["persistentVolumeClaim"]["claimName"] for v in pod.get("volumes", []) if "persistentVolumeClaim" in v}


_REFERENCE = re.compile(r"\$\$|\$\(([-._a-zA-Z0-9]+)\)")


def _kubelet_expanded(deployment: dict[str, Any], configs: dict[str, dict[str, str]], secrets: dict[str, str]) -> dict[str, Any]:
    """``deployment`` with `$(VAR)` in `env` values expanded as the kubelet does: from the
    variables defined before it (envFrom first, then the entries above); `$$` is `$`."""
    deployment = json.loads(json.dumps(deployment))
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        known: dict[str, str] = {}
        for ref in container.get("envFrom", []):
            known.update(configs[ref["configMapRef"]["name"]])
        for entry in container.get("env", []):
            if "valueFrom" in entry:
                known[entry["name"]] = secrets[entry["valueFrom"]["secretKeyRef"]["key"]]
                continue
            entry["value"] = _REFERENCE.sub(lambda m: "$" if m.group(0) == "$$" else known.get(m.group(1), m.group(0)), entry["value"])
            known[entry["name"]] = entry["value"]
    return deployment


def _address(pod: str, network: str) -> str:
    infra = eng.podman("pod", "inspect", pod, "--format", "{{.InfraContainerID}}").stdout.strip()
    data = json.loads(eng.podman("inspect", infra).stdout)[0]
    return data["NetworkSettings"]["Networks"][network]["IPAddress"]


@dataclass(frozen=True)
class _Pods:
    """The played pods, shaped like the Compose stack the smoke checks talk to."""

    network: str
    deployments: tuple[str, ...]

    def containers(self) -> dict[str, str]:
        return {name: f"{pods[0]}-{name}" for name in self.deployments if (pods := _pods_of(name))}

    def ip(self, service: str) -> str:
        return _address(_pods_of(service)[0], self.network)

    def inspect(self, service: str) -> dict[str, Any]:
        return json.loads(eng.podman("inspect", self.containers()[service]).stdout)[0]

    def exec(self, service: str, *cmd: str) -> str:
        return eng.podman("exec", self.containers()[service], *cmd, timeout=60).stdout

    def logs(self, service: str, tail: int = 200) -> str:
        return "".join(f"{pod}: " + eng.podman("logs", "--tail", str(tail), f"{pod}-{service}", check=False).stdout for pod in _pods_of(service))


def _answers(address: str, container: dict[str, Any]) -> bool:
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    http = container.get("readinessProbe", {}).get("httpGet")
    if http is not None:
        status, _ = eng.http_get(f"http://{address}:{ports[http['port']]}{http['path']}", timeout=3)
        return status == 200
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((address, next(iter(ports.values())))) == 0


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_prod_overlay_plays_on_podman_healthy_and_leaves_nothing(example: Path, engine: eng.Engine, workspace: Path) -> None:
    workdir = rendered_copy(example, workspace)
    result = render(workdir / "dockergen.yaml")
    prod = result.project.environments["prod"]
    docs = kustomize(workdir / "k8s" / "overlays" / "prod")
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    image_of = {d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["image"] for d in deployments}
    stock = [image_of[k8s_name(n)] for n, s in prod.services.items() if s.plan is None]
    missing = [image for image in stock if not eng.image_exists(image)]
    if missing:
        not_available(f"image(s) not present locally: {', '.join(missing)}")
    for dockerfile in sorted({s.plan.dockerfile for s in prod.services.values() if s.plan}):
        users = [(n, s) for n, s in prod.services.items() if s.plan and s.plan.dockerfile == dockerfile]
        plan = users[0][1].plan
        tags = tuple(sorted({eng.docker_reference(image_of[k8s_name(n)]) for n, _ in users}))
        eng.build(eng.BuildCase(workdir / dockerfile, workdir / plan.build.context, "prod", (), tags, ("prod",)))

    network = f"{eng.PROJECT_PREFIX}k8s-{example.name}"
    by_kind = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    keys: dict[str, set[str]] = {}
    for d in deployments:
        for c in d["spec"]["template"]["spec"]["containers"]:
            for e in c.get("env", []):
                if "valueFrom" in e:
                    ref = e["valueFrom"]["secretKeyRef"]
                    keys.setdefault(ref["name"], set()).add(ref["key"])
    secret_values = {key: f"e2e-{key.lower()}" for values in keys.values() for key in values}
    configs = {n: d["data"] for (k, n), d in by_kind.items() if k == "ConfigMap"}
    depends = {k8s_name(n): [k8s_name(d) for d in s.settings.depends_on or []] for n, s in prod.services.items()}
    played: list[Path] = []
    volumes = {v["name"] for d in deployments for v in d["spec"]["template"]["spec"].get("volumes", []) if "emptyDir" in v}
    volumes |= {name for d in deployments for name in _referenced(d, "PersistentVolumeClaim")}

    with eng.exclusive():
        before = {kind: _names(kind) for kind in ("volume", "secret", "network")}
        try:
            eng.podman("network", "create", network)
            for name, values in keys.items():
                data = {key: base64.b64encode(secret_values[key].encode()).decode() for key in sorted(values)}
                secret_file = workspace / f"{example.name}-{name}.json"
                secret_file.write_text(json.dumps(data))
                eng.podman("secret", "create", name, str(secret_file))
            for deployment in _play_order(deployments, depends):
                name = deployment["metadata"]["name"]
                parts = [by_kind[("ConfigMap", c)] for c in sorted(_referenced(deployment, "ConfigMap"))]
                parts += [by_kind[("PersistentVolumeClaim", c)] for c in sorted(_referenced(deployment, "PersistentVolumeClaim"))]
                manifest = workspace / f"{example.name}-{name}.yaml"
                played_deployment = _kubelet_expanded(deployment, configs, secret_values)
                manifest.write_text("---\n".join(json.dumps(p) + "\n" for p in [*parts, played_deployment]))
                played.append(manifest)
                eng.podman("kube", "play", "--network", f"{network}:alias={name}", str(manifest), timeout=300)

            for deployment in deployments:
                name = deployment["metadata"]["name"]
                container = deployment["spec"]["template"]["spec"]["containers"][0]
                pods = eng.eventually(lambda: len(_pods_of(name)) == deployment["spec"]["replicas"] and _pods_of(name), timeout=60, what=f"{name}: pods")
                for pod in pods:
                    ctr = f"{pod}-{container['name']}"
                    eng.eventually(
                        lambda: eng.podman("inspect", "--format", "{{.State.Status}}", ctr).stdout.strip() == "running",
                        timeout=90, what=f"{ctr} running",
                    )  # fmt: skip
                    command = container.get("livenessProbe", {}).get("exec", {}).get("command")
                    # podman runs a probe of words that are not plain as one unquoted shell line
                    # (lint DG023): it cannot judge that probe; a cluster runs it as written.
                    if command and podman_safe(command):
                        eng.eventually(
                            lambda: eng.podman("healthcheck", "run", ctr, check=False).returncode == 0,
                            timeout=180, interval=3, what=f"{ctr}: liveness probe passes",
                        )  # fmt: skip
                    address = _address(pod, network)
                    if container.get("ports"):
                        eng.eventually(lambda: _answers(address, container), timeout=120, interval=2, what=f"{ctr} answers on its port")
                    user = deployment["spec"]["template"]["spec"]["securityContext"].get("runAsUser")
                    if user is not None:
                        assert eng.podman("exec", ctr, "id", "-u").stdout.strip() == str(user)
                    if container["securityContext"].get("readOnlyRootFilesystem"):
                        assert eng.podman("exec", ctr, "touch", "/probe-write", check=False).returncode != 0
                        assert eng.podman("exec", ctr, "touch", "/tmp/probe-write", check=False).returncode == 0
            # One real path through the apps (worker <-> Redis, API <-> PostgreSQL with the
            # Secret's password, service -> service by Service name), as the Compose e2e does.
            SMOKE[example.name](_Pods(network, tuple(d["metadata"]["name"] for d in deployments)))  # type: ignore[arg-type]
        finally:
            for manifest in reversed(played):
                eng.podman("kube", "down", str(manifest), check=False, timeout=180)
            for volume in sorted(volumes):
                eng.podman("volume", "rm", "--force", volume, check=False)
            for name in keys:
                eng.podman("secret", "rm", name, check=False)
            eng.podman("network", "rm", "--force", network, check=False)
        left = {
            name: sorted(_names(kind) - before[kind])
            for name, kind in (("volumes", "volume"), ("secrets", "secret"), ("networks", "network"))
        }
        pods = [p for d in deployments for p in _pods_of(d["metadata"]["name"])]
        assert not pods and not any(left.values()), f"left behind: pods {pods}, {left}"
