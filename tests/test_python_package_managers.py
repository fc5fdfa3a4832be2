"""The python family with pip, uv, Poetry and PDM: every rendered Dockerfile is read back
with BuildKit's parser and passes hadolint; each installs exactly its lockfile into
/opt/venv after copying the manifests and nothing else, downloads in a cache mount, the
tool pinned in /opt/tools of the builder (never in prod); `init` detects each. The
pyproject-only install line is run here on real pyproject files. tests/e2e builds them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dockergen import presets
from dockergen.errors import DockergenError
from dockergen.scaffold.detect import detect
from tests.python_specs import render_python
from tests.tools import dockerfile_stages, hadolint

PROJECTS = Path(__file__).resolve().parent / "e2e" / "projects"
LOCKED = {
    "uv": ("uv.lock", "/root/.cache/uv", "/opt/tools/bin/uv sync --locked --no-install-project --no-dev",
           "/opt/tools/bin/uv sync --locked --no-install-project --all-groups"),
    "poetry": ("poetry.lock", "/root/.cache/pypoetry", "/opt/tools/bin/poetry install --no-root --no-directory --only main",
               "/opt/tools/bin/poetry install --no-root --no-directory --all-groups"),
    "pdm": ("pdm.lock", "/root/.cache/pdm", "/opt/tools/bin/pdm install --check --frozen-lockfile --no-self --prod",
            "/opt/tools/bin/pdm install --check --frozen-lockfile --no-self --group :all"),
}  # fmt: skip
PYPROJECT = '[project]\nname = "a"\ndependencies = ["flask"]\n[dependency-groups]\ndev = ["pytest"]\n'


def render_manager(tmp_path: Path, manager: str, **python: Any) -> Path:
    files = {"app/main.py": "", "pyproject.toml": PYPROJECT, LOCKED[manager][0]: ""} if manager in LOCKED else None
    path, _ = render_python(tmp_path, {"package_manager": manager, **python}, files=files)
    return path


def runs(instructions: list[Any]) -> list[str]:
    return [c.value[0] for c in instructions if c.cmd == "RUN"]


@pytest.mark.parametrize("manager", sorted(LOCKED))
def test_the_lockfile_is_installed_exactly_after_the_manifests_and_before_the_source(manager: str, tmp_path: Path) -> None:
    lockfile, cache, runtime, everything = LOCKED[manager]
    stages = dockerfile_stages(render_manager(tmp_path, manager))
    builder = stages["builder"][1]
    copies = [c.value for c in builder if c.cmd == "COPY"]
    assert copies == [("pyproject.toml", lockfile, "./")]
    install = next(c for c in builder if c.cmd == "RUN" and c.value[0] == runtime)
    assert f"--mount=type=cache,target={cache}" in install.flags
    assert builder.index(install) > [c.cmd for c in builder].index("COPY")
    tool = runs(builder)[0]
    assert " ".join(tool.split()).startswith("python -m venv /opt/tools && /opt/tools/bin/pip install ") and f"{manager}=={getattr(presets, manager.upper() + '_VERSION')}" in tool
    for stage in ("dev", "test"):
        assert runs(stages[stage][1]) == [everything], stage
        assert [c.value for c in stages[stage][1] if c.cmd == "COPY"] == [(".", ".")]  # the manifests are in place already
    prod = stages["prod"][1]
    assert [c.value for c in prod if c.cmd == "COPY"] == [("/opt/venv", "/opt/venv"), ("/app", "/app")]
    assert not any("/opt/tools" in c.original for c in prod)


@pytest.mark.parametrize("manager", sorted(LOCKED))
def test_the_tool_installs_into_the_virtualenv_prod_copies(manager: str, tmp_path: Path) -> None:
    stages = dockerfile_stages(render_manager(tmp_path, manager))
    env = {k: v.strip('"') for c in stages["builder"][1] if c.cmd == "ENV" for k, v in zip(c.value[::2], c.value[1::2])}
    base = {k: v.strip('"') for c in stages["base"][1] if c.cmd == "ENV" for k, v in zip(c.value[::2], c.value[1::2])}
    target = {"uv": env.get("UV_PROJECT_ENVIRONMENT"), "poetry": base.get("VIRTUAL_ENV"), "pdm": env.get("PDM_PYTHON", "").removesuffix("/bin/python")}
    assert target[manager] == "/opt/venv"
    # uv makes the virtualenv itself, with the image's python; the others get one made for them.
    assert ("python -m venv /opt/venv" in runs(stages["builder"][1])) == (manager != "uv")
    if manager == "uv":
        assert env["UV_PYTHON_DOWNLOADS"] == "never" and env["UV_LINK_MODE"] == "copy"


@pytest.mark.parametrize("manager", [*sorted(LOCKED), "pip", "pyproject"])
def test_hadolint_finds_nothing(manager: str, tmp_path: Path) -> None:
    if manager == "pyproject":
        path, _ = render_python(tmp_path, {"requirements": "pyproject.toml"}, files={"pyproject.toml": PYPROJECT})
    else:
        path = render_manager(tmp_path, manager, **({"dev_requirements": "requirements.txt"} if manager == "pip" else {}))
    result = hadolint(path)
    assert result.returncode == 0, result.stdout


def test_pip_renders_as_before_by_default(tmp_path: Path) -> None:
    stages = dockerfile_stages(render_manager(tmp_path, "pip"))
    assert runs(stages["builder"][1]) == ["python -m venv /opt/venv", "pip install -r requirements.txt"]
    assert "/opt/tools" not in (tmp_path / "api" / "Dockerfile").read_text()


@pytest.mark.parametrize("manager", sorted(LOCKED))
def test_requirement_files_are_refused_for_a_lockfile_manager(manager: str, tmp_path: Path) -> None:
    with pytest.raises(DockergenError, match=f"{manager} installs from its lockfile and pyproject.toml: `dev_requirements` is for pip"):
        render_manager(tmp_path, manager, dev_requirements="requirements-dev.txt")


PYPROJECTS = {
    "plain": ('[project]\nname = "svc"\ndependencies = ["flask>=3", "gunicorn"]\n', ["flask>=3", "gunicorn"], ["flask>=3", "gunicorn"]),
    "groups and extras, self-references dropped": (
        '[project]\nname = "My_Svc"\ndependencies = ["flask"]\n'
        '[project.optional-dependencies]\npg = ["psycopg[binary]>=3"]\nall = ["my-svc[pg]"]\n'
        '[dependency-groups]\ntest = ["pytest>=8", {include-group = "lint"}]\nlint = ["ruff"]\n',
        ["flask"], ["flask", "pytest>=8", "ruff", "psycopg[binary]>=3"],
    ),
    "no dependencies": ('[project]\nname = "svc"\n', [], []),
}


@pytest.mark.parametrize("case", sorted(PYPROJECTS))
def test_the_pyproject_install_line_lists_what_pip_should_install(case: str, tmp_path: Path) -> None:
    text, runtime, everything = PYPROJECTS[case]
    (tmp_path / "pyproject.toml").write_text(text)
    command = presets.PYPROJECT_REQUIREMENTS.removeprefix("python ")
    for argv, expected in (([], runtime), (["all"], everything)):
        out = subprocess.run(f"{sys.executable} {command} {' '.join(argv)}", shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert [line for line in out.stdout.split("\n") if line] == expected


def test_a_pyproject_only_project_installs_its_dependencies_without_the_project(tmp_path: Path) -> None:
    path, _ = render_python(tmp_path, {"requirements": "pyproject.toml"}, files={"pyproject.toml": PYPROJECT})
    stages = dockerfile_stages(path)
    assert [c.value for c in stages["builder"][1] if c.cmd == "COPY"] == [("pyproject.toml", "./")]
    assert runs(stages["builder"][1])[-1].endswith("> /tmp/requirements.txt && pip install -r /tmp/requirements.txt")
    assert runs(stages["test"][1])[0].endswith(" all > /tmp/requirements-all.txt && pip install -r /tmp/requirements-all.txt")


@pytest.mark.parametrize(("project", "manager"), [("uv", "uv"), ("poetry", "poetry"), ("pdm", "pdm"), ("pyproject", "pip")])
def test_init_detects_the_manager_from_the_lockfile(project: str, manager: str) -> None:
    (app,) = detect(PROJECTS / project).apps
    assert (app.manager, app.notes, app.has_pytest, app.app_module, app.interface) == (manager, [], True, "app.main:app", "wsgi")
    assert app.requirements == ("pyproject.toml" if manager == "pip" else None)
