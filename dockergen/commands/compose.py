"""``dockergen compose ENV [ARGS...]``: the real Compose CLI on one environment's files.

Runs ``<compose> -p <project> [--env-file <file>] -f <base> -f <overlay> ARGS...`` (the CLI found by
``compose_tool`` for the environment's engine) in place of dockergen, so Compose owns the
terminal, the signals and the exit code.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from dockergen.compose_tool import INSTALL_HINT, find_compose
from dockergen.errors import DockergenError, Location
from dockergen.unknown_names import require_known

NO_COMPOSE = 127  # as a shell says for a command it cannot find


def compose_command(spec: Path, env: str, out: Path | None) -> tuple[list[str], str, str | None]:
    """The argv prefix (``-p``, ``--env-file``, ``-f``) for ``env``, the environment's engine,
    and a note when the variables file is missing but Compose needs values from it."""
    from dockergen.pipeline import load_and_resolve

    _, parsed, project, documents = load_and_resolve(spec)
    require_known("environment", [env], project.environments, location=Location(str(spec)))
    info = project.environments[env].info
    out_dir = out if out is not None else spec.parent
    files = [out_dir / parsed.output.compose_file, out_dir / info.compose_file]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        spec_arg = "" if spec == Path("dockergen.yaml") else f" --spec {shlex.quote(str(spec))}"
        raise DockergenError.single(
            f"not rendered yet: {', '.join(missing)} missing",
            location=Location(str(spec)),
            hint=f"run `dockergen render{spec_arg}` first",
        )
    argv = ["-p", info.project]
    if info.env_file is not None:
        argv += ["--env-file", str(spec.parent / info.env_file)]
    for f in files:
        argv += ["-f", str(f)]
    env_file = spec.parent / info.env_file if info.env_file is not None else out_dir / ".env"
    return argv, info.engine, _no_env_file_note(env_file, out_dir / parsed.output.env_example, documents[env])


def _no_env_file_note(env_file: Path, example: Path, document: dict) -> str | None:
    """What to do before the first ``up``: without its variables file, Compose refuses to
    start an environment with a required variable (``${POSTGRES_PASSWORD:?...}``) unset."""
    from dockergen.render.support import collect_variables

    if env_file.exists():
        return None
    unset = sorted(name for name, use in collect_variables({"env": document}).items() if use.required and name not in os.environ)
    if not unset:
        return None
    return f"no {env_file} yet: `cp {example} {env_file}` and set {', '.join(unset)} in it (Compose needs a value)"


def compose(spec: Path, env: str, args: list[str], *, out: Path | None = None, print_only: bool = False) -> int:
    from dockergen.fingerprint import fast_clean

    selection, engine, env_note = compose_command(spec, env, out)
    cli = find_compose(engine)
    if cli is None:
        click.echo(f"error: no Compose CLI found for the {env!r} environment (engine: {engine}); {INSTALL_HINT}", err=True)
        return NO_COMPOSE
    argv = [*cli.argv, *selection, *args]
    if print_only:
        click.echo(shlex.join([*(f"{k}={v}" for k, v in cli.env.items()), *argv]))
        return 0
    if not fast_clean(spec, out if out is not None else spec.parent):
        click.echo(
            f"warning: the generated files differ from {spec} (`dockergen check` says why; `dockergen render` updates them); "
            "running them as they are",
            err=True,
        )
    for note in (env_note, cli.note):
        if note:
            click.echo(f"note: {note}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, {**os.environ, **cli.env})
    except OSError as exc:
        click.echo(f"error: cannot run {cli.name}: {exc.strerror}; {INSTALL_HINT}", err=True)
        return NO_COMPOSE
