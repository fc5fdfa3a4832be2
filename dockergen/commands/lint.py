"""``dockergen lint``: policy findings on the spec and what it renders.

Exit 0 when no finding is at or above the failing severity (``--fail-on``, else the
spec's ``lint.fail_on``, else ``error``), 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

STYLE = {"error": {"fg": "red", "bold": True}, "warning": {"fg": "yellow"}, "note": {"fg": "cyan"}}


def lint(
    spec: Path, *, output_format: str = "text", envs: list[str] | None = None, fail_on: str | None = None,
    use_hadolint: bool | None = None, quiet: bool = False, verbose: bool = False,
) -> int:  # fmt: skip
    from dockergen.lint.engine import run
    from dockergen.pipeline import render

    result = run(render(spec), envs=envs, fail_on=fail_on, use_hadolint=use_hadolint)
    if output_format == "sarif":
        from dockergen.lint.sarif import to_sarif

        click.echo(json.dumps(to_sarif(result), indent=2))
    elif output_format == "json":
        click.echo(json.dumps(_json(spec, result), indent=2))
    else:
        _text(spec, result, quiet=quiet, verbose=verbose)
    return 1 if result.failed else 0


def _json(spec: Path, result) -> dict:  # noqa: ANN001 - engine.Result
    run = result.hadolint
    return {
        "spec": str(spec),
        "fail_on": result.fail_on,
        "failed": result.failed,
        "environments": result.environments,
        "summary": result.counts(),
        "hadolint": None if run is None else {"installed": run.executable is not None, "version": run.version, "failures": list(run.failures)},
        "findings": [
            {
                "rule": f.rule,
                "name": f.name,
                "severity": f.severity,
                "message": f.message,
                "service": f.service,
                "environments": f.environments,
                "location": {"file": f.location.file, "line": f.location.line, "column": f.location.column},
                "layer": f.layer,
                "related": [str(r) for r in f.related],
                "why": f.why,
                "fix": f.fix,
            }
            for f in result.findings
        ],
    }


def _text(spec: Path, result, *, quiet: bool, verbose: bool) -> None:  # noqa: ANN001 - engine.Result
    from dockergen import terminal

    shown = [f for f in result.findings if not quiet or f.fails(result.fail_on)]
    if shown and terminal.styled() and not quiet and not verbose:
        rows = [
            (str(f.location), f.severity, f.rule, f.service or "", f.message, f.fix)
            for f in shown
        ]
        terminal.table(("where", "severity", "rule", "service", "finding", "fix"), rows, colour_column=1)
        shown = []
    for f in shown:
        subject = f"{f.service}: " if f.service else ""
        where = f" [{', '.join(f.environments)}]" if f.environments and len(f.environments) < len(result.environments) else ""
        severity = click.style(f.severity, **STYLE[f.severity])
        title = f.rule if f.rule.endswith(f"/{f.name}") else f"{f.rule} {f.name}"
        click.echo(f"{f.location}: {severity}: {title}: {subject}{f.message}{where}")
        if quiet:
            continue
        if verbose:
            if f.why:
                click.echo(f"    why: {f.why}")
            if f.layer:
                click.echo(f"    set by: {f.layer}")
            for related in f.related:
                click.echo(f"    rendered: {related}")
        click.echo(f"    fix: {f.fix}")
    run = result.hadolint
    if run is not None and verbose:
        click.echo(f"hadolint {run.version}: ran on the rendered Dockerfiles" if run.executable else "hadolint: not installed, skipped", err=True)
    for failure in run.failures if run else ():
        click.echo(f"warning: {failure}", err=True)
    if quiet:
        return
    counts = result.counts()
    parts = [f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n]
    verdict = "failed" if result.failed else "passed"
    click.echo(f"{spec}: {', '.join(parts) or 'no findings'}; {verdict} (fails on {result.fail_on} and above)", err=True)


def list_rules(output_format: str = "text") -> int:
    from dockergen.lint.rules import RULES

    if output_format != "text":
        rows = [
            {"id": r.id, "name": r.name, "severity": r.severity, "environments": sorted(r.kinds) if r.kinds else "all",
             "summary": r.summary, "why": r.why, "fix": r.fix}
            for r in RULES.values()
        ]  # fmt: skip
        click.echo(json.dumps(rows, indent=2))
        return 0
    from dockergen import terminal

    if terminal.styled():
        rows = [(r.id, r.name, r.severity, "staging/prod" if r.kinds else "all envs", r.summary) for r in RULES.values()]
        terminal.table(("rule", "name", "severity", "checks", "finds"), rows, colour_column=2)
        click.echo("hadolint/<code>: hadolint's findings on the rendered Dockerfiles, when hadolint is installed")
        return 0
    width = max(len(r.name) for r in RULES.values())
    for r in RULES.values():
        kinds = "staging/prod" if r.kinds else "all envs"
        click.echo(f"{r.id}  {r.name:<{width}}  {r.severity:<7}  {kinds:<12}  {r.summary}")
    click.echo("hadolint/<code>: hadolint's findings on the rendered Dockerfiles, when hadolint is installed")
    return 0
