"""The commands as a user runs them: `python -m dockergen render|validate|schema|--version`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

import dockergen
from tests.conftest import EXAMPLES

ROOT = Path(__file__).resolve().parent.parent

SPEC = """\
version: 1
project: demo
services:
  api:
    build:
      family: python
      context: api
      port: 8000
      python: {app: "app.main:app"}
    healthcheck: {http: /health}
    depends_on: [db]
    environments:
      dev: {ports: ["8000:8000"]}
  db:
    image: postgres:16-alpine
"""
ENVS = ["dev", "test", "staging", "prod", "podman"]
OVERLAYS = {f"compose.{env}.yaml" for env in ENVS}
ALWAYS = {"compose.yaml", "api/Dockerfile", "api/.dockerignore", ".env.example"}


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DOCKERGEN_DEBUG"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "dockergen", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60
    )


def files(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """``tmp_path/proj/dockergen.yaml`` and nothing else."""
    directory = tmp_path / "proj"
    directory.mkdir()
    (directory / "dockergen.yaml").write_text(SPEC)
    return directory


def summary_count(stdout: str) -> int:
    """How many files the summary line says were written (changed)."""
    if re.match(r"nothing to change: the \d+ generated files match ", stdout):
        return 0
    match = re.search(r"^(\d+) of \d+ files written in ", stdout, re.MULTILINE)
    assert match, stdout
    return int(match[1])


def test_render_writes_every_file_next_to_the_spec(project: Path) -> None:
    result = run_cli(project.parent, "render", "--spec", "proj/dockergen.yaml")
    assert result.returncode == 0, result.stderr
    written = set(files(project))
    assert ALWAYS | OVERLAYS | {"dockergen.yaml"} <= written
    assert sorted(p.name for p in project.parent.iterdir()) == ["proj"], "nothing outside the spec's directory"
    for path in ALWAYS | OVERLAYS:
        assert path in result.stdout, f"{path} not reported"
    assert summary_count(result.stdout) == len(written) - 1
    assert "FROM base AS prod" in (project / "api" / "Dockerfile").read_text()


def test_second_render_writes_nothing_and_touches_nothing(project: Path) -> None:
    assert run_cli(project, "render").returncode == 0
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in project.rglob("*") if p.is_file()}

    again = run_cli(project, "render")

    assert again.returncode == 0, again.stderr
    assert summary_count(again.stdout) == 0
    assert again.stdout.count("\n") == 1, "only the summary line"
    after = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in project.rglob("*") if p.is_file()}
    assert after == before


def test_quiet_render_prints_nothing(project: Path) -> None:
    result = run_cli(project, "render", "-q")
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""
    assert (project / "compose.yaml").is_file()


def test_render_out_writes_the_same_bytes_as_an_in_place_render(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "review"
    result = run_cli(project, "render", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in project.iterdir()) == ["dockergen.yaml"], "--out leaves the spec's directory alone"

    assert run_cli(project, "render").returncode == 0
    in_place = files(project)
    del in_place["dockergen.yaml"]
    assert files(out) == in_place
    assert ALWAYS | OVERLAYS <= set(in_place)


def test_render_one_environment_writes_only_its_overlay(project: Path, tmp_path: Path) -> None:
    result = run_cli(project, "render", "--env", "prod")
    assert result.returncode == 0, result.stderr
    written = set(files(project))
    assert ALWAYS <= written
    assert written & OVERLAYS == {"compose.prod.yaml"}

    full = tmp_path / "full"
    assert run_cli(project, "render", "--out", str(full)).returncode == 0
    for path in ALWAYS | {"compose.prod.yaml"}:
        assert (project / path).read_bytes() == (full / path).read_bytes(), f"{path} depends on --env"


def test_render_several_environments(project: Path) -> None:
    assert run_cli(project, "render", "--env", "dev", "--env", "test").returncode == 0
    assert set(files(project)) & OVERLAYS == {"compose.dev.yaml", "compose.test.yaml"}


def test_render_unknown_environment_exits_2_and_writes_nothing(project: Path) -> None:
    result = run_cli(project, "render", "--env", "nope")
    assert result.returncode == 2
    assert "unknown environment 'nope'" in result.stderr
    assert "declared: dev, test, staging, prod, podman" in result.stderr
    assert result.stderr.startswith("dockergen.yaml")
    assert "Traceback" not in result.stderr
    assert list(files(project)) == ["dockergen.yaml"]


def test_validate_exits_0_and_writes_nothing(project: Path) -> None:
    result = run_cli(project, "validate")
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "2 services" in result.stdout
    assert "dev, test, staging, prod, podman" in result.stdout
    assert list(files(project)) == ["dockergen.yaml"]


def test_validate_fails_where_render_would(project: Path) -> None:
    """`validate` renders in memory: a broken project template is caught too."""
    (project / "dockergen.yaml").write_text(SPEC.replace("project: demo", "project: demo\ntemplates: tpl"))
    (project / "tpl").mkdir()
    (project / "tpl" / "python.Dockerfile.j2").write_text("FROM {{ no_such_value }}\n")
    result = run_cli(project, "validate")
    assert result.returncode == 2
    assert "template python.Dockerfile.j2" in result.stderr and "no_such_value" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(files(project)) == ["dockergen.yaml", "tpl/python.Dockerfile.j2"]


@pytest.fixture(scope="module")
def schema() -> dict:
    result = run_cli(ROOT, "schema")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_schema_is_a_valid_json_schema(schema: dict) -> None:
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    assert validator_class is jsonschema.Draft202012Validator
    assert schema["required"] == ["project", "services"]


@pytest.mark.parametrize("spec_path", [e / "dockergen.yaml" for e in EXAMPLES], ids=[e.name for e in EXAMPLES])
def test_schema_accepts_the_example_specs(schema: dict, spec_path: Path) -> None:
    document = YAML(typ="safe").load(spec_path.read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    assert errors == [], [e.message for e in errors[:3]]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["services"]["api"].update(healtcheck={"http": "/health"}),
        lambda d: d.update(version=2),
        lambda d: d["services"]["api"]["build"].update(family="rust"),
        lambda d: d.pop("services"),
    ],
    ids=["typo", "version", "family", "no-services"],
)
def test_schema_rejects_what_validate_rejects(schema: dict, mutate, project: Path) -> None:  # noqa: ANN001
    document = YAML(typ="safe").load(SPEC)
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(document)) == []
    mutate(document)
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    (project / "dockergen.yaml").write_text(json.dumps(document))
    assert run_cli(project, "validate").returncode == 2


def test_version() -> None:
    result = run_cli(ROOT, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"dockergen, version {dockergen.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", dockergen.__version__)


def test_unknown_command_and_option_are_usage_errors(project: Path) -> None:
    for args in (["frobnicate"], ["render", "--nope"]):
        result = run_cli(project, *args)
        assert result.returncode == 2
        assert "Usage:" in result.stderr and "Traceback" not in result.stderr
    assert list(files(project)) == ["dockergen.yaml"]


def test_dockerignore_keeps_dockergens_own_files_out_of_a_context_that_holds_them(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / "worker").mkdir()
    (tmp_path / "dockergen.yaml").write_text(
        "version: 1\nproject: one\noutput: {overlay: 'deploy/{env}.yml', snapshots: review}\n"
        "environments: {dev: {}, prod: {}}\nservices:\n"
        "  web:\n    build: {family: python, context: ., port: 8000, python: {app: 'app:app'}, dockerfile: infra/app.Dockerfile}\n"
        "  worker:\n    build: {family: python, context: worker, python: {prod_command: [python, w.py], dev_command: [python, w.py]}}\n"
    )
    assert run_cli(tmp_path, "render", "-q").returncode == 0
    root = (tmp_path / ".dockerignore").read_text().splitlines()
    for own in ("dockergen.yaml", "dockergen.lock", "deploy/dev.yml", "deploy/prod.yml", "infra/app.Dockerfile", "review/"):
        assert own in root, own
    assert "compose.yaml" not in root and "compose*.yaml" in root, "covered by the default pattern"
    # A context beside the spec holds none of them: nothing to add.
    inner = (tmp_path / "worker" / ".dockerignore").read_text()
    assert "dockergen" not in inner.split("\n", 2)[2] and "deploy/" not in inner
