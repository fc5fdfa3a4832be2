"""Top-level ``x-`` fields of Compose files: which carry values of their own (``x-kompose``,
``x-project-meta``: read by other tools, carried into the spec's ``extensions``), and which
are YAML anchors written to be merged into services (``x-logging: &logging``), whose values
are in those services already."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dockergen.importer.read.compose import COMPOSE_SERVICE_KEYS
from dockergen.safe_read import read_text

_ANCHORED = re.compile(r"^(x-[^\s:]+):[ \t]*(?:#[^\n]*)?\n?[ \t]*&([^\s\[\]{},]+)", re.MULTILINE)


def carried_extensions(root: Path, files: tuple[str, ...], config: dict[str, Any], services: Any) -> dict[str, Any]:
    """The top-level ``x-`` fields of ``config`` (a chain's merged project) that are no anchor
    merged into ``services``: what the spec must write back."""
    found = {k: v for k, v in config.items() if isinstance(k, str) and k.startswith("x-")}
    if not found:
        return {}
    anchored = anchored_extensions(root, files)
    return {k: v for k, v in sorted(found.items()) if k not in anchored and not merged_into(v, services)}


def anchored_extensions(root: Path, files: tuple[str, ...]) -> set[str]:
    """The ``x-`` keys whose value carries a YAML anchor that the file uses again (``x-volumes:
    &volumes [...]`` and ``volumes: *volumes``): their values are in the services, in
    whatever form Compose normalised them to."""
    out: set[str] = set()
    for rel in files:
        try:
            text = read_text(root / rel).removeprefix("\ufeff")
        except (OSError, UnicodeDecodeError):
            continue
        for match in _ANCHORED.finditer(text):
            if re.search(rf"\*{re.escape(match.group(2))}(?![^\s\[\]{{}},])", text):
                out.add(match.group(1))
    return out


def merged_into(extension: Any, services: Any) -> bool:
    """Whether ``extension`` reads as service settings (``<<: *anchor``), or some value in a
    service is it or has every setting it has (``healthcheck: {<<: *timings, test: ...}``)."""
    if isinstance(extension, dict) and extension and set(extension) <= COMPOSE_SERVICE_KEYS:
        return True
    pending = list(services)
    while pending:
        value = pending.pop()
        if value == extension or (isinstance(extension, dict) and extension and isinstance(value, dict)
                                  and all(_same_scalar(value.get(k), v) for k, v in extension.items())):  # fmt: skip
            return True
        pending.extend(value.values() if isinstance(value, dict) else value if isinstance(value, list) else ())
    return False


def merge_extension(base: Any, over: Any) -> Any:
    """An ``x-`` value of a later ``-f`` file over an earlier one's, as Compose merges them:
    mappings key by key, sequences appended, anything else replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: merge_extension(base[k], v) if k in base else v for k, v in over.items()}}
    if isinstance(base, list) and isinstance(over, list):
        return base + over
    return over


def _same_scalar(typed: Any, raw: Any) -> bool:
    """An extension is not typed by Compose (``retries: $N`` stays ``"10"`` there, ``10`` in a service)."""
    return typed == raw or (isinstance(typed, str | int | float) and isinstance(raw, str | int | float) and str(typed) == str(raw))
