"""A YAML value as Compose turns it into text where a string is due (``environment``,
``labels``, build ``args``): Compose is written in Go and prints the value it read, so an
unquoted date or float reaches the container in Go's spelling, not YAML's."""

from __future__ import annotations

import datetime
import math
import re
from decimal import Decimal
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.events import ScalarEvent


def go_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return _time(value)
    if isinstance(value, datetime.date):
        return _time(datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc))
    if isinstance(value, float) and math.isfinite(value):
        return _float(value)
    return str(value)


def _time(value: datetime.datetime) -> str:
    """Go's ``time.Time.String``: ``2006-01-02 15:04:05.999999999 -0700 MST``, a zone without
    a name (a YAML offset) named by its offset, no zone UTC."""
    offset = value.utcoffset() if value.tzinfo is not None else None
    stamp = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        stamp += f".{value.microsecond:06d}".rstrip("0")
    if not offset:
        return f"{stamp} +0000 UTC"
    minutes = int(offset.total_seconds()) // 60
    zone = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return f"{stamp} {zone} {zone}"


def _float(value: float) -> str:
    """Go's ``%v`` of a float64: the shortest digits that read back the same, with an
    exponent (``e+06``, ``e-05``) where it is below -4 or at least 6."""
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    point = len(text) + int(exponent)  # digits before the decimal point
    power = point - 1
    out = "-" if sign else ""
    if power < -4 or power >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{out}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{out}0.{'0' * -point}{text}"
    if point >= len(text):
        return out + text + "0" * (point - len(text))
    return f"{out}{text[:point]}.{text[point:]}"


# How Go's yaml.v3 reads a plain scalar (YAML 1.2's core schema): a float, a time, or -0 (a
# float) is printed in Go's spelling, which the JSON of `config --no-interpolate` does not show;
# an integer prints the same either way (0755, 0x1F and 1_000 are 493, 31 and 1000 in both).
GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
GO_TIME = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ]|$)")
SAME_INTEGER = re.compile(r"\+?[0-9]{1,18}")  # within int64 whatever the digits


def spelled_by_go(plain: str) -> bool:
    """Whether Compose prints the plain (unquoted) YAML scalar ``plain`` otherwise than the
    JSON of its ``--no-interpolate`` config gives it: erring on yes (``-1``, ``1.``)."""
    text = plain.replace("_", "")
    if GO_FLOAT.fullmatch(text):
        return not SAME_INTEGER.fullmatch(text)
    return bool(GO_TIME.match(text)) or text.lstrip("+-").lower() in (".inf", ".nan")


def holds_go_spelling(text: str) -> bool:
    """Whether the YAML document ``text`` has a plain scalar ``spelled_by_go`` anywhere (an
    anchor, an ``x-`` block or a key may bring it into a text field); yes where it does not parse."""
    try:
        return any(isinstance(e, ScalarEvent) and not e.style and spelled_by_go(e.value) for e in YAML(typ="safe").parse(text))
    except Exception:  # noqa: BLE001 - an unreadable document: the caller asks Compose, as without this check
        return True
