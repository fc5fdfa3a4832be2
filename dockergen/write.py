"""Decide what a render changes on disk, then write it safely.

``plan_changes`` compares the rendered files with the tree (pure reads); ``apply`` writes:
every new file is staged in full beside its target first, then each is moved into place
with an atomic rename, then stale files are deleted. A file is never overwritten or
deleted when it was edited by hand or was not written by dockergen, unless forced.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dockergen.errors import DockergenError, Location
from dockergen.fingerprint import (
    GITATTRIBUTES,
    LOCK_NAME,
    Lock,
    gitattributes_block,
    read_seal,
    with_block,
)
from dockergen.render.project import RenderedFile

# Names a generated file may have; scanned for stale generated files next to current ones.
GENERATED_NAMES = ("Dockerfile", "compose", ".dockerignore", ".env.example", "docker-compose")


@dataclass(frozen=True)
class Change:
    path: str
    action: str  # create | update | delete | unchanged
    current: str | None  # text on disk now
    new: str | None  # text after the render
    blocked: str | None = None  # why render refuses without --force

    @property
    def changes(self) -> bool:
        return self.action != "unchanged"


def target_path(out_dir: Path, relative: str) -> Path:
    """``out_dir / relative``, refusing anything that would land outside ``out_dir``."""
    root = out_dir.resolve()
    path = (root / relative).resolve()
    if path != root and root not in path.parents:
        raise DockergenError.single(f"refusing to write outside the output directory: {relative}", location=Location(relative))
    return path


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise DockergenError.single("a directory is in the way of a generated file", location=Location(str(path))) from None


def previous_lock(out_dir: Path) -> Lock | None:
    data = _read(out_dir / LOCK_NAME)
    return Lock.from_text(data.decode("utf-8", errors="replace")) if data else None


def plan_changes(out_dir: Path, files: list[RenderedFile]) -> list[Change]:
    changes: list[Change] = []
    produced = {f.path for f in files}
    for f in files:
        data = _read(target_path(out_dir, f.path))
        if data is None:
            changes.append(Change(f.path, "create", None, f.content))
            continue
        current = data.decode("utf-8", errors="replace")
        if current == f.content:
            changes.append(Change(f.path, "unchanged", current, f.content))
            continue
        changes.append(Change(f.path, "update", current, f.content, _why_blocked(f.path, data)))
    for path in sorted(_stale_candidates(out_dir, files) - produced):
        data = _read(target_path(out_dir, path))
        if data is None or not read_seal(data).generated:
            continue
        changes.append(Change(path, "delete", data.decode("utf-8", errors="replace"), None, _why_blocked(path, data)))
    changes.append(_gitattributes_change(out_dir, sorted(produced)))
    return changes


def _why_blocked(path: str, data: bytes) -> str | None:
    if path == LOCK_NAME:
        return None  # the lock is ours alone; a hand edit only makes it untrusted
    seal = read_seal(data)
    if not seal.generated:
        return "not written by dockergen"
    if not seal.intact:
        return "edited by hand since it was generated"
    return None


def _stale_candidates(out_dir: Path, files: list[RenderedFile]) -> set[str]:
    """Files an earlier render may have written: the old lock's list, plus files with
    generated-looking names in the folders that hold generated files now."""
    candidates: set[str] = set()
    lock = previous_lock(out_dir)
    if lock is not None:
        candidates |= set(lock.files)
    folders = {Path(f.path).parent for f in files} | {Path(".")}
    root = out_dir.resolve()
    for folder in folders:
        directory = root / folder
        if not directory.is_dir():
            continue
        for entry in directory.iterdir():
            if entry.is_file() and entry.name.startswith(GENERATED_NAMES):
                candidates.add((folder / entry.name).as_posix())
    return candidates


def _gitattributes_change(out_dir: Path, paths: list[str]) -> Change:
    data = _read(out_dir / GITATTRIBUTES)
    current = data.decode("utf-8", errors="replace") if data is not None else None
    new = with_block(current or "", gitattributes_block(paths))
    if current == new:
        return Change(GITATTRIBUTES, "unchanged", current, new)
    return Change(GITATTRIBUTES, "create" if current is None else "update", current, new)


class Refused(DockergenError):
    """Render would overwrite or delete files it must not touch (exit 1)."""


def apply(out_dir: Path, changes: list[Change], *, force: bool) -> None:
    blocked = [c for c in changes if c.changes and c.blocked]
    if blocked and not force:
        from dockergen.errors import Problem

        raise Refused(
            [
                Problem(
                    f"refusing to {'delete' if c.action == 'delete' else 'overwrite'} it: {c.blocked}",
                    Location(c.path),
                    hint="keep the edit with `dockergen absorb`, or pass --force to discard it",
                )
                for c in blocked
            ]
        )
    staged: list[tuple[Path, Path]] = []
    folders: set[Path] = set()  # made or found already: one mkdir per folder, not per file
    try:
        for change in changes:
            if change.action not in ("create", "update"):
                continue
            assert change.new is not None
            path = target_path(out_dir, change.path)
            if path.parent not in folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".dockergen-tmp", dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(fd, 0o644)
                handle.write(change.new.encode("utf-8"))
            staged.append((Path(tmp), path))
        # Every file is on disk in full before any target is replaced.
        for tmp, path in staged:
            os.replace(tmp, path)
        staged = []
        for change in changes:
            if change.action == "delete":
                target_path(out_dir, change.path).unlink(missing_ok=True)
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise DockergenError.single(f"cannot write: {exc.strerror}", location=Location(str(exc.filename or out_dir))) from None


def write_files(out_dir: Path, files: list[RenderedFile], *, force: bool = False) -> list[Change]:
    changes = plan_changes(out_dir, files)
    apply(out_dir, changes, force=force)
    return changes
