"""The one check that a path a spec or an imported file names stays inside the project.

A path leaves the project by being absolute, by starting with ``~``, by climbing out with
``..`` (also spelled with backslashes), or through a symbolic link that points outside.
Every path the spec names (build contexts and Dockerfiles, flavours, the ``compose:``
escape hatch, env files, secret and config files, templates, snapshots, output files) and
every path an imported Compose file names (``include``, ``extends``, env files, build
contexts) is judged here, so there is one answer to "is this inside?".
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
import unicodedata
from collections.abc import Callable


def outside_reason(
    root: str | os.PathLike[str], value: str, *, base: str = ".", absolute_ok: bool = False, resolve: Callable[[str], str] | None = None
) -> str | None:
    """Why ``value`` (relative to ``base``, a posix folder relative to ``root``) is not
    inside ``root``, or None.

    ``absolute_ok``: an absolute path is the user's explicit choice of a file on the host
    (a secret or config file), as is one under ``~``; they are allowed, and only ``..``
    escapes are refused. ``resolve``: ``resolved``, or a ``Resolver`` shared by many
    values (the same answers)."""
    resolve = resolved if resolve is None else resolve
    if "\0" in value:
        return "contains a NUL character"
    if value.startswith("~"):
        return None if absolute_ok else "must be a relative path inside the project (not under ~)"
    if os.path.isabs(value) or value.startswith("\\"):
        return None if absolute_ok else "must be a relative path inside the project, not an absolute path"
    normal = posixpath.normpath(posixpath.join(base, value.replace("\\", "/")))
    if normal == ".." or normal.startswith("../"):
        return "leaves the project directory"
    try:
        top = resolve(os.fspath(root))
        found = resolve(os.path.join(top, normal))
    except (OSError, RuntimeError):  # a symbolic link loop
        return "goes through a symbolic link loop"
    if found != top and not found.startswith(top.rstrip(os.sep) + os.sep):
        return "resolves (through a symbolic link) outside the project directory"
    return None


def write_target_reason(path: str) -> tuple[str, str] | None:
    """Why a path given on the command line to write at (``render --out``, ``import --out``
    and ``--report``) is refused, with what to do, or None. It is the user's choice, an
    absolute one or one climbing out with ``..`` too, unless it lands in git's own folder,
    where a file can become a hook or git's config, or reads as inside the current folder
    but a symbolic link (one a repository under import can hold) takes it outside. os.path
    alone: the launcher asks before it replays a render from the render cache."""
    found = os.path.realpath(path)  # every link followed, the last one too
    given = [part for part in path.split(os.sep) if part not in ("", ".")]
    if any(part.casefold() == ".git" for part in (*given, *found.split(os.sep))):
        return "is inside `.git`, git's own folder (a file there can become a hook or git's config)", "give a path outside .git"
    here = os.path.realpath(".")
    if not os.path.isabs(path) and ".." not in given and os.path.commonpath([here, found]) != here:
        return f"leaves the current folder through a symbolic link (to {found})", "spell the path where it really is, if that is meant"
    return None


def refuse_write_targets(*options: tuple[str, os.PathLike[str] | None]) -> None:
    """Raise, before anything is written, for the first of ``options`` (an option and the
    path given to it) that ``write_target_reason`` refuses."""
    from dockergen.errors import DockergenError, Location
    from dockergen.text import visible

    for option, path in options:
        reason = None if path is None else write_target_reason(os.fspath(path))
        if reason is not None:
            why, hint = reason
            raise DockergenError.single(f"{option} {visible(os.fspath(path))} {visible(why)}", location=Location("command line"), hint=hint)


def resolved(path: str) -> str:
    """``path`` with every symbolic link followed; raises ``RuntimeError`` on a link loop
    (``Path.resolve``'s rule; os.path alone, so the launcher's fast path can use it)."""
    real = os.path.realpath(path)
    try:
        os.stat(real)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RuntimeError(f"symbolic link loop at {path!r}") from None
    return real


def same_file_key(path: str) -> str:
    """``path`` as the file systems most checkouts live on tell files apart: macOS's (APFS
    and HFS+) and Windows' ignore case, macOS also how an accent is composed (NFC, NFD), and
    Windows drops a name's trailing dots. Two project paths with one key are one file there,
    however distinct on Linux."""
    folded = unicodedata.normalize("NFC", posixpath.normpath(path)).casefold()
    return "/".join(part if part in (".", "..") else part.rstrip(".") for part in folded.split("/"))


class Resolver:
    """``resolved`` for the many paths of one check, each folder resolved once: a spec's
    paths sit in a few folders (a build context holds its Dockerfile, requirements and
    .dockerignore), and resolving a path follows every component of it. A name that is
    no link is its resolved folder plus the name; a path through ``..``, a link, or a
    folder that cannot be resolved takes ``resolved`` whole. For one moment's view of
    the tree: a check, never kept."""

    __slots__ = ("_paths", "_cwd")

    def __init__(self) -> None:
        self._paths: dict[str, str] = {}
        self._cwd: str | None = None

    def __call__(self, path: str) -> str:
        found = self._paths.get(path)
        if found is None:
            found = self._paths[path] = self._resolve(path)
        return found

    def _resolve(self, path: str) -> str:
        plain = path.removeprefix("./") if not os.path.isabs(path) else path
        if os.pardir in plain.split(os.sep) or os.path.normpath(plain) != plain or os.path.isabs(plain) != os.path.isabs(path):
            return resolved(path)  # `..` after a link, `//` after a loop: ``realpath``'s own reading
        if plain is not path or not os.path.isabs(path):  # as ``realpath`` reads it: from the working directory (which has no links)
            self._cwd = os.getcwd() if self._cwd is None else self._cwd
            return self(os.path.join(self._cwd, plain))
        folder, name = os.path.split(path)
        if not name or folder == path:
            return resolved(path)
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return resolved(path)
        except OSError:
            pass  # nothing there (or unreadable): ``realpath`` keeps the name as it is
        return os.path.join(self(folder), name)
