"""The python test stage has its tests and pytest, and every file a built-in template copies
by name exists: otherwise validate, lint, render and doctor stop with a located error
(where the build context exists; a spec may be rendered before its code)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dockergen.errors import DockergenError
from tests.python_specs import APP_FILES, python_spec, render_python, render_spec
from tests.tools import dockerfile_stages

TESTS = {"tests/test_app.py": "def test_ok():\n    assert True\n"}
NO_PYTEST = {**APP_FILES, "requirements.txt": "fastapi\nuvicorn\n"}
PIP_FILES = {**APP_FILES, **TESTS, "requirements-dev.txt": "debugpy\npytest==8.3.0\n", "requirements-test.txt": "httpx\n"}


def problems(tmp_path: Path, spec: dict[str, Any], files: dict[str, str] | None) -> list[str]:
    with pytest.raises(DockergenError) as caught:
        render_spec(tmp_path, spec, files)
    assert not (tmp_path / "api" / "Dockerfile").exists()
    return [p.render() for p in caught.value.problems]


def cli(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=directory, capture_output=True, text=True, timeout=120)


def test_the_test_stage_installs_the_dev_requirements_where_pytest_often_is(tmp_path: Path) -> None:
    path, _ = render_python(tmp_path, {"dev_requirements": "requirements-dev.txt", "test_requirements": "requirements-test.txt"}, files=PIP_FILES)
    runs = [c.value[0] for c in dockerfile_stages(path)["test"][1] if c.cmd == "RUN"]
    assert runs == ["pip install -r requirements-dev.txt -r requirements-test.txt"]
    copies = [c.value for c in dockerfile_stages(path)["test"][1] if c.cmd == "COPY"]
    assert copies[0] == ("requirements-dev.txt", "requirements-test.txt", "./")


@pytest.mark.parametrize(
    ("python", "files"),
    [
        ({"dev_requirements": "requirements-dev.txt"}, {**NO_PYTEST, "requirements-dev.txt": "debugpy\n"}),
        ({}, NO_PYTEST),
        # an include that names no pytest either
        ({"test_requirements": "req/test.txt"}, {**NO_PYTEST, "req/test.txt": "-r base.txt\nhttpx\n", "req/base.txt": "anyio\n"}),
        ({"package_manager": "uv"}, {**APP_FILES, "uv.lock": "", "pyproject.toml": '[project]\nname = "a"\ndependencies = ["fastapi"]\n'}),
    ],
)
def test_a_test_stage_whose_installs_name_no_pytest_is_a_lint_finding_at_the_build(python: dict[str, Any], files: dict[str, str], tmp_path: Path) -> None:
    if python.get("package_manager"):
        files = {k: v for k, v in files.items() if k != "requirements.txt"}
    render_spec(tmp_path, python_spec(python), files)
    result = cli(tmp_path, "lint", "--format", "json")
    (found,) = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "DG030"]
    assert found["severity"] == "warning" and "the test stage runs pytest, but nothing it installs" in found["message"]
    assert found["location"]["file"].endswith("dockergen.yaml") and found["location"]["line"]


@pytest.mark.parametrize(
    ("python", "files"),
    [
        ({"test_requirements": "req/test.txt"}, {**APP_FILES, "req/test.txt": "-r ../requirements.txt\n--requirement=extra.txt\n", "req/extra.txt": "PyTest[psutil]>=8 ; python_version > '3'\n"}),
        ({"package_manager": "uv"}, {"uv.lock": "", "pyproject.toml": '[project]\nname = "a"\n[dependency-groups]\ndev = ["pytest"]\n'}),
        ({"package_manager": "poetry"}, {"poetry.lock": "", "pyproject.toml": "[tool.poetry.group.test.dependencies]\npytest = '^8'\n"}),
        ({"package_manager": "pdm"}, {"pdm.lock": "", "pyproject.toml": '[project]\nname = "a"\n[tool.pdm.dev-dependencies]\ntest = ["pytest>=8"]\n'}),
        ({"requirements": "pyproject.toml"}, {"pyproject.toml": '[project]\nname = "a"\n[project.optional-dependencies]\ntest = ["pytest"]\n'}),
        ({"test_command": ["python", "-m", "unittest"]}, APP_FILES),
    ],
)
def test_pytest_declared_anywhere_the_test_stage_installs_is_enough(python: dict[str, Any], files: dict[str, str], tmp_path: Path) -> None:
    render_python(tmp_path, python, files={**files, "app/main.py": ""})
    findings = json.loads(cli(tmp_path, "lint", "--format", "json", "--no-hadolint").stdout)["findings"]
    assert not [f for f in findings if f["rule"] == "DG030"]


def test_without_its_code_the_spec_still_renders(tmp_path: Path) -> None:
    render_spec(tmp_path, python_spec({"dev_requirements": "requirements-dev.txt", "package_manager": "pip"}), None)
    assert (tmp_path / "api" / "Dockerfile").is_file()


@pytest.mark.parametrize("pattern", ["tests/", "tests", "/tests", "**/test_*.py", "test*", "*"])
def test_an_ignore_pattern_that_empties_the_test_stage_is_a_located_error(pattern: str, tmp_path: Path) -> None:
    spec = python_spec({"test_requirements": "requirements-dev.txt"}, {"ignore": ["data/", pattern]})
    found = [p for p in problems(tmp_path, spec, PIP_FILES) if "has no tests" in p]
    assert found and all(re.match(r".*dockergen\.yaml:\d+:\d+: error: services\.api\.build\.ignore\[1\]: ", p) for p in found), found


def test_an_ignore_pattern_that_keeps_the_tests_is_fine(tmp_path: Path) -> None:
    render_python(tmp_path, {"test_requirements": "requirements-dev.txt"}, build={"ignore": ["tests/fixtures/big/", "*.csv", "test*", "!tests"]}, files=PIP_FILES)


@pytest.mark.parametrize(
    ("python", "files", "missing"),
    [
        ({}, {"app/main.py": ""}, "'requirements.txt'"),
        ({"dev_requirements": "requirements-dev.txt"}, APP_FILES, "'requirements-dev.txt'"),
        ({"package_manager": "uv"}, {"pyproject.toml": "[project]\nname = 'a'\n"}, "'uv.lock'"),
        ({"package_manager": "poetry"}, {"poetry.lock": ""}, "'pyproject.toml'"),
        ({"package_manager": "pdm"}, {"pyproject.toml": ""}, "'pdm.lock'"),
        ({"requirements": "pyproject.toml"}, {"app/main.py": ""}, "'pyproject.toml'"),
    ],
)
def test_a_manifest_the_dockerfile_copies_must_exist(python: dict[str, Any], files: dict[str, str], missing: str, tmp_path: Path) -> None:
    (found,) = [p for p in problems(tmp_path, python_spec({"test_command": ["true"], **python}), files) if missing in p]
    assert re.match(rf".*dockergen\.yaml:\d+:\d+: error: services\.api\.build\.python(\.\w+)?: {missing} is not in the build context 'api'", found), found


def test_node_package_json_and_lockfile_must_exist(tmp_path: Path) -> None:
    spec = python_spec()
    spec["services"]["api"]["build"] = {"family": "node", "context": "api", "port": 3000, "node": {"package_manager": "pnpm"}}
    found = problems(tmp_path, spec, {"package.json": "{}"})
    assert any("'pnpm-lock.yaml' is not in the build context" in p and "pnpm install --lockfile-only" in p for p in found), found


@pytest.mark.parametrize("command", [["validate"], ["render"], ["lint"], ["doctor"]])
def test_every_command_reports_a_missing_manifest_at_its_line_and_exits_2(command: list[str], tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(json.dumps(python_spec({"dev_requirements": "requirements-dev.txt"}), indent=2))
    for relative, text in APP_FILES.items():
        (tmp_path / "api" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "api" / relative).write_text(text)
    result = cli(tmp_path, *command)
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(r"dockergen\.yaml:\d+:\d+: error: services\.api\.build\.python\.dev_requirements: 'requirements-dev\.txt' is not in the build context", result.stderr), result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "api" / "Dockerfile").exists()
