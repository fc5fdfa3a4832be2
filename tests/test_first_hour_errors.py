"""The mistakes of a first hour, as a user meets them from the command line: where the spec
is, what a YAML slip means, what `version` takes. Each error is located, says what to do,
exits 2 and writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SPEC = "version: 1\nproject: shop\nservices:\n  api:\n    image: nginx:1.27\n"


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKERGEN_NO_CACHE": "1", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("command", ["render", "validate", "check"])
@pytest.mark.parametrize("spelling", ["deploy", "deploy/", "./deploy"])
def test_spec_names_a_folder_that_holds_dockergen_yaml(tmp_path: Path, command: str, spelling: str) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "dockergen.yaml").write_text(SPEC)
    if command == "check":
        assert run(tmp_path, "render", "--spec", spelling).returncode == 0
    result = run(tmp_path, command, "--spec", spelling)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "deploy" / "compose.yaml").is_file() or command == "validate"
    if command == "validate":
        assert "deploy/dockergen.yaml: valid (1 service; environments:" in result.stdout
    # The fast path reads the folder the same way: a second run answers from the lock.
    again = run(tmp_path, command, "--spec", spelling)
    assert again.returncode == 0, again.stderr


def test_a_missing_spec_points_at_the_specs_below(tmp_path: Path) -> None:
    for folder in ("infra/docker", "b-app", "node_modules/pkg", ".hidden"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "dockergen.yaml").write_text(SPEC)
    before = snapshot(tmp_path)
    result = run(tmp_path, "render")
    assert result.returncode == 2
    assert "dockergen.yaml: error: spec file not found (pass --spec b-app/dockergen.yaml or --spec infra/docker/dockergen.yaml)" in result.stderr
    assert "node_modules" not in result.stderr and ".hidden" not in result.stderr
    assert snapshot(tmp_path) == before


def test_a_missing_spec_with_none_below_says_init(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    result = run(tmp_path, "validate", "--spec", "src")
    assert result.returncode == 2
    assert "src/dockergen.yaml: error: spec file not found (`dockergen init` writes one for your project" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "where", "hint"),
    [
        (SPEC + "   ports: ['80:80']\n", "6:4", "indentation matches no key above it"),
        (SPEC + "    command: echo a: b\n", "6:20", "quote a value that holds `: `"),
        (SPEC.replace("nginx:1.27", "*nginx"), "5:12", "anchor it first, or quote a value that starts with `*`"),
        (SPEC.replace("nginx:1.27", '"nginx:1.27'), "6:1", "the quote opened at line 5, column 12 is never closed"),
        (SPEC.replace("nginx:1.27", "[nginx"), "6:1", "the file ends inside an open `[`, `{` or quote: close it"),
        (SPEC.replace("    image", "\timage"), "5:1", "indent with spaces, not tabs"),
        (SPEC + "project: again\n", "6:1", "each key may appear once per mapping"),
    ],
)
def test_a_yaml_slip_is_located_and_says_what_to_do(tmp_path: Path, text: str, where: str, hint: str) -> None:
    (tmp_path / "dockergen.yaml").write_text(text)
    before = snapshot(tmp_path)
    result = run(tmp_path, "render")
    assert result.returncode == 2, result.stderr
    assert f"dockergen.yaml:{where}: error: YAML syntax:" in result.stderr, result.stderr
    assert hint in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("version", ["1", "'1'", '"1"'])
def test_version_one_is_read_quoted_or_not(tmp_path: Path, version: str) -> None:
    (tmp_path / "dockergen.yaml").write_text(SPEC.replace("version: 1", f"version: {version}"))
    result = run(tmp_path, "validate")
    assert result.returncode == 0, result.stderr


def test_an_empty_spec_says_how_to_start_without_a_repository_file(tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text("")
    result = run(tmp_path, "validate")
    assert result.returncode == 2
    assert "dockergen init" in result.stderr and "dockergen schema --format markdown" in result.stderr
    assert "specs/reference.yaml" not in result.stderr


@pytest.mark.parametrize("family", ["python", "node"])
def test_directives_on_a_built_in_template_are_refused_not_dropped(tmp_path: Path, family: str) -> None:
    """`directives` write your own Dockerfile's first lines (the generic family); a python or
    node build used to accept them and render without them, so `escape` or `check` asked
    for never reached the file."""
    build = "{family: %s, context: ., port: 8000, directives: {check: 'skip=all'}}" % family
    (tmp_path / "dockergen.yaml").write_text(f"version: 1\nproject: shop\nservices:\n  api:\n    build: {build}\n")
    result = run(tmp_path, "render")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("dockergen.yaml:5:5: error: services.api.build: `directives` are the parser directives of your own Dockerfile"), result.stderr
    assert "drop them, or write the Dockerfile as `steps`" in result.stderr
    assert snapshot(tmp_path) == {"dockergen.yaml": (tmp_path / "dockergen.yaml").read_bytes()}
