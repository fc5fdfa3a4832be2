"""The warm server's messages: a JSON object behind its 4-byte big-endian length, with file
descriptors attached to the first byte (SCM_RIGHTS). One format for both directions.

Works on ``_socket.socket`` (what ``socket.socket`` is built on): the console script
imports only the C module, ``socket.py`` costs a served command ~7 ms of enum setup.
"""

from __future__ import annotations

import array
import json

import _socket

LIMIT = 16 * 1024 * 1024  # an environment of a few MB is possible; anything beyond is not a request
MAX_FDS = 3


class WireError(Exception):
    """The peer left, or sent what is not a message."""


def send(sock: _socket.socket, message: object, fds: tuple[int, ...] = ()) -> None:
    body = json.dumps(message, separators=(",", ":")).encode()
    data = len(body).to_bytes(4, "big") + body
    ancillary = [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sent = sock.sendmsg([data], ancillary)
    while sent < len(data):
        sent += sock.send(data[sent:])


def receive(sock: _socket.socket) -> tuple[object, list[int]]:
    """The next message and the descriptors that came with it (the caller closes them);
    raises ``WireError`` (or ``OSError``, a timeout among them)."""
    fds: list[int] = []
    head, ancillary, _, _ = sock.recvmsg(4, _socket.CMSG_SPACE(MAX_FDS * array.array("i").itemsize))
    for level, kind, data in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            received = array.array("i")
            received.frombytes(data[: len(data) - len(data) % received.itemsize])
            fds += received
    try:
        head += _exactly(sock, 4 - len(head)) if head else b""
        if not head:
            raise WireError("the peer left")
        size = int.from_bytes(head, "big")
        if size > LIMIT:
            raise WireError(f"a message of {size} bytes")
        try:
            return json.loads(_exactly(sock, size)), fds
        except ValueError as exc:
            raise WireError(f"not JSON ({exc})") from None
    except BaseException:
        for fd in fds:
            _close(fd)
        raise


def _exactly(sock: _socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise WireError("the peer left mid-message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _close(fd: int) -> None:
    import os

    try:
        os.close(fd)
    except OSError:
        pass
