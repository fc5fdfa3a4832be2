"""Compose values in Kubernetes' units and syntax: names, durations, quantities, images,
and environment values whose `${VAR}`s Kubernetes cannot interpolate."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from dockergen import durations
from dockergen.render.support import INTERPOLATION

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_MEMORY = re.compile(r"(\d+(?:\.\d+)?)([bkmg]?)b?", re.IGNORECASE)
_BYTES = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_DNS_LABEL = re.compile(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?")


def seconds(duration: str) -> int:
    """A Compose duration in whole seconds, rounded up, at least 1 (probes count in seconds)."""
    total = sum(float(n) * _SECONDS[unit] for n, unit in _DURATION_PART.findall(durations.literal(duration)))
    return max(1, math.ceil(total - 1e-9))


def memory(size: str) -> str:
    """Docker's binary units (`512M` = 512 MiB) as a Kubernetes quantity (`512Mi`)."""
    match = _MEMORY.fullmatch(size)
    assert match is not None, size  # the spec model's pattern admits nothing else
    count = math.ceil(float(match.group(1)) * _BYTES[match.group(2).lower()])
    for suffix, factor in (("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
        if count % factor == 0 and count >= factor:
            return f"{count // factor}{suffix}"
    return str(count)


def cpu(cpus: float) -> str:
    """Compose's `cpus: 0.5` as `500m` (whole CPUs stay plain: `1`)."""
    milli = max(1, round(cpus * 1000))
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def k8s_name(name: str) -> str:
    """A spec name (``[a-z][a-z0-9_-]*``) as a DNS-1123 label: `_` becomes `-`."""
    return name.replace("_", "-").rstrip("-")


def is_dns_label(name: str) -> bool:
    return _DNS_LABEL.fullmatch(name) is not None


@dataclass(frozen=True)
class Ref:
    """A `${VAR}` in a Compose value."""

    name: str
    default: str | None  # `${VAR:-d}` / `${VAR-d}`: `d` as written (it may hold `${...}` and `$$`)
    operator: str | None  # `:-`, `-`, `:?`, `?`, `:+`, `+`
    alternative: str | None = None  # `${VAR:+a}` / `${VAR+a}`: `a` as written


Part = str | Ref


def parse(value: str) -> list[Part]:
    """A Compose value as literal text and `${VAR}` references (`$$` is a literal `$`)."""
    parts: list[Part] = []
    last = 0
    for match in INTERPOLATION.finditer(value):
        if match.start() > last:
            parts.append(value[last : match.start()])
        if match.group(0) == "$$":
            parts.append("$")
        else:
            name = match.group(1) or match.group(4)
            operator, operand = match.group(2), match.group(3)
            parts.append(Ref(name, operand if operator in (":-", "-") else None, operator, operand if operator in (":+", "+") else None))
        last = match.end()
    if last < len(value):
        parts.append(value[last:])
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return merged


def without_interpolation(value: str, lookup: Callable[[str], str | None]) -> str | None:
    """``value`` with every `${VAR}` replaced as ``substituted`` reads it; None when one
    has no value."""
    out = []
    for part in parse(value):
        if isinstance(part, str):
            out.append(part)
            continue
        text = substituted(part, lookup)
        if text is None:
            return None
        out.append(text)
    return "".join(out)


def substituted(ref: Ref, lookup: Callable[[str], str | None]) -> str | None:
    """What ``ref`` reads when each variable's value is ``lookup(name)`` (None: it has none):
    an inline default first, interpolated as Compose interpolates it (`${A:-${B}}`, `$$`);
    a `:+` alternative only when the variable has a value (`+`: even an empty one)."""
    if ref.default is not None:
        return without_interpolation(ref.default, lookup)
    value = lookup(ref.name)
    if ref.alternative is not None:
        chosen = value is not None and (value != "" or ref.operator == "+")
        return without_interpolation(ref.alternative, lookup) if chosen else ""
    return value


def expansion_literal(text: str) -> str:
    """Literal text inside an `env[].value` that Kubernetes expands: `$` is written `$$`."""
    return text.replace("$", "$$")


@dataclass(frozen=True)
class Image:
    name: str  # registry/repository, no tag
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def split_image(image: str) -> Image:
    """``registry:5000/team/app:1.2@sha256:...`` -> name, tag, digest."""
    rest, _, digest = image.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        return Image(rest[:colon], rest[colon + 1 :], digest or None)
    return Image(rest, None, digest or None)
