"""Durations as the spec writes them (``30s``, ``1m30s``, ``500ms``), in seconds."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")


# `${HC_INTERVAL:-10s}`: a healthcheck timing the project sets per run, with its default.
_INTERPOLATED = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}")


# `$HC_INTERVAL`: a timing only Compose can fill in (it refuses the file without the variable).
_BARE = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})")
# What Docker runs for a healthcheck timing nobody sets: where nothing interpolates, a bare
# variable has no value, so the image's HEALTHCHECK and Kubernetes take these.
DOCKER_DEFAULTS = {"interval": "30s", "timeout": "30s", "start_period": "0s", "start_interval": "5s"}
DOCKER_RETRIES = 3


def literal(duration: str, default: str = DOCKER_DEFAULTS["interval"]) -> str:
    """The duration that runs where nothing interpolates (an image's ``HEALTHCHECK``, Kubernetes,
    the generated probe's own timeout): an interpolated one's default (``${HC_INTERVAL:-10s}``
    -> ``10s``, what Compose runs without the variable), ``default`` for a bare variable
    (``$HC_INTERVAL``), a literal one as it is."""
    match = _INTERPOLATED.fullmatch(duration)
    if match:
        return match.group(1)
    return default if _BARE.fullmatch(duration) else duration


def count(retries: int | str) -> int:
    """Healthcheck ``retries`` where nothing interpolates: ``${HC_RETRIES:-5}`` -> 5, a bare
    variable -> Docker's 3."""
    if isinstance(retries, int):
        return retries
    match = _INTERPOLATED.fullmatch(retries)
    return int(match.group(1)) if match else DOCKER_RETRIES


def seconds(duration: str, default: str = DOCKER_DEFAULTS["interval"]) -> float:
    """``1m30s`` -> 90.0 (an interpolated one: its default's, a bare variable: ``default``);
    the model's pattern has already checked the syntax."""
    duration = literal(duration, default)
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
