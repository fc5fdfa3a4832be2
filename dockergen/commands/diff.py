"""``dockergen diff``: what differs between two environments, service by service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from dockergen.errors import Location
from dockergen.text import visible
from dockergen.unknown_names import require_known

MISSING = "—"


def diff(spec: Path, env_a: str, env_b: str, *, service: str | None, output_format: str) -> int:
    from dockergen.pipeline import load_and_resolve

    _, parsed, project, documents = load_and_resolve(spec)
    require_known("environment", (env_a, env_b), project.environments, location=Location(str(spec)))
    require_known("service", [service] if service is not None else [], parsed.services, location=Location(str(spec)), listed="services")
    doc_a, doc_b = documents[env_a]["services"], documents[env_b]["services"]
    names = [n for n in dict.fromkeys([*doc_a, *doc_b]) if service is None or n == service]
    rows: list[tuple[str, str, str, str]] = []
    for name in names:
        a, b = _flat(doc_a.get(name)), _flat(doc_b.get(name))
        if name not in doc_a or name not in doc_b:
            rows.append((name, "(service)", "present" if name in doc_a else MISSING, "present" if name in doc_b else MISSING))
            continue
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                rows.append((name, key, a.get(key, MISSING), b.get(key, MISSING)))
    if output_format == "json":
        click.echo(json.dumps([{"service": s, "key": k, env_a: va, env_b: vb} for s, k, va, vb in rows], indent=2))
        return 0
    if not rows:
        click.echo(f"{env_a} and {env_b} are the same" + (f" for {service}" if service else ""))
        return 0
    header = ("service", "key", env_a, env_b)
    from dockergen import terminal

    if terminal.styled():
        terminal.table(header, rows)
        return 0
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    widths[2] = min(widths[2], 48)
    for row in [header, *rows]:
        click.echo("  ".join(visible(str(cell))[:48].ljust(widths[i]) if i < 3 else visible(str(cell)) for i, cell in enumerate(row)))
    return 0


def _flat(doc: Any, prefix: str = "") -> dict[str, str]:
    if doc is None:
        return {}
    out: dict[str, str] = {}
    if isinstance(doc, dict):
        for key, value in doc.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict) and value:
                out.update(_flat(value, path))
            else:
                out[path] = json.dumps(value) if not isinstance(value, str) else value
    return out
