"""Shell completion through the console script's entry point (dockergen.launcher:main),
completion of environment and service names from the spec, help with examples, and
what `dockergen --help` and `dockergen check` import (nothing heavy)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

LAUNCHER = "import sys; sys.argv[0] = 'dockergen'; from dockergen.launcher import main; main()"
PLATFORM = ROOT / "examples" / "platform"


def launcher(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("_DOCKERGEN")}
    full.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-c", LAUNCHER, *args], cwd=cwd, capture_output=True, text=True, env=full, timeout=60)


def complete(cwd: Path, words: str) -> list[str]:
    result = launcher(cwd, COMP_WORDS=words, COMP_CWORD=str(len(words.split(" ")) - 1), _DOCKERGEN_COMPLETE="bash_complete")
    assert result.returncode == 0, result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if "," in line]


def test_the_console_script_is_the_launcher() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["dockergen"] == "dockergen.launcher:main"


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o nosort -F _dockergen_completion dockergen"), ("zsh", "#compdef dockergen"), ("fish", "complete --no-files --command dockergen")])
def test_completion_scripts(shell: str, marker: str, tmp_path: Path) -> None:
    result = launcher(tmp_path, _DOCKERGEN_COMPLETE=f"{shell}_source")
    assert result.returncode == 0 and marker in result.stdout, result.stdout[:300]


def test_completion_of_commands_options_environments_and_services(tmp_path: Path) -> None:
    assert {"lint", "init", "render", "check", "explain", "diff"} <= set(complete(tmp_path, "dockergen "))
    assert "--fail-on" in complete(tmp_path, "dockergen lint --f")
    assert complete(tmp_path, "dockergen server ") == ["start", "status", "stop"]
    assert complete(PLATFORM, "dockergen lint --env ") == ["dev", "test", "staging", "prod", "podman", "alpine"]
    assert complete(PLATFORM, "dockergen diff st") == ["staging"]
    assert set(complete(PLATFORM, "dockergen explain ")) == {"backend", "auth", "frontend", "analytics"}
    spec = str(PLATFORM / "dockergen.yaml")
    assert complete(tmp_path, f"dockergen render --spec {spec} --env al") == ["alpine"]
    assert complete(tmp_path, "dockergen lint --env ") == [], "no spec here: nothing to complete"


def test_real_bash_completes_through_the_console_script(tmp_path: Path) -> None:
    script = shutil.which("dockergen")
    bash = shutil.which("bash")
    if script is None or bash is None:
        pytest.skip("dockergen is not installed as a console script (pip install -e .)")
    program = f"""
eval "$(_DOCKERGEN_COMPLETE=bash_source dockergen)"
COMP_WORDS=(dockergen diff st); COMP_CWORD=2
_dockergen_completion dockergen
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    result = subprocess.run([bash, "-c", program], cwd=PLATFORM, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["staging"], result.stderr


@pytest.mark.parametrize("command", ["lint", "init", "render", "check", "explain", "diff", "absorb", "compose", "server"])
def test_help_has_examples(command: str) -> None:
    result = launcher(ROOT, command, "--help")
    assert result.returncode == 0
    assert "Examples:" in result.stdout and f"dockergen {command}" in result.stdout


def imported(cwd: Path, *args: str) -> set[str]:
    full = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", LAUNCHER, *args], cwd=cwd, capture_output=True, text=True, env=full, timeout=60)
    return {m.group(1).split(".")[0] for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)", result.stderr, re.MULTILINE)}


def test_help_and_check_import_nothing_heavy() -> None:
    heavy = {"rich", "pydantic", "jinja2", "ruamel", "deepmerge", "dockerfile"}
    assert imported(ROOT, "--help") & heavy == set()
    assert imported(ROOT, "lint", "--help") & heavy == set()
    assert imported(PLATFORM, "check") & (heavy | {"click"}) == set(), "a clean tree is confirmed before click loads"
    assert imported(PLATFORM, "render") & (heavy | {"click"}) == set(), "an unchanged tree too, when render is asked"
    assert imported(PLATFORM, "render", "-q") & (heavy | {"click"}) == set()


def test_rich_loads_only_for_a_terminal() -> None:
    modules = imported(PLATFORM, "diff", "dev", "prod")
    assert "pydantic" in modules and "rich" not in modules, "piped output is plain text, without rich"


def modules_of_a_full_validate(example: str, tmp_path: Path) -> set[str]:
    """Every module (full dotted names) a validate of ``example`` imports on the full path."""
    copy = tmp_path / example
    shutil.copytree(ROOT / "examples" / example, copy)
    (copy / "dockergen.lock").unlink()  # nothing to confirm: the full path
    full = {**os.environ, "PYTHONPATH": str(ROOT), "DOCKERGEN_NO_CACHE": "1"}
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", LAUNCHER, "validate"], cwd=copy, capture_output=True, text=True, env=full, timeout=60)
    assert result.returncode == 0, result.stderr
    return {m.group(1) for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)", result.stderr, re.MULTILINE)}


def test_a_full_run_imports_the_bake_renderer_only_when_asked_and_tomllib_only_to_read_toml(tmp_path: Path) -> None:
    plain = modules_of_a_full_validate("platform", tmp_path)  # no bake output, no pyproject.toml
    assert "dockergen.render.compose" in plain, "the full path ran"
    assert {"dockergen.render.bake", "dockergen.render.hcl", "tomllib"} & plain == set()
    assert "dockergen.render.bake" in modules_of_a_full_validate("uv-fastapi-celery", tmp_path), "its spec asks for a bake file"
