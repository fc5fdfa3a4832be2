from __future__ import annotations

from pathlib import Path

import click

from dockergen.containment import refuse_write_targets
from dockergen.pipeline import Rendered, relative_problems
from dockergen.pipeline import render as render_spec
from dockergen.summary import RenderFacts, next_environment, summary
from dockergen.write import Refused, apply, plan_changes


def render(spec: Path, *, envs: list[str] | None, out: Path | None, force: bool = False, quiet: bool = False, cache: bool = False) -> int:
    """Render every generated file next to the spec (or under ``out``); ``cache``: keep the
    render in the user's render cache and reuse the Dockerfiles of the last render (the
    console script's runs only)."""
    refuse_write_targets(("--out", out))
    rendered = render_spec(spec, envs or None, cache=cache)
    if cache:
        keep(spec, rendered)
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
        for note in rendered.notes:  # what the Kubernetes output left out
            click.echo(note.render())
        click.echo(summary(spec, out_dir, facts(rendered), changes))
    return 0


def keep(spec: Path, rendered: Rendered) -> None:
    """Store a finished render in the render cache."""
    from dockergen import render_cache

    render_cache.store(spec, rendered.loaded.raw, rendered.files, facts(rendered), relative_problems(rendered.notes, spec))


def facts(rendered: Rendered) -> RenderFacts:
    """What the summary says about the project, from the render."""
    declared = {name for name, v in (rendered.spec.variables or {}).items() if v.required}
    used = {name for name, use in rendered.variables.items() if use.required}
    environments = tuple(rendered.project.environments)
    dotenv = rendered.project.environments[next_environment(environments)].info.env_file or ".env"
    return RenderFacts(len(rendered.spec.services), environments, rendered.spec.output.env_example, tuple(sorted(declared | used)), dotenv)
