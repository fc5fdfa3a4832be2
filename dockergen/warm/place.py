"""Where the warm server's socket lives, and whether it can be trusted.

Standard library only, and none of it heavy: the console script asks before every served
command. The socket is in a folder of the user's own that nobody else may enter
(``$XDG_RUNTIME_DIR/dockergen``, else ``<tmp>/dockergen-<uid>``); its name says which
interpreter, flags, import path and dockergen checkout it serves, so two installations
never answer each other's commands.
"""

from __future__ import annotations

import os
import stat
import sys


def runtime_folder() -> str:
    """The per-user folder (the XDG base directory rule: a relative XDG_RUNTIME_DIR is ignored)."""
    base = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(base):
        return os.path.join(base, "dockergen")
    tmp = os.environ.get("TMPDIR", "")
    return os.path.join(tmp if os.path.isabs(tmp) else "/tmp", f"dockergen-{os.getuid()}")


def interpreter_key() -> str:
    """What a served command must share with the server besides dockergen's code: the
    interpreter, its flags and options, and the import path (but its first entry, the
    script's folder or the working directory, which each child takes from its client)."""
    from dockergen.fingerprint import sha256

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parts = [sys.executable, package, sys.version, repr(sys.flags), repr(sys.warnoptions), repr(sorted(sys._xoptions.items())), *sys.path[1:]]
    return sha256("\0".join(parts).encode()).hexdigest()[:16]


def socket_path() -> str:
    return os.path.join(runtime_folder(), f"server-{interpreter_key()}.sock")


def untrusted_folder(info: os.stat_result, uid: int) -> str | None:
    """Why a folder with ``info`` (from ``lstat``) cannot hold the socket, or None."""
    if not stat.S_ISDIR(info.st_mode):
        return "it is not a folder (a link or a file is in its place)"
    if info.st_uid != uid:
        return f"it belongs to uid {info.st_uid}, not to you (uid {uid})"
    if info.st_mode & 0o077:
        return f"others may enter it (mode {stat.S_IMODE(info.st_mode):o}; it must be 700)"
    return None


def untrusted_socket(info: os.stat_result, uid: int) -> str | None:
    """Why the file with ``info`` (from ``lstat``) is not the user's own server socket, or None."""
    if not stat.S_ISSOCK(info.st_mode):
        return "it is not a socket"
    if info.st_uid != uid:
        return f"it belongs to uid {info.st_uid}, not to you (uid {uid})"
    return None


def trusted_socket(path: str) -> bool:
    """True when ``path`` and its folder are the user's own, as ``untrusted_*`` ask."""
    uid = os.getuid()
    try:
        return untrusted_folder(os.lstat(os.path.dirname(path)), uid) is None and untrusted_socket(os.lstat(path), uid) is None
    except OSError:
        return False
