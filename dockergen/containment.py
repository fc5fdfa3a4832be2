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


def outside_reason(root: str | os.PathLike[str], value: str, *, base: str = ".", absolute_ok: bool = False) -> str | None:
    """Why ``value`` (relative to ``base``, a posix folder relative to ``root``) is not
    inside ``root``, or None.

    ``absolute_ok``: an absolute path is the user's explicit choice of a file on the host
    (a secret or config file), as is one under ``~``; they are allowed, and only ``..``
    escapes are refused."""
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
        top = resolved(os.fspath(root))
        found = resolved(os.path.join(top, normal))
    except (OSError, RuntimeError):  # a symbolic link loop
        return "goes through a symbolic link loop"
    if found != top and not found.startswith(top.rstrip(os.sep) + os.sep):
        return "resolves (through a symbolic link) outside the project directory"
    return None


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

