from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from dockergen.fingerprint import GITATTRIBUTES, LOCK_NAME
from dockergen.launcher import nothing_to_change
from dockergen.pipeline import Rendered
from dockergen.pipeline import render as render_spec
from dockergen.write import Change, Refused, apply, plan_changes

VERBS = {"create": "created", "update": "updated", "delete": "deleted"}


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
        for note in rendered.notes:  # what the Kubernetes output left out
            click.echo(note.render())
        click.echo(summary(spec, out_dir, rendered, changes))
    return 0


def summary(spec: Path, out_dir: Path, rendered: Rendered, changes: list[Change]) -> str:
    """What was written and where, then the command to run next."""
    from dockergen import terminal

    generated = [c for c in changes if c.path not in (LOCK_NAME, GITATTRIBUTES) and c.action != "delete"]
    written = [c for c in changes if c.changes]
    if not written:
        return nothing_to_change(len(generated), str(spec))
    lines = [f"{terminal.word(f'{VERBS[c.action]:<9}')} {c.path}" for c in written]
    project = rendered.project
    where = os.path.normpath(out_dir)
    lines.append(
        f"{len(written)} of {len(changes)} files written in {where if where != '.' else 'this directory'} "
        f"({len(rendered.spec.services)} services; environments: {', '.join(project.environments)})"
    )
    if out_dir != spec.parent:
        return "\n".join(lines)  # a tree for review: its build contexts hold no source to run
    spec_arg = "" if spec == Path("dockergen.yaml") else f" --spec {shlex.quote(str(spec))}"
    env = "dev" if "dev" in project.environments else next(iter(project.environments))
    todo = _required_unset(rendered, out_dir)
    if todo:
        example, dotenv = (shlex.quote(str(out_dir / name)) for name in (rendered.spec.output.env_example, ".env"))
        lines.append(f"next: cp {example} {dotenv} and set {', '.join(todo)} in it (see the comments)")
        lines.append(f"      dockergen compose{spec_arg} {env} up")
    else:
        lines.append(f"next: dockergen compose{spec_arg} {env} up")
    lines.append("commit the spec, dockergen.lock and the generated files (`dockergen check` in CI keeps them in step)")
    return "\n".join(lines)


def _required_unset(rendered: Rendered, out_dir: Path) -> list[str]:
    """Required variables a new checkout has no value for (no .env, not in the shell)."""
    from dockergen.render.support import collect_variables

    if (out_dir / ".env").exists():
        return []
    declared = {name for name, v in (rendered.spec.variables or {}).items() if v.required}
    used = {name for name, use in collect_variables(rendered.documents).items() if use.required}
    return sorted((declared | used) - set(os.environ))
