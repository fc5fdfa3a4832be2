"""``dockergen absorb``: keep a hand edit of a generated file by moving it into the spec."""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from dockergen.errors import DockergenError, Location


def absorb(spec: Path, files: list[str], *, dry_run: bool) -> int:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from dockergen.absorb import absorb_compose
    from dockergen.drift import find_drift
    from dockergen.pipeline import render
    from dockergen.render.overlay import split
    from dockergen.spec.edit import set_values
    from dockergen.write import plan_changes

    out_dir = spec.parent
    rendered = render(spec)
    project = rendered.project
    if not files:
        drift = find_drift(spec, out_dir, plan_changes(out_dir, rendered.files), rendered.spec.templates)
        files = [d.path for d in drift if d.cause == "edited"]
        if not files:
            click.echo("nothing to absorb: no generated file was edited by hand")
            return 0
    base_name = rendered.spec.output.compose_file
    overlay_env = {env.info.compose_file: name for name, env in project.environments.items()}
    expected_base, expected_overlays = split(rendered.documents)
    base, overlays, edited_envs, refused = expected_base, dict(expected_overlays), [], []
    yaml = YAML(typ="safe", pure=True)
    for relative in files:
        relative = Path(relative).as_posix()
        if relative != base_name and relative not in overlay_env:
            refused.append(relative)
            continue
        try:
            doc = yaml.load((out_dir / relative).read_text(encoding="utf-8")) or {}
        except (OSError, YAMLError) as exc:
            raise DockergenError.single(f"cannot read the edited file: {exc}", location=Location(relative)) from None
        if relative == base_name:
            base, edited_envs = doc, list(project.environments)
        else:
            overlays[overlay_env[relative]] = doc
            if overlay_env[relative] not in edited_envs:
                edited_envs.append(overlay_env[relative])
    for relative in refused:
        click.echo(
            f"{relative}: cannot be absorbed: only Compose files map onto spec settings. Move the change into the spec "
            "by hand (build.env, build.packages, build.ignore ...) or a template override (`templates:`), then render.",
            err=True,
        )
    if not edited_envs:
        return 1
    absorption = absorb_compose(project, rendered.documents, base, overlays, edited_envs)
    for problem in absorption.unexpressible:
        click.echo(f"cannot absorb: {problem}", err=True)
    if not absorption.edits:
        click.echo("the edits change nothing the spec does not already say" if not absorption.unexpressible else "", err=True)
        return 1 if refused else 0
    before = spec.read_text(encoding="utf-8")
    after = set_values(before, absorption.edits)
    click.echo("".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{spec.name}", f"b/{spec.name}")), nl=False)
    if dry_run:
        return 1 if absorption.unexpressible else 0
    if absorption.unexpressible:
        # Writing part of it would re-render the edited file and lose the rest.
        click.echo("nothing written: absorb the rest first, or edit the spec by hand", err=True)
        return 1
    from dockergen.write import apply

    spec.write_text(after, encoding="utf-8")
    try:
        again = render(spec)
    except DockergenError:
        spec.write_text(before, encoding="utf-8")
        raise
    # Prove it: the environments now resolve to exactly what the edited files said.
    from dockergen.absorb import service_changes
    from dockergen.render.overlay import merge_like_compose

    leftover = []
    for env in edited_envs:
        expected = again.documents[env]
        changes, _ = service_changes(expected, merge_like_compose(base, overlays[env]))
        leftover += [f"{env}: services.{s}.{k}" for s, keys in changes.items() for k in keys]
    absorbed = {Path(f).as_posix() for f in files} - set(refused)
    # Only the absorbed files may be overwritten; other hand edits stay where they are.
    changes = [c for c in plan_changes(out_dir, again.files) if not (c.blocked and c.path not in absorbed)]
    apply(out_dir, changes, force=True)
    if leftover:
        click.echo("absorbed partly; still different from the edit: " + ", ".join(leftover), err=True)
        return 1
    click.echo(f"absorbed into {spec.name}; re-rendered: {', '.join(c.path for c in changes if c.changes) or 'nothing changed'}")
    return 1 if refused else 0
