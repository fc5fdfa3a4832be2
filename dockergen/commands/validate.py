from __future__ import annotations

from pathlib import Path

import click

from dockergen.pipeline import render
from dockergen.summary import valid_line


def validate(spec: Path, cache: bool = False) -> int:
    """Load, validate, resolve and render in memory; write nothing (``cache``: but keep the
    render in the user's render cache, and reuse the Dockerfiles of the last render)."""
    rendered = render(spec, cache=cache)
    if cache:
        from dockergen.commands.render import keep

        keep(spec, rendered)
    for warning in rendered.project.warnings:
        click.echo(warning.render(), err=True)
    click.echo(valid_line(spec, len(rendered.spec.services), list(rendered.project.environments)))
    return 0
