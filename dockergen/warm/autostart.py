"""The warm server starts by itself: a served command that found no server runs in-process
as before and, on its way, leaves one starting in the background (as Gradle's and Nx's
daemons do), so the next command is served.

Not in CI (``CI`` set to anything but empty, ``0`` or ``false``) nor with
``DOCKERGEN_NO_SERVER`` set, and only where a start can work: the socket's folder is
missing or the user's own, and no socket is there or only a dead one (a live server that
did not serve this command is left alone). Nothing is printed, and the command waits
for nothing: the start is a process of its own, in a new session, its standard streams on
``/dev/null`` and no other descriptor of the command's, so a caller reading the command's
output to its end (``subprocess.run(capture_output=True)``, pre-commit) is done when the
command is. It is ``dockergen server start --idle-minutes 15`` (``IDLE_MINUTES``) in all but
that: one start at a time, and the server it starts says so in ``server status``.
"""

from __future__ import annotations

import os

import _socket

from dockergen.warm.place import socket_path, untrusted_folder, untrusted_socket

IDLE_MINUTES = 15  # an explicit `server start` keeps its 30


def wanted(environ: os._Environ[str] | dict[str, str]) -> bool:
    """Whether this environment lets a command start the server."""
    return environ.get("CI", "").strip().lower() in ("", "0", "false") and not environ.get("DOCKERGEN_NO_SERVER")


def vacant(path: str) -> bool:
    """No server answers on ``path``, and one started there could listen (what ``server
    start`` refuses is left for it to say, when the user runs it)."""
    uid = os.getuid()
    try:
        if untrusted_folder(os.lstat(os.path.dirname(path)), uid) is not None:
            return False
        if untrusted_socket(os.lstat(path), uid) is not None:
            return False
    except FileNotFoundError:
        return True
    except OSError:
        return False
    probe = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except ConnectionRefusedError:
        return True  # a server that died and left its socket: `start` replaces it
    except OSError:
        return False
    finally:
        probe.close()
    return False


def start_in_background() -> None:
    """Leave a server starting, when ``wanted`` and ``vacant``; returns at once."""
    if not wanted(os.environ) or not hasattr(_socket, "SO_PEERCRED") or not vacant(socket_path()):
        return
    middle = os.fork()
    if middle:
        os.waitpid(middle, 0)
        return
    try:  # the middle process: detach, then fork the start, so it never holds a descriptor of the command's
        from dockergen.warm.serve import MAX_FD

        os.setsid()
        quiet = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(quiet, fd)
        os.closerange(3, MAX_FD)
        os.chdir("/")
        if os.fork() == 0:
            _start()
    finally:
        os._exit(0)


def _start() -> None:
    from dockergen.commands.server import start
    from dockergen.errors import DockergenError

    try:
        start(IDLE_MINUTES, auto=True)
    except DockergenError:
        pass  # `dockergen server start` would say why; commands run without the server
