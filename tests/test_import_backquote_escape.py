"""Windows Dockerfiles (``# escape=`​``): a ``\\`` is a plain character there, at the end of a
path as anywhere, and comes through import as BuildKit reads it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest
import yaml

LINES = [
    "WORKDIR C:\\app\\",
    "COPY . C:\\app\\",
    "ADD tools C:\\tools\\",
    "ENV TOOLS=C:\\tools\\",
    "ARG OUT=C:\\out\\",
    "LABEL path=C:\\x\\",
    "RUN dir C:\\",
    "RUN powershell -Command `\n    Write-Host \"a  b\"; `\n    dir C:\\",
    "VOLUME C:\\data\\",
    'RUN echo "C:\\" "a  b"',
    'ENV MSG="C:\\" NEXT="x  y"',
]


@pytest.mark.parametrize("line", LINES)
def test_a_backslash_is_kept_under_a_backquote_escape(tmp_path: Path, line: str) -> None:
    root = tmp_path / "repo"
    (root / "app" / "tools").mkdir(parents=True)
    (root / "app" / "tools" / "t.exe").write_text("x")
    original = f"# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n{line}\nCMD [\"C:\\\\app\\\\run.exe\"]\n"
    (root / "app" / "Dockerfile").write_text(original)
    (root / "compose.yaml").write_text("services:\n  win:\n    build: ./app\n    image: win:1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKERGEN_")}
    result = subprocess.run([sys.executable, "-m", "dockergen", "import", str(root), "--verify"],
                            capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert result.returncode == 0 and " 0 unexplained" in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]
    rendered = subprocess.run([sys.executable, "-m", "dockergen", "render", "--spec", str(root / "dockergen.yaml"), "--force", "-q"],
                              capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    build = yaml.safe_load((root / "compose.yaml").read_text())["services"]["win"]["build"]
    path = root / build["context"] / build.get("dockerfile", "Dockerfile")
    mine = [c for c in dockerfile.parse_file(str(path)) if c.cmd.upper() == line.split()[0]]
    theirs = [c for c in dockerfile.parse_string(original) if c.cmd.upper() == line.split()[0]]
    # The blanks a continuation leaves between its lines are one, as a shell reads them.
    same = (lambda v: re.sub(r"\s+", " ", v)) if "`\n" in line else (lambda v: v)
    assert [(c.flags, tuple(map(same, c.value))) for c in mine] == [(c.flags, tuple(map(same, c.value))) for c in theirs]
