"""The Kubernetes output of every example that enables it, judged by the real tools:
kubectl's kustomize builds every overlay, the result validates strictly against the
Kubernetes OpenAPI schemas, checkov finds nothing docs/kubernetes.md does not justify,
and each built overlay is the resolved environment."""

from __future__ import annotations

import json
import posixpath
import re
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from dockergen.pipeline import Rendered, render
from dockergen.render.kubernetes import deploying
from dockergen.render.kubernetes.workload import Notes, environment_manifests
from dockergen.resolve import probe_timeout
from dockergen.sensitive import looks_secret
from tests.conftest import EXAMPLES, ROOT
from tests.k8s_tools import kustomize, scan, validate


@lru_cache(maxsize=None)
def rendered(example: Path) -> Rendered:
    return render(example / "dockergen.yaml")


K8S_EXAMPLES = [e for e in EXAMPLES if rendered(e).spec.output.kubernetes]
CASES = [(e, t.env.info.name) for e in K8S_EXAMPLES for t in deploying(rendered(e).project, rendered(e).loaded.source)]
IDS = [f"{e.name}-{env}" for e, env in CASES]


def test_at_least_two_examples_render_kubernetes() -> None:
    assert len(K8S_EXAMPLES) >= 2


@lru_cache(maxsize=None)
def built(example: Path, env: str) -> tuple[dict[str, Any], ...]:
    return tuple(kustomize(example / rendered(example).spec.output.kubernetes / "overlays" / env))


def index(docs: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


@pytest.mark.parametrize(("example", "env"), CASES, ids=IDS)
def test_overlay_builds_and_validates_strictly(example: Path, env: str) -> None:
    docs = built(example, env)
    validate(list(docs))
    namespace = next(d for d in docs if d["kind"] == "Namespace")["metadata"]["name"]
    assert all(d["metadata"].get("namespace") == namespace for d in docs if d["kind"] != "Namespace")


@pytest.mark.parametrize(("example", "env"), CASES, ids=IDS)
def test_local_overlay_makes_the_secret_the_deployments_read(example: Path, env: str, tmp_path: Path) -> None:
    root = rendered(example).spec.output.kubernetes
    local = example / root / "local" / env
    if not local.is_dir():
        pytest.skip("the environment reads no secret")
    copy = tmp_path / root
    shutil.copytree(example / root, copy)
    refs = {
        ref["key"]
        for d in built(example, env)
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
        for ref in [e["valueFrom"]["secretKeyRef"] for e in c.get("env", []) if "valueFrom" in e]
    }
    (copy / "local" / env / "secrets.env").write_text("".join(f"{key}=value-of-{key}\n" for key in sorted(refs)))
    docs = kustomize(copy / "local" / env)
    validate(docs)
    secret = next(d for d in docs if d["kind"] == "Secret")
    assert set(secret["data"]) == refs
    names = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for d in docs
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
        for e in c.get("env", [])
        if "valueFrom" in e
    }
    assert names == {secret["metadata"]["name"]}  # kustomize points them at the generated name
    assert (example / root / ".gitignore").read_text().splitlines()[-1] == "secrets.env"


def _canonical(value: Any) -> Any:
    """Order-free form of the lists Kubernetes merges by key (a patch appends to them)."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        if items and all(isinstance(i, dict) and ("name" in i or "mountPath" in i or "containerPort" in i) for i in items):
            return sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
        return items
    return value


@pytest.mark.parametrize(("example", "env"), CASES, ids=IDS)
def test_base_plus_overlay_is_exactly_the_environment(example: Path, env: str) -> None:
    result = rendered(example)
    resolved = result.project.environments[env]
    full = environment_manifests(result.project, resolved, result.loaded.source, Notes())
    docs = index(built(example, env))
    namespace = docs.pop(("Namespace", next(n for k, n in docs if k == "Namespace")))["metadata"]["name"]
    expected = {}
    for resource in full.resources.values():
        resource = json.loads(json.dumps(resource))
        resource["metadata"]["namespace"] = namespace
        expected[(resource["kind"], resource["metadata"]["name"])] = resource
    assert set(docs) == set(expected)
    for key, resource in expected.items():
        assert _canonical(docs[key]) == _canonical(resource), key


# ---- the built overlay against the resolved environment, checked independently --------

_REF = re.compile(r"\$\$|\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)")


def _seconds(duration: str) -> int:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    total = sum(float(n) * units[u] for n, u in re.findall(r"([\d.]+)(ms|s|m|h)", duration))
    return max(1, -int(-total // 1))


def _quantity(size: str) -> str:
    number, unit = re.fullmatch(r"(\d+)([kmgKMG]?)[bB]?", size).groups()  # type: ignore[union-attr]
    return number + {"": "", "k": "Ki", "m": "Mi", "g": "Gi"}[unit.lower()]


def _expected_env(value: Any, secrets: set[str], defaults: dict[str, str]) -> str:
    """What the container sees: a literal, `secret:KEY` for a whole-value secret, or the
    value Kubernetes expands (`$(KEY)`, literal `$` doubled)."""
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    matches = list(_REF.finditer(text))
    names = [m.group(1) or m.group(3) for m in matches if m.group(0) != "$$"]
    if len(matches) == 1 and matches[0].span() == (0, len(text)) and names and names[0] in secrets:
        return f"secret:{names[0]}"
    expand = any(n in secrets for n in names)

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$$" if expand else "$"
        name = m.group(1) or m.group(3)
        if name in secrets:
            return f"$({name})"
        default = m.group(2) if m.group(2) is not None else defaults.get(name, "")
        return default.replace("$", "$$") if expand else default

    if not expand:
        return _REF.sub(sub, text)
    out, last = [], 0
    for m in matches:
        out.append(text[last : m.start()].replace("$", "$$"))
        out.append(sub(m))
        last = m.end()
    return "".join(out) + text[last:].replace("$", "$$")


@pytest.mark.parametrize(("example", "env"), CASES, ids=IDS)
def test_built_overlay_matches_the_resolved_environment(example: Path, env: str) -> None:
    result = rendered(example)
    resolved = result.project.environments[env]
    docs = index(built(example, env))
    variables = result.spec.variables or {}
    values = json.dumps([sv.settings.environment for sv in resolved.services.values()])
    referenced = {m.group(1) or m.group(3) for m in _REF.finditer(values)} - {None}
    secrets = {n for n, v in variables.items() if v.secret} | {n for n in referenced if looks_secret(n)}
    defaults = {n: v.default for n, v in variables.items() if v.default is not None and n not in secrets}
    for name, service in resolved.services.items():
        s = service.settings
        deployment = docs[("Deployment", name)]
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        # image, tag from the `${TAG:-<env>}` default
        assert container["image"] == re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", service.image or "")
        # replicas
        replicas = s.kubernetes.replicas if s.kubernetes and s.kubernetes.replicas is not None else 1
        assert deployment["spec"]["replicas"] == replicas
        # environment
        seen: dict[str, str] = {}
        for ref in container.get("envFrom", []):
            seen.update(docs[("ConfigMap", ref["configMapRef"]["name"])]["data"])
        for entry in container.get("env", []):
            seen[entry["name"]] = entry["value"] if "value" in entry else f"secret:{entry['valueFrom']['secretKeyRef']['key']}"
        for key, value in (s.environment or {}).items():
            assert seen[key] == _expected_env(value, secrets, defaults), (name, key)
        # ports: every published or exposed target is a container port behind the Service
        ports = {p["containerPort"] for p in container.get("ports", [])}
        for item in s.ports or []:
            target = item.target if hasattr(item, "target") else int(str(item).split("/")[0].split(":")[-1])
            assert target in ports
        if ports:
            assert {p["port"] for p in docs[("Service", name)]["spec"]["ports"]} == ports
        # probes from the healthcheck and its timings
        hc = service.healthcheck
        if hc is not None and not hc.disable and hc.test:
            live = container["livenessProbe"]
            assert live["periodSeconds"] == _seconds(hc.interval or "30s")
            assert live["timeoutSeconds"] == _seconds(hc.timeout or "30s")
            assert live["failureThreshold"] == hc.retries
            if hc.http is not None:
                port, path = hc.http
                assert container["readinessProbe"]["httpGet"]["path"] == path
                wait = f"{probe_timeout(hc.timeout or '30s'):g}"  # the Compose probe's own wait
                assert live["exec"]["command"] == ["/usr/local/bin/dockergen-probe", f"http://127.0.0.1:{port}{path}", wait]
            else:
                assert live["exec"]["command"][-1].split()[-1] in hc.test[-1].replace("$$", "$")  # Compose's escape
        # resources
        limits = s.resources.limits if s.resources else None
        if limits is not None and limits.memory:
            assert container["resources"]["limits"]["memory"] == _quantity(limits.memory)
        # volumes: the data directory on a claim
        if s.data_dir:
            mount = next(m for m in container["volumeMounts"] if m["mountPath"] == s.data_dir)
            volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
            assert ("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]) in docs
        # a read-only root file system still writes where the image lets its user write
        if container["securityContext"]["readOnlyRootFilesystem"]:
            plan = service.plan
            writable = [posixpath.join(plan.build.workdir, d) for d in plan.build.writable or []] if plan else []
            for directory in ["/tmp", *writable]:
                mount = next(m for m in container["volumeMounts"] if m["mountPath"] == directory)
                volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
                assert "emptyDir" in volume or "persistentVolumeClaim" in volume, (name, directory)
        # the image's non-root user
        if service.plan is not None and service.plan.build.family != "generic":
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


# ---- the policy scanner --------------------------------------------------------------


def justified_checks() -> dict[str, set[str]]:
    """docs/kubernetes.md's table of checkov findings: check ID -> the images it may fail for."""
    table = re.findall(r"^\| `(CKV2?_K8S_\d+)` \| (built|stock|every|unprobed) (?:images?|services?) \|", (ROOT / "docs" / "kubernetes.md").read_text(), re.M)
    out: dict[str, set[str]] = {}
    for check, scope in table:
        out.setdefault(check, set()).update({"built", "stock"} if scope == "every" else {scope})
    return out


def test_checkov_finds_nothing_unjustified(tmp_path: Path) -> None:
    scopes: dict[str, set[str]] = {}  # resource -> built | stock, and unprobed (a service without a healthcheck)
    for example, env in CASES:
        folder = tmp_path / f"{example.name}-{env}"
        folder.mkdir()
        for index_, doc in enumerate(built(example, env)):
            (folder / f"{index_:03}.yaml").write_text(json.dumps(doc))
            if doc["kind"] == "Deployment":
                service = rendered(example).project.environments[env].services[doc["metadata"]["name"]]
                scope = {"built" if service.plan is not None else "stock"}
                if "livenessProbe" not in doc["spec"]["template"]["spec"]["containers"][0]:
                    scope.add("unprobed")
                scopes[f"Deployment.{doc['metadata']['namespace']}.{doc['metadata']['name']}"] = scope
    justified = justified_checks()
    assert justified, "docs/kubernetes.md lists no justified checks"
    unjustified = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for c in scan(tmp_path)
        if not scopes.get(c["resource"], {"built"}) & justified.get(c["check_id"], set())
    ]
    assert not unjustified, "\n".join(unjustified)
