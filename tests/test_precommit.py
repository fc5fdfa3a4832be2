"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit on a temporary repo."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_drift import SPEC, git, rendered_repo


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(repo: Path, hook: str, home: Path, files: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """The hook as a commit of ``files`` runs it (default: every file)."""
    exe = shutil.which("pre-commit")
    assert exe, "pre-commit is not installed (pip install -e '.[test]')"
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    which = ["--files", *files] if files is not None else ["--all-files"]
    return subprocess.run(
        [exe, "try-repo", str(ROOT), hook, *which], cwd=repo, capture_output=True, text=True, env=env, timeout=600
    )


def test_hooks_pass_on_a_clean_tree_fail_on_a_hand_edit_and_render_fixes_it(tmp_path: Path, pre_commit_home: Path) -> None:
    rendered_repo(tmp_path)

    clean = try_repo(tmp_path, "dockergen-check", pre_commit_home)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    prod = tmp_path / "compose.prod.yaml"
    prod.write_text(prod.read_text().replace("restart: always", "restart: on-failure"))
    git(tmp_path, "add", "-A")
    failed = try_repo(tmp_path, "dockergen-check", pre_commit_home)
    assert failed.returncode == 1
    assert "compose.prod.yaml: edited by hand" in failed.stdout

    # The render hook refuses to discard the hand edit (the user must decide) ...
    refused = try_repo(tmp_path, "dockergen-render", pre_commit_home)
    assert refused.returncode == 1 and "on-failure" in prod.read_text()

    # ... and repairs a tree whose spec changed without a re-render.
    git(tmp_path, "checkout", "HEAD", "--", "compose.prod.yaml")
    (tmp_path / "dockergen.yaml").write_text(SPEC.replace("postgres:16-alpine", "postgres:17-alpine"))
    git(tmp_path, "add", "-A")
    assert try_repo(tmp_path, "dockergen-check", pre_commit_home).returncode == 1
    fixed = try_repo(tmp_path, "dockergen-render", pre_commit_home)
    assert fixed.returncode == 1 and "files were modified by this hook" in fixed.stdout
    git(tmp_path, "add", "-A")
    again = try_repo(tmp_path, "dockergen-check", pre_commit_home)
    assert again.returncode == 0, again.stdout


CUSTOM_PATHS = {
    # spec change, a generated file it puts under a name no pattern would guess
    "dockerfile": (
        SPEC.replace('python: {app: "app:app"}}', 'python: {app: "app:app"}, dockerfile: infrastructure/docker/app.Dockerfile}'),
        "infrastructure/docker/app.Dockerfile",
    ),
    "overlay": (SPEC.replace("environments: {dev", "output: {overlay: 'deploy/{env}.yml'}\nenvironments: {dev"), "deploy/prod.yml"),
    "snapshot": (SPEC.replace("environments: {dev", "output: {snapshots: review}\nenvironments: {dev"), "review/prod.yaml"),
}


@pytest.mark.parametrize("case", sorted(CUSTOM_PATHS))
def test_a_hand_edit_under_a_custom_name_is_never_skipped(case: str, tmp_path: Path, pre_commit_home: Path) -> None:
    """A commit that touches only that file (or nothing dockergen knows) still runs the hooks."""
    spec, edited = CUSTOM_PATHS[case]
    rendered_repo(tmp_path, spec)
    assert (tmp_path / edited).is_file()

    path = tmp_path / edited
    path.write_text(path.read_text() + "# a hot-fix\n")
    (tmp_path / "notes.txt").write_text("unrelated\n")
    git(tmp_path, "add", "-A")
    for files in ([edited], ["notes.txt"]):
        result = try_repo(tmp_path, "dockergen-check", pre_commit_home, files=files)
        assert "Skipped" not in result.stdout, result.stdout
        assert result.returncode == 1 and f"{edited}: edited by hand" in result.stdout, result.stdout
        refused = try_repo(tmp_path, "dockergen-render", pre_commit_home, files=files)
        assert refused.returncode == 1 and "a hot-fix" in path.read_text(), refused.stdout


def test_the_docs_first_recipe_works_today(tmp_path: Path, pre_commit_home: Path) -> None:
    """The recipe a reader copies first: no `rev:` to pin (dockergen has no release tag), the
    `dockergen` on PATH, passing on a clean tree and failing on a hand edit."""
    recipe = (ROOT / "docs" / "recipes" / "pre-commit.md").read_text().split("```yaml\n")[1].split("```")[0]
    assert "rev:" not in recipe
    (tmp_path / "repo").mkdir()
    repo = rendered_repo(tmp_path / "repo")
    (repo / ".pre-commit-config.yaml").write_text(recipe)
    git(repo, "add", "-A")
    shims = tmp_path / "bin"  # `dockergen` as the user's install provides it: this checkout's
    shims.mkdir()
    (shims / "dockergen").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m dockergen "$@"\n')
    (shims / "dockergen").chmod(0o755)
    env = {**os.environ, "PRE_COMMIT_HOME": str(pre_commit_home), "PRE_COMMIT_COLOR": "never", "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

    def hook() -> subprocess.CompletedProcess[str]:
        exe = shutil.which("pre-commit")
        assert exe, "pre-commit is not installed (pip install -e '.[test]')"
        return subprocess.run([exe, "run", "--all-files"], cwd=repo, capture_output=True, text=True, env=env, timeout=600)

    clean = hook()
    assert clean.returncode == 0 and "dockergen check" in clean.stdout and "Passed" in clean.stdout, clean.stdout + clean.stderr
    prod = repo / "compose.prod.yaml"
    prod.write_text(prod.read_text().replace("restart: always", "restart: on-failure"))
    failed = hook()
    assert failed.returncode == 1 and "compose.prod.yaml: edited by hand" in failed.stdout, failed.stdout
