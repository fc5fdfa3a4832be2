"""The Kubernetes files are generated files like the rest: fingerprinted, locked, checked,
removed when the spec stops producing them, never overwritten after a hand edit; bad
Kubernetes settings are located errors; the conversions keep their units."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockergen.fingerprint import read_seal
from dockergen.render.kubernetes.values import Ref, cpu, memory, parse, seconds, split_image, without_interpolation
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "fastapi-celery"


def dockergen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockergen", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "fastapi-celery"
    shutil.copytree(EXAMPLE, target)
    return target


def test_every_kubernetes_file_is_sealed_and_locked(project: Path) -> None:
    files = sorted(p for p in (project / "k8s").rglob("*") if p.is_file())
    assert files
    lock = (project / "dockergen.lock").read_text()
    for path in files:
        assert read_seal(path.read_bytes()).intact, path
        assert f'"{path.relative_to(project).as_posix()}"' in lock
    assert dockergen("check", "--spec", "dockergen.yaml", cwd=project).returncode == 0


def test_a_hand_edit_fails_check_and_render_refuses_it(project: Path) -> None:
    patch = project / "k8s" / "overlays" / "prod" / "api-deployment.yaml"
    patch.write_text(patch.read_text().replace("cpu: 250m", "cpu: 900m"))
    check = dockergen("check", "--spec", "dockergen.yaml", cwd=project)
    assert check.returncode == 1 and "k8s/overlays/prod/api-deployment.yaml: edited by hand" in check.stdout
    refused = dockergen("render", "--spec", "dockergen.yaml", cwd=project)
    assert refused.returncode == 1 and "refusing to overwrite" in refused.stderr
    assert "cpu: 900m" in patch.read_text()


def test_turning_kubernetes_off_removes_its_files(project: Path) -> None:
    spec = project / "dockergen.yaml"
    spec.write_text(spec.read_text().replace("output:\n  kubernetes: k8s\n", ""))
    result = dockergen("render", "--spec", "dockergen.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "deleted   k8s/base/kustomization.yaml" in result.stdout
    assert not (project / "k8s").exists()  # the folders it emptied went with the files
    assert dockergen("check", "--spec", "dockergen.yaml", cwd=project).returncode == 0


def test_removing_the_output_keeps_every_folder_that_holds_something_of_the_users(project: Path) -> None:
    (project / "k8s" / "overlays" / "prod" / "README.md").write_text("our notes\n")
    (project / "k8s" / "local" / "prod" / "secrets.env").write_text("POSTGRES_PASSWORD=x\n")
    (project / "k8s" / "base" / "extra").mkdir()  # an empty folder of the user's
    spec = project / "dockergen.yaml"
    spec.write_text(spec.read_text().replace("output:\n  kubernetes: k8s\n", ""))
    assert dockergen("render", "-q", "--spec", "dockergen.yaml", cwd=project).returncode == 0
    left = sorted(p.relative_to(project).as_posix() for p in (project / "k8s").rglob("*"))
    assert left == [
        "k8s/base", "k8s/base/extra", "k8s/local", "k8s/local/prod", "k8s/local/prod/secrets.env",
        "k8s/overlays", "k8s/overlays/prod", "k8s/overlays/prod/README.md",
    ]  # fmt: skip
    assert (project / "k8s" / "overlays" / "prod" / "README.md").read_text() == "our notes\n"


def test_an_environment_that_stops_deploying_loses_its_overlay(project: Path) -> None:
    spec = project / "dockergen.yaml"
    spec.write_text(spec.read_text().replace("version: 1\n", "version: 1\nenvironments:\n  dev: {}\n  test: {}\n  staging: {kubernetes: false}\n  prod: {}\n  podman: {}\n"))
    assert dockergen("render", "-q", "--spec", "dockergen.yaml", cwd=project).returncode == 0
    assert not (project / "k8s" / "overlays" / "staging").exists()
    assert not (project / "k8s" / "local" / "staging").exists()
    assert (project / "k8s" / "overlays" / "prod" / "kustomization.yaml").exists()


def test_the_summary_notes_what_kubernetes_leaves_out(project: Path) -> None:
    shutil.rmtree(project / "k8s")
    result = dockergen("render", "--spec", "dockergen.yaml", cwd=project)
    assert re.search(r"^dockergen\.yaml:\d+:5: note: services\.api\.build: left out of Kubernetes", result.stdout, re.M)


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("environments:\n  prod: {kubernetes: {namespace: Not_A_Name}}\n", "environments.prod.kubernetes"),
        ("output: {kubernetes: ../outside}\n", "output.kubernetes"),
    ],
)
def test_bad_kubernetes_settings_are_located_errors(tmp_path: Path, snippet: str, message: str) -> None:
    (tmp_path / "dockergen.yaml").write_text("version: 1\nproject: demo\n" + snippet + "services:\n  web: {image: 'nginx:1.27'}\n")
    result = dockergen("render", "--spec", "dockergen.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "k8s").exists()


def test_an_ingress_needs_an_http_port(tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(
        "version: 1\nproject: demo\noutput: {kubernetes: k8s}\nservices:\n"
        "  cache:\n    image: 'redis:7'\n    kubernetes:\n      ingress: {host: cache.example.com}\n"
    )
    result = dockergen("render", "--spec", "dockergen.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "dockergen.yaml:8:7: error: services.cache.kubernetes.ingress: an Ingress needs the service's HTTP port" in result.stderr


def test_unit_conversions() -> None:
    assert [memory(m) for m in ("512M", "1G", "1.5g", "64m", "100", "1kb")] == ["512Mi", "1Gi", "1536Mi", "64Mi", "100", "1Ki"]
    assert [cpu(c) for c in (1.0, 0.5, 0.25, 2, 0.0001)] == ["1", "500m", "250m", "2", "1m"]
    assert [seconds(d) for d in ("30s", "1m30s", "500ms", "1h", "1.5s")] == [30, 90, 1, 3600, 2]
    assert split_image("registry:5000/team/app:1.2@sha256:" + "a" * 64).name == "registry:5000/team/app"
    assert split_image("registry:5000/team/app").tag is None
    assert parse("a$${B}${C:-x$$y}$D") == ["a${B}", Ref("C", "x$$y", ":-"), Ref("D", None, None)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${C:-x$$y}", "x$y"),  # a default's `$$` is a `$`, as Compose reads it
        ("${B:-${A}}", "foo"),  # a nested default is interpolated too, not left as text
        ("${B:-${C:-z}}-${B-}", "z-"),
        ("${A:+set}", "set"),  # an alternative when the variable has a value...
        ("${B:+set}", ""),  # ...and nothing when it has none
        ("${E:+set}|${E+set}", "|set"),  # `:+` wants a non-empty value, `+` any
        ("${A:?required}", "foo"),
        ("${B}", None),  # no value at all: the caller decides (a note, no probe)
    ],
)
def test_kubernetes_reads_a_compose_value_as_compose_does(value: str, expected: str | None) -> None:
    assert without_interpolation(value, {"A": "foo", "E": ""}.get) == expected


LINT_SPEC = """\
version: 1
project: demo
output: {kubernetes: k8s}
services:
  web:
    image: nginx
    cap_add: [NET_ADMIN]
  db:
    image: postgres:16-alpine
    environments:
      prod:
        kubernetes: {replicas: 2}
  tool:
    image: busybox:1.36
    healthcheck: {test: ["CMD", "sh", "-c", "test -f /tmp/ok"]}
    resources: {limits: {memory: 64M, cpus: 0.25}}  # stock images get no built-in limits
environments:
  prod:
    defaults:
      resources: {limits: {memory: null}}
"""


def test_lint_locates_the_kubernetes_findings_in_the_spec(tmp_path: Path) -> None:
    from dockergen.lint.engine import run
    from dockergen.pipeline import render

    (tmp_path / "dockergen.yaml").write_text(LINT_SPEC)
    found = {(f.rule, f.service, f.location.line) for f in run(render(tmp_path / "dockergen.yaml"), use_hadolint=False).findings}
    assert ("DG018", "web", 5) in found  # no healthcheck: no liveness probe
    assert ("DG019", "web", 20) in found  # the environment removes the memory limit
    assert ("DG020", "web", 6) in found  # `nginx`: latest
    assert ("DG021", "web", 7) in found  # cap_add
    assert ("DG022", "db", 12) in found  # two replicas on a ReadWriteOnce claim
    assert ("DG023", "tool", 15) in found  # `sh -c "test -f ..."`: not plain words
    assert ("DG023", "db", 8) in found  # the postgres preset's probe needs a shell
    assert not {rule for rule, service, _ in found if service == "tool"} & {"DG018", "DG019", "DG020", "DG021", "DG022"}


def test_a_command_kubernetes_cannot_split_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(
        "version: 1\nproject: demo\noutput: {kubernetes: k8s}\nservices:\n  web:\n    image: 'nginx:1.27'\n    command: \"echo 'unclosed\"\n"
    )
    result = dockergen("render", "--spec", "dockergen.yaml", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "dockergen.yaml:7:5: error: services.web.command: cannot split the command into words for Kubernetes" in result.stderr


def test_every_service_setting_is_mapped_noted_or_build_only() -> None:
    """A setting the Kubernetes output neither maps nor notes would be dropped silently."""
    from dockergen.render.kubernetes.workload import BUILD_ONLY, MAPPED, UNMAPPED
    from dockergen.spec.model import ServiceSettings

    groups = [MAPPED, set(UNMAPPED), BUILD_ONLY]
    assert set().union(*groups) == set(ServiceSettings.model_fields), "say in workload.py what Kubernetes does with it"
    assert sum(len(g) for g in groups) == len(set().union(*groups)), "a setting in two groups"


def test_service_level_limits_and_pod_settings_reach_the_manifests(tmp_path: Path) -> None:
    from tests.k8s_tools import kustomize, validate

    (tmp_path / "dockergen.yaml").write_text(
        "version: 1\nproject: demo\noutput: {kubernetes: k8s}\nservices:\n  web:\n    image: 'nginx:1.27'\n"
        "    resources: null\n    cpus: 0.5\n    mem_limit: 256m\n    mem_reservation: 64m\n    hostname: front\n    tty: true\n    stdin_open: true\n"
        "    sysctls: {net.core.somaxconn: 1024, net.ipv4.ip_local_port_range: '1024 65000'}\n"
        "  cache:\n    image: 'redis:7'\n    mem_limit: 1g\n    resources: {limits: {memory: 128M}}\n    sysctls: ['kernel.shm_rmid_forced=1']\n"
    )
    result = dockergen("render", "--spec", "dockergen.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    docs = kustomize(tmp_path / "k8s" / "overlays" / "prod")
    validate(docs)
    pods = {d["metadata"]["name"]: d["spec"]["template"]["spec"] for d in docs if d["kind"] == "Deployment"}
    web = pods["web"]["containers"][0]
    assert web["resources"] == {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"memory": "64Mi"}}
    assert web["tty"] is True and web["stdin"] is True and pods["web"]["hostname"] == "front"
    assert pods["web"]["securityContext"]["sysctls"] == [
        {"name": "net.core.somaxconn", "value": "1024"}, {"name": "net.ipv4.ip_local_port_range", "value": "1024 65000"},
    ]  # fmt: skip
    assert pods["cache"]["containers"][0]["resources"]["limits"]["memory"] == "128Mi"  # `resources` wins, as in Compose
    assert pods["cache"]["securityContext"]["sysctls"] == [{"name": "kernel.shm_rmid_forced", "value": "1"}]


@pytest.mark.parametrize(
    ("setting", "note"),
    [
        ("privileged: true", "services.web.privileged: left out of Kubernetes: the pod runs unprivileged"),
        ("container_name: front", "services.web.container_name: left out of Kubernetes"),
        ("pids_limit: 100", "services.web.pids_limit: left out of Kubernetes"),
        ("shm_size: 1g", "services.web.shm_size: left out of Kubernetes"),
        ("resources: null\n    mem_limit: lots", "services.web.mem_limit: left out of Kubernetes: mem_limit 'lots' (not a size)"),
        ("hostname: Not_A_Label", "services.web.hostname: left out of Kubernetes: hostname 'Not_A_Label'"),
    ],
)
def test_a_setting_kubernetes_leaves_out_is_a_located_note(tmp_path: Path, setting: str, note: str) -> None:
    (tmp_path / "dockergen.yaml").write_text(f"version: 1\nproject: demo\noutput: {{kubernetes: k8s}}\nservices:\n  web:\n    image: 'nginx:1.27'\n    {setting}\n")
    result = dockergen("render", "--spec", "dockergen.yaml", cwd=tmp_path)
    if result.returncode == 2:
        pytest.fail(f"the spec itself refuses {setting!r}: {result.stderr}")
    assert f"dockergen.yaml:{6 + setting.count(chr(10)) + 1}:5: note: {note}" in result.stdout, result.stdout


def test_nested_defaults_and_alternatives_reach_the_manifests_as_compose_reads_them(tmp_path: Path) -> None:
    from dockergen.pipeline import render

    (tmp_path / "dockergen.yaml").write_text(
        "version: 1\nproject: demo\noutput: {kubernetes: k8s}\nvariables:\n  A: {default: foo}\n"
        "services:\n  web:\n    image: nginx:1.27\n"
        '    environment: {NESTED: "${B:-${A}}", PLUS: "${A:+set}", NONE: "${C:+alt}"}\n'
        '    command: ["echo", "${B:-${A}}", "${A:+on}"]\n'
    )
    files = {f.path: f.content for f in render(tmp_path / "dockergen.yaml").files}
    assert "  NESTED: foo\n  PLUS: set\n  NONE: \"\"\n" in files["k8s/base/web-env-configmap.yaml"]
    assert '- echo\n            - foo\n            - "on"\n' in files["k8s/base/web-deployment.yaml"]
