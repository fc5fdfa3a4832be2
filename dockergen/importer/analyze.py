"""The import, end to end: a repository in, an ``ImportPlan`` (spec + decisions + findings) out.

The steps, in order: ``discover`` (which files), ``read`` (Dockerfiles, Compose files, env
and ignore files), ``environments`` (which ``-f`` chain is which environment), ``group``
(one service per logical service, one Dockerfile per image), ``factor`` (per-environment
settings into spec layers) and ``spec`` (the spec document); ``findings`` then reads the
plan for accidental inconsistencies. This module does the reading (files, the Compose CLI);
every decision is made by the pure modules it calls. A file it cannot read or understand is
recorded as a ``FileProblem`` and the import carries on without it.
"""

from __future__ import annotations

import os
import posixpath
import re
import time
from collections import Counter
from concurrent.futures import Future
from itertools import islice
from pathlib import Path
from typing import Any

from dockergen.containment import outside_reason
from dockergen.errors import DockergenError, Location, Problem
from dockergen.importer.discover import SKIP_DIRS, Inventory, discover
from dockergen.importer.environments.infer import EnvironmentSet, apply_given, infer, label
from dockergen.importer.environments.sources import command_files, compose_file_variable
from dockergen.importer.findings import detect
from dockergen.importer.group.builds import BuildUse, family_of, plan_builds
from dockergen.importer.group.services import EnvServices, env_words, group, sanitize
from dockergen.importer.plan import EnvPlan, ImportOptions, ImportPlan, RepoFacts
from dockergen.importer.read import compose_cli
from dockergen.importer.read.compose import (
    ComposeFile,
    ComposeFileError,
    Merged,
    default_dockerfile,
    dockerfile_path,
    from_cli_config,
    is_local_context,
    load_compose_file,
    looks_like_compose,
    merge_files,
    path_spellings,
    strip_markers,
)
from dockergen.importer.read.compose_cli import project_dir
from dockergen.importer.read.dockerfile import DockerfileError, ParsedDockerfile, parse_dockerfile
from dockergen.importer.read.envfile import documented_variables, project_dotenv, read_env_file
from dockergen.importer.read.extensions import carried_extensions, merge_extension
from dockergen.importer.read.interpolate import VAR, interpolate, interpolate_known
from dockergen.importer.records import FileProblem
from dockergen.importer.spec.assemble import SpecResult, build_spec
from dockergen.importer.spec.bare_up import bare_up
from dockergen.safe_read import read_text
from dockergen.spec.model import is_valid_name
from dockergen.text import is_number

PATH_KEYS = {"source": "bind", "context": "build context", "path": "env_file", "file": "file"}  # how a note names each
SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".ts", ".tsx", ".jsx", ".go", ".rb", ".php", ".java", ".kt", ".rs", ".cs", ".ex")


def analyze(
    root: Path, options: ImportOptions = ImportOptions(), memo: dict | None = None, finding: Future[tuple[str, ...] | None] | None = None
) -> ImportPlan:
    """``memo``: the Compose CLI's answers, kept across the attempts of one import; ``finding``:
    ``compose_cli.finding_compose()`` where the caller started it sooner (the import command
    does, before it loads its modules)."""
    started = time.monotonic()
    root = root.resolve()
    inventory = discover(root)
    problems = [FileProblem(path, why) for path, why in inventory.skipped]
    notes: list[str] = []
    finding = (finding or compose_cli.finding_compose()) if options.use_cli else None  # a process: it overlaps the reading below

    parsed: dict[str, ParsedDockerfile] = {}
    unparsed: dict[str, str] = {}
    for rel in inventory.dockerfiles:
        _read_dockerfile(root, rel, parsed, unparsed, problems)

    loaded: dict[str, ComposeFile] = {}
    for rel in inventory.compose_files:
        try:
            loaded[rel] = load_compose_file(root, rel)
        except ComposeFileError as exc:
            problems.append(FileProblem(rel, f"not a Compose file dockergen can read: {exc}"))
    bare = compose_file_variable(root)
    declared = command_files(root, inventory.command_files)
    named = {f for chain in [*declared, *([bare] if bare else [])] for f in chain.files}
    for rel in sorted((named | set(inventory.maybe_compose)) - set(loaded)):
        try:
            candidate = load_compose_file(root, rel)
        except ComposeFileError as exc:
            if rel in named:
                problems.append(FileProblem(rel, f"run with -f, but not a Compose file dockergen can read: {exc}"))
            continue
        if rel in named or looks_like_compose(candidate):
            loaded[rel] = candidate

    def accepts(files: tuple[str, ...]) -> bool:
        folder = project_dir(root, files)
        request = compose_cli.ConfigRequest(folder, tuple(root / f for f in files), interpolate=True, env_file=compose_cli.dotenv_for(root, folder))
        return compose_cli.run_configs([request], memo)[0].error is None

    cli = finding.result() if finding is not None else None
    inferred, infer_notes = infer(list(loaded.values()), declared, bare, accepts if cli else None)
    notes.extend(infer_notes)
    given_sets = dict(options.compose_sets)
    sets = apply_given(inferred, given_sets)
    for given in given_sets.values():
        for rel in given:
            if not (root / rel).is_file():
                problems.append(FileProblem(rel, "given with --compose-set but does not exist"))
    sets = [s for s in sets if all((root / f).is_file() for f in s.files)]

    effective, sets = _effective(root, sets, loaded, cli is not None, problems, memo)
    _interpolated_build_names(root, sets, effective, notes)
    _relative_variable_paths(root, sets, effective, notes)
    _inline_dockerfiles(root, effective, parsed, unparsed, problems)
    envs = _env_plans(root, sets, effective, notes)
    if not envs:
        if not parsed:
            why = [Problem(f"skipped: {p.what}", Location(p.path)) for p in problems]  # why each candidate was not read
            raise DockergenError([Problem("nothing to import: no Compose file and no Dockerfile dockergen can read",
                                          Location(str(root)), hint="point it at the repository's root folder"), *why])  # fmt: skip
        notes.append("no Compose environment found: the Dockerfiles are imported into a `dev` environment, "
                     "each image as a service that builds it")
        envs = [EnvPlan("dev", (), None, "dev", "docker", _project(root, []), "no Compose files")]
        effective = {"dev": Merged(envs[0].project, _dockerfile_services(root, parsed))}

    grouping = group(
        [
            EnvServices(
                e.name,
                env_words(e.name, [label(f) for f in e.files], e.kind),
                tuple(effective[e.name].services),
                {n: dockerfile_path(s["build"]) for n, s in effective[e.name].services.items() if s.get("build")},
            )
            for e in envs
        ]
    )
    uses = [
        BuildUse(
            e.name,
            grouping.canonical[(e.name, name)],
            dockerfile_path(s["build"]),
            s["build"].get("context", "."),
            s["build"].get("target"),
            tuple(sorted((k, v) for k, v in (s["build"].get("args") or {}).items() if v is not None)),
            s.get("image"),
        )
        for e in envs
        for name, s in effective[e.name].services.items()
        if s.get("build")
    ]
    picked = _picked_by_variable(uses, parsed, {e.name: project_dotenv(root, e.files) for e in envs})
    for use in uses:
        if use.dockerfile in parsed or use.dockerfile in unparsed:
            continue
        if not is_local_context(use.context):  # a Git URL or another image: its Dockerfile is elsewhere, and nothing is wrong with that
            unparsed[use.dockerfile] = "its build context is not a folder of this repository"
            continue
        if VAR.search(use.dockerfile):
            found = sorted(p for p, chooser in picked.items() if chooser == use.dockerfile)
            unparsed[use.dockerfile] = "a variable in its path picks the Dockerfile, so the build stays as it is and keeps picking"
            notes.append(f"{use.env}: {use.service}: builds {use.dockerfile}: a variable picks the Dockerfile (among "
                         f"{', '.join(found) or 'none found'}); the build stays as it is, so the variable keeps choosing")  # fmt: skip
            continue
        if (root / use.dockerfile).is_file():  # built under a name not taken for a Dockerfile's (.Dockerfile-test)
            _read_dockerfile(root, use.dockerfile, parsed, unparsed, problems)
            continue
        unparsed[use.dockerfile] = "missing"
        problems.append(FileProblem(use.dockerfile, f"built by {use.service} in {use.env} but not found"))
    # A file named like a Dockerfile that BuildKit cannot read and nothing builds is no image
    # (Dockerfile.notes); it is reported above, and no service is made for it.
    built = {u.dockerfile for u in uses}
    unparsed = {path: why for path, why in unparsed.items() if path in built}
    as_is = {service: f"its merged Dockerfile does not render ({why})" for (service, key), why in options.carried.items() if key == "build"}
    # The Dockerfiles a variable chooses among are built by that service, never an image of their own.
    builds = plan_builds(root, uses, {p: d for p, d in parsed.items() if p not in picked}, unparsed, as_is,
                         _serving_in_test(envs, effective))  # fmt: skip
    notes.extend(builds.notes)
    project = _project(root, envs)
    ignore = _ignore_patterns(root, inventory, uses, notes)
    result: SpecResult = build_spec(
        project,
        envs,
        effective,
        grouping,
        builds,
        parsed,
        ignore,
        documented_variables(root, inventory),
        {k: v for k, v in options.carried.items() if k[1] != "build"},
        options.left_out,
    )
    notes.extend(result.notes)
    up = bare_up(envs, inventory.compose_files)
    if up is not None:
        notes.append(up.note)
        if up.output:
            result.spec = _with_output(result.spec, up.output)
    plan = ImportPlan(
        root=root,
        inventory=inventory,
        environments=envs,
        effective=effective,
        dockerfiles=parsed,
        builds=builds,
        grouping=grouping,
        spec=result.spec,
        targets=result.targets,
        decisions=result.decisions,
        problems=problems,
        notes=notes,
        cli=" ".join(cli) if cli else None,
        facts=_facts(root, inventory, loaded, ignore),
        comments=result.comments,
    )
    plan.findings = detect(plan)
    plan.seconds = time.monotonic() - started
    return plan


def _dockerfile_services(root: Path, parsed: dict[str, ParsedDockerfile]) -> dict[str, dict[str, Any]]:
    """With no Compose file, each image (a family of Dockerfiles: ``api/Dockerfile`` and
    ``api/Dockerfile.dev``) is a service that builds its plainest file from its folder, as
    ``docker build api`` does, and ``dockergen compose dev up`` runs it: the Dockerfiles are
    all the project has. (Where Compose files exist, one they do not build is left as it is.)"""
    first: dict[tuple[str, str], str] = {}
    for path in sorted(parsed, key=lambda p: (len(p), p)):
        first.setdefault(family_of(path), path)
    services: dict[str, dict[str, Any]] = {}
    for (folder, stem), path in sorted(first.items()):
        base = sanitize(stem) if stem else sanitize(root.name)
        name, n = base, 2
        while name in services:
            name, n = f"{base}-{n}", n + 1
        services[name] = {"build": {"context": folder or ".", "dockerfile": posixpath.basename(path)}}
    return services


def _effective(
    root: Path, sets: list[EnvironmentSet], loaded: dict[str, ComposeFile], use_cli: bool, problems: list[FileProblem],
    memo: dict | None,
) -> tuple[dict[str, Merged], list[EnvironmentSet]]:
    """Each environment's effective project: the Compose CLI's, else dockergen's own merge."""
    fallback = {s.name: merge_files(root, list(s.files), dict(loaded)) for s in sets}

    def request(s: EnvironmentSet, interpolate: bool) -> compose_cli.ConfigRequest:
        folder = project_dir(root, s.files)
        return compose_cli.ConfigRequest(folder, tuple(root / f for f in s.files), interpolate=interpolate, project_name=s.project,
                                         env_file=compose_cli.dotenv_for(root, folder))  # fmt: skip

    # The interpolated config adds only the values Compose prints in Go's spelling: asked where the files hold one.
    spelled = [i for i, s in enumerate(sets) if _go_spelling(s.files, loaded)]
    answers = compose_cli.run_configs([*(request(s, False) for s in sets), *(request(sets[i], True) for i in spelled)], memo) if use_cli else []
    results, passed = answers[: len(sets)], dict(zip(spelled, answers[len(sets) :]))
    out: dict[str, Merged] = {}
    kept: list[EnvironmentSet] = []
    for index, s in enumerate(sets):
        own = fallback[s.name]
        result = results[index] if results else None
        merged = None
        if result is not None and result.config is not None:
            try:
                merged = from_cli_config(result.config, root, path_spellings(own, root, compose_cli.minimal_env()["HOME"]), project_dir(root, s.files))
                _restore_consistency(merged, own)
                _restore_passed_build_args(merged, own)
                _restore_ssh(merged, own)
                if index in passed and passed[index].config is not None:
                    _as_compose_passes(merged, passed[index].config)
                merged.name = s.project or _project_name(merged.name, own.name, root, s.files)
            except Exception as exc:  # noqa: BLE001 - an odd value must not stop the import
                problems.append(FileProblem(" + ".join(s.files), f"cannot read the Compose CLI's config: {type(exc).__name__}: {exc}"))
                merged = None
        if merged is None:
            if result is not None:
                problems.append(FileProblem(" + ".join(s.files), f"Compose CLI: {result.error}; using dockergen's own merge"))
            for problem in own.problems:
                problems.append(FileProblem(" + ".join(s.files), problem))
            merged = own
            merged.name = s.project or _project_name(own.name, own.name, root, s.files)
        merged.services = {k: strip_markers(v) for k, v in merged.services.items()}
        merged.extensions = _extensions(root, s.files, loaded, result.config if merged is not own and result else None)
        _unnamed_dockerfiles(root, merged, own)
        _interpolate_includes(root, s.files, loaded, merged)
        if not merged.services:
            problems.append(FileProblem(" + ".join(s.files), f"environment {s.name} has no services; left out"))
            continue
        out[s.name] = merged
        kept.append(s)
    return out, kept


def _go_spelling(files: tuple[str, ...], loaded: dict[str, ComposeFile]) -> bool:
    """Whether a file Compose reads for ``files`` (with what they include or extend) holds a
    plain scalar it prints in Go's spelling; yes where one of them was not read."""
    pending, seen = list(files), set()
    while pending:
        rel = pending.pop()
        if rel in seen:
            continue
        seen.add(rel)
        if rel not in loaded or loaded[rel].go_spelling:
            return True
        pending.extend((*loaded[rel].includes, *loaded[rel].extends_files))
    return False


def _extensions(root: Path, files: tuple[str, ...], loaded: dict[str, ComposeFile], config: dict[str, Any] | None) -> dict[str, Any]:
    """The chain's top-level ``x-`` fields to carry: from the Compose CLI's ``config``, else
    merged from the files as Compose merges them."""
    if config is None:
        config = {}
        for rel in files:
            for key, value in (loaded[rel].data.items() if rel in loaded else ()):
                if isinstance(key, str) and key.startswith("x-"):
                    config[key] = merge_extension(config[key], value) if key in config else value
        services = [s for rel in files if rel in loaded for s in loaded[rel].services.values()]
    else:
        services = list((config.get("services") or {}).values())
    return carried_extensions(root, files, config, services)


def _inline_dockerfiles(
    root: Path, effective: dict[str, Merged], parsed: dict[str, ParsedDockerfile], unparsed: dict[str, str], problems: list[FileProblem]
) -> None:
    """A build's ``dockerfile_inline`` becomes a Dockerfile of its own, read like the others:
    the context's ``Dockerfile`` where no file or build has that name (the spec then needs no
    ``dockerfile``), else ``<context>/<service>.Dockerfile`` (a free name beside the
    context's own files); the same path for the same text in every environment."""
    paths: dict[tuple[str, str], str] = {}  # (context, text) -> path
    built_from = {dockerfile_path(s["build"]) for m in effective.values() for s in m.services.values()
                  if isinstance(s.get("build"), dict) and not isinstance(s["build"].get("dockerfile_inline"), str)}  # fmt: skip
    for merged in effective.values():
        for name, service in merged.services.items():
            build = service.get("build")
            if not isinstance(build, dict) or not isinstance(build.get("dockerfile_inline"), str):
                continue
            text = build.pop("dockerfile_inline")
            context = build.get("context", ".")
            path = paths.get((context, text))
            if path is None:
                taken = set(paths.values()) | set(parsed) | set(unparsed) | built_from
                stem, suffix = sanitize(name), 1
                path = posixpath.normpath(posixpath.join(context, "Dockerfile"))
                if not is_local_context(context) or path in taken or (root / path).exists():
                    path = posixpath.normpath(posixpath.join(context, f"{stem}.Dockerfile"))
                while path in taken or (root / path).exists():
                    suffix += 1
                    path = posixpath.normpath(posixpath.join(context, f"{stem}-{suffix}.Dockerfile"))
                paths[(context, text)] = path
                try:
                    parsed[path] = parse_dockerfile(path, text)
                except Exception as exc:  # noqa: BLE001 - whatever the parser raises, the import carries on
                    unparsed[path] = str(exc)
                    problems.append(FileProblem(path, f"the inline Dockerfile of {name} is not one BuildKit can parse: {exc}"))
            build["dockerfile"] = posixpath.relpath(path, posixpath.normpath(context))


def _read_dockerfile(root: Path, rel: str, parsed: dict[str, ParsedDockerfile], unparsed: dict[str, str],
                     problems: list[FileProblem]) -> None:
    try:
        parsed[rel] = parse_dockerfile(rel, read_text(root / rel))
    except (DockerfileError, OSError, UnicodeDecodeError) as exc:
        unparsed[rel] = str(exc)
        problems.append(FileProblem(rel, f"not a Dockerfile BuildKit can parse: {exc}"))
    except Exception as exc:  # noqa: BLE001 - whatever the parser raises, the import carries on
        unparsed[rel] = f"{type(exc).__name__}: {exc}"
        problems.append(FileProblem(rel, f"the Dockerfile parser failed: {type(exc).__name__}: {exc}"))


def _serving_in_test(envs: list[EnvPlan], effective: dict[str, Merged]) -> frozenset[str]:
    """Dockerfiles a test environment builds for a service that serves there: one with
    published ports or a probe, or that others wait for (not a suite that runs and exits)."""
    out: set[str] = set()
    for env in envs:
        if env.kind != "test":
            continue
        services = effective[env.name].services
        waited = {dep for s in services.values() for dep in (s.get("depends_on") or {})}
        for name, service in services.items():
            if service.get("build") and (service.get("ports") or service.get("healthcheck") or name in waited):
                out.add(dockerfile_path(service["build"]))
    return frozenset(out)


def _picked_by_variable(uses: list[BuildUse], parsed: dict[str, ParsedDockerfile], values: dict[str, dict[str, str]]) -> dict[str, str]:
    """Dockerfiles a build path with a variable may name (``bin/${PHPVERSION}/Dockerfile``
    matches ``bin/php8/Dockerfile``, and ``bin/php7/Containerfile`` where that folder has no
    Dockerfile: what a build naming none builds there; ``docker/${APP_DIR}/Dockerfile`` names
    ``app/Dockerfile`` where the environment's ``.env`` sets ``APP_DIR=../app``), each with that
    path; those some service builds by name are not among them. ``values``: each environment's ``.env``."""
    named = {u.dockerfile for u in uses}
    out: dict[str, str] = {}
    for use in sorted((u for u in uses if VAR.search(u.dockerfile)), key=lambda u: (u.dockerfile, u.env)):
        chooser = use.dockerfile
        folder, name = posixpath.split(chooser)
        spellings = [chooser, posixpath.join(folder, "Containerfile")] if name == "Dockerfile" else [chooser]
        patterns = [re.compile("[^/]+".join(re.escape(part) for part in VAR.split(s)[:: VAR.groups + 1])) for s in spellings]
        now = posixpath.normpath(interpolate(chooser, values.get(use.env, {})))
        for path in parsed:
            if path in named or path in out:
                continue
            if path == now or patterns[0].fullmatch(path) or (
                len(patterns) > 1 and patterns[1].fullmatch(path) and posixpath.join(posixpath.dirname(path), "Dockerfile") not in parsed
            ):
                out[path] = chooser
    return out


def _interpolate_includes(root: Path, files: tuple[str, ...], loaded: dict[str, ComposeFile], merged: Merged) -> None:
    """An included file is interpolated with its own .env (the include's ``env_file``, else
    its project directory's), the rendered files with the root's: its services' variables that
    the two set differently are written with the values the include gives them."""
    outer = project_dotenv(root, files)
    pending = [inc for f in files if f in loaded for inc in loaded[f].include_env_files]
    seen: set[str] = set()
    while pending:
        included, env_files = pending.pop(0)
        if included in seen or included not in loaded:
            continue
        seen.add(included)
        values: dict[str, str] = {}
        for env_file in env_files:
            values.update(read_env_file(root, env_file))
        differing = {k: v for k, v in values.items() if outer.get(k) != v}
        for name in loaded[included].services if differing else ():
            if name in merged.services:
                merged.services[name] = _substituted(merged.services[name], differing)
        pending.extend(loaded[included].include_env_files)


def _substituted(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return interpolate_known(value, values)
    if isinstance(value, dict):
        return {k: _substituted(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_substituted(v, values) for v in value]
    return value


def _unnamed_dockerfiles(root: Path, merged: Merged, own: Merged) -> None:
    """A build the files name no Dockerfile for (the CLI's config says ``Dockerfile`` for all):
    a context with only a Containerfile builds that one; a context a variable picks keeps
    naming none, so that each folder's own file is built as before."""
    for name, service in merged.services.items():
        build = service.get("build")
        written = (own.services.get(name) or {}).get("build")
        if not isinstance(build, dict) or build.get("dockerfile") not in (None, "Dockerfile") or (written or {}).get("dockerfile"):
            continue
        context = str(build.get("context", "."))
        if "$" in context:
            build.pop("dockerfile", None)
        elif is_local_context(context) and default_dockerfile(root / context) != "Dockerfile":
            build["dockerfile"] = default_dockerfile(root / context)


# A build context that is one variable with a folder as its default: `${APP_CONTEXT:-./app}`.
_DEFAULTED_CONTEXT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?-(\.{1,2}(?:/[^${}]*)?)\}")


def _interpolated_build_names(root: Path, sets: list[EnvironmentSet], effective: dict[str, Merged], notes: list[str]) -> None:
    """A build ``target``/``dockerfile`` written with ``${VAR}`` names a stage or a file only
    once interpolated: read it as each environment runs it (its project's ``.env``), and say so.
    So does a ``context`` that is one variable the ``.env`` leaves unset, with a folder as its
    default (a hook for another checkout's path): that folder is what every run builds."""
    for s in sets:
        values = project_dotenv(root, s.files)
        for name, service in effective[s.name].services.items():
            build = service.get("build")
            context = build.get("context") if isinstance(build, dict) else None
            defaulted = _DEFAULTED_CONTEXT.fullmatch(context) if isinstance(context, str) else None
            if defaulted and defaulted.group(1) not in values and (root / defaulted.group(2)).is_dir():
                build["context"] = defaulted.group(2)
                notes.append(f"{s.name}: {name}: build context {context} is {defaulted.group(2)} as this environment runs it "
                             f"(its .env leaves {defaulted.group(1)} unset); the spec names the folder")  # fmt: skip
            for key in ("target", "dockerfile"):
                raw = build.get(key) if isinstance(build, dict) else None
                if not isinstance(raw, str) or "$" not in raw:
                    continue
                value = interpolate(raw, values)
                if value:
                    build[key] = value
                else:
                    del build[key]  # Compose builds the last stage / ./Dockerfile for an empty one
                notes.append(f"{s.name}: {name}: build {key} {raw} is {value or '(empty)'} as this environment runs it; "
                             f"the spec names it (set `{key}` per environment to pick another)")  # fmt: skip


def _relative_variable_paths(root: Path, sets: list[EnvironmentSet], effective: dict[str, Merged], notes: list[str]) -> None:
    """A path written with a variable (``${UPLOAD_LOCATION}``, ``context: ${APP_DIR}``) in Compose
    files in a subfolder: Compose resolves the value the subfolder's ``.env`` gives from that
    folder, the rendered files (at the root, with that ``.env``) resolve the spelling the import
    wrote. Where the two differ (a relative bind source, which stays a variable; an absolute value
    under the folder prefix the import put before the variable), the value is written out, spelled
    from the root, and the note says so. Where they agree the variable stays (it keeps choosing)."""
    for s in sets:
        folder = posixpath.dirname(s.files[0]) if s.files else ""
        if not folder:
            continue
        values = project_dotenv(root, s.files)
        merged = effective[s.name]
        for owner, holder, key in _variable_paths(merged):
            spelled = holder[key]
            raw = spelled[len(f"./{folder}/"):] if spelled.startswith(f"./{folder}/$") else spelled
            value = interpolate(raw, values)
            if value == interpolate(raw, {}) or not value.startswith((".", "/")):
                continue  # the .env sets nothing (a written default is re-spelled when read), or a named volume
            meant = _host_path(folder, value)
            if meant == _host_path(".", interpolate(spelled, values)):
                continue
            holder[key] = value if value.startswith("/") else "./" + meant
            if key == "source":
                holder["type"] = "bind"
            notes.append(f"{s.name}: {owner}: {PATH_KEYS[key]} {raw} is {value} in {folder}/.env, a path from {folder}/: "
                         f"written as {holder[key]} (the rendered files are at the root)")


def _variable_paths(merged: Merged) -> list[tuple[str, dict[str, Any], str]]:
    """(whose, the mapping, its key) of every host path of ``merged`` that starts with a variable
    (after the project folder the import spells relative paths from)."""
    out: list[tuple[str, dict[str, Any], str]] = []
    for name, service in merged.services.items():
        for volume in service.get("volumes") or []:
            if volume.get("type") in ("bind", "volume"):  # a volume to the uninterpolated config, a bind once `./`
                out.append((name, volume, "source"))
        build = service.get("build")
        if isinstance(build, dict):
            out.append((name, build, "context"))
        out.extend((name, item, "path") for item in service.get("env_file") or [] if isinstance(item, dict))
    for kind in ("secrets", "configs"):
        out.extend((f"{kind} {name}", entry, "file") for name, entry in (merged.top.get(kind) or {}).items() if isinstance(entry, dict))
    return [(owner, holder, key) for owner, holder, key in out if isinstance(holder.get(key), str) and "$" in holder[key]]


def _host_path(base: str, value: str) -> str:
    """The host path ``value`` means, read from ``base`` (root-relative, or absolute)."""
    return posixpath.normpath(value if value.startswith("/") else posixpath.join(base, value))


def _project_name(cli: str | None, own: str | None, root: Path, files: tuple[str, ...]) -> str | None:
    """The CLI's project name, except where the files' ``name:`` interpolates a variable: the
    CLI was asked not to interpolate, so that one is read with the project's ``.env``."""
    if own is None or "$" not in own:
        return cli
    values = project_dotenv(root, files)
    return re.sub(r"[^a-z0-9_-]", "", interpolate(own, values).lower()) or cli


def _restore_consistency(cli: Merged, own: Merged) -> None:
    """``config`` drops the bind-mount consistency option (``:cached``); take it from the files."""
    for name, service in cli.services.items():
        mine = {v.get("target"): v for v in own.services.get(name, {}).get("volumes", [])}
        for volume in service.get("volumes", []):
            theirs = mine.get(volume.get("target"))
            if theirs and theirs.get("consistency") and theirs.get("source") == volume.get("source"):
                volume["consistency"] = theirs["consistency"]


# The text fields where Compose hands the container (or the build) a string made of a YAML
# value: an unquoted date or float there reaches it as Go prints one (`2024-05-01 00:00:00
# +0000 UTC`, `1e+20`), which only an interpolated config shows (`--no-interpolate` gives
# its JSON form, `2024-05-01T00:00:00Z`).
PASSED_AS_TEXT = (("environment",), ("labels",), ("annotations",), ("deploy", "labels"), ("build", "args"), ("build", "labels"))


def _as_compose_passes(cli: Merged, interpolated: dict[str, Any]) -> None:
    """Each value of a text field as Compose passes it, where no variable is in it (so the
    interpolated config, read without the user's shell, is the same wherever it runs)."""
    theirs = interpolated.get("services") or {}
    for name, service in cli.services.items():
        for path in PASSED_AS_TEXT:
            mine, passed = service, theirs.get(name) or {}
            for key in path:
                mine = mine.get(key) if isinstance(mine, dict) else None
                passed = passed.get(key) if isinstance(passed, dict) else None
            if not isinstance(mine, dict) or not isinstance(passed, dict):
                continue
            for key, value in mine.items():
                text = passed.get(key)
                if isinstance(value, str) and "$" not in value and isinstance(text, str) and text != value:
                    mine[key] = text


def _restore_ssh(cli: Merged, own: Merged) -> None:
    """``config --no-interpolate`` joins a build's ``ssh`` socket or key path to the project
    folder before any variable in it is read (``default=${SSH_AUTH_SOCK}`` becomes
    ``/home/me/proj/${SSH_AUTH_SOCK}``); take it from the files, as they spell it."""
    for name, service in cli.services.items():
        build, mine = service.get("build"), own.services.get(name, {}).get("build")
        if isinstance(build, dict) and isinstance(mine, dict) and "ssh" in build and "ssh" in mine:
            build["ssh"] = mine["ssh"]


def _restore_passed_build_args(cli: Merged, own: Merged) -> None:
    """``config --no-interpolate`` drops a build argument given without a value (``args:
    [SENTRY_IMAGE]``: Compose passes the variable's value from the environment or ``.env``);
    take it from the files, still without a value (the spec's ``pass_build_args``)."""
    for name, service in cli.services.items():
        build, mine = service.get("build"), own.services.get(name, {}).get("build")
        if not isinstance(build, dict) or not isinstance(mine, dict) or not isinstance(mine.get("args"), dict):
            continue
        passed = {k: None for k, v in mine["args"].items() if v is None and k not in (build.get("args") or {})}
        if passed:
            build["args"] = {**(build.get("args") or {}), **passed}


def _env_plans(root: Path, sets: list[EnvironmentSet], effective: dict[str, Merged], notes: list[str]) -> list[EnvPlan]:
    plans: dict[str, EnvPlan] = {}
    ordered = _ordered(sets)
    for s in ordered:
        merged = effective[s.name]
        parent = plans.get(s.parent) if s.parent else None
        kind = s.kind or (parent.kind if parent else None) or ("dev" if _mounts_source(root, merged) else "prod")
        engine = s.engine
        if engine == "podman":
            blockers = _podman_blockers(merged)
            if blockers:
                engine = "docker"
                notes.append(f"{s.name}: named podman, but rendered as engine docker: {blockers}")
        name = s.name if is_valid_name(s.name) else f"env-{s.name}"
        folder = posixpath.dirname(s.files[0]) if s.files else ""
        env_file = posixpath.join(folder, ".env") if folder and (root / folder / ".env").is_file() else None
        env_file = None if env_file and outside_reason(root, env_file) else env_file
        # A name no spec can hold (one still interpolated, say) becomes the folder's; verify shows the change.
        project = merged.name if merged.name and is_valid_name(merged.name) else _project(root, [])
        plans[s.name] = EnvPlan(name, s.files, s.parent if s.parent in plans else None, kind, engine, project, s.why, s.project, env_file)
    return list(plans.values())


def _ordered(sets: list[EnvironmentSet]) -> list[EnvironmentSet]:
    """Parents before children; otherwise environments by kind (dev, test, staging, prod), then name."""
    rank = {"dev": 0, "test": 1, "staging": 2, "prod": 3, None: 4}
    roots = sorted((s for s in sets if s.parent is None), key=lambda s: (rank.get(s.kind, 4), s.name))
    out: list[EnvironmentSet] = []

    def visit(s: EnvironmentSet) -> None:
        out.append(s)
        for child in sorted((c for c in sets if c.parent == s.name), key=lambda c: c.name):
            visit(child)

    for s in roots:
        visit(s)
    for s in sets:
        if s not in out:
            out.append(s)
    return out


def _mounts_source(root: Path, merged: Merged) -> bool:
    """A bind mount of a folder with source code in it: a development environment."""
    for service in merged.services.values():
        for volume in service.get("volumes", []):
            source = volume.get("source", "")
            if volume.get("type") != "bind" or "$" in source:
                continue
            folder = root / source
            if folder.is_dir() and any(p.suffix in SOURCE_SUFFIXES for p in islice(folder.rglob("*"), 2000)):
                return True
    return False


def _podman_blockers(merged: Merged) -> str:
    """What dockergen's podman engine would change in this environment (so it is not used)."""
    unlabelled = sorted(
        {f"{n}: {v.get('source')}" for n, s in merged.services.items() for v in s.get("volumes", [])
         if v.get("type") == "bind" and not v.get("selinux")}  # fmt: skip
    )
    low = sorted(
        {f"{n}: {p.get('published')}" for n, s in merged.services.items() for p in s.get("ports", [])
         if is_number(str(p.get("published", ""))) and int(p["published"]) < 1024}  # fmt: skip
    )
    built = sorted(n for n, s in merged.services.items() if s.get("build") and not str(s.get("image", "")).startswith("localhost/"))
    parts = []
    if built:
        parts.append("built images it would name localhost/... (" + ", ".join(built[:4]) + ")")
    if unlabelled:
        parts.append("bind mounts without an SELinux label, which it would add (" + ", ".join(unlabelled[:4]) + ")")
    if low:
        parts.append("host ports below 1024, which it would shift (" + ", ".join(low[:4]) + ")")
    return "; ".join(parts)


def _project(root: Path, envs: list[EnvPlan]) -> str:
    names = Counter(e.project for e in envs)
    if names:
        best = sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        if is_valid_name(best):
            return best
    fallback = re.sub(r"[^a-z0-9_-]", "", root.name.lower())
    fallback = re.sub(r"^[^a-z]+", "", fallback)
    return fallback or "project"


def _ignore_patterns(root: Path, inventory: Inventory, uses: list[BuildUse], notes: list[str]) -> dict[str, list[str]]:
    """Each build context's ignore patterns, from the file its builds read: ``.dockerignore``;
    podman's ``.containerignore`` where there is none; BuildKit's ``<Dockerfile>.dockerignore``,
    which replaces the context's file for that Dockerfile, where no other Dockerfile builds there."""
    files = set(inventory.dockerignores)
    out: dict[str, list[str]] = {}
    for rel in sorted(files):
        name, folder = posixpath.basename(rel), posixpath.normpath(posixpath.dirname(rel) or ".")
        if name == ".containerignore" and posixpath.join(posixpath.dirname(rel), ".dockerignore") in files:
            continue
        dockerfile = rel[: -len(".dockerignore")] if name not in (".dockerignore", ".containerignore") else None
        if dockerfile is not None:
            contexts = {posixpath.normpath(u.context) for u in uses if u.dockerfile == dockerfile}
            if len(contexts) != 1:
                continue
            folder = contexts.pop()
            if {u.dockerfile for u in uses if posixpath.normpath(u.context) == folder} != {dockerfile}:
                notes.append(f"{rel}: Docker reads it for {dockerfile} instead of {folder}/.dockerignore, but other Dockerfiles build "
                             f"from {folder} and dockergen writes one .dockerignore per context: not in the spec (keep the file)")  # fmt: skip
                continue
        patterns = _patterns(root / rel)
        if patterns is None:
            continue
        out[folder] = patterns
        if name != ".dockerignore":
            notes.append(f"{rel}: its patterns are the spec's build `ignore` for {folder}; delete it after `dockergen render --force` "
                         "(the builds read it before the generated .dockerignore)")  # fmt: skip
    return out


def _patterns(path: Path) -> list[str] | None:
    """An ignore file's patterns as BuildKit reads them: a byte order mark dropped, lines
    ended by ``\n`` alone (``\r\n`` too; a U+2028 or a lone ``\r`` is inside its line), a line
    with ``#`` in its first column a comment, blanks around the others trimmed. An indented
    ``  #x`` is the pattern ``#x``: written ``/#x`` (BuildKit drops the leading ``/``), as a
    spec line may not start with ``#``."""
    try:
        lines = [line.removesuffix("\r") for line in read_text(path).removeprefix("\ufeff").split("\n")]
    except (OSError, UnicodeDecodeError):
        return None
    patterns = [line.strip() for line in lines if not line.startswith("#") and line.strip()]
    return ["/" + p if p.startswith("#") else p for p in patterns]


def _with_output(spec: dict[str, Any], output: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with its ``output`` block after the project's name, where a reader looks first."""
    out: dict[str, Any] = {}
    for key, value in spec.items():
        out[key] = value
        if key == "project":
            out["output"] = output
    return out if "output" in out else {"output": output, **spec}


def _facts(root: Path, inventory: Inventory, loaded: dict[str, ComposeFile], ignore: dict[str, list[str]]) -> RepoFacts:
    env_files = {posixpath.normpath(p): read_env_file(root, p) for p in inventory.env_files}
    requirements = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith("requirements") and name.endswith(".txt") and not outside_reason(root, path.relative_to(root).as_posix()):
                try:
                    requirements[path.relative_to(root).as_posix()] = read_text(path)
                except (OSError, UnicodeDecodeError):
                    continue
    example_path = next((p for p in inventory.env_files if posixpath.basename(p) in (".env.example", ".env.sample", ".env.template")), None)
    used: set[str] = set()
    for rel in loaded:
        try:
            text = read_text(root / rel)
        except (OSError, UnicodeDecodeError):
            continue
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue
            used.update(m.group(1) or m.group(4) for m in VAR.finditer(line) if m.group(0) != "$$")
    return RepoFacts(
        dotenv=env_files.get(".env", {}),
        env_files=env_files,
        requirements=requirements,
        compose_files=dict(loaded),
        env_example=env_files.get(posixpath.normpath(example_path)) if example_path else None,
        env_example_path=example_path or ".env.example",
        interpolated=tuple(sorted(used)),
        dockerignores=frozenset(posixpath.normpath(posixpath.dirname(p) or ".") for p in inventory.dockerignores
                                if posixpath.basename(p) == ".dockerignore"),  # fmt: skip
        ignore_patterns={k: tuple(v) for k, v in ignore.items()},
    )
