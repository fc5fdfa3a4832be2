"""``dockergen absorb``: keep a hand edit of a generated file by moving it into the spec.

All or nothing: the new spec is rendered in memory and proven to give what the edited
files say; only then are the spec and the re-rendered files written, in one transaction.
Anything that cannot be absorbed (a Dockerfile edit, a new service, an edit through a
YAML anchor shared with other places) means exit 1 and nothing written.
"""

from __future__ import annotations

from pathlib import Path

import click

from dockergen.errors import DockergenError, Location


def absorb(spec: Path, files: list[str], *, dry_run: bool) -> int:
    from dockergen.absorb import absorb_compose, service_changes
    from dockergen.drift import find_drift, text_diff
    from dockergen.pipeline import render
    from dockergen.render.overlay import merge_like_compose, split
    from dockergen.spec.edit import SharedEdit, set_values
    from dockergen.write import commit, plan_changes, read_current
    from dockergen.yaml_read import read_document

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
    for relative in files:
        relative = Path(relative).as_posix()
        if relative != base_name and relative not in overlay_env:
            refused.append(relative)
            continue
        raw = read_current(out_dir, relative)
        if raw is None:
            raise DockergenError.single("the edited file is not there", location=Location(relative))
        doc = read_document(raw, relative)
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise DockergenError.single("a Compose file is a mapping at the top level", location=Location(relative, 1, 1))
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
        if not absorption.unexpressible:
            click.echo("the edits change nothing the spec does not already say", err=True)
        return 1 if refused or absorption.unexpressible else 0
    before = rendered.loaded.raw.decode("utf-8")
    try:
        after = set_values(before, absorption.edits)
    except SharedEdit as exc:
        click.echo(f"cannot absorb: {exc}; edit the spec by hand", err=True)
        return 1
    click.echo(text_diff(before, after, f"a/{spec.name}", f"b/{spec.name}"), nl=False)
    if refused or absorption.unexpressible:
        # Writing part of it would re-render the edited files and lose the rest.
        click.echo("nothing written: absorb the rest first, or edit the spec by hand", err=True)
        return 1
    if dry_run:
        return 0
    again = render(spec, raw=after.encode("utf-8"))
    # Prove it: the environments now resolve to exactly what the edited files said.
    leftover = []
    for env in edited_envs:
        changes, _ = service_changes(again.documents[env], merge_like_compose(base, overlays[env]))
        leftover += [f"{env}: services.{s}.{k}" for s, keys in changes.items() for k in keys]
    if leftover:
        click.echo("nothing written: the spec change would not reproduce " + ", ".join(leftover) + "; edit the spec by hand", err=True)
        return 1
    absorbed = {Path(f).as_posix() for f in files}
    # Only the absorbed files may be overwritten; other hand edits stay where they are.
    changes = [c for c in plan_changes(out_dir, again.files) if c.changes and not (c.blocked and c.path not in absorbed)]
    commit(out_dir, {spec.name: after.encode("utf-8"), **{c.path: c.new for c in changes}})
    click.echo(f"absorbed into {spec.name}; re-rendered: {', '.join(c.path for c in changes) or 'nothing changed'}")
    return 0
