from __future__ import annotations

from pathlib import Path

import click

from dockergen.pipeline import render


def validate(spec: Path, cache: bool = False) -> int:
    """Load, validate, resolve and render in memory; write nothing (``cache``: but keep the
    render in the user's render cache, and reuse the Dockerfiles of the last render)."""
    rendered = render(spec, cache=cache)
    if cache:
        from dockergen.commands.render import keep

        keep(spec, rendered)
    for warning in rendered.project.warnings:
        click.echo(warning.render(), err=True)
    envs = ", ".join(rendered.project.environments)
    click.echo(f"{spec}: valid ({len(rendered.spec.services)} services; environments: {envs})")
    return 0
