"""``dockergen import``: a repository's Dockerfiles and Compose files -> one spec + a report."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import Future
from pathlib import Path

import click

from dockergen.commands.init import SCHEMA_NAME, schema_reference
from dockergen.containment import refuse_write_targets
from dockergen.errors import DockergenError, Location
from dockergen.importer.analyze import analyze
from dockergen.importer.plan import ImportOptions, ImportPlan
from dockergen.importer.report import Report, build_report, markdown, terminal
from dockergen.importer.spec.fallback import next_options
from dockergen.importer.spec.text import spec_text
from dockergen.importer.verify.run import VerifyResult, summary_line, verify
from dockergen.pipeline import Rendered, render
from dockergen.spec.model import NAME
from dockergen.terminal import progress
from dockergen.text import forbidden_character, visible

def parse_compose_sets(values: list[str]) -> dict[str, tuple[str, ...]]:
    """``ENV=FILE[,FILE...]`` (``ENV=`` drops an inferred environment)."""
    out: dict[str, tuple[str, ...]] = {}
    for value in values:
        name, sep, files = value.partition("=")
        if not sep or not name.strip():
            raise DockergenError.single(f"--compose-set '{visible(value)}': expected ENV=FILE[,FILE...]", location=Location("command line"))
        if not re.fullmatch(NAME, name.strip()) or len(name.strip()) > 63:
            # Else the spec written has an environment no render accepts.
            raise DockergenError.single(
                f"--compose-set '{visible(value)}': '{visible(name.strip())}' is not an environment name",
                location=Location("command line"),
                hint="name it with lowercase letters, digits, '-' and '_', starting with a letter, at most 63 characters: prod=compose.yaml,compose.prod.yaml",
            )
        out[name.strip()] = tuple(f.strip() for f in files.split(",") if f.strip())
    return out


def import_(
    path: Path,
    *,
    compose_sets: list[str],
    out: Path | None,
    report: Path | None,
    run_verify: bool,
    force: bool,
    use_cli: bool,
    verbose: bool,
    schema: str | None = None,
    schema_file: bool = False,
    finding: Future[tuple[str, ...] | None] | None = None,
) -> int:
    """``finding``: the search for the Compose CLI, where the caller started it (``analyze``'s)."""
    if not path.is_dir():
        raise DockergenError.single("not a directory", location=Location(str(path)), hint="give the repository's root folder")
    if out is not None and str(out) == "-":
        # The spec is rendered from where it is written (its build contexts are relative to it).
        raise DockergenError.single(
            "--out - (standard output) is not supported: the spec is written, then rendered from its place",
            location=Location(str(path)),
            hint="give a file path, e.g. --out /tmp/dockergen.yaml, and `cat` it",
        )
    _refuse_names(("--out", out), ("--report", report))
    refuse_write_targets(("--out", out), ("--report", report))
    schema_ref = schema_reference(schema, schema_file)
    spec_path = out if out is not None else path / "dockergen.yaml"
    if spec_path.exists() and not force:
        raise DockergenError.single(
            "the spec already exists", location=Location(str(spec_path)), hint="pass --force to replace it, or --out another path"
        )
    with progress(f"reading the Dockerfiles and Compose files in {path}") as step:
        options = ImportOptions(parse_compose_sets(compose_sets), use_cli)
        memo: dict = {}
        while True:
            plan = analyze(path, options, memo, finding)
            _refuse_inputs(plan, spec_path, report)
            text = spec_text(plan, schema_ref).encode("utf-8")
            step.update(f"rendering {spec_path}")
            try:
                rendered = render(spec_path, raw=text)  # in memory: nothing is written unless it renders
                break
            except DockergenError as exc:
                # What a field refuses goes to the escape hatch, then out: each round moves at least one key.
                further = next_options(options, exc.problems)
                if further is None:
                    for problem in exc.problems:
                        click.echo(problem.render(), err=True)
                    click.echo(f"the spec for {spec_path} does not render (nothing written): a bug in dockergen import, please report it", err=True)
                    return 3
                options = further
        step.update("verifying every environment against the originals (Compose config, BuildKit's parser)")
        verification = verify(plan, rendered, memo=memo) if run_verify else None
    built = build_report(plan, str(spec_path), dict(Counter(f.kind for f in rendered.files)), verification)
    outputs = {spec_path: text, **({report: markdown(built).encode("utf-8")} if report is not None else {})}
    if schema_file:
        from dockergen.commands.schema import schema_text

        outputs[spec_path.parent / SCHEMA_NAME] = schema_text().encode("utf-8")
    _write(outputs)
    show(built, verbose)
    if report is not None:
        click.echo(f"report written to {report}")
    click.echo(f"spec written to {spec_path}")
    return _exit(verification)


def _refuse_names(*options: tuple[str, Path | None]) -> None:
    """A file dockergen writes gets no name that a line break or an invisible character
    would split or disguise wherever it is listed (the report, git, a terminal)."""
    for option, path in options:
        bad = forbidden_character(str(path)) if path is not None else None
        if bad is not None:
            raise DockergenError.single(
                f"{option} {visible(str(path))}: a file name may not contain {bad}", location=Location("command line"),
                hint="give a file name of visible characters",
            )  # fmt: skip


def _refuse_inputs(plan: ImportPlan, spec_path: Path, report: Path | None) -> None:
    """The spec and the report never replace a file the import reads, nor each other."""
    inv = plan.inventory
    inputs = {(plan.root / rel).resolve(): rel for rel in (*inv.dockerfiles, *inv.compose_files, *inv.env_files, *inv.dockerignores)}
    for option, path in (("--out", spec_path), ("--report", report)):
        if path is not None and path.resolve() in inputs:
            raise DockergenError.single(
                f"{option} names {inputs[path.resolve()]}, a file the import reads", location=Location(str(path)),
                hint="write the spec and the report somewhere else",
            )  # fmt: skip
    if report is not None and report.resolve() == spec_path.resolve():
        raise DockergenError.single("--report and the spec are the same file", location=Location(str(report)), hint="give --report another path")


def _write(outputs: dict[Path, bytes]) -> None:
    """One transaction, under the folder the outputs share."""
    from os.path import commonpath

    from dockergen.write import commit

    absolute = {path.parent.resolve() / path.name: data for path, data in outputs.items()}
    root = Path(commonpath([str(p.parent) for p in absolute]))
    commit(root, {p.relative_to(root).as_posix(): data for p, data in absolute.items()})


def show(built: Report, verbose: bool) -> None:
    """The report as tables with colour on a terminal, as aligned text otherwise."""
    from dockergen import terminal as term

    if not term.styled():
        click.echo(terminal(built, verbose), nl=False)
        return
    click.echo(click.style(visible(built.title), bold=True) + "\n\n" + "\n".join(f"  {visible(s)}" for s in built.summary))
    for section in built.sections:
        click.echo()
        if section.rows:
            term.table(section.header, section.rows, title=section.title)
        else:
            click.echo(f"{section.title}\n  (none)")


def _exit(verification: VerifyResult | None) -> int:
    return 1 if verification is not None and verification.unexplained else 0


def _taken_over(plan: ImportPlan, rendered: Rendered) -> tuple[str, ...]:
    """The files the spec renders that stand where the originals are looked for: after
    ``render --force`` replaced an original in place, the environments read without it are
    not the originals' any more, and the differences say so, not that the spec is wrong."""
    out = rendered.loaded.path.resolve().parent
    mine = {(out / f.path).resolve() for f in rendered.files}
    generated = [path for path, why in plan.inventory.skipped if why.startswith("generated by dockergen") and (plan.root / path).resolve() in mine]
    if not generated:
        return ()
    return (
        f"not originals: {', '.join(sorted(generated))} (this spec's own render; where `render --force` replaced an original, "
        f"the environments above miss it: verify against a checkout of the commit that has the originals, in a folder of the "
        f"same name (Compose names the project after it): `git worktree add ../originals/{plan.root.resolve().name} <commit>`)",
    )


def verify_against(
    spec: Path, against: Path, *, compose_sets: list[str], envs: list[str], report: Path | None, use_cli: bool, verbose: bool
) -> int:
    """``dockergen verify --against PATH``: the spec against the original files in PATH."""
    if not against.is_dir():
        raise DockergenError.single("not a directory", location=Location(str(against)))
    with progress(f"reading the original files in {against}") as step:
        plan = analyze(against, ImportOptions(parse_compose_sets(compose_sets), use_cli))
        step.update(f"rendering {spec}")
        rendered: Rendered = render(spec)
    unknown = [e for e in envs if e not in {p.name for p in plan.environments}]
    if unknown:
        raise DockergenError.single(
            f"unknown environment(s): {', '.join(unknown)}",
            location=Location(str(against)),
            hint=f"found: {', '.join(p.name for p in plan.environments)}",
        )
    with progress("comparing every environment (Compose config, BuildKit's parser)"):
        verification = verify(plan, rendered, envs or None)
    built = build_report(plan, str(spec), dict(Counter(f.kind for f in rendered.files)), verification)
    summary = (
        f"spec: {spec}; originals: {against} ({len(plan.environments)} environments: "
        + ", ".join(f"{e.name} = {' + '.join(e.files)}" for e in plan.environments if not envs or e.name in envs) + ")",
        *_taken_over(plan, rendered),
        summary_line(verification),
    )
    verify_only = type(built)(f"dockergen verify: {spec} against {against}", summary,
                              tuple(s for s in built.sections if s.title == "Verification"))  # fmt: skip
    show(verify_only, verbose)
    if report is not None:
        _refuse_names(("--report", report))
        refuse_write_targets(("--report", report))
        _refuse_inputs(plan, spec, report)
        _write({report: markdown(built).encode("utf-8")})
        click.echo(f"report written to {report}")
    return _exit(verification)
