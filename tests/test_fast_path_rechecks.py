"""A render, validate or check confirmed from the lock must not hide what validation would
report now: every check of the project's files that the render passed (manifests,
contexts, symbolic links, the test suite, the template directory) runs again, and a
failing one takes the full path, which reports it located, exit 2."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dockergen.fingerprint import LOCK_NAME, Lock, clean_lock

SPEC = """\
version: 1
project: rechecked
environments: {dev: {}, test: {}, prod: {}}
services:
  api:
    build: {family: python, context: api, port: 8000, ignore: ["tests/slow/"],
            python: {app: "app:app", test_requirements: requirements-test.txt}}
    env_file: [config/api.env]
    healthcheck: {http: /health}
  web:
    build:
      family: node
      context: web
      port: 3000
      node: {start: [node, server.js], install_files: [.npmrc]}
  db:
    image: postgres:16-alpine
"""

FILES = {
    "api/app.py": "app = None\n",
    "api/requirements.txt": "fastapi\n",
    "api/requirements-test.txt": "pytest\n",
    "api/tests/test_app.py": "def test_it(): pass\n",
    "api/tests/slow/test_big.py": "def test_big(): pass\n",
    "web/server.js": "",
    "web/package.json": "{}\n",
    "web/package-lock.json": "{}\n",
    "web/.npmrc": "registry=https://registry.npmjs.org/\n",
    "config/api.env": "LOG_LEVEL=info\n",
}


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def rendered(tmp_path: Path, spec: str = SPEC) -> Path:
    project = tmp_path / "project"
    for relative, text in FILES.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)
    (project / "dockergen.yaml").write_text(spec)
    first = run(project, "render")
    assert first.returncode == 0, first.stderr
    assert run(project, "render").stdout.startswith("nothing to change"), "the fast path, before the change"
    return project


def remove(relative: str) -> Callable[[Path], None]:
    return lambda project: (project / relative).unlink()


def link_outside(project: Path) -> None:
    outside = project.parent / "elsewhere.env"
    outside.write_text("LOG_LEVEL=debug\n")
    (project / "config/api.env").unlink()
    os.symlink(outside, project / "config/api.env")


def npm_token(project: Path) -> None:
    (project / "web/.npmrc").write_text("//registry.npmjs.org/:_authToken=npm_abc123\n")


def manifest_becomes_a_pipe(project: Path) -> None:
    (project / "api/requirements-test.txt").unlink()
    os.mkfifo(project / "api/requirements-test.txt")


def only_slow_tests_left(project: Path) -> None:
    (project / "api/tests/test_app.py").unlink()


CASES = {
    "requirements deleted": (remove("api/requirements.txt"), "services.api.build.python.requirements: 'requirements.txt' is not in the build context"),
    "test requirements deleted": (remove("api/requirements-test.txt"), "services.api.build.python.test_requirements: 'requirements-test.txt' is not in"),
    "package.json deleted": (remove("web/package.json"), "services.web.build.node: 'package.json' is not in the build context 'web'"),
    "npm lockfile deleted": (remove("web/package-lock.json"), "services.web.build.node.package_manager: 'package-lock.json' is not in the build context 'web'"),
    "install file deleted": (remove("web/.npmrc"), "services.web.build.node.install_files[0]: '.npmrc' is not in the build context"),
    "install file now holds a token": (npm_token, "services.web.build.node.install_files[0]: '.npmrc' holds a registry credential"),
    "manifest replaced by a named pipe": (manifest_becomes_a_pipe, "services.api.build.python.test_requirements: 'requirements-test.txt' is a named pipe (FIFO): COPY cannot"),
    "env file now links outside": (link_outside, "services.api.env_file[0]: 'config/api.env' resolves (through a symbolic link) outside"),
    "the kept tests deleted": (only_slow_tests_left, "services.api.build.ignore[0]: 'tests/slow/' leaves the test suite"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_change_validation_would_refuse_is_reported_after_a_render(case: str, tmp_path: Path) -> None:
    change, expected = CASES[case]
    project = rendered(tmp_path)
    generated = [*json.loads((project / LOCK_NAME).read_text())["files"], LOCK_NAME]
    before = {path: (project / path).read_bytes() for path in generated}
    change(project)
    assert clean_lock(project / "dockergen.yaml", project) is None
    for command in ("render", "validate", "check"):
        result = run(project, command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert re.search(r"^dockergen\.yaml:\d+:\d+: error: " + re.escape(expected), result.stderr, re.M), (command, result.stderr)
        assert "Traceback" not in result.stderr
    assert {path: (project / path).read_bytes() for path in generated} == before, "nothing written"


def test_a_deleted_template_directory_is_reported(tmp_path: Path) -> None:
    # Empty, so the templates' digest is the built-in templates' whether it is there or not.
    (tmp_path / "project/own-templates").mkdir(parents=True)
    project = rendered(tmp_path, SPEC.replace("version: 1\n", "version: 1\ntemplates: own-templates\n"))
    (project / "own-templates").rmdir()
    for command in ("render", "validate", "check"):
        result = run(project, command)
        assert result.returncode == 2 and "templates: template directory 'own-templates' does not exist" in result.stderr, result.stderr


def test_code_added_after_the_render_keeps_the_lock_and_the_fast_path(tmp_path: Path) -> None:
    """The checks depend on the spec, not on what they found: a spec rendered before its
    code (empty contexts, where manifests are not judged) stays clean when the code comes."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "dockergen.yaml").write_text(SPEC)
    (project / "config").mkdir()
    (project / "config/api.env").write_text("")
    assert run(project, "render").returncode == 0
    lock = (project / LOCK_NAME).read_bytes()
    for relative, text in FILES.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)
    assert run(project, "render").stdout.startswith("nothing to change")
    assert run(project, "check").returncode == 0
    assert (project / LOCK_NAME).read_bytes() == lock
    (project / "api/requirements.txt").unlink()  # code without its manifest: now judged
    assert run(project, "validate").returncode == 2


def test_the_lock_lists_the_checks_once_in_a_stable_order(tmp_path: Path) -> None:
    project = rendered(tmp_path)
    checks = json.loads((project / LOCK_NAME).read_text())["checks"]
    assert checks == sorted(checks, key=json.dumps) and len({json.dumps(c) for c in checks}) == len(checks)
    assert ["manifest", "web", ".npmrc", True] in checks and ["tests", "api", ["tests/slow/"]] in checks
    assert ["inside", "config/api.env", ".", False] in checks


def test_a_lock_without_checks_or_with_an_unknown_one_is_not_trusted_by_the_fast_path(tmp_path: Path) -> None:
    project = rendered(tmp_path)
    lock = Lock.from_text((project / LOCK_NAME).read_text())
    assert lock is not None and lock.checks
    for checks in (None, [*lock.checks, ["a-check-from-a-later-version", "x"]]):
        lock.checks = checks
        (project / LOCK_NAME).write_text(lock.to_text())
        assert clean_lock(project / "dockergen.yaml", project) is None
    assert Lock.from_text(lock.to_text().replace('"checks": [', '"checks": [7, ')) is None


@pytest.mark.parametrize(
    "forged",
    [["folder", "../elsewhere"], ["context", "/"], ["manifest", "../elsewhere", "requirements.txt", False], ["tests", "~", []]],
    ids=["parent folder", "absolute", "manifest outside", "home"],
)
def test_a_lock_whose_checks_name_a_place_outside_is_not_trusted(forged: list[object], tmp_path: Path) -> None:
    """A render records project paths only; a lock naming others (written by hand or by
    someone else) sends the run to the full path instead of looking there on its word."""
    project = rendered(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/requirements.txt").write_text("x\n")
    lock = Lock.from_text((project / LOCK_NAME).read_text())
    assert lock is not None and lock.checks
    lock.checks = [*lock.checks, forged]
    (project / LOCK_NAME).write_text(lock.to_text())
    assert clean_lock(project / "dockergen.yaml", project) is None


@pytest.mark.parametrize("forged", [["context"], ["context", True], ["manifest", "api", "requirements.txt"], ["distinct", "a", []]])
def test_a_lock_whose_checks_have_the_wrong_shape_is_refused_not_a_crash(forged: list[object], tmp_path: Path) -> None:
    project = rendered(tmp_path)
    lock = Lock.from_text((project / LOCK_NAME).read_text())
    assert lock is not None and lock.checks
    lock.checks = [*lock.checks, forged]
    text = lock.to_text()
    assert Lock.from_text(text) is None
    (project / LOCK_NAME).write_text(text)
    result = run(project, "check")
    assert "Traceback" not in result.stderr, result.stderr
