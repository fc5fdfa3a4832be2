"""Plain YAML scalars read as Compose reads them.

Compose parses its files with Go's YAML library, which is neither YAML 1.1 nor 1.2: it reads
``017`` as octal 15 (1.1's spelling, kept for compatibility) besides ``0o17``, drops ``_``
from numbers, turns an integer beyond 64 bits into a float, and takes only the timestamps
Go's ``time.Parse`` does. ruamel (YAML 1.2) reads ``017`` as 17 and more strings as dates,
so a file read without the Compose CLI would change a container's ``mode: 0440`` or
``VERSION: 017``. ``compose_scalars`` rewrites the composed nodes where the two differ, before
they are built into values; the real CLI is the judge in tests/test_compose_yaml_scalars.py.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dockergen.importer.read.go_text import go_text

_INT, _FLOAT, _STR, _TIMESTAMP = (f"tag:yaml.org,2002:{t}" for t in ("int", "float", "str", "timestamp"))
# Go's strconv.ParseInt with base 0, on the text without `_`: 0x, 0o, 0b and a leading 0 (octal).
_GO_INT = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)")
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
# go-yaml's timestamp layouts (time.Parse: 1- or 2-digit month, day, hour, minute and second;
# a `T` time needs its zone, a space-separated one has none).
_GO_TIME = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[Tt](?P<h>\d{1,2}):(?P<mi>\d{1,2}):(?P<s>\d{1,2})(?P<f>\.\d+)?(?P<z>Z|[-+]\d{2}:\d{2})"
    r"| (?P<h2>\d{1,2}):(?P<mi2>\d{1,2}):(?P<s2>\d{1,2})(?P<f2>\.\d+)?)?"
)
_INT64 = range(-(2**63), 2**64)  # what ParseInt or ParseUint take; beyond it Go reads a float


def go_scalar(text: str) -> tuple[str, Any] | None:
    """(tag, value) of a plain scalar that Go's YAML reads as a number or a timestamp, else None."""
    if not text or text[0] not in "+-.0123456789":
        return None
    if text in ("-0", "-0.0"):
        return _FLOAT, -0.0  # go-yaml's table of words: a negative zero, not the integer
    stamp = _timestamp(text)
    if stamp is not None:
        return _TIMESTAMP, stamp
    if text[0] == ".":
        return (_FLOAT, float(text)) if _GO_FLOAT.fullmatch(text) else None
    plain = text.replace("_", "")
    if _GO_INT.fullmatch(plain):
        number = int(plain, 8) if re.fullmatch(r"[-+]?0[0-7]+", plain) else int(plain, 0)
        if number in _INT64:
            return _INT, number
        return _float(text, number)
    if _GO_FLOAT.fullmatch(plain):
        return _float(text, plain)
    return None


def _float(text: str, number: int | str) -> tuple[str, Any]:
    """Go's ParseFloat: a number beyond float64 is an error there, and go-yaml keeps the text."""
    try:
        value = float(number)
    except OverflowError:
        return _STR, text
    return (_FLOAT, value) if math.isfinite(value) else (_STR, text)


def _timestamp(text: str) -> datetime.datetime | None:
    match = _GO_TIME.fullmatch(text)
    if match is None:
        return None
    g = match.groupdict()
    hour, minute, second, fraction = (g["h"], g["mi"], g["s"], g["f"]) if g["h"] else (g["h2"], g["mi2"], g["s2"], g["f2"])
    zone = g["z"]
    try:
        tz = datetime.timezone.utc
        if zone not in (None, "Z"):
            sign = -1 if zone[0] == "-" else 1
            tz = datetime.timezone(sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        return datetime.datetime(int(g["y"]), int(g["mo"]), int(g["d"]), int(hour or 0), int(minute or 0), int(second or 0),
                                 int(((fraction or ".")[1:] + "000000")[:6]), tzinfo=tz)  # fmt: skip
    except ValueError:
        return None  # a 13th month, a zone past 24h: time.Parse refuses it, and go-yaml keeps the text


def compose_scalars(root: Node) -> None:
    """Rewrite, in place, each plain scalar value ruamel would read otherwise than Go: numbers
    as Go's value (``017`` -> 15), Go timestamps as the text Compose passes on (``2024-05-01
    00:00:00 +0000 UTC``), ruamel-only dates back to their text. Keys are left alone (Compose
    refuses a key that is not a string)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            stack.extend(value for _, value in node.value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, ScalarNode) and not node.style:  # plain: None from ruamel's composer, '' from the C one
            _rewrite(node)


def _rewrite(node: ScalarNode) -> None:
    tag = str(getattr(node.tag, "value", node.tag))
    if tag not in (_INT, _FLOAT, _STR, _TIMESTAMP):
        return  # null, bool (the same in both), Compose's !reset and the like
    go = go_scalar(node.value)
    if go is None:
        if tag == _TIMESTAMP:
            _set(node, _STR, node.value)  # a date to ruamel, text to Go
        return
    kind, value = go
    if kind == _STR:
        _set(node, _STR, value)
    elif kind == _TIMESTAMP:
        _set(node, _STR, go_text(value))
    elif kind == _INT:
        _set(node, _INT, str(value))
    elif tag != _FLOAT or float(node.value.replace("_", "")) != value:
        _set(node, _FLOAT, repr(value))


def _set(node: ScalarNode, tag: str, text: str) -> None:
    node.tag = tag if isinstance(node.tag, str) else type(node.tag)(suffix=tag)
    node.value = text
