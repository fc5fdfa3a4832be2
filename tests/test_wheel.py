"""The distribution as a user installs it: build the wheel, install it into a fresh
virtualenv, and render and check an example outside the repository with it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    (found,) = out.glob("dockergen_cli-*.whl")
    return found


def test_the_wheel_holds_the_package_and_its_templates_and_release_metadata(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("dockergen/templates/") and n.endswith(".j2") for n in names), "templates ship in the wheel"
    assert not any(n.startswith(("tests/", "examples/")) for n in names)
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"Version: {project['version']}" in text and "Requires-Python: >=3.11" in text
    assert "Classifier: Programming Language :: Python :: 3.11" in text and "License-Expression: MIT" in text
    assert "# dockergen" in text, "the README is the long description"


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv outside the repository with the wheel installed, as a user has it."""
    venv = tmp_path_factory.mktemp("user") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr
    return venv


def test_installed_in_a_fresh_virtualenv_it_renders_an_example_outside_the_repository(venv: Path, tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "fastapi-celery", project)
    for generated in [*project.glob("compose*.yaml"), project / "dockergen.lock", project / "api" / "Dockerfile"]:
        generated.unlink()
    dockergen = str(venv / "bin" / "dockergen")
    rendered = subprocess.run([dockergen, "render"], cwd=project, capture_output=True, text=True, timeout=300)
    assert rendered.returncode == 0, rendered.stderr
    assert "next: dockergen compose dev up" in rendered.stdout
    # The same bytes as the repository's committed render: the wheel's templates are the repository's.
    for name in ("compose.yaml", "compose.prod.yaml", "api/Dockerfile", "dockergen.lock"):
        assert (project / name).read_text() == (ROOT / "examples" / "fastapi-celery" / name).read_text(), name
    assert subprocess.run([dockergen, "check"], cwd=project, timeout=120).returncode == 0
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import dockergen; print(dockergen.__file__)"], cwd=project, capture_output=True, text=True, timeout=60)
    assert str(venv) in where.stdout and str(ROOT) not in where.stdout, "the installed copy, not the checkout"


def test_a_newcomers_first_hour_with_the_installed_wheel(venv: Path, tmp_path: Path) -> None:
    """init, render, check, doctor and the dev stack's Compose config on a project of their
    own; then the typos of a first hour: clear errors naming file:line:col, exit 2, no traceback."""
    project = tmp_path / "My Shop"
    (project / "api").mkdir(parents=True)
    (project / "api" / "requirements.txt").write_text("fastapi\nuvicorn\npsycopg[binary]\n")
    (project / "api" / "main.py").write_text("from fastapi import FastAPI\n\napp = FastAPI()\n")
    (project / "worker").mkdir()
    (project / "worker" / "requirements.txt").write_text("celery[redis]\n")
    (project / "worker" / "tasks.py").write_text("from celery import Celery\n\napp = Celery('tasks')\n")
    env = {"PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp_path), "POSTGRES_PASSWORD": "x", "NO_COLOR": "1"}

    def dockergen(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(venv / "bin" / "dockergen"), *args], cwd=project, capture_output=True, text=True, env=env, timeout=300)

    for step in (["init", "--yes"], ["render"], ["check"], ["doctor"], ["compose", "dev", "config", "-q"]):
        result = dockergen(*step)
        assert result.returncode == 0, (step, result.stdout, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr, step
    spec = project / "dockergen.yaml"
    lines = spec.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("    healthcheck:"))
    spec.write_text("\n".join([*lines[:at], lines[at].replace("healthcheck:", "helthcheck:"), *lines[at + 1 :]]) + "\n")
    for step in (["render"], ["check"], ["doctor"], ["compose", "dev", "config", "-q"]):
        result = dockergen(*step)
        assert result.returncode == 2, (step, result.stdout, result.stderr)
        said = result.stdout + result.stderr
        assert f"dockergen.yaml:{at + 1}:5: error: services.api.helthcheck: unknown key 'helthcheck' (did you mean `healthcheck`?)" in said, (step, said)
        assert "Traceback" not in said, step
    typo = dockergen("rendr")
    assert typo.returncode == 2 and "Did you mean 'render'?" in typo.stderr and "Traceback" not in typo.stderr
