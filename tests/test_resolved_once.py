"""Paths resolved folder by folder for many files at once must answer exactly what
resolving each path alone answers, whatever order the paths come in: the writer's
``folders`` of one plan or commit (``write.target_path``) and the checks' shared
``containment.Resolver``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockergen.containment import Resolver, outside_reason, resolved
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


def _answer(resolve, path: str) -> str:  # noqa: ANN001
    try:
        return resolve(path)
    except RuntimeError:
        return "loop"


@settings(max_examples=300, deadline=None)
@given(
    paths=st.lists(
        st.tuples(st.sampled_from(["", "./", ".//", "/", "ROOT/", "ROOT//", "ROOT/sub/../"]), st.lists(st.sampled_from([*PARTS, "in", "", "/"]), min_size=1, max_size=4)),
        min_size=1, max_size=12,
    )
)
def test_a_shared_resolver_answers_what_resolving_each_path_alone_answers(tmp_path_factory: pytest.TempPathFactory, paths: list[tuple[str, list[str]]]) -> None:
    out = _tree(tmp_path_factory.mktemp("resolver"))
    before = os.getcwd()
    os.chdir(out)  # relative paths are read from the working directory
    try:
        shared = Resolver()
        for prefix, parts in paths:
            path = prefix.replace("ROOT", str(out)) + "/".join(parts)
            if path:
                assert _answer(shared, path) == _answer(resolved, path), path
    finally:
        os.chdir(before)


def test_a_shared_resolver_still_refuses_a_link_out_of_the_project_beside_plain_paths(tmp_path: Path) -> None:
    out = _tree(tmp_path)
    shared = Resolver()
    assert outside_reason(out, "sub/deep/requirements.txt", resolve=shared) is None
    assert outside_reason(out, "sub/in/requirements.txt", resolve=shared) is None
    assert "outside the project" in (outside_reason(out, "sub/up/requirements.txt", resolve=shared) or "")
    assert "outside the project" in (outside_reason(out, "link", resolve=shared) or "")
    assert "loop" in (outside_reason(out, "loop/x", resolve=shared) or "")
