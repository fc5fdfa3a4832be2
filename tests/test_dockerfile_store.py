"""The Dockerfile store (``dockergen/render/dockerfile_store.py``): after an edit that leaves
a Dockerfile's template input as it was, the console script's render reuses the Dockerfile
of the last render instead of running Jinja, and writes exactly what the full path writes;
any edit the Dockerfile shows (spec or template) renders it again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT
from tests.test_render_cache import output, run, tree, unlocked_copy

EXAMPLE = ROOT / "examples" / "platform"


def ran_templates(result: subprocess.CompletedProcess[str]) -> bool:
    """The run imported Jinja (``run`` records the imports)."""
    return any(line.rsplit("|", 1)[-1].strip() == "jinja2" for line in result.stderr.splitlines() if line.startswith("import time:"))


def edit(project: Path, old: str, new: str) -> None:
    spec = project / "dockergen.yaml"
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new, 1))


def render_both(tmp_path: Path, project: Path, cache: Path, name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``render`` of ``project`` with the caches, and of a copy of it as it is now without
    any: both must write and print the same."""
    reference = tmp_path / name
    shutil.copytree(project, reference)
    result = run(project, cache, "render", *args, **env)
    expected = run(reference, tmp_path / "no-cache", "render", *args, DOCKERGEN_NO_CACHE="1")
    assert tree(project) == tree(reference) and output(result) == output(expected)
    return result


def test_a_value_edit_reuses_the_dockerfiles_and_writes_the_same_bytes(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    project = unlocked_copy(tmp_path, "project")
    assert ran_templates(run(project, cache, "render"))
    edit(project, "LOG_LEVEL: info", "LOG_LEVEL: warning")
    # Another hash seed: a set or a default repr in a template's input would change its key.
    again = render_both(tmp_path, project, cache, "reference", PYTHONHASHSEED="7")
    assert not ran_templates(again), "every Dockerfile came from the store"
    assert b"LOG_LEVEL: warning" in tree(project)["compose.prod.yaml"]
    edit(project, "LOG_LEVEL: warning", "LOG_LEVEL: error")
    assert not ran_templates(run(project, cache, "validate")), "validate reuses them too"


def test_an_edit_a_dockerfile_shows_renders_it_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    project = unlocked_copy(tmp_path, "project")
    assert run(project, cache, "render").returncode == 0
    edit(project, "Product API.", "The API, now described.")
    assert ran_templates(render_both(tmp_path, project, cache, "reference"))
    assert b'org.opencontainers.image.description="The API, now described."' in tree(project)["backend/Dockerfile"]


def test_an_edited_project_template_renders_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    project = unlocked_copy(tmp_path, "project")
    (project / "own").mkdir()
    template = project / "own" / "python.Dockerfile.j2"
    builtin = (ROOT / "templates" / "python.Dockerfile.j2").read_text()
    edit(project, "version: 1\n", "version: 1\ntemplates: own\n")
    for n in range(2):
        template.write_text(builtin + f"# own line {n}\n")
        render_both(tmp_path, project, cache, f"reference{n}")
        assert f"# own line {n}\n" in (project / "backend" / "Dockerfile").read_text()


def test_a_damaged_store_is_no_store(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    project = unlocked_copy(tmp_path, "project")
    assert run(project, cache, "render").returncode == 0
    (entry,) = (cache / "dockergen" / "dockerfiles").glob("*.json")
    assert os.stat(entry.parent).st_mode & 0o077 == 0, "the store's folder is the user's own"
    stored = json.loads(entry.read_text())["dockerfiles"]
    dockerfiles = [name for name in tree(project) if name.rsplit("/", 1)[-1].startswith("Dockerfile")]
    assert len(stored) == len(dockerfiles) and all("DO NOT EDIT" in text for text in stored.values()), "the last render's Dockerfiles"
    for n, damage in enumerate(("{", "[]", json.dumps({"format": 1, "dockerfiles": {k: 1 for k in stored}}), json.dumps({"format": 99, "dockerfiles": stored}))):
        entry.write_text(damage)
        edit(project, "LOG_LEVEL: info" if n == 0 else f"LOG_LEVEL: info{n - 1}", f"LOG_LEVEL: info{n}")
        assert ran_templates(render_both(tmp_path, project, cache, f"reference{n}")), damage[:20]
