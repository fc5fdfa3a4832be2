"""The distribution as a user installs it: build the wheel, install it into a fresh
virtualenv, and render and check an example outside the repository with it."""

from __future__ import annotations

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


def test_installed_in_a_fresh_virtualenv_it_renders_an_example_outside_the_repository(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr
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
