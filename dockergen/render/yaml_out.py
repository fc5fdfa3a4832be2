"""Deterministic YAML output for generated Compose files.

Compose documents are plain data (mappings, sequences, strings, numbers, booleans,
null), so a small emitter writes them directly in ruamel.yaml's block style
(mapping indent 2, sequence indent 4 with offset 2). It is ~30x faster than ruamel's
pure-Python emitter, which dominated rendering a large spec; tests load every emitted
file back with ruamel and require the same data, and render the examples with both.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ruamel.yaml.resolver import VersionedResolver

# Older readers (podman-compose, PyYAML) speak YAML 1.1, Compose's go-yaml 1.2: a plain
# string must read as a string under both. Their implicit-tag tables (first character ->
# patterns) are what VersionedResolver.resolve consults; looked up once here, since the
# resolver re-derives its version on every call.
_IMPLICIT_TAGS = tuple(VersionedResolver(version=version).versioned_resolver for version in ((1, 1), (1, 2)))
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_ESCAPES = {"\0": "\\0", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r", "\x1b": "\\e", '"': '\\"', "\\": "\\\\"}


@functools.lru_cache(maxsize=65536)
def scalar(value: str) -> str:
    """``value`` plain when every YAML reader (1.1 and 1.2) reads it back as that string,
    double-quoted otherwise (yes/no/on, 1e3, 08:00, ``: ``, leading ``*`` ...)."""
    return value if _plain_ok(value) else _quoted(value)


# Plain inside a flow collection only when made of these, which no YAML reader (1.1, 1.2,
# PyYAML, ruamel and its C reader, go-yaml) takes for flow syntax there; anything else is
# double-quoted. No `:`: ruamel's C reader (pre-commit's check-yaml) refuses `[8000:8000]`.
_FLOW_PLAIN = re.compile(r"[A-Za-z0-9_./~$(][A-Za-z0-9_./+=~%@$#() -]*")


@functools.lru_cache(maxsize=65536)
def flow_scalar(value: str) -> str:
    """``value`` inside a flow collection (``[a, b]``, ``{k: v}``): plain when ``scalar``
    would write it so and it is made of characters with no meaning there, else quoted."""
    plain = _FLOW_PLAIN.fullmatch(value) is not None and not value.endswith(":") and scalar(value) == value
    return value if plain else _quoted(value)


def _quoted(value: str) -> str:
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable() and char not in "\u2028\u2029\ufeff":
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _plain_ok(value: str) -> bool:
    if not value or value != value.strip() or not value.isprintable() or "\u2028" in value or "\ufeff" in value:
        return False
    first = value[0]
    if first in _INDICATORS and not (first in "-?:" and len(value) > 1 and value[1] != " "):
        return False
    if ": " in value or " #" in value or value.endswith(":"):
        return False
    return not any(regexp.match(value) for table in _IMPLICIT_TAGS for _tag, regexp in table.get(first, ()))


def atom(value: Any, flow: bool = False) -> str:
    """A scalar of any type as YAML (``flow``: inside a flow collection)."""
    return flow_scalar(value) if flow and isinstance(value, str) else _atom(value)


def _atom(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, str):
        return scalar(value)
    raise TypeError(f"cannot emit {type(value).__name__}")


def _float(value: float) -> str:
    """A float every reader reads back as that float: YAML spells infinity and NaN
    ``.inf``/``.nan``, and YAML 1.1 needs a dot in ``1.0e+20``."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" in text and "." not in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


# YAML allows an implicit key of at most 1024 characters (PyYAML and ruamel enforce it);
# a longer one is written as an explicit `? key` line with its value on a `:` line.
_LONGEST_IMPLICIT_KEY = 1000


def _mapping(data: dict[str, Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for key, value in data.items():
        written = scalar(str(key))
        if len(written) > _LONGEST_IMPLICIT_KEY:
            out.append(f"{pad}? {written}")
            head = f"{pad}:"
        else:
            head = f"{pad}{written}:"
        if type(value) is str:  # most values: straight to the scalar
            out.append(f"{head} {scalar(value)}")
        elif type(value) is Written:
            out.append(head)
            out.append(value.text)
        elif isinstance(value, dict) and value:
            out.append(head)
            _mapping(value, indent + 2, out)
        elif isinstance(value, list) and value:
            out.append(head)
            _sequence(value, indent + 2, out)
        elif value is None:
            out.append(head)
        else:
            out.append(f"{head} {_container_or_atom(value)}")


class Written:
    """A non-empty mapping already written (``mapping_text`` at the indent it goes to):
    its lines go in as they are."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def mapping_text(data: dict[str, Any], indent: int) -> str:
    """The lines of the non-empty mapping ``data`` at ``indent``, as ``dump_yaml`` writes it there."""
    out: list[str] = []
    _mapping(data, indent, out)
    return "\n".join(out)


def _sequence(items: list[Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, dict) and item:
            nested: list[str] = []
            _mapping(item, indent + 2, nested)
            out.append(f"{pad}- {nested[0].lstrip()}")
            out.extend(nested[1:])
        elif isinstance(item, list) and item:
            nested = []
            _sequence(item, indent + 2, nested)
            out.append(f"{pad}- {nested[0].lstrip()}")
            out.extend(nested[1:])
        else:
            out.append(f"{pad}- {_container_or_atom(item)}")


def _container_or_atom(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _atom(value)


def dump_yaml(data: dict[str, Any], header: str) -> str:
    """``header`` (comment lines, from ``render.comment``) then ``data``."""
    out: list[str] = []
    if data:
        _mapping(data, 0, out)
    else:
        out.append("{}")
    return header + "\n" + "\n".join(out) + "\n"
