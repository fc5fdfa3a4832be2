"""The plain records an import produces and a report prints."""

from __future__ import annotations

from dataclasses import dataclass

KEPT = "kept"  # a difference between variants/environments that became spec data
UNIFIED = "unified"  # accidental drift the spec resolves: one value, chosen for a stated reason
CARRIED = "carried verbatim"  # what no preset expresses, carried by the escape hatch unchanged
BAKED = "baked-in"  # an improvement dockergen adds on purpose (e.g. log rotation)
UNEXPLAINED = "unexplained"
CLASSES = (KEPT, UNIFIED, CARRIED, BAKED)


@dataclass(frozen=True)
class Decision:
    cls: str
    what: str
    detail: str
    service: str | None = None
    envs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """Drift between variants or environments that looks accidental."""

    code: str  # stable identifier of the detector
    title: str
    detail: str
    action: str  # what the import did about it ("kept as is: review", "unified: ...")
    service: str | None = None


@dataclass(frozen=True)
class FileProblem:
    """A file the import did not understand (reported; the import carried on)."""

    path: str
    what: str
