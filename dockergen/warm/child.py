"""One served command: the forked child takes on the client's process state, runs the
console script's own full path (``launcher.full_path``) and reports the exit code the
interpreter would have exited with. Each child starts from the server's imports alone:
nothing one command leaves in memory reaches the next."""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable
from typing import TextIO


def adopt(request: dict, fds: list[int]) -> None:
    """Become the client's process: its standard streams (``fds``), working directory,
    environment, umask, arguments, program name and import path."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.umask(request["umask"])
    sys.argv = list(request["argv"])
    sys.path[:] = request["path"]
    main = types.ModuleType("__main__")
    main.__package__ = request["main_package"]
    sys.modules["__main__"] = main
    sys.stdin, sys.stdout, sys.stderr = (_stream(fd, *request["streams"][fd]) for fd in range(3))
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr


def _stream(fd: int, encoding: str | None, errors: str | None) -> TextIO:
    """A standard stream as the interpreter opens it: stdout line-buffered on a terminal,
    stderr always (Python 3.9+), in the client's encoding."""
    line_buffered = fd == 2 or os.isatty(fd)
    return open(fd, "r" if fd == 0 else "w", buffering=1 if line_buffered else -1, encoding=encoding, errors=errors,
                newline="\n" if fd else None, closefd=False)  # fmt: skip


def exit_code(command: Callable[[], object]) -> int:
    """Run ``command`` and return the code the interpreter would exit with."""
    from dockergen.launcher import exit_status

    try:
        command()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # noqa: BLE001 - the interpreter prints it and exits 1
        import traceback

        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    return exit_status(code)
