"""``dockergen init``: write a commented starter spec for the apps in a repository.

Exit 0 when the spec was written; 1 when nothing was written on purpose (a spec exists,
here or in a folder above, and no --force, or the repository has Dockerfiles/Compose
files: ``dockergen import`` converts those); 2 when there is nothing init can start (no
app, a project of a kind it does not start, a lockfile the build needs not created yet) or
PATH is not a directory. The spec is written with ``.env`` added to ``.gitignore``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dockergen import presets
from dockergen.containment import refuse_write_targets
from dockergen.errors import DockergenError, Location, Problem
from dockergen.scaffold.detect import App, name_for
from dockergen.spec.path import parent_spec

SPEC_NAME = "dockergen.yaml"
SCHEMA_NAME = "dockergen.schema.json"
ENV_EXAMPLE_BESIDE = ".env.dockergen.example"


def schema_reference(schema: str | None, schema_file: bool) -> str | None:
    """What the spec's first ``$schema=`` comment line points at (``--schema``, else the
    file ``--schema-file`` writes); one line: a line break would add lines to the spec."""
    from dockergen.text import forbidden_character, visible

    bad = forbidden_character(schema) if schema is not None else None
    if bad is not None:
        raise DockergenError.single(
            f"--schema {visible(schema or '')}: may not contain {bad}", location=Location("command line"), hint="give one URL or path"
        )
    return schema or (SCHEMA_NAME if schema_file else None)


def init(
    path: Path, *, yes: bool = False, force: bool = False, schema: str | None = None, schema_file: bool = False, quiet: bool = False
) -> int:
    from dockergen.scaffold.detect import detect
    from dockergen.scaffold.starter import Choices, starter_spec

    if not path.is_dir():
        raise DockergenError.single("not a directory", location=Location(str(path)))
    refuse_write_targets(("PATH", path))
    schema_ref = schema_reference(schema, schema_file)
    target = path / SPEC_NAME
    if target.exists() and not force:
        click.echo(f"{target}: a spec exists already; nothing written (pass --force to replace it)", err=True)
        return 1
    above = None if force else parent_spec(str(path))
    if above is not None:
        # Run from a subfolder of a project dockergen already renders: a second spec here
        # would fight the first one over the files it generates in this folder.
        click.echo(f"{path}: {above} in a folder above is this project's spec; nothing written "
                   f"(edit it, then `dockergen render --spec {above}`; pass --force to start a separate spec here)", err=True)
        return 1
    found = detect(path)
    if found.existing:
        click.echo(f"{path} has Dockerfiles or Compose files that dockergen did not write:", err=True)
        for name in found.existing:
            click.echo(f"  {name}", err=True)
        click.echo(f"Convert them instead (it keeps what they do, per environment):\n  dockergen import {path}", err=True)
        return 1
    if not found.apps and found.left_out:
        raise DockergenError.single(
            f"nothing init can start: {'; '.join(found.left_out)}",
            location=Location(str(path)),
            hint="init starts Python (web apps, task queue workers, scripts), Node and Go apps; write dockergen.yaml by hand, "
            "with your own Dockerfile as the build's `steps` (`dockergen schema --format markdown` lists every field), "
            "or convert the project's Dockerfiles and Compose files: `dockergen import`",
        )
    if not found.apps:
        raise DockergenError.single(
            "no Python, Node or Go project found (looked for requirements.txt, pyproject.toml, package.json, go.mod "
            "in the directory and its subdirectories)",
            location=Location(str(path)),
            hint="run it in the project's root, or write the spec by hand: `dockergen schema --format markdown` lists every field",
        )
    interactive = not yes and stdin_is_terminal()
    project = name_for(path.resolve().name, "app")
    backing = set().union(*(a.needs for a in found.apps))
    if interactive:
        project = _ask_name("Project name", project)
        for app in found.apps:
            what = f"{app.family}{f' ({app.framework})' if app.framework else ''}"
            click.echo(f"Found a {what} app in {app.context} ({', '.join(app.evidence)})")
            app.name = _ask_name("  service name", app.name)
            if app.port is None:
                continue  # no server found: nothing to publish or probe
            app.port = click.prompt("  port it listens on", default=app.port, type=click.IntRange(1, 65535))
            if app.family != "go":
                app.health = click.prompt("  health check path", default=app.health)
        for need, image in (("postgres", "PostgreSQL"), ("redis", "Redis")):
            if click.confirm(f"Add a {image} service?", default=need in backing):
                backing.add(need)
            else:
                backing.discard(need)
    # A hand-written .env.example is never replaced: render, refusing to, would fail first thing.
    env_example = ENV_EXAMPLE_BESIDE if found.hand_written(".env.example") else None
    text = starter_spec(Choices(project, found.apps, backing, schema_ref, env_example))
    _check_renders(text, target, found.apps)
    from dockergen.scaffold.gitignore import NAME as GITIGNORE
    from dockergen.scaffold.gitignore import with_secrets_ignored
    from dockergen.write import commit

    outputs = {SPEC_NAME: text.encode("utf-8")}
    if schema_file:
        from dockergen.commands.schema import schema_text

        outputs[SCHEMA_NAME] = schema_text().encode("utf-8")
    gitignore = with_secrets_ignored(path)
    if gitignore is not None:
        outputs[GITIGNORE] = gitignore
    commit(path, outputs)  # all or none
    if not quiet:
        services = [a.name for a in found.apps] + [n for need, n in (("postgres", "db"), ("redis", "cache")) if need in backing]
        click.echo(f"wrote {target} ({', '.join(services)})" + (f" and {path / SCHEMA_NAME} (for editors)" if schema_file else ""))
        if gitignore is not None:
            click.echo(f"added .env to {path / GITIGNORE} (the secrets file you make from .env.example stays out of git)")
        todos = [f"  {a.name}: {note}" for a in found.apps for note in a.notes]
        if found.left_out:
            click.echo(f"left out (add them to the spec by hand): {'; '.join(found.left_out)}")
        if todos:
            click.echo("to do (also marked TODO in the spec):\n" + "\n".join(todos))
        spec_arg = "" if path.resolve() == Path.cwd() else f" --spec {target}"
        click.echo(f"next: dockergen render{spec_arg} && dockergen lint{spec_arg}")
    return 0


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _ask_name(prompt: str, default: str) -> str:
    from dockergen.spec.model import is_valid_name

    while True:
        value = click.prompt(prompt, default=default)
        if is_valid_name(value):
            return value
        click.echo("  lowercase letters, digits, - and _, starting with a letter", err=True)


def _check_renders(text: str, target: Path, apps: list[App]) -> None:
    """The starter must load, validate and render; a failure is a bug in init, not bad input.
    A file its builds copy that the project lacks (a lockfile never created) is the user's
    to make first: render would refuse the spec until then."""
    from dockergen import manifests
    from dockergen.pipeline import render
    from dockergen.spec.load import parse_spec
    from dockergen.spec.model import Spec

    import shutil
    import tempfile

    data = parse_spec(text.encode("utf-8"), str(target)).data
    builds = [(name, service.build) for name, service in Spec.model_validate(data).services.items() if service.build]
    copied = [(name, build, m.relative) for name, build in builds for m in manifests.copied(build, name)]
    missing = [_missing_manifest(target.parent, build.context, relative, next(a for a in apps if a.name == name))
               for name, build, relative in copied if not (target.parent / build.context / relative).exists()]  # fmt: skip
    if missing:
        raise DockergenError(missing)
    with tempfile.TemporaryDirectory() as scratch:
        probe = Path(scratch) / SPEC_NAME
        probe.write_text(text, encoding="utf-8")
        # Validation reads the manifests the Dockerfiles copy (they must exist, install files
        # hold no credential, the test stage needs pytest): the probe gets copies of the
        # repository's own.
        for _, build, relative in copied:
            origin, copy = target.parent / build.context / relative, probe.parent / build.context / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                shutil.copytree(origin, copy, symlinks=True)
            else:
                shutil.copy2(origin, copy)
        try:
            render(probe)
        except DockergenError as exc:
            raise RuntimeError(f"the starter spec does not render: {exc}") from None


def _missing_manifest(root: Path, context: str, relative: str, app: App) -> Problem:
    """What to do about a file the starter's build would copy and the project does not have."""
    import shlex

    from dockergen.scaffold.detect import LOCK_COMMANDS

    where = relative if context == "." else f"{context}/{relative}"
    if app.family == "node":
        manager = presets.PACKAGE_MANAGERS[app.package_manager]
        cd = "" if context == "." else f"cd {shlex.quote(context)} && "
        # A bun project has its own lockfile: say why that one does not do.
        bun = next((f" ({lock} is bun's, which the node family does not build with: npm, yarn or pnpm)" for lock in app.evidence if lock.startswith("bun.")), "")
        return Problem(
            f"{app.name}: no {relative}{bun}: the {app.package_manager} build installs exactly the lockfile (`{' '.join(manager.install)}`)",
            Location(str(root / where)),
            hint=f"create it (`{cd}{LOCK_COMMANDS[app.package_manager]}`) and commit it, then run `dockergen init` again",
        )
    return Problem(f"{app.name}: no {relative}, which the {app.manager} build installs from", Location(str(root / where)),
                   hint="add it, then run `dockergen init` again")  # fmt: skip
