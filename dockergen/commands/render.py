from __future__ import annotations

from pathlib import Path

import click

from dockergen.pipeline import render as render_spec
from dockergen.write import Refused, apply, plan_changes


def render(spec: Path, *, envs: list[str] | None, out: Path | None, force: bool = False, quiet: bool = False) -> int:
    """Render every generated file next to the spec (or under ``out``)."""
    rendered = render_spec(spec, envs or None)
    for warning in rendered.project.warnings:
        click.echo(warning.render(), err=True)
    out_dir = out if out is not None else spec.parent
    skipped = {f.path for f in rendered.files if f.env is not None and envs and f.env not in envs}
    changes = [c for c in plan_changes(out_dir, rendered.files) if c.path not in skipped]
    try:
        apply(out_dir, changes, force=force)
    except Refused as exc:
        from dockergen.drift import unified_diff

        for problem in exc.problems:
            click.echo(problem.render(), err=True)
        for change in changes:
            if change.blocked and change.changes:
                click.echo(unified_diff(change), err=True, nl=False)
        return 1
    if not quiet:
        verbs = {"create": "created", "update": "updated", "delete": "deleted"}
        for change in changes:
            if change.changes:
                click.echo(f"{verbs[change.action]:<9} {change.path}")
        for note in rendered.notes:
            click.echo(note.render())
        changed = sum(c.changes for c in changes)
        click.echo(f"{changed} changed, {len(changes) - changed} unchanged")
    return 0
