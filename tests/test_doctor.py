"""`dockergen doctor`: reports tools and runs the installed validators on the rendered
output; exit 1 on a finding, 0 otherwise, and says what it could not check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SPEC = """\
version: 1
project: demo
{engines}
environments: {{prod: {{}}, podman: {{extends: prod, engine: podman}}}}
services:
  api:
    build: {{family: python, context: api, port: 8000, python: {{app: "app:app", requirements: null}}}}
    healthcheck: {{http: /health}}
"""


def _spec(tmp_path: Path, engines: str = "") -> Path:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "app.py").write_text("app = None\n")
    spec = tmp_path / "dockergen.yaml"
    spec.write_text(SPEC.format(engines=engines))
    return spec


def _fake(bin_dir: Path, name: str, script: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def _doctor(spec: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path if path is not None else os.environ["PATH"]}
    env.pop("DOCKER_HOST", None)
    return subprocess.run(
        [sys.executable, "-m", "dockergen", "doctor", "--spec", str(spec)],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT,
    )  # fmt: skip


def test_example_passes_every_installed_validator() -> None:
    result = _doctor(ROOT / "examples" / "microservices" / "dockergen.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok    hadolint" in result.stdout
    assert "config: compose.yaml + each of 5 overlay(s)" in result.stdout
    assert "compose-spec JSON Schema: 6 file(s) valid" in result.stdout
    assert "0 finding(s)" in result.stdout


def test_without_tools_it_says_what_it_could_not_check(tmp_path: Path) -> None:
    result = _doctor(_spec(tmp_path), path=str(tmp_path / "empty-bin"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "could not check" in result.stdout
    for missing in ("docker: not installed", "podman: not installed", "hadolint: not installed", "compose config: no Compose CLI"):
        assert missing in result.stdout, result.stdout


def test_a_validator_finding_exits_1(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    _fake(bin_dir, "hadolint", 'case "$1" in --version) echo "Haskell Dockerfile Linter 2.12.0";; *) echo "DL3007 fake finding"; exit 1;; esac\n')
    result = _doctor(_spec(tmp_path), path=str(bin_dir))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  hadolint: api/Dockerfile: DL3007 fake finding" in result.stdout


def test_an_engine_older_than_the_spec_targets_is_a_finding(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    _fake(bin_dir, "podman", 'echo "podman version 4.2.1"\n')
    result = _doctor(_spec(tmp_path, 'engines: {podman: "4.3"}'), path=str(bin_dir))
    assert result.returncode == 1, result.stdout
    assert "FAIL  podman 4.2.1 is older than the 4.3 the spec targets" in result.stdout


def test_a_feature_the_installed_podman_rejects_is_a_finding(tmp_path: Path) -> None:
    # Docker 25 alone: start_interval is rendered, which podman 4.3 does not know.
    bin_dir = tmp_path / "bin"
    _fake(bin_dir, "podman", 'echo "podman version 4.3.1"\n')
    result = _doctor(_spec(tmp_path, 'engines: {docker: "25.0"}'), path=str(bin_dir))
    assert result.returncode == 1, result.stdout
    assert "uses start_interval, which podman 4.3.1 rejects" in result.stdout


def test_a_missing_spec_is_reported_not_fatal(tmp_path: Path) -> None:
    result = _doctor(tmp_path / "dockergen.yaml", path=str(tmp_path / "empty-bin"))
    assert result.returncode == 0
    assert "no such spec" in result.stdout


def test_a_fresh_init_project_passes_with_placeholders_for_required_variables(tmp_path: Path) -> None:
    """`init` writes `${POSTGRES_PASSWORD:?...}`: no .env yet is not a finding about the files."""
    app = tmp_path / "shop" / "api"
    app.mkdir(parents=True)
    (app / "requirements.txt").write_text("fastapi\nuvicorn\npsycopg[binary]\n")
    (app / "main.py").write_text("from fastapi import FastAPI\napp = FastAPI()\n")
    env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}
    init = subprocess.run([sys.executable, "-m", "dockergen", "init", "--yes"], cwd=app.parent, capture_output=True, text=True, env=env, timeout=120)
    assert init.returncode == 0, init.stderr
    assert "POSTGRES_PASSWORD:?" in (app.parent / "dockergen.yaml").read_text()
    result = subprocess.run([sys.executable, "-m", "dockergen", "doctor"], cwd=app.parent, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert "config: compose.yaml + each of 5 overlay(s) (placeholders for the required POSTGRES_PASSWORD" in result.stdout
