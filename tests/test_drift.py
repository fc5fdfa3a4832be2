"""dockergen check / render safety, in real git repositories, one case per drift cause.

Every case also asserts that the fast path (fingerprints + lock, no render) does not
call a drifted tree clean: it must be exactly as strict as the full path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import dockergen.drift
import dockergen.fingerprint
import dockergen.pipeline
from dockergen.fingerprint import fast_clean

SPEC = """\
version: 1
project: shop
environments: {dev: {}, test: {}, prod: {}}
services:
  api:
    build: {family: python, context: api, port: 8000, python: {app: "app:app"}}
    healthcheck: {http: /health}
    environments:
      dev: {ports: ["8000:8000"]}
  worker:
    build: {family: python, context: worker, python: {prod_command: [python, worker.py], dev_command: [python, worker.py]}}
  db:
    image: postgres:16-alpine
"""


def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=repo, capture_output=True, text=True, timeout=60)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def rendered_repo(tmp_path: Path, spec: str = SPEC) -> Path:
    """A git repository holding ``spec`` (SPEC or a variant of it) and its committed render."""
    (tmp_path / "api").mkdir()
    (tmp_path / "worker").mkdir()
    (tmp_path / "dockergen.yaml").write_text(spec)
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    assert run(tmp_path, "render").returncode == 0
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "render")
    return tmp_path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return rendered_repo(tmp_path)


def check(repo: Path, *args: str) -> tuple[int, str]:
    result = run(repo, "check", *args)
    return result.returncode, result.stdout + result.stderr


def test_clean_tree_passes_on_the_fast_path(repo: Path) -> None:
    assert fast_clean(repo / "dockergen.yaml", repo)
    assert check(repo) == (0, "")
    # A second render changes nothing, so git sees nothing either.
    assert run(repo, "render").returncode == 0
    assert git(repo, "status", "--porcelain") == ""


def test_hand_edit_is_drift_and_render_refuses_to_clobber_it(repo: Path) -> None:
    prod = repo / "compose.prod.yaml"
    edited = prod.read_text().replace("restart: always", "restart: on-failure")
    prod.write_text(edited)
    assert not fast_clean(repo / "dockergen.yaml", repo)
    code, out = check(repo)
    assert code == 1 and "compose.prod.yaml: edited by hand" in out
    assert "`dockergen render` would refuse to overwrite compose.prod.yaml" in out and "`dockergen absorb`" in out
    result = run(repo, "render")
    assert result.returncode == 1
    assert "compose.prod.yaml" in result.stderr and "+  restart: always" not in result.stderr
    assert "-    restart: on-failure" in result.stderr  # the diff shows what would be lost
    assert prod.read_text() == edited  # the teammate's hot-fix survives
    assert run(repo, "render", "--force").returncode == 0
    assert check(repo)[0] == 0


def test_a_hand_edited_dockerfile_is_sent_to_the_spec_not_to_absorb(repo: Path) -> None:
    # absorb reads only Compose files: it refuses a Dockerfile edit, so neither check nor
    # render may offer it for one.
    dockerfile = repo / "api" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN echo hot-fix\n")
    code, out = check(repo)
    assert code == 1 and "api/Dockerfile: edited by hand" in out
    assert "api/Dockerfile: keep the edit by making it in the spec" in out
    assert "with `dockergen absorb`" not in out
    result = run(repo, "render")
    assert result.returncode == 1
    assert "keep the edit by making it in the spec" in result.stderr and "keep the edit with `dockergen absorb`" not in result.stderr
    absorbed = run(repo, "absorb")
    assert absorbed.returncode != 0  # what the advice used to send the user to


def test_spec_changed_since_the_last_render(repo: Path) -> None:
    spec = repo / "dockergen.yaml"
    spec.write_text(SPEC.replace("image: postgres:16-alpine", "image: postgres:17-alpine"))
    assert not fast_clean(spec, repo)
    code, out = check(repo)
    assert code == 1 and "the spec changed since the last render" in out
    assert "compose.yaml" in out
    assert "run `dockergen render` (see --diff)" in out and "absorb" not in out


def test_comment_only_spec_change_is_reported_on_the_lock_alone(repo: Path) -> None:
    spec = repo / "dockergen.yaml"
    spec.write_text("# a comment\n" + SPEC)
    code, out = check(repo)
    assert code == 1
    assert out.splitlines()[0] == "dockergen.lock: out of date: the spec changed since the last render"
    assert "compose" not in out


def test_missing_file(repo: Path) -> None:
    (repo / "compose.test.yaml").unlink()
    assert not fast_clean(repo / "dockergen.yaml", repo)
    code, out = check(repo)
    assert code == 1 and "compose.test.yaml: missing" in out


def test_stale_file_after_a_service_is_removed_and_render_deletes_only_generated_files(repo: Path) -> None:
    spec = repo / "dockergen.yaml"
    spec.write_text(SPEC.split("  worker:")[0] + "  db:\n    image: postgres:16-alpine\n")
    (repo / "worker" / "Dockerfile.notes").write_text("hand-written, no dockergen header\n")
    code, out = check(repo)
    assert code == 1 and "worker/Dockerfile: stale" in out
    assert run(repo, "render").returncode == 0
    assert not (repo / "worker" / "Dockerfile").exists()
    assert not (repo / "worker" / ".dockerignore").exists()
    assert (repo / "worker" / "Dockerfile.notes").exists()
    assert check(repo)[0] == 0


def test_removed_environment_leaves_a_stale_overlay(repo: Path) -> None:
    (repo / "dockergen.yaml").write_text(SPEC.replace("environments: {dev: {}, test: {}, prod: {}}", "environments: {dev: {}, prod: {}}"))
    code, out = check(repo)
    assert code == 1 and "compose.test.yaml: stale" in out


def test_template_change(repo: Path) -> None:
    spec = repo / "dockergen.yaml"
    spec.write_text(SPEC.replace("project: shop", "project: shop\ntemplates: tpl"))
    (repo / "tpl").mkdir()
    assert run(repo, "render").returncode == 0
    assert check(repo)[0] == 0
    (repo / "tpl" / "python.Dockerfile.j2").write_text("# syntax=docker/dockerfile:1\n{{ header }}\nFROM {{ base_image|word }} AS prod\n")
    assert not fast_clean(spec, repo)
    code, out = check(repo)
    assert code == 1 and "the templates changed since the last render" in out


def test_version_change_reason(repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for module in (dockergen.fingerprint, dockergen.drift, dockergen.pipeline):
        monkeypatch.setattr(module, "__version__", "99.0.0")
    from dockergen.commands.check import check as check_command

    assert not fast_clean(repo / "dockergen.yaml", repo)
    assert check_command(repo / "dockergen.yaml", show_diff=False, output_format="text") == 1
    assert "rendered by dockergen 0.1.0, this is 99.0.0" in capsys.readouterr().out


def test_hand_edited_lock_is_not_trusted(repo: Path) -> None:
    lock = repo / "dockergen.lock"
    lock.write_text(lock.read_text().replace('"version": "0.1.0"', '"version": "0.1.1"'))
    assert not fast_clean(repo / "dockergen.yaml", repo)
    code, out = check(repo)
    assert code == 1 and "dockergen.lock" in out


def test_foreign_file_in_the_way_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "worker").mkdir()
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    handwritten = "FROM python:3.12\nCMD [\"python\"]\n"
    (tmp_path / "api" / "Dockerfile").write_text(handwritten)
    result = run(tmp_path, "render")
    assert result.returncode == 1 and "api/Dockerfile" in result.stderr and "not written by dockergen" in result.stderr
    assert (tmp_path / "api" / "Dockerfile").read_text() == handwritten
    assert not (tmp_path / "compose.yaml").exists()  # all or nothing
    code, out = check(tmp_path)
    assert code == 1 and "api/Dockerfile: a file not written by dockergen" in out


def test_failed_render_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "worker").mkdir()
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    (tmp_path / "compose.test.yaml").mkdir()  # a directory where a file must go
    result = run(tmp_path, "render")
    assert result.returncode == 2 and "compose.test.yaml" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api", "compose.test.yaml", "dockergen.yaml", "worker"]


def test_gitattributes_block_is_kept_and_user_lines_survive(repo: Path) -> None:
    attributes = repo / ".gitattributes"
    text = attributes.read_text()
    assert "/compose.prod.yaml linguist-generated=true" in text and "/dockergen.lock linguist-generated=true" in text
    attributes.write_text("*.sh text eol=lf\n" + text.replace("/compose.prod.yaml linguist-generated=true\n", ""))
    code, out = check(repo)
    assert code == 1 and ".gitattributes" in out
    assert run(repo, "render").returncode == 0
    updated = attributes.read_text()
    assert updated.startswith("*.sh text eol=lf\n") and "/compose.prod.yaml linguist-generated=true" in updated
    assert check(repo)[0] == 0


def test_diff_and_json_output(repo: Path) -> None:
    prod = repo / "compose.prod.yaml"
    prod.write_text(prod.read_text().replace("restart: always", "restart: on-failure"))
    code, out = check(repo, "--diff")
    assert code == 1 and "--- a/compose.prod.yaml" in out and "+    restart: always" in out
    result = run(repo, "check", "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["clean"] is False
    assert [(f["path"], f["cause"]) for f in report["files"]] == [("compose.prod.yaml", "edited")]


def test_bad_spec_exits_2(repo: Path) -> None:
    (repo / "dockergen.yaml").write_text("version: 1\nproject: shop\nservices: [\n")
    code, out = check(repo)
    assert code == 2 and "dockergen.yaml:" in out and "Traceback" not in out


def test_render_and_validate_of_an_unchanged_tree_take_the_fast_path_and_replay_warnings(tmp_path: Path) -> None:
    warned = SPEC.replace("  db:\n    image: postgres:16-alpine\n", "  db:\n    image: postgres:16-alpine\n    environment: {DB_PASSWORD: hunter2}\n")
    repo = tmp_path / "deploy"
    for folder in ("api", "worker"):
        (repo / folder).mkdir(parents=True)
    (repo / "dockergen.yaml").write_text(warned)
    first = run(tmp_path, "render", "--spec", "deploy/dockergen.yaml")
    assert first.returncode == 0 and "warning: services.db.environment.DB_PASSWORD" in first.stderr
    lock = (repo / "dockergen.lock").read_bytes()
    again = run(tmp_path, "render", "--spec", "deploy/dockergen.yaml")
    assert again.stdout == "nothing to change: the 9 generated files match deploy/dockergen.yaml\n"
    assert again.stderr == first.stderr, "the lock's warnings, as the render printed them"
    valid = run(tmp_path, "validate", "--spec", "deploy/dockergen.yaml")
    assert valid.returncode == 0 and "valid (unchanged since the last render" in valid.stdout and valid.stderr == first.stderr
    # From the spec's own folder the lock is the same bytes, and the warnings are located from there.
    assert run(repo, "render", "--force", "--env", "dev").returncode == 0
    assert (repo / "dockergen.lock").read_bytes() == lock
    assert run(repo, "validate").stderr.startswith("dockergen.yaml:")
    # Any change takes the full path again.
    (repo / "dockergen.yaml").write_text(warned.replace("postgres:16", "postgres:17"))
    full = run(tmp_path, "validate", "--spec", "deploy/dockergen.yaml")
    assert "valid (3 services" in full.stdout
