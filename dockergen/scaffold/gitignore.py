"""``init`` keeps the user's secrets file out of git: ``.env`` (what ``cp .env.example .env``
makes, and Compose reads) is added to the project's ``.gitignore``, created if need be.

The user's bytes are kept as they are and only appended to; a ``.gitignore`` that already
ignores ``.env`` (``.env``, ``/.env``, ``.env*`` ...) is left alone, so a second ``init`` changes
nothing. A ``.gitignore`` that is a link or no regular file is not touched."""

from __future__ import annotations

from pathlib import Path

from dockergen.ignore_match import ignored

NAME = ".gitignore"
SECRETS = ".env"


def with_secrets_ignored(folder: Path) -> bytes | None:
    """The new bytes of ``folder/.gitignore``, or None when it needs no change (or must not be changed)."""
    path = folder / NAME
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return None
    before = path.read_bytes() if path.exists() else b""
    lines = before.decode("utf-8", "surrogateescape").splitlines()
    # A pattern that ends in `/` matches folders only (git's rule): never the `.env` file.
    patterns = [line for line in lines if line.strip() and not line.startswith("#") and not line.rstrip().endswith("/")]
    if ignored(SECRETS, patterns):
        return None
    newline = b"\r\n" if b"\r\n" in before else b"\n"
    separator = newline if before and not before.endswith((b"\n", b"\r")) else b""
    entry = b"# the secrets Compose reads (made from .env.example): never commit them" + newline + SECRETS.encode() + newline
    return before + separator + entry
