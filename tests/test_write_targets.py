"""Where the writer puts a file: one folder resolved for many files of a plan or commit
(``write.target_path``'s ``folders``) must refuse exactly what resolving each path alone
refuses, whatever order the paths come in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockergen.errors import DockergenError
from dockergen.render.rendered_file import RenderedFile
from dockergen.write import plan_changes, target_path, write_files

PARTS = ["sub", "deep", "link", "up", "loop", "missing", "..", ".", "file", "/abs"]


def _tree(root: Path) -> Path:
    """An output folder with links in it: one to a folder outside, one climbing out from a
    subfolder, one inside, a loop, and a plain file."""
    out = root / "out"
    (out / "sub" / "deep").mkdir(parents=True)
    (root / "elsewhere").mkdir()
    (out / "link").symlink_to("../elsewhere")
    (out / "sub" / "up").symlink_to("../../elsewhere")
    (out / "sub" / "in").symlink_to("deep")
    (out / "loop").symlink_to("loop")
    (out / "file").write_text("x")
    return out


def _alone(out: Path, relative: str) -> str:
    """The rule, from first principles: no link where the file goes, and once every link
    is followed the file is inside the output folder."""
    root = os.path.realpath(out)
    path = str(Path(root) / relative)  # pathlib's join: `link/.` is `link`, `/abs` replaces the root
    if os.path.islink(path):
        return "link"
    try:
        os.stat(os.path.realpath(path))
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            return "loop"
    real = os.path.realpath(path)
    return real if real == root or real.startswith(root + os.sep) else "outside"


def _shared(out: Path, relative: str, folders: dict) -> str:
    try:
        return str(target_path(out, relative, folders))
    except DockergenError as exc:
        message = exc.problems[0].message
        return "link" if "symbolic link is where" in message else "loop" if "symbolic link loop" in message else "outside"


@settings(max_examples=300, deadline=None)
@given(paths=st.lists(st.lists(st.sampled_from(PARTS), min_size=1, max_size=4).map("/".join), min_size=1, max_size=12))
def test_folders_resolved_once_refuse_what_each_path_alone_refuses(tmp_path_factory: pytest.TempPathFactory, paths: list[str]) -> None:
    out = _tree(tmp_path_factory.mktemp("targets"))
    folders: dict = {}  # shared by every path, as in one plan
    for relative in paths:
        assert _shared(out, relative, folders) == _alone(out, relative), relative


def test_a_link_met_through_dot_dot_behind_a_missing_folder_is_followed(tmp_path: Path) -> None:
    out = _tree(tmp_path)
    folders: dict = {}
    assert target_path(out, "missing/x", folders) == out.resolve() / "missing" / "x"
    with pytest.raises(DockergenError, match="outside the output directory"):
        target_path(out, "missing/../link/x", folders)  # no lstat of the whole path sees `link`


def test_a_plan_refuses_a_file_through_a_linked_folder_after_files_beside_it(tmp_path: Path) -> None:
    out = _tree(tmp_path)
    files = [RenderedFile("sub/deep/a", "a\n", "dockerfile"), RenderedFile("sub/in/b", "b\n", "dockerfile"), RenderedFile("link/c", "c\n", "dockerfile")]
    with pytest.raises(DockergenError, match="outside the output directory: link/c"):
        plan_changes(out, files)
    assert not (tmp_path / "elsewhere" / "c").exists()
    write_files(out, files[:2])
    assert (out / "sub" / "deep" / "a").read_text() == "a\n" and (out / "sub" / "deep" / "b").read_text() == "b\n"
