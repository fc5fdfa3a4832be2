"""Compose `secrets` of a service in Kubernetes: each a file at the path Compose mounts it
(``/run/secrets/<name>`` or its `target`) from a Secret of its own, which dockergen never
writes; `k8s/local/<env>` generates it from a git-ignored file. Judged by kubectl's
kustomize and the Kubernetes schemas, on specs of many shapes."""

from __future__ import annotations

import base64
import posixpath
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from dockergen.pipeline import render
from dockergen.write import write_files
from tests.k8s_tools import kustomize, validate

SECRET_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(lambda n: n != "secrets" and not n.endswith("_"))
TARGETS = st.one_of(st.none(), st.from_regex(r"[a-z][a-z0-9_.]{0,10}", fullmatch=True), st.from_regex(r"/etc/[a-z]{1,8}/[a-z]{1,8}\.pem", fullmatch=True))
MODES = st.one_of(st.none(), st.sampled_from([0o400, 0o440, 0o444, 0o600]), st.sampled_from(["0400", "0440", "600"]))


def write_spec(folder: Path, spec: dict[str, Any]) -> Path:
    path = folder / "dockergen.yaml"
    with path.open("w") as handle:
        YAML().dump(spec, handle)
    return path


def expected_mode(mode: int | str | None) -> int:
    return 0o444 if mode is None else int(mode, 8) if isinstance(mode, str) else mode


@st.composite
def specs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, dict[str, tuple[str, int]]], dict[str, str]]:
    """A spec, each service's secrets (name -> (mount path, mode)) and each secret's file content."""
    names = draw(st.lists(SECRET_NAMES, min_size=1, max_size=4, unique_by=lambda n: n.replace("_", "-")))
    contents = {n: draw(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40)) for n in names}
    services: dict[str, Any] = {}
    expected: dict[str, dict[str, tuple[str, int]]] = {}
    for service in draw(st.lists(st.sampled_from(["web", "api", "worker"]), min_size=1, max_size=3, unique=True)):
        mounts: dict[str, tuple[str, int]] = {}
        items: list[Any] = []
        for name in draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
            target, mode = draw(TARGETS), draw(MODES)
            path = posixpath.join("/run/secrets", target or name) if not (target or "").startswith("/") else target
            if path in {p for p, _ in mounts.values()}:
                continue
            if target is None and mode is None and draw(st.booleans()):
                items.append(name)  # the short form
            else:
                items.append({"source": name, **({"target": target} if target else {}), **({"mode": mode} if mode is not None else {})})
            mounts[name] = (path, expected_mode(mode))
        services[service] = {"image": "nginx:1.27", **({"secrets": items} if items else {})}
        expected[service] = mounts
    spec = {
        "version": 1,
        "project": "demo",
        "output": {"kubernetes": "k8s"},
        "secrets": {n: {"file": f"./secrets/{n}.txt"} for n in names},
        "services": services,
    }
    return spec, expected, contents


def mounted(docs: list[dict[str, Any]], service: str) -> dict[str, tuple[str, str, int]]:
    """Secret key -> (mount path, Secret name, mode) of the service's container."""
    pod = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == service)["spec"]["template"]["spec"]
    volumes = {v["name"]: v["secret"] for v in pod.get("volumes", []) if "secret" in v}
    out = {}
    for mount in pod["containers"][0].get("volumeMounts", []):
        if mount["name"] in volumes:
            secret = volumes[mount["name"]]
            (item,) = secret["items"]
            assert mount["subPath"] == item["path"] and mount["readOnly"] is True
            assert secret["optional"] is False  # podman 4.3's kube play crashes without it
            out[item["key"]] = (mount["mountPath"], secret["secretName"], item["mode"])
    return out


@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs())
def test_each_secret_is_a_file_from_a_secret_the_local_overlay_generates(tmp_path_factory: Any, case: Any) -> None:
    spec, expected, contents = case
    folder: Path = tmp_path_factory.mktemp("secrets")
    write_files(folder, render(write_spec(folder, spec)).files)
    generated = "".join(p.read_text() for p in (folder / "k8s").rglob("*") if p.is_file())
    for env in ("staging", "prod"):
        docs = kustomize(folder / "k8s" / "overlays" / env)
        validate(docs)
        assert not [d for d in docs if d["kind"] == "Secret"]  # never written
        for service, mounts in expected.items():
            assert {k: (path, mode) for k, (path, _, mode) in mounted(docs, service).items()} == mounts
            assert all(name == f"demo-{key.replace('_', '-')}" for key, (_, name, _) in mounted(docs, service).items())
        local = folder / "k8s" / "local" / env
        if not any(expected.values()):
            assert not local.exists()
            continue
        (local / "secrets").mkdir()
        for name, content in contents.items():
            (local / "secrets" / name).write_text(content)
        docs = kustomize(local)
        validate(docs)
        secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
        for service, mounts in expected.items():
            for key, (_, name, _) in mounted(docs, service).items():
                assert name in secrets, (name, sorted(secrets))  # kustomize renamed the reference too
                assert base64.b64decode(secrets[name]["data"][key]).decode() == contents[key]
    assert all(content not in generated for content in contents.values() if len(content) > 8)
    ignored = (folder / "k8s" / ".gitignore").read_text().splitlines() if any(expected.values()) else []
    assert not any(expected.values()) or "secrets/" in ignored


def dockergen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockergen", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_an_external_secret_keeps_its_name_and_unmappable_options_are_noted(tmp_path: Path) -> None:
    spec = {
        "version": 1,
        "project": "demo",
        "output": {"kubernetes": "k8s"},
        "secrets": {"db_password": {"external": True, "name": "prod-db-password"}},
        "services": {"web": {"image": "nginx:1.27", "secrets": [{"source": "db_password", "uid": "101", "mode": "0999"}]}},
    }
    write_spec(tmp_path, spec)
    result = dockergen("render", "--spec", "dockergen.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "the secret's uid/gid" in result.stdout and "the secret's mode '0999'" in result.stdout
    docs = kustomize(tmp_path / "k8s" / "overlays" / "prod")
    assert mounted(docs, "web") == {"db_password": ("/run/secrets/db_password", "prod-db-password", 0o444)}
    header = (tmp_path / "k8s" / "overlays" / "prod" / "kustomization.yaml").read_text()
    assert "'prod-db-password' (key db_password: the content of Compose's external)" in header


@pytest.mark.parametrize(
    ("secrets", "message"),
    [
        ({"secrets": {"file": "./s.txt"}}, "holds the environment's secret variables"),
        ({"db_password": {"file": "./a.txt"}, "db-password": {"file": "./b.txt"}}, "secret 'db_password' is too"),
    ],
)
def test_two_secrets_on_one_kubernetes_name_are_a_located_error(tmp_path: Path, secrets: dict[str, Any], message: str) -> None:
    spec = {"version": 1, "project": "demo", "output": {"kubernetes": "k8s"}, "secrets": secrets, "services": {"web": {"image": "nginx:1.27", "secrets": list(secrets)}}}
    write_spec(tmp_path, spec)
    result = dockergen("render", "--spec", "dockergen.yaml", cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "dockergen.yaml:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "k8s").exists()
