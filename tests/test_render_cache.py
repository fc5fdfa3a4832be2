"""The render cache (``dockergen/render_cache.py``): a render or validate of a spec this
machine rendered before is replayed without loading the models, and it must be
indistinguishable from the full path: the same files, the same lines, the same errors
when the project's files changed, and nothing written into the project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dockergen import render_cache
from dockergen.cli import main as cli
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "platform"


def run(cwd: Path, cache: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "XDG_CACHE_HOME": str(cache), **env}
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "dockergen", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=environ)


def output(result: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr without the import timings."""
    stderr = "".join(line for line in result.stderr.splitlines(keepends=True) if not line.startswith("import time:"))
    return result.returncode, result.stdout, stderr


def replayed(result: subprocess.CompletedProcess[str]) -> bool:
    """The run loaded none of the models or renderers."""
    return "pydantic" not in result.stderr and "jinja2" not in result.stderr and "| dockergen.pipeline" not in result.stderr


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def unlocked_copy(tmp_path: Path, name: str, example: Path = EXAMPLE) -> Path:
    """The example without its generated files: the full path, or the cache, must write them."""
    copy = tmp_path / name
    shutil.copytree(example, copy)
    lock = json.loads((copy / "dockergen.lock").read_text())
    for relative in [*lock["files"], "dockergen.lock"]:
        (copy / relative).unlink()
    return copy


@pytest.mark.parametrize("example", [ROOT / "examples" / "platform", ROOT / "examples" / "fastapi-celery"], ids=["platform", "fastapi-celery"])
def test_a_replayed_render_is_the_full_render_byte_for_byte(example: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, second = unlocked_copy(tmp_path, "first", example), unlocked_copy(tmp_path, "second", example)
    before = tree(first)
    full = run(first, cache, "render")
    again = run(second, cache, "render")
    assert not replayed(full) and replayed(again), "the second tree is written from the cache"
    assert output(again) == output(full)
    assert tree(second) == tree(first) == {**before, **{k: v for k, v in tree(example).items() if k not in before}}
    assert list(cache.rglob("*.json")) and not list(second.rglob("*.tmp")), "the cache lives in XDG_CACHE_HOME"
    # --out, -q and validate replay too, and say the same as the full path would.
    out = run(tmp_path, cache, "render", "-q", "--spec", str(second / "dockergen.yaml"), "--out", str(tmp_path / "out"))
    assert replayed(out) and output(out)[:2] == (0, "") and tree(tmp_path / "out") == {k: v for k, v in tree(example).items() if k in tree(tmp_path / "out")}
    (second / "dockergen.lock").unlink()
    valid = run(tmp_path, cache, "validate", "--spec", "second/dockergen.yaml")
    shutil.rmtree(cache)
    assert replayed(valid) and output(valid) == output(run(tmp_path, cache, "validate", "--spec", "second/dockergen.yaml"))


def test_warnings_are_replayed_located_from_where_the_spec_is(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    spec = (EXAMPLE / "dockergen.yaml").read_text().replace("    LOG_LEVEL: info\n", "    LOG_LEVEL: info\n    API_TOKEN: abc123\n", 1)
    for name in ("a", "b"):
        (tmp_path / name / "deploy").mkdir(parents=True)
        (tmp_path / name / "deploy" / "dockergen.yaml").write_text(spec)
    full = run(tmp_path / "a", cache, "validate", "--spec", "deploy/dockergen.yaml")
    again = run(tmp_path / "b", cache, "validate", "--spec", "deploy/dockergen.yaml")
    assert "deploy/dockergen.yaml:" in full.stderr and "warning: defaults.environment.API_TOKEN" in full.stderr
    assert replayed(again) and output(again) == output(full)


def test_a_manifest_deleted_since_the_cached_render_is_reported(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, second = unlocked_copy(tmp_path, "first"), unlocked_copy(tmp_path, "second")
    assert run(first, cache, "render").returncode == 0
    (second / "backend" / "requirements.txt").unlink()
    before = tree(second)
    for command in ("render", "validate"):
        code, stdout, stderr = output(run(second, cache, command))
        assert code == 2 and "services.backend.build.python.requirements: 'requirements.txt' is not in the build context" in stderr, stderr
    assert tree(second) == before, "nothing written"


def test_changed_templates_code_or_spec_bytes_are_a_miss(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    project = unlocked_copy(tmp_path, "project")
    (project / "own").mkdir()
    spec = project / "dockergen.yaml"
    spec.write_text("templates: own\n" + spec.read_text())
    assert not replayed(run(project, cache, "validate"))
    assert replayed(run(project, cache, "validate"))
    (project / "own" / "python.Dockerfile.j2").write_text("FROM scratch\n")
    assert not replayed(run(project, cache, "validate")), "an override template appeared"
    spec.write_text(spec.read_text() + "\n")
    assert not replayed(run(project, cache, "validate")), "other spec bytes"


def test_a_damaged_entry_is_no_entry(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    project = unlocked_copy(tmp_path, "project")
    full = run(project, cache, "validate")
    (entry,) = (cache / "dockergen" / "renders").glob("*.json")
    for damage in ("{", json.dumps({"format": 1, "files": [["dockergen.lock", "{}", "lock", None]], "facts": {}, "notes": []}), "[]"):
        entry.write_text(damage)
        again = run(project, cache, "validate")
        assert not replayed(again) and output(again) == output(full)


def test_a_relative_xdg_cache_home_is_ignored_and_no_cache_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert render_cache.folder() == str(tmp_path / "home" / ".cache" / "dockergen" / "renders")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert render_cache.folder() == str(tmp_path / "xdg" / "dockergen" / "renders")
    monkeypatch.setenv("DOCKERGEN_NO_CACHE", "1")
    assert render_cache.folder() is None


def test_no_cache_turns_it_off(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    project = unlocked_copy(tmp_path, "project")
    assert run(project, cache, "validate", DOCKERGEN_NO_CACHE="1").returncode == 0 and not cache.exists()
    assert run(project, cache, "validate").returncode == 0
    assert not replayed(run(project, cache, "validate", DOCKERGEN_NO_CACHE="1"))


def test_a_render_inside_another_program_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project = unlocked_copy(tmp_path, "project")
    monkeypatch.chdir(project)
    assert CliRunner().invoke(cli, ["render", "-q"]).exit_code == 0
    assert not (tmp_path / "cache").exists()


def test_the_least_recently_used_entries_go_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(render_cache, "MAX_ENTRIES", 2)
    project = unlocked_copy(tmp_path, "project")
    spec = project / "dockergen.yaml"
    for n in range(3):
        spec.write_text(spec.read_text() + "\n")
        from dockergen.commands.render import keep
        from dockergen.pipeline import render

        keep(spec, render(spec))
        assert render_cache.lookup(str(spec)) is not None
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 2


def test_one_render_walks_the_package_once_for_its_code_signature(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lookup, the Dockerfile store and the stored entry all key on the code signature;
    a render takes it once (each walked dockergen's package and the site-packages folders)."""
    project = unlocked_copy(tmp_path, "project")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DOCKERGEN_NO_CACHE", raising=False)
    render_cache.code_signature.cache_clear()
    walks: list[str] = []
    real_walk = os.walk
    monkeypatch.setattr(render_cache.os, "walk", lambda top, *a, **k: walks.append(str(top)) or real_walk(top, *a, **k))
    assert render_cache.lookup(str(project / "dockergen.yaml")) is None
    result = CliRunner().invoke(cli, ["render", "-q", "--spec", str(project / "dockergen.yaml")], obj={"render_cache": True})
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "cache" / "dockergen" / "renders").glob("*.json"))) == 1
    assert len(list((tmp_path / "cache" / "dockergen" / "dockerfiles").glob("*.json"))) == 1
    package = os.path.dirname(render_cache.__file__)
    assert [top for top in walks if top == package] == [package]


def test_a_replay_into_git_s_own_folder_is_refused_like_a_full_render(tmp_path: Path) -> None:
    """The render cache replays a spec it has seen into any --out; the full path refuses an
    --out inside `.git` (a file there can become a hook), and so must the replay."""
    cache = tmp_path / "cache"
    project = unlocked_copy(tmp_path, "project")
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    assert run(project, cache, "render", "-q", "--out", str(tmp_path / "elsewhere")).returncode == 0  # fills the cache
    before = tree(project / ".git")
    code, _, stderr = output(run(project, cache, "render", "-q", "--out", ".git/hooks"))
    assert code == 2, stderr
    assert "error: --out .git/hooks is inside `.git`" in stderr
    assert tree(project / ".git") == before
