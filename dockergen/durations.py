"""Durations as the spec writes them (``30s``, ``1m30s``, ``500ms``), in seconds."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")


# `${HC_INTERVAL:-10s}`: a healthcheck timing the project sets per run, with its default.
_INTERPOLATED = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}")


def literal(duration: str) -> str:
    """The duration that runs where nothing interpolates (an image's ``HEALTHCHECK``, Kubernetes,
    the generated probe's own timeout): an interpolated one's default (``${HC_INTERVAL:-10s}``
    -> ``10s``, what Compose runs without the variable), a literal one as it is."""
    match = _INTERPOLATED.fullmatch(duration)
    return match.group(1) if match else duration


def seconds(duration: str) -> float:
    """``1m30s`` -> 90.0 (an interpolated one: its default's); the model's pattern has already checked the syntax."""
    duration = literal(duration)
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(duration))


# Kubernetes takes a probe's timings as whole seconds in an int32, Compose and Docker a
# duration in int64 nanoseconds (292 years): the smaller bound, so that each reads it.
LONGEST_SECONDS = 2**31 - 1


def too_long(duration: str) -> str | None:
    """Why no engine can run ``duration`` (longer than ``LONGEST_SECONDS``), or None."""
    if seconds(duration) > LONGEST_SECONDS:
        shown = literal(duration) if len(literal(duration)) <= 40 else literal(duration)[:30] + "..."
        return f"{shown!r} is longer than Compose or Kubernetes take: give at most {LONGEST_SECONDS // 3600}h (68 years)"
    return None
