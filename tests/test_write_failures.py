"""The writer is all or nothing: a failure injected at each system call a write makes
(every open, write, fsync, rename, unlink, mkdir ... in turn) leaves the tree
byte-identical to before, and the command reports the failure."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

from dockergen import write
from dockergen.errors import DockergenError
from dockergen.pipeline import render

ROOT = Path(__file__).resolve().parent.parent
FAULTS = ("open", "write", "fsync", "fchmod", "replace", "rename", "unlink", "mkdir", "rmdir", "close")


class Faulty:
    """Stands in for the ``os`` module inside ``dockergen.write``: counts the calls that
    can fail and fails the ``fail_at``-th one (all of them from it on with ``keep_failing``).
    The writer stages files from several threads: each call takes its number under a lock."""

    def __init__(self, fail_at: int | None = None, keep_failing: bool = False) -> None:
        self.calls: list[str] = []
        self.fail_at, self.keep_failing = fail_at, keep_failing
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        real = getattr(os, name)
        if name not in FAULTS:
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.calls.append(name)
                n = len(self.calls)
            if self.fail_at is not None and (n == self.fail_at or (self.keep_failing and n > self.fail_at)):
                raise OSError(errno.EIO, f"injected failure of {name} (call {n})")
            return real(*args, **kwargs)

        return call


def tree(root: Path) -> dict[str, tuple[str, bytes | None, int]]:
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            data = path.read_bytes() if stat.S_ISREG(info.st_mode) else None
            out[path.relative_to(root).as_posix()] = ("dir" if stat.S_ISDIR(info.st_mode) else "file", data, stat.S_IMODE(info.st_mode))
    return out


def _fresh(template: Path, tmp_path: Path, n: int) -> Path:
    copy = tmp_path / f"try-{n}"
    shutil.copytree(template, copy, symlinks=True)
    return copy


def each_failure(monkeypatch: pytest.MonkeyPatch, template: Path, tmp_path: Path, action: Callable[[Path], object]) -> tuple[int, dict]:
    """Run ``action`` on a copy of ``template`` once cleanly (counting the calls), then once
    per call with that call failing; every failed run must leave its copy as it was."""
    clean = _fresh(template, tmp_path, 0)
    counter = Faulty()
    monkeypatch.setattr(write, "os", counter)
    action(clean)
    monkeypatch.undo()
    after = tree(clean)
    before = tree(template)
    assert after != before, "the clean run changes nothing: the test would prove nothing"
    for n in range(1, len(counter.calls) + 1):
        copy = _fresh(template, tmp_path, n)
        monkeypatch.setattr(write, "os", Faulty(fail_at=n))
        with pytest.raises(DockergenError) as caught:
            action(copy)
        monkeypatch.undo()
        assert "nothing was changed" in str(caught.value), (n, counter.calls[n - 1], str(caught.value))
        assert tree(copy) == before, f"failing call {n} ({counter.calls[n - 1]}) left the tree changed"
        shutil.rmtree(copy)
    return len(counter.calls), after


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The platform example (nested Dockerfiles, several contexts), rendered once, then
    changed: one service fewer (a stale file to delete), one more (new folders to make),
    a new .gitattributes line of the user's, a file mode the user chose."""
    root = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "platform", root)
    spec = root / "dockergen.yaml"
    write.write_files(root, render(spec).files)
    (root / ".gitattributes").write_bytes(b"*.png binary\r\n" + (root / ".gitattributes").read_bytes() + b"# caf\xe9\n")
    (root / "compose.yaml").chmod(0o664)
    text = spec.read_text()
    assert "\nservices:\n" in text
    (root / "extra").mkdir()
    spec.write_text(text.replace("\nservices:\n", "\nservices:\n  extra:\n    build: {family: python, context: extra/svc/deep, port: 8000,"
                                 " python: {requirements: requirements.txt, app: \"app:app\"}}\n", 1))
    return root


def test_a_render_over_an_earlier_one_is_all_or_nothing(monkeypatch: pytest.MonkeyPatch, project: Path, tmp_path: Path) -> None:
    def action(root: Path) -> None:
        write.write_files(root, render(root / "dockergen.yaml").files)

    calls, after = each_failure(monkeypatch, project, tmp_path, action)
    assert calls > 40  # staged files, renames, folders, fsyncs: every one was failed once
    assert after["extra/svc/deep/Dockerfile"][0] == "file"
    assert after["compose.yaml"][2] == 0o664  # the user's mode is kept
    assert after[".gitattributes"][1].startswith(b"*.png binary\r\n") and after[".gitattributes"][1].endswith(b"# caf\xe9\n")


def test_a_first_render_into_an_empty_folder_is_all_or_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    template = tmp_path / "empty"
    template.mkdir()
    spec = ROOT / "examples" / "fastapi-celery" / "dockergen.yaml"
    files = render(spec).files

    calls, after = each_failure(monkeypatch, template, tmp_path, lambda root: write.write_files(root, files))
    assert "api/Dockerfile" in after and "dockergen.lock" in after


def test_stale_files_are_deleted_all_or_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    template = tmp_path / "stale"
    shutil.copytree(ROOT / "examples" / "fastapi-celery", template)
    spec = template / "dockergen.yaml"
    write.write_files(template, render(spec).files)
    spec.write_text(spec.read_text().replace("\nservices:\n", "\nenvironments:\n  dev: {}\n  test: {}\n  prod: {}\nservices:\n", 1))
    calls, after = each_failure(monkeypatch, template, tmp_path, lambda root: write.write_files(root, render(root / "dockergen.yaml").files))
    assert "compose.staging.yaml" not in after and "compose.prod.yaml" in after
    # The folders the deletions emptied went too (and came back whenever a failure undid it).
    assert "k8s/overlays/staging" not in after and "k8s/overlays/prod/kustomization.yaml" in after


def test_absorb_writes_the_spec_and_the_files_all_or_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dockergen.commands.absorb import absorb

    template = tmp_path / "absorb"
    shutil.copytree(ROOT / "examples" / "fastapi-celery", template)
    write.write_files(template, render(template / "dockergen.yaml").files)
    prod = template / "compose.prod.yaml"
    prod.write_text(prod.read_text().replace("restart: always", "restart: on-failure", 1))
    calls, after = each_failure(monkeypatch, template, tmp_path, lambda root: absorb(root / "dockergen.yaml", [], dry_run=False))
    assert b"on-failure" in after["dockergen.yaml"][1]


def test_import_writes_the_spec_and_the_report_all_or_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dockergen.commands.import_ import import_

    template = tmp_path / "sprawl"
    template.mkdir()
    (template / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27-alpine\n    ports: ['8080:80']\n")

    def action(root: Path) -> None:
        import_(root, compose_sets=[], out=None, report=root / "docs" / "MIGRATION.md", run_verify=False, force=False, use_cli=False, verbose=False)

    calls, after = each_failure(monkeypatch, template, tmp_path, action)
    assert "dockergen.yaml" in after and "docs/MIGRATION.md" in after


def test_a_failed_restore_names_the_files_it_could_not_put_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = tmp_path / "two"
    root.mkdir()
    (root / "a").write_bytes(b"old a")
    (root / "b").write_bytes(b"old b")
    counter = Faulty()
    monkeypatch.setattr(write, "os", counter)
    write.commit(root, {"a": b"new a", "b": b"new b"})
    second_rename = [i for i, name in enumerate(counter.calls, 1) if name == "replace"][1]
    (root / "a").write_bytes(b"old a")
    (root / "b").write_bytes(b"old b")
    monkeypatch.setattr(write, "os", Faulty(fail_at=second_rename, keep_failing=True))
    with pytest.raises(DockergenError) as caught:
        write.commit(root, {"a": b"new a", "b": b"new b"})
    assert "could not restore a" in str(caught.value)
