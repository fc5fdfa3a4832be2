"""Python projects managed with uv, Poetry and PDM (from their lockfiles) and a
pyproject-only one, on podman: `dockergen init` detects each and writes a spec without a
TODO; the test stage installs the dev groups and passes offline; prod comes up healthy
through Compose with the locked runtime dependencies only, no tests, and code the app
user cannot rewrite.

The builds download from PyPI (the sandbox reaches it through a TLS-intercepting proxy
whose CA is in the stand-in image's store: uv trusts it through UV_SYSTEM_CERTS, Poetry
through REQUESTS_CA_BUNDLE, pip and PDM by default); the test stage then runs with no
network at all."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e import engine as eng
from tests.e2e.conftest import not_available

PROJECTS = Path(__file__).resolve().parent / "projects"
MANAGER = {"uv": "uv", "poetry": "poetry", "pdm": "pdm", "pyproject": "pip"}


def dockergen(cwd: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("project", sorted(MANAGER))
def test_init_detects_the_manager_and_the_images_build_test_and_serve(project: str, engine: eng.Engine, tmp_path: Path) -> None:
    workdir = tmp_path / project
    shutil.copytree(PROJECTS / project, workdir)
    dockergen(workdir, "init", "--yes")
    spec = (workdir / "dockergen.yaml").read_text()
    assert "TODO" not in spec and f"package_manager: {MANAGER[project]}" in spec, spec
    dockergen(workdir, "render", "-q")
    dockerfile = workdir / "Dockerfile"
    for image in eng.base_images(dockerfile):
        if not eng.image_exists(image):
            not_available(f"image {image} is not present locally")

    tag = f"localhost/dge2e-{project}:test"
    eng.build(eng.BuildCase(dockerfile, workdir, "test", (), (tag,), ("test",)), timeout=900)
    result = eng.podman("run", "--rm", "--network", "none", tag, timeout=300, check=False)
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]

    stack = eng.Stack(engine, workdir, ["compose.yaml", "compose.prod.yaml"], f"{eng.PROJECT_PREFIX}{project}")
    try:
        with eng.running(stack, stack.config(), wait_timeout=120):
            assert stack.health("app") == "healthy"
            listing = stack.exec("app", "sh", "-c", "ls -A /app; python -c 'import gunicorn' && echo has-gunicorn")
            assert "has-gunicorn" in listing and "tests" not in listing.split(), listing
            # Runtime dependencies only, and no installer: the dev group and the tools stay in the builder.
            probe = "import importlib.util as u; print([m for m in ('pytest', 'uv', 'poetry', 'pdm') if u.find_spec(m)])"
            assert stack.exec("app", "python", "-c", probe).strip() == "[]"
            assert "no-tools" in stack.exec("app", "sh", "-c", "test -e /opt/tools || echo no-tools")
            # The code belongs to root: the app user cannot rewrite it.
            denied = stack.exec("app", "sh", "-c", "touch /app/app/main.py 2>&1 || echo denied; id -u")
            assert "denied" in denied and denied.split()[-1] == "10001", denied
    finally:
        eng.podman("rmi", "-f", tag, check=False)
