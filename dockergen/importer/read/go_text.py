"""A YAML value as Compose turns it into text where a string is due (``environment``,
``labels``, build ``args``): Compose is written in Go and prints the value it read, so an
unquoted date or float reaches the container in Go's spelling, not YAML's."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from typing import Any


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
