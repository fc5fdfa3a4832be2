from __future__ import annotations

from pathlib import Path

import click

from dockergen.pipeline import render as render_spec
from dockergen.write import write_files


def render(spec: Path, *, envs: list[str] | None, out: Path | None, quiet: bool = False) -> int:
    """Render every generated file next to the spec (or under ``out``)."""
    rendered = render_spec(spec, envs or None)
    result = write_files(out if out is not None else spec.parent, rendered.files)
    if not quiet:
        for path in result.written:
            click.echo(f"wrote     {path}")
        click.echo(f"{len(result.written)} written, {len(result.unchanged)} unchanged ({len(rendered.files)} files)")
    return 0
