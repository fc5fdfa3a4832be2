"""``NAME=value`` lines for ``.env.example``, as Compose's dotenv reader (compose-go) reads
them back: the only place they are written.

Values are in Compose's interpolation syntax, like the defaults they come from: compose-go
expands ``${OTHER}`` and reads ``$$`` as ``$`` inside double quotes too, so only what
would end or break the line is escaped there.
"""

from __future__ import annotations

import re

from dockergen.text import ENV_NAME, forbidden_character

_NAME = re.compile(ENV_NAME)
# Unquoted, compose-go reads these back unchanged (no `#`, quote, `\`, `$`, space).
_BARE = re.compile(r"[A-Za-z0-9_./:@%+,=~-]*")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class Unwritable(ValueError):
    """A value no ``.env`` line can carry (it holds a control character with no escape)."""


def assignment(name: str, value: str) -> str:
    """The line that sets ``name`` to ``value``."""
    if not _NAME.fullmatch(name):
        raise Unwritable(f"not a variable name a .env line can set: {name!r}")
    if _BARE.fullmatch(value):
        return f"{name}={value}"
    bad = forbidden_character(value, allowed="".join(_ESCAPES))
    if bad is not None:
        raise Unwritable(f"the value holds {bad}")
    return f'{name}="' + "".join(_ESCAPES.get(char, char) for char in value) + '"'
