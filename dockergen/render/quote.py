"""Quoting of spec values for the Dockerfile context: the only place it is done.

Every value from the spec reaches a Dockerfile through one of these functions (they are
the Jinja filters the templates use), so no value can end a line, start an
instruction, or be expanded by the builder.
"""

from __future__ import annotations

import json
import re

SAFE_WORD = re.compile(r"^[A-Za-z0-9._+/@:=~%,-]+$")


class UnsafeValue(ValueError):
    """A spec value that cannot be written into a Dockerfile safely."""


def exec_form(argv: list[str] | tuple[str, ...]) -> str:
    """A JSON array for exec-form CMD/ENTRYPOINT/HEALTHCHECK: escapes keep it on one line."""
    return json.dumps(list(argv), ensure_ascii=True)


def double_quoted(value: object) -> str:
    """A double-quoted ENV/LABEL value that Docker reads back literally (no ``$`` expansion)."""
    text = str(value)
    if "\n" in text or "\r" in text:
        raise UnsafeValue(f"line breaks are not allowed in Dockerfile values: {text!r}")
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def word(value: object) -> str:
    """A bare word (package name, path, key): only characters with no meaning to the builder."""
    text = str(value)
    if not SAFE_WORD.match(text):
        raise UnsafeValue(f"not allowed here (letters, digits and ._+/@:=~%,- only): {text!r}")
    if text.startswith("-"):
        raise UnsafeValue(f"may not start with `-` (a command would read it as an option): {text!r}")
    return text


def command(argv: list[str] | tuple[str, ...]) -> str:
    """A shell-form command line of dockergen's own making: bare words, and unlike ``word``
    options are meant (``--frozen-lockfile``)."""
    unsafe = [arg for arg in argv if not SAFE_WORD.match(arg)]
    if unsafe or not argv:
        raise UnsafeValue(f"not a command of bare words: {list(argv)!r}")
    return " ".join(argv)


def key(value: object) -> str:
    text = str(value)
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_.-]*$", text):
        raise UnsafeValue(f"not a valid ENV/LABEL key: {text!r}")
    return text
