"""Tables and colour on a terminal; plain text when piped or with NO_COLOR."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PLATFORM = ROOT / "examples" / "platform"
ESC = "\x1b["


def on_a_terminal(*args: str, **env: str) -> str:
    """What the command prints when its stdout and stderr are a terminal."""
    leader, follower = pty.openpty()
    full = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm-256color", "COLUMNS": "200"} | env
    child = subprocess.Popen([sys.executable, "-m", "dockergen", *args], cwd=PLATFORM, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=full)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    child.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", errors="replace")


def piped(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=PLATFORM, capture_output=True, text=True, timeout=120).stdout


@pytest.mark.parametrize("args", [("diff", "dev", "prod"), ("explain", "backend", "--env", "prod"), ("lint", "--list-rules")])
def test_tables_with_colour_on_a_terminal_and_plain_otherwise(args: tuple[str, ...]) -> None:
    styled = on_a_terminal(*args)
    assert ESC in styled and "━" in styled, styled[:500]  # a rich table: bold header over a rule
    plain = piped(*args)
    assert plain and ESC not in plain and "━" not in plain
    no_color = on_a_terminal(*args, NO_COLOR="1")
    assert ESC not in no_color and "━" not in no_color
    # The same facts either way: every word of the plain output's first data line is in the table.
    first = plain.splitlines()[1].split()[:2]
    assert all(word in styled for word in first), (first, styled[:800])


def test_render_summary_colours_the_verbs_only_on_a_terminal(tmp_path: Path) -> None:
    out = on_a_terminal("render", "--out", str(tmp_path / "tree"))
    assert f"{ESC}32mcreated" in out
    assert ESC not in piped("render", "--out", str(tmp_path / "tree2"))
