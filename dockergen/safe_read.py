"""Read a file dockergen was pointed at without trusting what kind of file it is.

A named pipe blocks a plain ``open`` until someone writes to it; ``/dev/zero`` never ends;
a symbolic link may loop. Every reader of user files (spec, templates, lock, generated
files, import and absorb inputs) goes through ``read_regular``: it refuses anything but a
regular file before reading a byte (the file is opened non-blocking and checked again,
so a swap between the check and the open changes nothing) and reads at most ``limit``.

Also the limits every YAML and JSON reader shares. Kept free of heavy imports (the
fast ``dockergen check`` path uses it).
"""

from __future__ import annotations

import errno
import os
import stat

MAX_BYTES = 5 * 1024 * 1024  # any one file dockergen reads: spec, Compose file, Dockerfile, lock, template
MAX_NODES = 500_000  # values in one YAML/JSON document once aliases are expanded ("billion laughs")
MAX_DEPTH = 64  # nesting of one YAML/JSON document

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class Unreadable(OSError):
    """The file exists but is not one dockergen reads; ``str()`` says why. An ``OSError``,
    so a caller that already handles a failed read handles this one too."""


def kind_of(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return None if stat.S_ISREG(mode) else "not a regular file"


def read_regular(path: str | os.PathLike[str], limit: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file at ``path`` (symbolic links followed).

    Raises ``FileNotFoundError`` when nothing is there and ``Unreadable`` for everything
    else that stops the read: another kind of file, a link loop, a file over ``limit``
    bytes, a permission or I/O error."""
    try:
        _check(os.stat(path), limit)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, Unreadable):
        raise
    except OSError as exc:
        raise Unreadable(_reason(exc)) from None
    try:
        _check(os.fstat(fd), limit)
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:  # it grew since fstat
                raise Unreadable(f"it is over {limit} bytes; the limit is {limit}")
            chunks.append(chunk)
    except Unreadable:
        raise
    except OSError as exc:
        raise Unreadable(_reason(exc)) from None
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike[str], limit: int = MAX_BYTES) -> str:
    """``read_regular`` decoded as UTF-8 (raises ``UnicodeDecodeError`` like ``Path.read_text``)."""
    return read_regular(path, limit).decode("utf-8")


def _check(info: os.stat_result, limit: int) -> None:
    kind = kind_of(info.st_mode)
    if kind is not None:
        raise Unreadable(f"not a regular file: {kind}")
    if info.st_size > limit:
        raise Unreadable(f"it is {info.st_size} bytes; the limit is {limit}")


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop"
    return f"cannot read: {exc.strerror or exc}"
