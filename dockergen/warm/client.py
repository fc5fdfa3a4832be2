"""The console script's side of the warm server: hand a command to it, or say None.

The request carries everything the command reads from its process: the arguments, the
program name click shows, the import path, the working directory, the environment, the
umask, the encodings of the standard streams, and the streams themselves (their file
descriptors, SCM_RIGHTS), so the server's child writes straight to the user's terminal,
pipe or file and sees a terminal where this process would. The exit code comes back.

Anything short of that exit code is None: no server, a socket that is not the user's own,
a server that does not answer within ``HANDSHAKE_SECONDS``, one running other code (it is
told so and exits), a child that died: the console script then runs the command itself,
as if there were no server. The child starts only once this process confirms it is still
waiting, so a command never runs twice.
"""

from __future__ import annotations

import os
import sys

import _socket

from dockergen.warm.place import socket_path, trusted_socket
from dockergen.warm.wire import WireError, receive, send

HANDSHAKE_SECONDS = 2.0
FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")


def run(argv: list[str]) -> int | None:
    """The exit code of ``argv`` run by the warm server, or None: run it here."""
    if _writes_would_stop():
        return None
    message = request("run", argv)  # before connecting: the server drops a client that dawdles
    try:
        sock = connect()
    except OSError:
        return None
    try:
        send(sock, message, fds=(0, 1, 2))
        reply, _ = receive(sock)
        child = reply.get("run") if isinstance(reply, dict) else None
        if not isinstance(child, int):
            return None  # stale: the server exits
        forwarded: list[int] = []
        previous = _forward_signals(child, forwarded)
        try:
            send(sock, {"go": True})
            sock.settimeout(None)  # the command takes as long as it takes
            try:
                reply, _ = receive(sock)
            except (OSError, WireError):
                if forwarded:  # the user stopped the command (kill): not a failure to run again
                    return 128 + forwarded[-1]
                raise
        finally:
            _restore_signals(previous)
        code = reply.get("exit") if isinstance(reply, dict) else None
        return code if isinstance(code, int) else None
    except (OSError, WireError, ValueError):
        return None
    except KeyboardInterrupt:  # before the child started
        return 130
    finally:
        sock.close()


def connect() -> _socket.socket:
    """A connection to this installation's server; raises OSError when there is none the
    user can trust."""
    path = socket_path()
    if not trusted_socket(path):
        raise FileNotFoundError(path)
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(HANDSHAKE_SECONDS)
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


def request(op: str, argv: list[str] | None = None) -> dict:
    from dockergen.render_cache import code_signature

    body: dict = {"op": op, "identity": code_signature()}
    if op != "run":
        return body
    mask = os.umask(0)
    os.umask(mask)
    main = sys.modules.get("__main__")
    streams = [sys.stdin, sys.stdout, sys.stderr]
    return body | {
        "argv": [sys.argv[0], *(argv or [])],
        "main_package": getattr(main, "__package__", None),  # click names the program from it
        "path": sys.path,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": mask,
        "streams": [[getattr(s, "encoding", None), getattr(s, "errors", None)] for s in streams],
    }


def _writes_would_stop() -> bool:
    """The server's child is not in the terminal's foreground process group: with
    ``stty tostop`` set, its first write to the terminal would stop it."""
    for fd in (1, 2):
        if os.isatty(fd):
            import termios

            try:
                return bool(termios.tcgetattr(fd)[3] & termios.TOSTOP)
            except termios.error:
                return True
    return False


def _forward_signals(child: int, forwarded: list[int]) -> dict[int, object]:
    """Ctrl-C and friends reach this process (the terminal's foreground); pass them on, and
    note each in ``forwarded``. The C module ``_signal``, as ``_socket``: ``signal.py``
    builds its enums on import (~0.8 ms of every served command)."""
    import _signal

    def forward(signum: int, _frame: object) -> None:
        forwarded.append(signum)
        try:
            os.kill(child, signum)
        except OSError:
            pass

    return {getattr(_signal, name): _signal.signal(getattr(_signal, name), forward) for name in FORWARDED}


def _restore_signals(previous: dict[int, object]) -> None:
    import _signal

    for number, handler in previous.items():
        _signal.signal(number, handler)
