"""HCL for Buildx Bake files: the only place values are quoted for HCL.

A spec value becomes an HCL quoted template in which nothing is interpolated but the
Compose variables it carries (``${TAG:-prod}`` becomes the Bake variable ``TAG`` with that
fallback), so a value can neither end its string nor run an HCL expression.
"""

from __future__ import annotations

import re

from dockergen.render.support import INTERPOLATION

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# Names HCL reads as literals wherever an expression stands: `${null}` is null, never the
# Bake variable `null` (no other syntax reaches a variable), so a Compose variable by
# one of these names cannot be carried into a Bake file (semantics refuses it).
LITERAL_NAMES = frozenset({"true", "false", "null"})
# Also quoted as keys: `{for = ...}` opens a for expression, and `in`/`if` are its keywords.
_KEYWORDS = LITERAL_NAMES | {"for", "in", "if"}


def literal(text: str) -> str:
    """``text`` as an HCL string that means exactly ``text`` (no interpolation, no directive)."""
    # A `$` or `%` before `{` is written as its escape, which never opens a template sequence
    # (the `$${` form is not read by every HCL parser).
    return '"' + _UNSAFE.sub(_escape, text).replace("${", "\\u0024{").replace("%{", "\\u0025{") + '"'


# HCL's escapes are \n \r \t \" \\ \uNNNN and \UNNNNNNNN only (JSON's \b, \f and its surrogate
# pairs for characters past U+FFFF are errors: HCL cannot encode half a character).
_UNSAFE = re.compile(r'[^ -~]|["\\]')
_SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match[0]
    code = ord(char)
    return _SHORT.get(char) or (f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")


def template(text: str) -> tuple[str, list[str]]:
    """A Compose-interpolated string (``${VAR}``, ``${VAR:-default}``, ``$$``) as an HCL
    template reading Bake variables, and the variables it reads (for ``variable`` blocks).
    ``:?`` and ``?`` (required) read the variable as it is; a Bake variable is never unset
    (its default is ``""``), so ``-`` and ``+`` read an empty one as unset."""
    parts: list[str] = []
    names: list[str] = []
    position = 0
    for match in INTERPOLATION.finditer(text):
        parts.append(_literal_body(text[position : match.start()]))
        position = match.end()
        whole = match.group(0)
        if whole == "$$":  # a literal `$`: escaped where a `{` follows, or an interpolation (`$${` is HCL's literal `${`)
            parts.append("\\u0024" if text[position : position + 1] in ("{", "$") else "$")
            continue
        name = match.group(1) or match.group(4)
        names.append(name)
        op, default = match.group(2), match.group(3)
        if op in (":-", "-") and default:
            fallback = template(default)
            names += fallback[1]
            parts.append("${" + name + ' != "" ? ' + name + " : " + fallback[0] + "}")
        elif op in (":+", "+"):  # the alternative when the variable is set, else nothing
            alternative = template(default or "")
            names += alternative[1]
            parts.append("${" + name + ' != "" ? ' + alternative[0] + ' : ""}')
        else:
            parts.append("${" + name + "}")
    parts.append(_literal_body(text[position:]))
    return '"' + "".join(parts) + '"', list(dict.fromkeys(names))


def _literal_body(text: str) -> str:
    return literal(text)[1:-1]


def key(name: str) -> str:
    """An attribute or block label: a bare identifier when it is one, else a quoted string."""
    return name if IDENTIFIER.fullmatch(name) and name not in _KEYWORDS else literal(name)
