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
from dockergen.unknown_names import require_known, suggestion

NO_COMPOSE = 127  # as a shell says for a command it cannot find


def compose_command(spec: Path, env: str, out: Path | None) -> tuple[list[str], str, str | None]:
    """The argv prefix (``-p``, ``--env-file``, ``-f``) for ``env``, the environment's engine,
    and a note on the variables file (``_env_file_note``) or None."""
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
    return argv, info.engine, _env_file_note(env_file, out_dir / parsed.output.env_example, documents, env)


def _env_file_note(env_file: Path, example: Path, documents: dict[str, dict], env: str) -> str | None:
    """What Compose would leave unsaid about the variables file: missing while ``env`` needs a
    value from it (Compose refuses to start with ``${POSTGRES_PASSWORD:?...}`` unset), or
    setting a near miss of a variable the files read (``POSTGRES_PASWORD``: silently unused)."""
    from dockergen.importer.read.envfile import read_env_file
    from dockergen.render.support import collect_variables

    if not env_file.exists():
        here = collect_variables({env: documents[env]})
        unset = sorted(name for name, use in here.items() if use.required and name not in os.environ)
        return f"no {env_file} yet: `cp {example} {env_file}` and set {', '.join(unset)} in it (Compose needs a value)" if unset else None
    sets, read = set(read_env_file(env_file.parent, env_file.name)), set(collect_variables(documents))
    unset = sorted(read - sets)
    hints = {name: suggestion(name, unset).strip() for name in sorted(sets - read)}
    misses = [f"{name} ({hint})" for name, hint in hints.items() if hint]
    return f"{env_file} sets variables no generated file reads: {'; '.join(misses)}" if misses else None


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
