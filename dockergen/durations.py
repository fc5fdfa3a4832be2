"""Durations as the spec writes them (``30s``, ``1m30s``, ``500ms``), in seconds."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")


def seconds(duration: str) -> float:
    """``1m30s`` -> 90.0; the model's ``Duration`` pattern has already checked the syntax."""
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(duration))
