"""How the console script ends a run: what it wrote and printed is complete, its exit code
is the command's, exit handlers still run, and the objects of the run are frozen first, so
the interpreter's last collection does not walk them all again (a 1,000-service render
leaves millions)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# An exit handler registered before the launcher runs, so it runs after everything the
# launcher does: it reports how many objects were frozen.
PROGRAM = """
import atexit, gc, sys
atexit.register(lambda: print(f"frozen at exit: {gc.get_freeze_count()}", file=sys.stderr))
sys.argv[0] = "dockergen"
from dockergen.launcher import main
main()
"""


def launched(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DOCKERGEN_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-c", PROGRAM, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def frozen(result: subprocess.CompletedProcess[str]) -> int:
    lines = [line for line in result.stderr.splitlines() if line.startswith("frozen at exit: ")]
    assert len(lines) == 1, result.stderr
    return int(lines[0].rsplit(" ", 1)[1])


@pytest.mark.parametrize("example", ["platform", "microservices"])
def test_a_full_run_ends_frozen_with_its_output_and_code(example: str, tmp_path: Path) -> None:
    source = tmp_path / "source"  # without its lock: validate takes the full path too
    shutil.copytree(ROOT / "examples" / example, source)
    (source / "dockergen.lock").unlink()
    spec = source / "dockergen.yaml"
    out = tmp_path / "out"
    result = launched(tmp_path, "render", "--spec", str(spec), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert frozen(result) > 10_000
    assert result.stdout.rstrip().splitlines(), "the summary is printed in full"
    assert (out / "compose.yaml").read_text().endswith("\n") and (out / "dockergen.lock").is_file()
    validated = launched(tmp_path, "validate", "--spec", str(spec))
    assert validated.returncode == 0 and validated.stdout.endswith(")\n"), validated.stdout
    assert frozen(validated) > 10_000


@pytest.mark.parametrize(("text", "code"), [("version: 1\nservices: [\n", 2), ("version: 1\nproject: x\nservices: {}\nbogus: 1\n", 2)])
def test_a_failed_run_keeps_its_code_and_message(text: str, code: int, tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(text)
    result = launched(tmp_path, "render")
    assert result.returncode == code
    assert "dockergen.yaml:" in result.stderr and "Traceback" not in result.stderr
    assert frozen(result) > 0
    assert not (tmp_path / "dockergen.lock").exists()
