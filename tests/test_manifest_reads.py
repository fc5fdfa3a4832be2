"""What the test-stage check (lint DG030) reads of a build context: requirements files and
their ``-r`` includes, pyproject.toml. User files, read as every user file is: inside the
context, regular files only, bounded; whatever they hold, the answer is names or None."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockergen import manifests


@pytest.mark.parametrize(
    "include",
    ["../outside.txt", "../../outside.txt", "/dev/zero", "sub/../../outside.txt", "~/outside.txt", "link/outside.txt"],
)
def test_an_include_outside_the_context_is_not_read(tmp_path: Path, include: str) -> None:
    context = tmp_path / "project" / "api"
    context.mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("evilpkg\n")
    (tmp_path / "project" / "outside.txt").write_text("evilpkg\n")
    (context / "link").symlink_to(tmp_path)
    (context / "requirements.txt").write_text(f"flask\n-r {include}\n")
    assert manifests.requirement_names(context, "requirements.txt") is None


def test_an_include_inside_the_context_is_read(tmp_path: Path) -> None:
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "base.txt").write_text("Django==5.0  # web\n")
    (tmp_path / "requirements.txt").write_text("flask\n--requirement deps/base.txt\n")
    assert manifests.requirement_names(tmp_path, "requirements.txt") == {"flask", "django"}


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_an_include_that_is_no_regular_file_is_not_read(tmp_path: Path, kind: str) -> None:
    """A named pipe would block the read forever (this test would hang)."""
    (tmp_path / "requirements.txt").write_text("flask\n-r more.txt\n")
    if kind == "fifo":
        os.mkfifo(tmp_path / "more.txt")
    else:
        (tmp_path / "more.txt").mkdir()
    assert manifests.requirement_names(tmp_path, "requirements.txt") is None


@pytest.mark.parametrize("text", ["[tool.x]\nn = " + "9" * 5000 + "\n", "[project\n", "\udcff"])
def test_a_pyproject_nobody_can_read_gives_none(tmp_path: Path, text: str) -> None:
    (tmp_path / "pyproject.toml").write_bytes(text.encode("utf-8", "surrogateescape"))
    assert manifests.pyproject_names(tmp_path) is None
