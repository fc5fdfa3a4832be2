"""Character rules shared by every output format, judged as the consumers of the generated
files judge them (BuildKit, YAML 1.1 and 1.2 readers, git, Compose's dotenv reader, a
reviewer's terminal or editor), not as Python's ``str`` methods do: ``"３".isdigit()`` is
true, but Compose reads no port in it; ``"\\u2028"`` is no line break to BuildKit, but ends
a YAML comment.

Kept free of imports beyond ``re``: ``fingerprint`` uses it on ``dockergen check``'s fast path.
"""

from __future__ import annotations

import re

# Every character that ends a line for some reader: \n and \r for all of them; \v \f
# \x1c-\x1e for Python's splitlines; NEL, LINE and PARAGRAPH SEPARATOR for YAML 1.1 and
# go-yaml (Compose), which end a comment there.
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
# Invisible characters that make a text display as something else than it is: bidi
# embeddings, overrides and isolates ("Trojan Source"), and the byte order mark.
_DECEPTIVE = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_ASCII_NUMBER = re.compile(r"[0-9]+")
# A container variable's name as Compose's dotenv reader and `environment: [NAME]` take it
# (`spring.datasource.url` too), though `${...}` interpolates only [A-Za-z_][A-Za-z0-9_]*.
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]*$"


def forbidden_character(text: str, allowed: str = "") -> str | None:
    """What the first character of ``text`` that no generated file may carry verbatim is
    (a line break, a control character, an invisible bidi or BOM character, a lone
    surrogate), or None; characters in ``allowed`` (e.g. ``"\\t"``) are fine."""
    if text.isascii() and text.isprintable():  # U+0020-U+007E only, none of them forbidden: most texts, at C speed
        return None
    for char in text:
        if char in allowed or char == " ":
            continue
        code = ord(char)
        if char in LINE_BREAKS:
            return f"a line break (U+{code:04X})"
        if code < 0x20 or 0x7F <= code < 0xA0:
            return f"a control character (U+{code:04X})"
        if char in _DECEPTIVE:
            return f"an invisible formatting character (U+{code:04X})"
        if 0xD800 <= code < 0xE000:
            return f"a lone surrogate (U+{code:04X}, not UTF-8)"
    return None


def visible(text: str, allowed: str = "\t") -> str:
    """``text`` with every character ``forbidden_character`` names shown as ``\\uXXXX``:
    one line, and nothing a terminal or editor would act on or hide."""
    if text.isascii() and text.isprintable():  # nothing to show otherwise (``forbidden_character``)
        return text
    return "".join(char if char in allowed or forbidden_character(char) is None else f"\\u{ord(char):04x}" for char in text)


def is_number(text: str) -> bool:
    """ASCII digits only: what Compose, Docker and the kernel read as a number."""
    return _ASCII_NUMBER.fullmatch(text) is not None
