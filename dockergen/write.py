"""Decide what a render changes on disk, then write it all or nothing.

``plan_changes`` compares the rendered files with the tree (reads only). ``commit`` is the
one writer of every command that writes (render, absorb, import, init): it stages each new
file in full beside its target and fsyncs it, then renames them into place and deletes
what goes; if any step fails, the files already replaced get their old bytes back, the
new ones are removed, and the tree is exactly as before. A file is never overwritten or
deleted when it was edited by hand or was not written by dockergen, unless forced.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, TypeVar

from dockergen.errors import DockergenError, Location, Problem
from dockergen.fingerprint import (
    GITATTRIBUTES,
    LOCK_NAME,
    Lock,
    MalformedBlock,
    gitattributes_block,
    read_lock,
    read_seal,
    recorded_fingerprint,
    with_block,
)
from dockergen.render.rendered_file import RenderedFile
from dockergen.safe_read import Unreadable, kind_of, read_regular

TEMP_SUFFIX = ".dockergen-tmp"
# A file replaced is read in full first (a failed write puts these bytes back); the lock
# may be larger than any input dockergen reads.
REPLACE_LIMIT = 64 * 1024 * 1024


# The kinds of generated file `absorb` reads, and what to do with an edit of any other.
ABSORBABLE = ("compose", "overlay")
SPEC_EDIT = "keep the edit by making it in the spec (it writes this file; `dockergen absorb` takes only Compose files)"


@dataclass(frozen=True)
class Change:
    path: str
    action: str  # create | update | delete | unchanged
    current: bytes | None  # on disk now
    new: bytes | None  # after the render
    blocked: str | None = None  # why render refuses without --force
    kind: str | None = None  # the rendered file's (``RenderedFile.kind``); None for a stale file

    @property
    def absorbable(self) -> bool:
        """A hand edit `absorb` can move into the spec: it reads only Compose files."""
        return self.kind in ABSORBABLE

    @property
    def changes(self) -> bool:
        return self.action != "unchanged"


Folders = dict[str, Path]  # "" -> the resolved output directory; a folder's absolute path -> it resolved


def target_path(out_dir: Path, relative: str, folders: Folders | None = None) -> Path:
    """``out_dir / relative``, refusing anything that would land outside ``out_dir`` or
    replace a symbolic link (writing through it would change the file it points at).
    ``folders``: the folders already resolved for other files of one plan or commit (a
    render's 500 files sit in a few hundred folders, and resolving one follows every
    component of its path): a file that is no link is its resolved folder plus its name."""
    folders = {} if folders is None else folders
    root = folders.get("")
    if root is None:
        root = folders[""] = out_dir.resolve()
    path = root / relative
    if path.is_symlink():
        raise DockergenError.single(
            "a symbolic link is where a generated file goes; dockergen writes regular files only",
            location=Location(relative),
            hint="remove the link (or point the spec's output elsewhere)",
        )
    try:
        if ".." in path.parts or not path.name:  # `a/../link`: no lstat of it sees the link that resolving meets
            resolved = path.resolve()
        else:
            parent = folders.get(str(path.parent))
            if parent is None:
                parent = folders[str(path.parent)] = path.parent.resolve()
            resolved = parent / path.name
    except (OSError, RuntimeError):  # a link loop in a folder on the way
        raise DockergenError.single("a symbolic link loop is in the way of a generated file", location=Location(relative)) from None
    if resolved != root and root not in resolved.parents:
        raise DockergenError.single(f"refusing to write outside the output directory: {relative}", location=Location(relative))
    return resolved


def read_current(out_dir: Path, relative: str, folders: Folders | None = None) -> bytes | None:
    """What is at ``relative`` now (None: nothing); anything that is not a regular file
    (a folder, a FIFO, a device) is refused, never opened for a blocking read."""
    try:
        return read_regular(target_path(out_dir, relative, folders), REPLACE_LIMIT)
    except FileNotFoundError:
        return None
    except Unreadable as exc:
        raise DockergenError.single(f"{exc}; a generated file goes here", location=Location(relative),
                                    hint="move it out of the way") from None  # fmt: skip


def previous_lock(out_dir: Path) -> Lock | None:
    return lock_state(out_dir)[0]


def lock_state(out_dir: Path) -> tuple[Lock | None, str | None]:
    """The previous render's lock, or why it cannot be trusted (``fingerprint.read_lock``)."""
    try:
        return read_lock(out_dir)
    except Unreadable as exc:
        raise DockergenError.single(f"{exc}; dockergen's lock goes here", location=Location(LOCK_NAME), hint="move it out of the way") from None


def plan_changes(out_dir: Path, files: list[RenderedFile]) -> list[Change]:
    changes: list[Change] = []
    produced = {f.path for f in files}
    folders: Folders = {}
    for f in files:
        data = read_current(out_dir, f.path, folders)
        new = f.content.encode("utf-8")
        if data is None:
            changes.append(Change(f.path, "create", None, new))
        elif data == new:
            changes.append(Change(f.path, "unchanged", data, new))
        else:
            changes.append(Change(f.path, "update", data, new, _why_blocked(f.path, data), f.kind))
    lock = previous_lock(out_dir)
    for path, recorded in sorted((lock.files if lock else {}).items()):
        if path in produced:
            continue
        try:
            data = read_current(out_dir, path, folders)
        except DockergenError:
            continue  # no longer a file of ours, whatever it is now: left alone
        # Stale only when the file is the one that render wrote (its header carries the
        # fingerprint the lock recorded); a copy of another generated file is the user's.
        if data is None or recorded_fingerprint(data) != recorded:
            continue
        changes.append(Change(path, "delete", data, None, _why_blocked(path, data)))
    changes.append(_gitattributes_change(out_dir, sorted(produced), folders))
    return changes


def _why_blocked(path: str, data: bytes) -> str | None:
    if path == LOCK_NAME:
        return None  # the lock is ours alone; a hand edit only makes it untrusted
    seal = read_seal(data)
    if not seal.generated:
        return NOT_OURS
    if not seal.intact:
        return "edited by hand since it was generated"
    return None


def _gitattributes_change(out_dir: Path, paths: list[str], folders: Folders) -> Change:
    current = read_current(out_dir, GITATTRIBUTES, folders)
    try:
        new = with_block(current or b"", gitattributes_block(paths))
    except MalformedBlock as exc:
        raise DockergenError.single(
            str(exc), location=Location(GITATTRIBUTES, exc.line, 1),
            hint="fix dockergen's block by hand (or delete it whole); render never guesses which lines are yours",
        ) from None  # fmt: skip
    if current == new:
        return Change(GITATTRIBUTES, "unchanged", current, new)
    return Change(GITATTRIBUTES, "create" if current is None else "update", current, new)


NOT_OURS = "not written by dockergen"


class Refused(DockergenError):
    """Render would overwrite or delete files it must not touch (exit 1)."""


def apply(out_dir: Path, changes: list[Change], *, force: bool) -> None:
    blocked = [c for c in changes if c.changes and c.blocked]
    if blocked and not force:
        raise Refused(
            [
                Problem(
                    f"refusing to {'delete' if c.action == 'delete' else 'overwrite'} it: {c.blocked}",
                    Location(c.path),
                    hint=(
                        "it is yours, not a generated file: move it away, or write dockergen's elsewhere (`output` names "
                        "the paths), or pass --force to replace it"
                        if c.blocked == NOT_OURS
                        else "keep the edit with `dockergen absorb`, or pass --force to discard it"
                        if c.absorbable
                        else f"{SPEC_EDIT}, or pass --force to discard it"
                    ),
                )
                for c in blocked
            ]
        )
    commit(out_dir, {c.path: c.new for c in changes if c.changes})


def write_files(out_dir: Path, files: list[RenderedFile], *, force: bool = False) -> list[Change]:
    changes = plan_changes(out_dir, files)
    apply(out_dir, changes, force=force)
    return changes


# ---- the transaction -------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    relative: str
    path: Path
    data: bytes | None  # None: delete
    before: bytes | None  # None: nothing there
    mode: int


def commit(root: Path, files: Mapping[str, bytes | None]) -> None:
    """Write ``files`` (relative path -> bytes, None to delete) under ``root`` as one
    transaction; raises ``DockergenError`` with the tree as it was before."""
    folders: Folders = {}
    targets = [_target(root, relative, data, folders) for relative, data in sorted(files.items())]
    made: list[Path] = []  # folders this commit created, to remove on failure
    removed: list[tuple[Path, int]] = []  # folders its deletions emptied and removed (with their modes)
    staged: list[tuple[Path, _Target]] = []
    done: list[_Target] = []
    try:
        writes = [target for target in targets if target.data is not None]
        for target in writes:
            _make_parents(target.path.parent, made)
        # Every new file is on disk in full before any target is replaced. The fsyncs wait
        # on the disk, not the CPU: side by side, the file system commits them together.
        temps = _each_at_once(lambda target: _stage(target.path, target.data, target.mode), writes)
        staged = [(temp, target) for temp, target in zip(temps, writes) if isinstance(temp, Path)]
        _raise_first(temps)
        for temp, target in staged:
            os.replace(temp, target.path)
            done.append(target)
        staged = []
        for target in targets:
            if target.data is None and target.before is not None:
                os.unlink(target.path)
                done.append(target)
        _remove_emptied(root.resolve(), [t.path.parent for t in done if t.data is None], removed)
        gone = {folder for folder, _ in removed}
        _raise_first(_each_at_once(_fsync_folder, sorted(({t.path.parent for t in done} | {m.parent for m in made} | {f.parent for f in gone}) - gone)))
    except OSError as exc:
        failed = _roll_back(done, [temp for temp, _ in staged], made, removed)
        message = f"cannot write: {exc.strerror or exc}; nothing was changed"
        if failed:
            message = f"cannot write: {exc.strerror or exc}; and could not restore {', '.join(failed)} (restore from version control)"
        raise DockergenError.single(message, location=Location(_shown(exc, root))) from None


_Item = TypeVar("_Item")
_Result = TypeVar("_Result")
_AT_ONCE = 16  # calls in flight: enough for the disk to commit many fsyncs as one


def _each_at_once(action: Callable[[_Item], _Result], items: list[_Item]) -> list[_Result | BaseException]:
    """``action`` of each item, up to ``_AT_ONCE`` at a time, each result (or what it
    raised) in the items' order; returns once every call has ended."""
    results: list[_Result | BaseException] = []
    if len(items) < 2:
        for item in items:
            try:
                results.append(action(item))
            except BaseException as exc:  # noqa: BLE001 - re-raised by the caller
                results.append(exc)
        return results
    results = [RuntimeError("not run")] * len(items)
    pending = iter(range(len(items)))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                index = next(pending, None)
            if index is None:
                return
            try:
                results[index] = action(items[index])
            except BaseException as exc:  # noqa: BLE001 - re-raised by the caller
                results[index] = exc

    workers = [threading.Thread(target=work) for _ in range(min(_AT_ONCE, len(items)))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def _raise_first(results: list[object]) -> None:
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _target(root: Path, relative: str, data: bytes | None, folders: Folders) -> _Target:
    path = target_path(root, relative, folders)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return _Target(relative, path, data, None, 0o644)
    except OSError as exc:
        raise DockergenError.single(f"cannot write: {exc.strerror}", location=Location(relative)) from None
    kind = kind_of(info.st_mode)
    if kind is not None:
        raise DockergenError.single(f"not a regular file: {kind} is in the way", location=Location(relative))
    try:
        before = read_regular(path, REPLACE_LIMIT)
    except OSError as exc:
        raise DockergenError.single(f"cannot write: {exc}", location=Location(relative)) from None
    return _Target(relative, path, data, before, info.st_mode & 0o7777)


def _remove_emptied(root: Path, folders: list[Path], removed: list[tuple[Path, int]]) -> None:
    """Remove each of ``folders`` the deletions left empty, and each parent that leaves
    empty, up to (never including) ``root``, recording each in ``removed`` as it goes. A
    folder holding anything else (a file of the user's, an empty folder of theirs) stays:
    ``rmdir`` removes only empty folders."""
    for folder in sorted(set(folders), key=lambda f: len(f.parts), reverse=True):
        while folder != root and root in folder.parents:
            mode = os.stat(folder).st_mode & 0o7777 if folder.is_dir() else None
            if mode is None:
                break  # removed already, as the parent of a deeper one
            try:
                os.rmdir(folder)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    break  # not empty: neither are its parents
                raise
            removed.append((folder, mode))
            folder = folder.parent


def _make_parents(folder: Path, made: list[Path]) -> None:
    """Create ``folder`` and its missing parents, recording each in ``made`` as it goes."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        os.mkdir(path)
        made.append(path)


def _stage(path: Path, data: bytes, mode: int) -> Path:
    """``data`` in a new file beside ``path``, flushed to disk; removed again on failure."""
    temp = path.with_name(f".{path.name}.{os.urandom(4).hex()}{TEMP_SUFFIX}")  # what secrets.token_hex does, without importing it
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        _quietly(os.unlink, temp)
        raise
    return temp


def _fsync_folder(folder: Path) -> None:
    # The renames themselves reach the disk only with their folder.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _roll_back(done: list[_Target], temps: list[Path], made: list[Path], removed: list[tuple[Path, int]]) -> list[str]:
    """Put back every removed folder and every replaced or deleted file, remove created
    ones, temporary files and created folders; the paths that could not be restored."""
    failed = []
    for folder, mode in reversed(removed):
        try:
            os.mkdir(folder, mode)
            os.chmod(folder, mode)  # mkdir's mode passes through the umask
        except OSError:
            pass  # its files fail to restore below and are named
    for target in reversed(done):
        try:
            if target.before is None:
                os.unlink(target.path)
            else:
                os.replace(_stage(target.path, target.before, target.mode), target.path)
        except OSError:
            failed.append(target.relative)
    for temp in temps:
        _quietly(os.unlink, temp)
    for folder in reversed(made):
        _quietly(os.rmdir, folder)
    return failed


def _quietly(action: object, path: Path) -> None:
    try:
        action(path)  # type: ignore[operator]
    except OSError:
        pass


def _shown(exc: OSError, root: Path) -> str:
    if not exc.filename:
        return str(root)
    name = str(exc.filename)
    try:
        return Path(name).relative_to(root.resolve()).as_posix()
    except ValueError:
        return name
