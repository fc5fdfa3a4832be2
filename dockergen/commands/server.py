"""``dockergen server start|stop|status``: the opt-in warm server (``dockergen.warm``).

``start`` makes the socket's folder (0700) or refuses one that another user owns or others
may enter, replaces a server that runs other code, and returns once the new one listens.
Starts are one at a time (a lock file beside the socket): two commands that find no server
at once (``warm.autostart``) start one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import click

from dockergen.errors import DockergenError, Location
from dockergen.warm.place import socket_path, untrusted_folder, untrusted_socket

FIX_FOLDER = "remove it, or set XDG_RUNTIME_DIR to a folder of your own with mode 700"


def start(idle_minutes: float, *, auto: bool = False) -> int:
    """``auto``: started by a command that found no server (``warm.autostart``)."""
    from dockergen.warm.serve import StartFailed, spawn

    _supported()
    path = socket_path()
    _own_folder(os.path.dirname(path))
    with _start_lock(os.path.dirname(path)):
        status = _ask(path, "status")
        if status is not None and status["status"]["current"]:
            click.echo(f"dockergen server already running (pid {status['status']['pid']}, socket {path})")
            return 0
        if status is not None:
            _ask(path, "stop")  # it runs other code
        _clear_dead_socket(path)
        try:
            pid = spawn(path, idle_minutes * 60, auto=auto)
        except (StartFailed, OSError) as exc:
            raise DockergenError.single(f"the server did not start: {exc}", location=Location(path), hint="commands run without it, as before") from None
    click.echo(f"dockergen server started (pid {pid}, socket {path}); it exits after {_minutes(idle_minutes)} without a request")
    return 0


@contextlib.contextmanager
def _start_lock(folder: str) -> Iterator[None]:
    """Held from the look for a running server until the new one listens."""
    import fcntl

    fd = os.open(os.path.join(folder, "start.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def stop() -> int:
    path = socket_path()
    reply = _ask(path, "stop")
    click.echo(f"dockergen server stopped (pid {reply['stopped']})" if reply else "no dockergen server running")
    return 0


def status() -> int:
    """Exit 0 when a server of this installation answers, 1 when none does."""
    path = socket_path()
    reply = _ask(path, "status")
    if reply is None:
        click.echo(f"no dockergen server running (socket {path})")
        return 1
    facts = reply["status"]
    memory = f", {facts['rss_kb'] / 1024:.0f} MB resident" if facts.get("rss_kb") else ""
    how = "started by a command that found none" if facts.get("auto") else "started by `dockergen server start`"
    click.echo(f"dockergen server running (pid {facts['pid']}, socket {path}, {how}): up {facts['uptime']} s, "
               f"{facts['served']} commands served ({facts['cpu']:.3f} s CPU){memory}, exits after {_minutes(facts['idle'] / 60)} idle")  # fmt: skip
    if not facts["current"]:
        click.echo("  it runs other dockergen code than this one: the next command stops it and runs without it")
    return 0


def _ask(path: str, op: str) -> dict | None:
    """The server's reply to ``op``, or None when none of the user's own answers."""
    from dockergen.warm.client import connect, request
    from dockergen.warm.wire import WireError, receive, send

    try:
        sock = connect()
    except OSError:
        return None
    try:
        send(sock, request(op))
        reply, _ = receive(sock)
    except (OSError, WireError):
        return None
    finally:
        sock.close()
    return reply if isinstance(reply, dict) else None


def _supported() -> None:
    import _socket

    if not hasattr(_socket, "SO_PEERCRED") or not hasattr(_socket, "AF_UNIX"):
        raise DockergenError.single("the warm server needs Linux (Unix sockets that name the peer's user: SO_PEERCRED)", hint="dockergen runs without it as before")


def _own_folder(folder: str) -> None:
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        why = untrusted_folder(os.lstat(folder), os.getuid())
    except OSError as exc:
        why = exc.strerror or str(exc)
    if why is not None:
        raise DockergenError.single(f"cannot hold the server's socket: {why}", location=Location(folder), hint=FIX_FOLDER)


def _clear_dead_socket(path: str) -> None:
    """A socket nobody answers on is a server that died; anything else there is refused."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    why = untrusted_socket(info, os.getuid())
    if why is not None:
        raise DockergenError.single(f"cannot be the server's socket: {why}", location=Location(path), hint="remove it")
    os.unlink(path)


def _minutes(minutes: float) -> str:
    return f"{minutes:g} min"
