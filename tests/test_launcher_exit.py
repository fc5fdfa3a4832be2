"""How the console script leaves after a fast-path command (``launcher.exit_status``): it
skips the interpreter's teardown, and must still exit as the interpreter would: exit
handlers run, the standard streams flushed, 120 when they cannot be."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "platform"


def run(tmp: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    """``dockergen ARGS`` in a clean copy of the example, with a ``sitecustomize`` that
    registers an exit handler writing ``tmp/handled``."""
    hooks = tmp / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(f"import atexit\natexit.register(lambda: open({str(tmp / 'handled')!r}, 'w').close())\n")
    copy = tmp / "p"
    if not copy.exists():
        shutil.copytree(EXAMPLE, copy)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a pipe is then written at exit, as by default
    env |= {"PYTHONPATH": f"{hooks}{os.pathsep}{ROOT}", "DOCKERGEN_NO_SERVER": "1", "XDG_CACHE_HOME": str(tmp / "cache")}
    return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=copy, env=env, timeout=120, **kwargs)


def test_a_fast_path_command_runs_the_exit_handlers_and_prints_all_it_printed(tmp_path: Path) -> None:
    result = run(tmp_path, "validate", capture_output=True)
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.startswith(b"dockergen.yaml: valid (unchanged since the last render") and result.stdout.endswith(b")\n")
    assert (tmp_path / "handled").exists(), "the exit handlers did not run"


def test_a_fast_path_command_whose_output_cannot_be_written_exits_120(tmp_path: Path) -> None:
    """As the interpreter does when it cannot flush stdout at exit (the reader is gone)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = run(tmp_path, "validate", stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert result.returncode == 120
    assert b"Traceback" not in result.stderr
    assert (tmp_path / "handled").exists()
