"""The warm server: a process that has imported the CLI, pydantic and the spec models, and
forks a child (``child``) for each command a client (``client``) hands it.

It answers only its own user (SO_PEERCRED), only clients running the very code it loaded
(the render cache's ``code_signature``, taken before its imports: a file changed since
shows as a difference), exits on the first request from other code, on ``stop``, on
SIGTERM and after ``idle`` seconds without a request, and removes its socket as it goes.
"""

from __future__ import annotations

import gc
import os
import resource
import signal
import struct
import sys
import time
from typing import NoReturn

import _socket

from dockergen.warm.wire import WireError, receive, send

REQUEST_SECONDS = 2.0  # a client sends its request at once; one that dawdles is dropped
READY_SECONDS = 120.0  # imports on a loaded machine
MAX_FD = max(os.sysconf("SC_OPEN_MAX"), 1024)  # -1: no limit said; close_range makes a large one cheap
# Every module the served commands load (``python -X importtime``), jinja2 and hashlib among
# them; rich for a terminal. The templates are not: each child reads them as a run does. Nor
# is BuildKit's parser (``dockerfile``, which lint loads): it is Go, whose runtime starts
# threads when loaded, and a forked child keeps only the thread that forked.
IMPORTS = (
    "dockergen.cli", "dockergen.pipeline", "dockergen.spec.model", "dockergen.render.kubernetes", "dockergen.render.dockerfile_template",
    "dockergen.render.sandbox", "dockergen.drift", "dockergen.provenance", "dockergen.lint.engine", "dockergen.lint.hadolint",
    "dockergen.lint.rules", "concurrent.futures.thread", "hashlib", "dockergen.commands.render", "dockergen.commands.validate",
    "dockergen.commands.check", "dockergen.commands.lint", "dockergen.commands.explain", "dockergen.commands.diff", "dockergen.commands.schema",
    "dockergen.spec.schema", "dockergen.reference", "pydantic.type_adapter", "dockergen.terminal", "rich.console", "rich.table",
)  # fmt: skip


class StartFailed(Exception):
    """The server did not come up (the message says why)."""


def spawn(path: str, idle: float, *, auto: bool = False) -> int:
    """Start a server on ``path`` in a new session and return its pid once it listens;
    ``auto``: a command started it (``autostart``), as ``server status`` says."""
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the server; it never returns into the CLI that started it
        code = 1
        try:
            os.close(ready_read)
            os.setsid()
            # Nothing of its starter's but the pipe it reports on: a descriptor the starter
            # inherited (a caller's pipe, make's jobserver, the start lock) would stay open
            # as long as the server lives.
            os.closerange(3, ready_write)
            os.closerange(ready_write + 1, MAX_FD)
            _serve(path, idle, ready_write, auto)
            code = 0
        finally:
            os._exit(code)
    os.close(ready_write)
    import select

    word, deadline = b"", time.monotonic() + READY_SECONDS
    with os.fdopen(ready_read, "rb") as ready:
        while not word.endswith(b"\n") and time.monotonic() < deadline:
            if select.select([ready], [], [], deadline - time.monotonic())[0]:
                chunk = os.read(ready.fileno(), 4096)
                if not chunk:
                    break
                word += chunk
    if word != b"ready\n":
        raise StartFailed(word.decode(errors="replace").strip() or f"it did not answer within {READY_SECONDS:.0f} s")
    return pid


def _serve(path: str, idle: float, ready: int, auto: bool) -> None:
    from dockergen.render_cache import code_signature

    try:
        identity = code_signature()  # before the imports: code changed meanwhile shows as a difference
        from dockergen.launcher import prepare

        prepare()
        for module in IMPORTS:
            __import__(module)
        _warm()
        listener = _listen(path)
    except Exception as exc:  # noqa: BLE001 - said to `server start`, which reports it
        os.write(ready, f"{type(exc).__name__}: {exc}\n".encode())
        raise
    bound = os.stat(path).st_ino
    try:
        os.chdir("/")
        quiet = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(quiet, fd)
        os.close(quiet)
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, _reap)
        gc.collect()
        gc.freeze()  # the imports stay out of every collection, and shared with each child
        os.write(ready, b"ready\n")
        os.close(ready)
        _loop(listener, identity, idle, auto)
    except _Stop:
        pass
    finally:
        listener.close()
        try:
            if os.stat(path).st_ino == bound:  # not a newer server's
                os.unlink(path)
        except OSError:
            pass


def _warm() -> None:
    """Run a command once (``warm_up``) before listening: what a first run pays for, each
    child then inherits. A warm-up that fails leaves the children cold, not wrong."""
    from dockergen.warm.warm_up import warm_up

    try:
        warm_up()
    except Exception:  # noqa: BLE001 - tests/test_warm_server.py runs it and fails on any error
        pass


def _listen(path: str) -> _socket.socket:
    listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    mask = os.umask(0o177)  # the socket itself is 0600 too
    try:
        listener.bind(path)
    finally:
        os.umask(mask)
    listener.listen(16)
    return listener


class _Stop(Exception):
    pass


def _stop(_signum: int, _frame: object) -> NoReturn:
    raise _Stop


def _reap(_signum: int, _frame: object) -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def _loop(listener: _socket.socket, identity: str, idle: float, auto: bool) -> None:
    started = last = time.monotonic()
    served = 0
    while True:
        listener.settimeout(max(0.1, idle - (time.monotonic() - last)))
        try:
            fd, _ = listener._accept()
        except TimeoutError:
            if time.monotonic() - last >= idle:
                return
            continue
        conn = _socket.socket(fileno=fd)
        try:
            if _peer_uid(conn) != os.getuid():
                continue
            conn.settimeout(REQUEST_SECONDS)
            try:
                message, fds = receive(conn)
            except (OSError, WireError):
                continue
            try:
                last = time.monotonic()
                if not isinstance(message, dict):
                    continue
                current = message.get("identity") == identity
                if message.get("op") == "status":
                    _reap(0, None)
                    children = resource.getrusage(resource.RUSAGE_CHILDREN)
                    send(conn, {"status": {"pid": os.getpid(), "current": current, "served": served, "uptime": round(last - started),
                                           "idle": idle, "rss_kb": _rss_kb(), "cpu": children.ru_utime + children.ru_stime, "auto": auto}})  # fmt: skip
                elif message.get("op") == "stop":
                    send(conn, {"stopped": os.getpid()})
                    return
                elif message.get("op") == "run" and not current:
                    send(conn, {"stale": True})
                    return
                elif message.get("op") == "run" and len(fds) == 3:
                    if os.fork() == 0:
                        _child(listener, conn, message, fds)
                    served += 1
            except (OSError, WireError):
                pass
            finally:
                for received in fds:
                    os.close(received)
        finally:
            conn.close()


def _peer_uid(conn: _socket.socket) -> int:
    _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, struct.calcsize("3i")))
    return uid


def _rss_kb() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError):
        return None


def _child(listener: _socket.socket, conn: _socket.socket, request: dict, fds: list[int]) -> NoReturn:
    """The forked child: confirm, wait for the client's go, run, report; never returns."""
    code = 0
    try:
        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        listener.close()
        send(conn, {"run": os.getpid()})
        go, _ = receive(conn)
        if go != {"go": True}:
            return  # the client gave up waiting and runs the command itself
        conn.settimeout(None)
        from dockergen.launcher import full_path
        from dockergen.warm.child import adopt, exit_code

        adopt(request, fds)
        code = exit_code(full_path)
        send(conn, {"exit": code})
    except BaseException:  # noqa: BLE001 - no exit code: the client runs the command itself
        code = 1
    finally:
        os._exit(code)
