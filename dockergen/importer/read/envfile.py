"""Env files (``.env``, ``.env.example`` ...): their variables, read the way Compose reads them."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from dockergen.containment import outside_reason
from dockergen.importer.discover import Inventory
from dockergen.importer.read.interpolate import interpolate
from dockergen.safe_read import read_text
from dockergen.sensitive import looks_secret

ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def documented_variables(root: Path, inventory: Inventory) -> dict[str, dict[str, Any]]:
    """Documented variables from ``.env.example`` (or ``.env.sample``/``.env.template``)."""
    candidates = [p for p in inventory.env_files if posixpath.basename(p) in (".env.example", ".env.sample", ".env.template", ".env.dist")]
    out: dict[str, dict[str, Any]] = {}
    for rel in candidates[:1]:
        try:
            text = read_text(root / rel)
        except (OSError, UnicodeDecodeError):
            continue
        # lines as Compose reads them: ended by \n (or \r\n), a U+2028 or a lone \r inside one
        lines, values = text.replace("\r\n", "\n").split("\n"), parse_dotenv(text, expand=False)
        comment: list[str] = []
        for line in lines:
            stripped = line.strip()
            if stripped.startswith("#"):
                note = stripped.lstrip("#").strip()
                if note and not re.match(r"^[-=]+", note):
                    comment.append(note)
                continue
            match = ENV_LINE.match(line)
            if not match:
                comment = []
                continue
            name = match.group(1)
            value = values.get(name, "")
            entry: dict[str, Any] = {}
            if comment:
                entry["description"] = " ".join(comment)
            if value and not looks_secret(name):
                entry["default"] = value
            if looks_secret(name):
                entry["secret"] = True
            out[name] = entry or {}
            comment = []
    return out


def read_env_file(root: Path, rel: str) -> dict[str, str]:
    """The variables the env file at ``rel`` (from ``root``) sets, as Compose reads them: nothing
    when it is unreadable or outside the project (a symbolic link out of it is not read)."""
    if outside_reason(root, rel):
        return {}
    try:
        return parse_dotenv(read_text(root / rel))
    except (OSError, UnicodeDecodeError):
        return {}


def project_dotenv(root: Path, files: tuple[str, ...]) -> dict[str, str]:
    """The ``.env`` Compose interpolates a ``-f`` chain with: its project directory's (the first file's folder)."""
    return read_env_file(root, posixpath.join(posixpath.dirname(files[0]) if files else "", ".env"))


# Compose reads a .env with compose-go's dotenv parser; these are its rules, checked against
# the real CLI by tests/test_import_dotenv.py.
_SPACE = " \t\v\f\r\x85\xa0"  # blanks that do not end a line
_EXPORT = re.compile(r"export[ \t]+")
_KEY_CHAR = re.compile(r"[\w.\-\[\]]")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
# Go's escapes, `\$` kept from interpolation; any other backslash stays as written.
_ESCAPED = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\\": "\\", '"': '"', "$": "$$"}


def parse_dotenv(text: str, expand: bool = True) -> dict[str, str]:
    """The variables a ``.env`` sets, as Compose reads it: ``export`` and ``KEY: value`` forms,
    ``#`` comment lines and `` #`` comments after unquoted values, single quotes literal (but
    for ``\\'``), double quotes spanning lines with Go's escapes, ``${OTHER}`` of earlier lines
    expanded (``expand=False``: each value in Compose's interpolation syntax instead, as a
    spec's defaults are written). A line Compose would refuse ends the reading (Compose reads
    nothing then)."""
    values: dict[str, str] = {}
    pos = 0
    while (pos := _statement_start(text, pos)) < len(text):
        if match := _EXPORT.match(text, pos):
            pos = match.end()
        start = pos
        while pos < len(text) and text[pos] not in "=:\n":
            if not (_KEY_CHAR.match(text[pos]) or text[pos] in _SPACE):
                return values
            pos += 1
        key = text[start:pos].rstrip(_SPACE)
        if any(c in _SPACE for c in key):
            return values
        if pos == len(text) or text[pos] == "\n":
            continue  # `KEY` alone: the value of the caller's environment, none here
        pos += 1
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        quote = text[pos] if pos < len(text) and text[pos] in "'\"" else None
        if quote is None:
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            syntax = text[pos:end].split(" #", 1)[0].rstrip()
            pos = end
        else:
            end = _closing_quote(text, pos + 1, quote)
            if end is None:
                return values
            raw, pos = text[pos + 1 : end], end + 1
            syntax = raw.replace("\\'", "'").replace("$", "$$") if quote == "'" else _ESCAPE.sub(lambda m: _ESCAPED.get(m.group(1), m.group(0)), raw)
        if key:  # an empty one (`='x'`, or what follows a closing quote) Compose reads and drops
            values[key] = interpolate(syntax, values) if expand else syntax
    return values


def _statement_start(text: str, pos: int) -> int:
    """Where the next assignment starts: past blank lines and ``#`` comment lines."""
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text) and text[pos] == "#":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
            continue
        return pos


def _closing_quote(text: str, pos: int, quote: str) -> int | None:
    escaped = False
    for i in range(pos, len(text)):
        if escaped:
            escaped = False
        elif text[i] == "\\":
            escaped = True
        elif text[i] == quote:
            return i
    return None
