"""Command-line interface: turns options into keyword arguments for ``commands.*``.

Exit codes: 0 success, 1 a finding (drift, lint), 2 bad input, 3 a bug in dockergen.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import Callable, NoReturn

import click

from dockergen import __version__
from dockergen.completion import environments as complete_environments
from dockergen.completion import services as complete_services
from dockergen.errors import DockergenError, Location, Problem
from dockergen.spec.path import SPEC_NAME, spec_file

SPEC_OPTION = click.option(
    "--spec",
    "spec",
    type=click.Path(path_type=Path),
    default=Path(SPEC_NAME),
    show_default=True,
    callback=lambda _ctx, _param, value: Path(spec_file(str(value))),
    help="The spec file, or the folder that holds its dockergen.yaml.",
)


def _run(command: Callable[[], int]) -> None:
    try:
        code = command()
    except DockergenError as exc:
        for problem in exc.problems:
            click.echo(problem.render(), err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # `dockergen ... | head`: the reader left; say nothing more
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as exc:
        # A path given on the command line (or made from one) that the system refuses: too
        # long, a loop of links, a file where a folder must be. Anything else is a bug.
        if exc.filename is None or exc.errno not in _PATH_ERRORS:
            _internal_error(exc)
        name = str(exc.filename)
        shown = name if len(name) <= 200 else f"{name[:100]}...{name[-40:]} ({len(name)} characters)"
        click.echo(Problem(exc.strerror or type(exc).__name__, Location(shown), hint="check the path given").render(), err=True)
        sys.exit(2)
    except Exception as exc:  # a bug, not bad input: one line, no traceback unless asked
        _internal_error(exc)
    sys.exit(code)


_PATH_ERRORS = {errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS}


def _internal_error(exc: Exception) -> NoReturn:
    if "DOCKERGEN_DEBUG" in __import__("os").environ:
        raise exc
    click.echo(f"internal error: {type(exc).__name__}: {exc} (set DOCKERGEN_DEBUG=1 for a traceback; please report it)", err=True)
    sys.exit(3)


def render_cache(launched: dict | None) -> bool:
    """Whether to keep renders in the user's render cache: only when the console script
    runs (``launcher`` says so), never inside another program or a test's CliRunner."""
    return bool(launched and launched.get("render_cache"))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dockergen")
def main() -> None:
    """Render consolidated Dockerfiles and Compose overlays from one spec (dockergen.yaml)."""


@main.command()
@SPEC_OPTION
@click.option("--env", "envs", multiple=True, shell_complete=complete_environments, help="Only write this environment's overlay (repeatable).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Write the tree here instead of next to the spec (same bytes).")
@click.option("--force", is_flag=True, help="Overwrite or delete generated files even if edited by hand.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@click.pass_obj
def render(launched: dict | None, spec: Path, envs: tuple[str, ...], out: Path | None, force: bool, quiet: bool) -> None:
    """Write Dockerfiles, .dockerignore, compose.yaml + overlays and .env.example.

    \b
    Generated files are replaced atomically; a generated file edited by hand, or a
    file dockergen did not write, is never overwritten or deleted without --force.
    Generated files the spec no longer produces are deleted.

    \b
    Examples:
      dockergen render
      dockergen render --spec services/dockergen.yaml --env prod
    """
    from dockergen.commands.render import render as command

    _run(lambda: command(spec, envs=list(envs), out=out, force=force, quiet=quiet, cache=render_cache(launched)))


@main.command()
@SPEC_OPTION
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of what `render` would change.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Check the tree rendered with --out DIR.")
def check(spec: Path, show_diff: bool, output_format: str, out: Path | None) -> None:
    """Fail (exit 1) when any generated file differs from what the spec renders.

    Reports each drifted file and why: edited by hand, spec/templates/version changed
    since the last render, missing, stale, or a foreign file in the way. Use it as a
    pre-commit hook and in CI.

    \b
    Examples:
      dockergen check
      dockergen check --diff
      dockergen check --format json
    """
    from dockergen.commands.check import check as command

    _run(lambda: command(spec, show_diff=show_diff, output_format=output_format, out=out))


@main.command()
@SPEC_OPTION
@click.argument("files", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Only print the spec change.")
def absorb(spec: Path, files: tuple[str, ...], dry_run: bool) -> None:
    """Keep a hand edit of a generated Compose file by turning it into a spec change.

    FILES default to every generated file edited by hand. The edit becomes settings on
    the right service and environment (the `compose:` escape hatch where the spec has no
    field of that shape), the spec is rewritten with its comments kept, the tree is
    re-rendered, and the result is checked to resolve exactly as edited.

    \b
    Examples:
      dockergen absorb
      dockergen absorb compose.prod.yaml --dry-run
    """
    from dockergen.commands.absorb import absorb as command

    _run(lambda: command(spec, list(files), dry_run=dry_run))


@main.command()
@SPEC_OPTION
@click.argument("service", shell_complete=complete_services)
@click.argument("key", required=False)
@click.option("--env", shell_complete=complete_environments, help="Environment (default: the first declared).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain(spec: Path, service: str, key: str | None, env: str | None, output_format: str) -> None:
    """Show every resolved value of SERVICE and which layer set it, with file:line.

    Layers: built-in defaults < spec defaults < environment defaults < service <
    service x environment. KEY limits the output to keys starting with it.

    \b
    Examples:
      dockergen explain api --env prod
      dockergen explain api resources --env staging
    """
    from dockergen.commands.explain import explain as command

    _run(lambda: command(spec, service, env=env, key=key, output_format=output_format))


@main.command()
@SPEC_OPTION
@click.argument("env_a", shell_complete=complete_environments)
@click.argument("env_b", shell_complete=complete_environments)
@click.option("--service", shell_complete=complete_services, help="Only this service.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def diff(spec: Path, env_a: str, env_b: str, service: str | None, output_format: str) -> None:
    """What differs between two environments, per service and key.

    \b
    Examples:
      dockergen diff staging prod
      dockergen diff dev prod --service api
    """
    from dockergen.commands.diff import diff as command

    _run(lambda: command(spec, env_a, env_b, service=service, output_format=output_format))


@main.command()
@SPEC_OPTION
@click.option("--env", "envs", multiple=True, shell_complete=complete_environments, help="Only this environment (repeatable; default: all).")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(["error", "warning", "note"]), help="Failing severity (default: the spec's lint.fail_on, else error).")
@click.option("--hadolint/--no-hadolint", "use_hadolint", default=None, help="Also run hadolint on the rendered Dockerfiles (default: when installed).")
@click.option("--list-rules", is_flag=True, help="Print every rule (ID, default severity, what it finds) and exit.")
@click.option("-q", "--quiet", is_flag=True, help="Print only failing findings, one line each.")
@click.option("-v", "--verbose", is_flag=True, help="Also print why each finding matters and which layer set the value.")
def lint(
    spec: Path, envs: tuple[str, ...], output_format: str, fail_on: str | None, use_hadolint: bool | None, list_rules: bool,
    quiet: bool, verbose: bool,
) -> None:  # fmt: skip
    """Policy checks on the resolved spec and the files it renders.

    \b
    Each finding has a stable rule ID (DG001...), a severity, the spec's file:line:col
    where the value was set, and a fix. hadolint's findings on the rendered Dockerfiles
    are folded in as hadolint/DLxxxx. The spec's `lint:` section turns rules off,
    re-grades them or excludes services. Exit 1 when a finding is at or above the
    failing severity, 2 on bad input.

    \b
    Examples:
      dockergen lint
      dockergen lint --env prod --fail-on warning
      dockergen lint --format sarif > dockergen.sarif
      dockergen lint --list-rules
    """
    from dockergen.commands.lint import lint as command
    from dockergen.commands.lint import list_rules as rules_command

    if list_rules:
        _run(lambda: rules_command("json" if output_format == "json" else "text"))
    _run(lambda: command(spec, output_format=output_format, envs=list(envs), fail_on=fail_on, use_hadolint=use_hadolint,
                         quiet=quiet, verbose=verbose))  # fmt: skip


COMPOSE_SET_OPTION = click.option(
    "--compose-set",
    "compose_sets",
    multiple=True,
    metavar="ENV=FILE[,FILE...]",
    help="Which -f files form environment ENV (repeatable; overrides what names suggest; ENV= drops one).",
)


@main.command("import")
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=Path("."))
@COMPOSE_SET_OPTION
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Where to write the spec (default PATH/dockergen.yaml).")
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), help="Also write the migration report as Markdown.")
@click.option("--verify", "run_verify", is_flag=True, help="Render the new spec and compare every environment with the originals.")
@click.option("--force", is_flag=True, help="Replace an existing spec.")
@click.option("--no-compose-cli", is_flag=True, help="Merge Compose files with dockergen's own loader, not the Compose CLI.")
@click.option("--schema", metavar="URL|PATH", help="Start the spec with a `$schema=` line pointing here (editor completion).")
@click.option("--schema-file", is_flag=True, help="Also write dockergen.schema.json beside the spec and point the `$schema=` line at it.")
@click.option("-v", "--verbose", is_flag=True, help="Print table cells in full.")
def import_command(
    path: Path, compose_sets: tuple[str, ...], out: Path | None, report: Path | None, run_verify: bool, force: bool,
    no_compose_cli: bool, schema: str | None, schema_file: bool, verbose: bool,
) -> None:  # fmt: skip
    """Turn a repository's Dockerfiles and Compose files into one spec, with a migration report.

    Exit 1 with --verify when a difference is unexplained.

    \b
    Examples:
      dockergen import . --verify --report migration.md
      dockergen import . --compose-set prod=compose.yaml,compose.prod.yaml
    """
    from dockergen.importer.read.compose_cli import finding_compose

    finding = None if no_compose_cli else finding_compose()  # a process: it runs while the modules below load (~0.3 s)
    from dockergen.commands.import_ import import_ as command

    _run(lambda: command(path, compose_sets=list(compose_sets), out=out, report=report, run_verify=run_verify, force=force,
                         use_cli=not no_compose_cli, schema=schema, schema_file=schema_file, verbose=verbose, finding=finding))  # fmt: skip


@main.command()
@SPEC_OPTION
@click.option("--against", type=click.Path(path_type=Path, file_okay=False), required=True, help="The repository with the original files.")
@COMPOSE_SET_OPTION
@click.option("--env", "envs", multiple=True, help="Only this environment (repeatable).")
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), help="Also write the report as Markdown.")
@click.option("--no-compose-cli", is_flag=True, help="Read the original Compose files with dockergen's own loader.")
@click.option("-v", "--verbose", is_flag=True, help="Print table cells in full.")
def verify(
    spec: Path, against: Path, compose_sets: tuple[str, ...], envs: tuple[str, ...], report: Path | None,
    no_compose_cli: bool, verbose: bool,
) -> None:  # fmt: skip
    """Exit 1 unless every environment of the spec means what the original files mean."""
    from dockergen.commands.import_ import verify_against as command

    _run(lambda: command(spec, against, compose_sets=list(compose_sets), envs=list(envs), report=report,
                         use_cli=not no_compose_cli, verbose=verbose))  # fmt: skip


@main.command()
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=Path("."))
@click.option("-y", "--yes", is_flag=True, help="Take every default; never prompt.")
@click.option("--force", is_flag=True, help="Replace an existing dockergen.yaml, or start one below a folder that has one.")
@click.option("--schema", metavar="URL|PATH", help="Start the spec with a `$schema=` line pointing here (editor completion).")
@click.option("--schema-file", is_flag=True, help="Also write dockergen.schema.json beside the spec and point the `$schema=` line at it.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
def init(path: Path, yes: bool, force: bool, schema: str | None, schema_file: bool, quiet: bool) -> None:
    """Write a commented starter dockergen.yaml for the project in PATH.

    \b
    Detects Python (requirements.txt, pyproject.toml, poetry, uv), Node (package.json,
    lockfile, Next/Vite/Express ...) and Go (go.mod) apps in PATH and its
    subdirectories, and the databases they use. Prompts when run on a terminal. When
    PATH already has Dockerfiles or Compose files, writes nothing and recommends
    `dockergen import`. An existing spec is never replaced without --force.

    \b
    Examples:
      dockergen init
      dockergen init services/shop --yes
    """
    from dockergen.commands.init import init as command

    _run(lambda: command(path, yes=yes, force=force, schema=schema, schema_file=schema_file, quiet=quiet))


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@SPEC_OPTION
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="The tree was rendered with --out DIR.")
@click.option("--print", "print_only", is_flag=True, help="Print the Compose command instead of running it.")
@click.argument("env", shell_complete=complete_environments)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def compose(spec: Path, out: Path | None, print_only: bool, env: str, args: tuple[str, ...]) -> None:
    """Start, stop and inspect the stack of environment ENV with Compose.

    \b
    Examples: the everyday commands (after `dockergen render`; ARGS go to Compose as they are)
      dockergen compose dev up -d --wait     start the dev stack, wait until healthy
      dockergen compose dev logs -f          follow its logs
      dockergen compose dev down             stop it (-v also drops its volumes)
      dockergen compose test run --rm api    run the test stage of service api
      dockergen compose prod config          the Compose file prod resolves to

    \b
    It runs `<compose> -p <project> -f compose.yaml -f <overlay> ARGS...` (--print shows
    it). The CLI is Docker Compose (`docker compose` or `docker-compose`) or podman's
    (`podman compose`, `podman-compose`), whichever is installed; an environment with
    `engine: podman` prefers Docker Compose on podman's socket. DOCKERGEN_COMPOSE picks
    one. Compose's exit code is passed through; 127 when no Compose CLI is installed.
    """
    from dockergen.commands.compose import compose as command

    _run(lambda: command(spec, env, list(args), out=out, print_only=print_only))


@main.command()
@SPEC_OPTION
@click.pass_obj
def validate(launched: dict | None, spec: Path) -> None:
    """Check the spec (schema, references, rendering) without writing anything."""
    from dockergen.commands.validate import validate as command

    _run(lambda: command(spec, cache=render_cache(launched)))


@main.command()
@click.option("--format", "output_format", type=click.Choice(["json", "markdown"]), default="json", show_default=True)
def schema(output_format: str) -> None:
    """Print the spec's JSON Schema (for editors and CI)."""
    from dockergen.commands.schema import schema as command

    _run(lambda: command(output_format))


@main.command()
@SPEC_OPTION
def doctor(spec: Path) -> None:
    """Check Docker/podman/buildah/Compose/hadolint and BuildKit on this machine, then run
    the validators that are installed on what the spec renders to (nothing is written).

    Exit 1 on a finding (a validator rejects the output, or an engine is older than the
    spec's `engines`); what could not be checked is listed, not counted.
    """
    from dockergen.commands.doctor import doctor as command

    _run(lambda: command(spec))


@main.group()
def server() -> None:
    """The resident process that makes render, validate, check, lint, explain, diff and schema start warm.

    \b
    It has imported the CLI, pydantic and the spec models; each command runs in a fresh
    child of it, with your terminal, directory and environment, and prints exactly what
    it prints without it. The first of those commands that finds none starts it (not when
    CI is set); only your user reaches it; it stops itself when dockergen's code changes
    and after --idle-minutes without a command (15 when a command started it).
    DOCKERGEN_NO_SERVER=1 bypasses it and keeps it from starting.

    \b
    Examples:
      dockergen server start
      dockergen server status
      dockergen server stop
    """


@server.command("start")
@click.option("--idle-minutes", type=click.FloatRange(min=0.01), default=30, show_default=True, help="Exit after this long without a command.")
def server_start(idle_minutes: float) -> None:
    """Start the server in the background (or say it already runs)."""
    from dockergen.commands.server import start as command

    _run(lambda: command(idle_minutes))


@server.command("stop")
def server_stop() -> None:
    """Stop the server (commands already running finish)."""
    from dockergen.commands.server import stop as command

    _run(command)


@server.command("status")
def server_status() -> None:
    """Whether the server runs, its pid, memory and commands served (exit 1 when none)."""
    from dockergen.commands.server import status as command

    _run(command)
