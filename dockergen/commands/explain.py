"""``dockergen explain``: every resolved value of a service, and which layer set it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dockergen.errors import DockergenError, Location
from dockergen.text import visible
from dockergen.unknown_names import require_known, suggestion


def explain(spec: Path, service: str, *, env: str | None, key: str | None, output_format: str) -> int:
    from dockergen.pipeline import load_and_resolve
    from dockergen.provenance import trace

    loaded, parsed, project, _ = load_and_resolve(spec)
    require_known("service", [service], parsed.services, location=Location(str(spec)), listed="services")
    env_name = env or next(iter(project.environments))
    require_known("environment", [env_name], project.environments, location=Location(str(spec)))
    resolved_env = project.environments[env_name]
    info = resolved_env.info
    rows = [t for t in trace(parsed, loaded.source, info, service) if key is None or ".".join(t.path).startswith(key)]
    if key is not None:
        _require_field(key, service)
    resolved = resolved_env.services.get(service)
    derived = []
    if resolved is not None:
        if resolved.image:
            derived.append(("image", resolved.image))
        if resolved.plan is not None:
            derived += [("build.dockerfile", resolved.plan.dockerfile), ("build.target", resolved.target or "(the last stage, unnamed)")]
        if resolved.healthcheck is not None and resolved.healthcheck.test:
            derived.append(("healthcheck.test (rendered)", json.dumps(list(resolved.healthcheck.test))))
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "service": service,
                    "environment": env_name,
                    "enabled": resolved is not None,
                    "values": [
                        {
                            "key": ".".join(t.path),
                            "value": t.value,
                            "layer": t.origin.layer,
                            "location": str(t.origin.location) if t.origin.location else None,
                        }
                        for t in rows
                    ],
                    "derived": dict(derived),
                },
                indent=2,
            )
        )
        return 0
    click.echo(f"{service} in {env_name} (kind {info.kind}, engine {info.engine}, layers along {' -> '.join(info.chain)})")
    if resolved is None:
        click.echo("  not part of this environment (enabled: false)")
    shown_derived = derived if key is None else [d for d in derived if d[0].startswith(key)]
    if not rows and not shown_derived:
        click.echo(f"  {key}: not set in any layer")
    from dockergen import terminal

    if terminal.styled():
        cells = [(".".join(t.path), visible(t.value if isinstance(t.value, str) else json.dumps(t.value)), t.origin.layer,
                  str(t.origin.location or "")) for t in rows]  # fmt: skip
        terminal.table(("key", "value", "layer", "set at"), [*cells, *((n, visible(v), "derived", "") for n, v in shown_derived)])
        return 0
    width = max([len(".".join(t.path)) for t in rows] + [len(k) for k, _ in derived] + [10])
    for t in rows:
        value = visible(json.dumps(t.value) if not isinstance(t.value, str) else t.value)  # a terminal acts on ESC
        where = f"  {t.origin.location}" if t.origin.location else ""
        click.echo(f"  {'.'.join(t.path):<{width}}  {value:<28}  {t.origin.layer}{where}")
    for name, value in shown_derived:
        click.echo(f"  {name:<{width}}  {visible(value):<28}  derived")
    return 0


def _require_field(key: str, service: str) -> None:
    """KEY names a service field (or starts one): a typo would list nothing, as a key set nowhere does."""
    from dockergen.spec.model import Service

    fields = sorted(Service.model_fields)
    head = key.split(".")[0]
    if not any(name.startswith(head) for name in fields):
        raise DockergenError.single(
            f"unknown key {key!r}",
            location=Location("command line"),
            hint=f"{suggestion(head, fields)}KEY is a service field or the start of one: `dockergen explain {service}` lists them all",
        )
