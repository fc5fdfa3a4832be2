"""Checks that need the whole resolved project, beyond what the model's types say.

Each returns ``Problem``s located at the spec value responsible (errors stop the run;
warnings are reported and rendering goes on). Kept apart from ``resolve`` so that
resolution stays a pure layering step.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from pathlib import Path
from typing import Any

from dockergen import durations, manifests
from dockergen.containment import Resolver, outside_reason, same_file_key
from dockergen.disk_checks import Check, has_code, manifest_state, not_a_folder, target, tests_left_out
from dockergen.errors import Problem, format_path
from dockergen.fingerprint import GITATTRIBUTES, LOCK_NAME
from dockergen.features import declaration_for, supported
from dockergen.ignore_match import ignored
from dockergen.render.compose import Documents
from dockergen.render.dockerfile import python_stage_command
from dockergen.render.support import interpolated_texts, interpolation_error, is_literal, references
from dockergen.sensitive import looks_secret
from dockergen.resolve import ResolvedEnvironment, ResolvedProject, setter_path
from dockergen.spec.load import SourceMap
from dockergen.spec.model import ARG_NAME, Build, Python
from dockergen.text import is_number

PathT = tuple[str | int, ...]
Finding = tuple  # (path, message, hint[, severity[, same]]): a per-environment finding before grouping;
# findings with one ``same`` key are one problem whose message differs by environment


def check_project(
    project: ResolvedProject, documents: Documents, source: SourceMap, spec_dir: Path, data: dict[str, Any] | None = None,
    checks: list[Check] | None = None, texts: dict[str, list[str]] | None = None,
) -> list[Problem]:  # fmt: skip
    """``data``: the spec data the project was resolved from (default the whole file; the
    part left when other problems set some aside, so that those are not reported twice).
    ``checks`` receives every check that read the project's files (``disk_checks``), for
    the lock. ``texts``: the documents' ``interpolated_texts``, when already walked."""
    data = (source.data or {}) if data is None else data
    checks = [] if checks is None else checks
    problems: list[Problem] = []
    named = named_paths(data)  # both checks read them: walked once (a block per service x environment)
    resolve = Resolver()  # and resolve their folders once: a 1,000-service spec names ~1,500 paths in a few hundred folders
    problems += _paths(project, source, spec_dir, named, checks, resolve)
    problems += _outputs_over_inputs(project, source, spec_dir, named, checks, resolve)
    problems += _secrets(project, source)
    problems += _passed_through(project, source)
    problems += _nulls_removing_nothing(source, data)
    problems += _manifests(project, source, spec_dir, checks)
    problems += _test_stages(project, source, spec_dir, checks)
    problems += _interpolations(project, interpolated_texts(documents) if texts is None else texts, source)
    problems += _bake_literal_names(project, source)
    # One problem per finding however many environments have it; a finding that differs
    # only in its details per environment (a clash the podman port shift moves) is one too.
    per_env: dict[tuple[Any, ...], dict[str, list[str]]] = {}
    hints: dict[tuple[Any, ...], tuple[PathT, str | None, str]] = {}
    for env in project.environments.values():
        for finding in [
            *_dependency_cycles(env, source),
            *_healthy_without_healthcheck(env, source),
            *_ports(documents[env.info.name], env, source),
            *_compose_features(documents[env.info.name], env, project, source),
            *_graceful_shutdown(env, source),
            *_nothing_runs(env, project.spec.templates is not None, source),
        ]:
            path, message, hint, severity, same = (*finding, *("error", None)[len(finding) - 3 :])
            key = (path, same or message, hint, severity)
            hints[key] = (path, hint, severity)
            per_env.setdefault(key, {}).setdefault(message, []).append(env.info.name)
    everywhere = list(project.environments)
    for key, variants in per_env.items():
        path, hint, severity = hints[key]
        (message, envs), *others = sorted(variants.items(), key=lambda item: -len(item[1]))
        where = [] if envs == everywhere and not others else [f"in {', '.join(envs)}"]
        where += [f"{', '.join(e)}: {m}" for m, e in others]
        problems.append(_at(source, path, message + (f" ({'; '.join(where)})" if where else ""), hint, severity))
    seen: dict[str, Problem] = {}
    for problem in problems:
        seen.setdefault(problem.render(), problem)
    return sorted(seen.values(), key=lambda p: (p.location.line or 0, p.location.column or 0) if p.location else (0, 0))


def _compose_features(doc: dict[str, Any], env: ResolvedEnvironment, project: ResolvedProject, source: SourceMap) -> list[Finding]:
    """Service settings Compose reads only in some releases, or only with a declaration."""
    out: list[Finding] = []
    declared = doc.get("configs") or {}
    networks = doc.get("networks") or {}
    for name, service in env.services.items():
        if service.test_of is not None:
            continue  # a copy of a service checked under its own name
        s = service.settings
        if any(not isinstance(f, str) and f.required is False for f in s.env_file or []) and not supported("env_file_required", project.engines):
            path = setter_path(source, env.info, name, "env_file") or ("services", name)
            out.append((path, f"an optional env_file (`required: false`) needs Docker Compose 2.24 (older releases refuse the file); "
                        f"engines.compose is {project.engines.compose}",
                        f"declare `{declaration_for('env_file_required', project.engines)}`, or list the file as a plain path", "warning"))  # fmt: skip
        for config in s.configs or []:
            source_name = config if isinstance(config, str) else config.source
            if source_name not in declared:
                path = setter_path(source, env.info, name, "configs") or ("services", name)
                out.append((path, f"config {source_name!r} is not declared", "declare it under the top-level `configs:`"))
        for network in s.networks or ():
            if network != "default" and network not in networks:  # Compose: "refers to undefined network"
                path = setter_path(source, env.info, name, "networks") or ("services", name)
                out.append((path, f"network {network!r} is not declared", "declare it under the top-level `networks:`"))
        if env.info.kind == "dev" and s.watch and service.plan is not None and not supported("develop_watch", project.engines):
            path = setter_path(source, env.info, name, "watch") or ("services", name)
            out.append((path, f"watch is left out: `docker compose watch` needs Docker Compose 2.22, engines.compose is {project.engines.compose}; "
                        "the source stays bind-mounted", f"declare `{declaration_for('develop_watch', project.engines)}` to get it", "warning"))  # fmt: skip
    return out


def _at(source: SourceMap, path: PathT, message: str, hint: str | None = None, severity: str = "error") -> Problem:
    return Problem(message, source.locate(path), path, hint, severity)


# ---- paths -------------------------------------------------------------------------


def _settings_blocks(data: dict[str, Any]) -> list[PathT]:
    """Where a block of service settings can sit in a spec (each layer)."""
    blocks: list[PathT] = [("defaults",)]
    for env in _mapping(data.get("environments")):
        blocks.append(("environments", env, "defaults"))
    for name, service in _mapping(data.get("services")).items():
        blocks.append(("services", name))
        blocks += [("services", name, "environments", env) for env in _mapping(service.get("environments") if isinstance(service, dict) else None)]
    return blocks


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _at_path(data: Any, path: PathT) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _listed(data: Any, path: PathT) -> list[tuple[PathT, Any]]:
    """The entries of a field that takes one path or a list of them (or of ``{path: ...}``)."""
    value = _at_path(data, path)
    entries = [(path, value)] if not isinstance(value, list) else [((*path, i), v) for i, v in enumerate(value)]
    return [((*where, "path"), v.get("path")) if isinstance(v, dict) else (where, v) for where, v in entries]


# (spec path, value, folder it is relative to, absolute allowed): every path a spec names.
Named = tuple[PathT, Any, str, bool]


def _local_contexts(build: dict[str, Any], at: PathT) -> list[Named]:
    """A build's ``additional_contexts`` that are folders (not docker-image://, service:, https:// ...)."""
    return [((*at, "additional_contexts", key), value, ".", False) for key, value in _mapping(build.get("additional_contexts")).items()
            if isinstance(value, str) and not re.match(r"^[a-z-]+:", value)]  # fmt: skip


def named_paths(data: dict[str, Any]) -> list[Named]:
    found: list[Named] = []
    output = _mapping(data.get("output"))
    for key in ("compose_file", "overlay", "env_example", "snapshots", "kubernetes", "bake"):
        value = output.get(key)
        found.append((("output", key), value.replace("{env}", "env") if isinstance(value, str) else value, ".", False))
    found.append((("templates",), data.get("templates"), ".", False))
    for name, env in _mapping(data.get("environments")).items():
        found.append((("environments", name, "compose_file"), _mapping(env).get("compose_file"), ".", False))
    for block in _settings_blocks(data):
        settings = _at_path(data, block)  # each field below is looked up from the block, not the spec's root
        if not isinstance(settings, dict) or not ("env_file" in settings or "compose" in settings or "watch" in settings):
            continue  # it names no path (most blocks of a large spec): every entry below would be None, dropped at the end
        found += [((*block, *where), value, ".", False) for where, value in _listed(settings, ("env_file",))]
        found += _watched(settings.get("watch"), (*block, "watch"))
        compose = (*block, "compose")
        composed = _at_path(settings, ("compose",))
        found += _watched(_at_path(composed, ("develop", "watch")), (*compose, "develop", "watch"))
        build = _at_path(composed, ("build",))
        if isinstance(build, dict):
            context = build.get("context", ".")
            found.append(((*compose, "build", "context"), build.get("context"), ".", False))
            if isinstance(context, str):
                found.append(((*compose, "build", "dockerfile"), build.get("dockerfile"), context, False))
            found += _local_contexts(build, (*compose, "build"))
        else:
            found.append(((*compose, "build"), build, ".", False))
        found += [((*compose, *where), value, ".", False) for key in ("env_file", "label_file") for where, value in _listed(composed, (key,))]
        found.append(((*compose, "extends", "file"), _at_path(composed, ("extends", "file")), ".", False))
    for name, service in _mapping(data.get("services")).items():
        build = _mapping(_mapping(service).get("build"))
        if not build:
            continue
        here = ("services", name, "build")
        context = build.get("context", ".") if isinstance(build.get("context", "."), str) else "."
        found.append(((*here, "context"), build.get("context"), ".", False))
        found.append(((*here, "dockerfile"), build.get("dockerfile"), ".", False))
        found += _local_contexts(build, here)
        for flavour, override in _mapping(build.get("flavours")).items():
            for key in ("context", "dockerfile"):
                found.append(((*here, "flavours", flavour, key), _mapping(override).get(key), ".", False))
        for key in ("requirements", "dev_requirements", "test_requirements"):
            found.append(((*here, "python", key), _at_path(build, ("python", key)), context, False))
        found += [(where, value, context, False) for where, value in _listed(data, (*here, "node", "install_files"))]
    for kind in ("secrets", "configs"):
        for name, entry in _mapping(data.get(kind)).items():
            found.append(((kind, name, "file"), _mapping(entry).get("file"), ".", True))
    return [(where, value, base, absolute_ok) for where, value, base, absolute_ok in found if isinstance(value, str)]


def _watched(rules: Any, path: PathT) -> list[Named]:
    """The paths of ``develop.watch`` rules: `docker compose watch` copies what is there into
    the container (a link out of the project would copy the host's files)."""
    return [((*path, i, "path"), rule.get("path"), ".", False) for i, rule in enumerate(rules) if isinstance(rule, dict)] if isinstance(rules, list) else []


def _paths(project: ResolvedProject, source: SourceMap, spec_dir: Path, named: list[Named], checks: list[Check], resolve: Resolver) -> list[Problem]:
    problems, outside = [], set()
    for path, value, base, absolute_ok in named:
        if base in outside:
            continue  # relative to a context already reported as outside: no cascade
        checks.append(["inside", value, base, absolute_ok])
        why = outside_reason(spec_dir, value, base=base, absolute_ok=absolute_ok, resolve=resolve)
        if why and path[-1] == "context":
            outside.add(value)
        if why:
            hint = "paths in the spec are relative to its folder and stay inside it" + (
                "; a host file outside the project needs an absolute path" if absolute_ok else "")  # fmt: skip
            problems.append(_at(source, path, f"{value!r} {why}", hint))
    for name, service in project.spec.services.items():
        if service.build is None:
            continue
        checks.append(["context", service.build.context])
        kind = not_a_folder(spec_dir / service.build.context)
        if kind:
            path = ("services", name, "build", "context")
            problems.append(_at(source, path, f"{service.build.context!r} is {kind}, not a directory", "a build context is a folder"))
    return problems


def _outputs(project: ResolvedProject, source: SourceMap) -> list[tuple[str, PathT]]:
    """Every file render writes (but the lock), with the spec field that names it."""
    spec = project.spec
    out: list[tuple[str, PathT]] = [(spec.output.compose_file, ("output", "compose_file")), (spec.output.env_example, ("output", "env_example"))]
    for name, env in project.environments.items():
        own = ("environments", name, "compose_file")
        out.append((env.info.compose_file, own if source.has(own) else ("output", "overlay")))
        if spec.output.snapshots:
            out.append((posixpath.join(spec.output.snapshots, f"{name}.yaml"), ("output", "snapshots")))
    if spec.output.bake:
        out.append((spec.output.bake, ("output", "bake")))
    if spec.output.kubernetes:  # the kustomize base and overlays folders are dockergen's whole
        out += [(posixpath.join(spec.output.kubernetes, name), ("output", "kubernetes")) for name in ("base", "overlays", ".gitignore")]
    ignores = set()  # a context's .dockerignore is one file however many builds share the context
    for plan in project.images:
        here = ("services", plan.service, "build")
        out.append((plan.dockerfile, (*here, "dockerfile") if source.has((*here, "dockerfile")) else (*here, "context")))
        ignore = posixpath.normpath(posixpath.join(plan.build.context, ".dockerignore"))
        if ignore not in ignores:
            ignores.add(ignore)
            out.append((ignore, (*here, "context")))
    return [(posixpath.normpath(path), where) for path, where in out]


def _outputs_over_inputs(
    project: ResolvedProject, source: SourceMap, spec_dir: Path, named: list[Named], checks: list[Check], resolve: Resolver
) -> list[Problem]:
    """No generated file may be written over the spec, the lock, .gitattributes, a template
    or a file the spec reads (an env file, a requirements file, a secret ...)."""
    inputs: dict[str, str] = {posixpath.normpath(Path(source.file).name): "the spec", LOCK_NAME: "dockergen's lock", GITATTRIBUTES: ".gitattributes (dockergen keeps only its block there)"}
    for where, value, base, _ in named:
        if where[0] not in ("output", "templates") and where[-1] not in ("context", "dockerfile", "build", "compose_file"):
            inputs.setdefault(posixpath.normpath(posixpath.join(base, value)), f"a file the spec reads ({format_path(where)})")
    templates = posixpath.normpath(project.spec.templates) if project.spec.templates else None
    resolved = {target(spec_dir, path, resolve): why for path, why in inputs.items()}
    # `DOCKERGEN.yaml` is the spec on a Mac or Windows checkout, `API/Dockerfile` is `api/Dockerfile`.
    folded = {same_file_key(path): (path, why) for path, why in reversed(inputs.items())}
    templates_key = same_file_key(templates) if templates else None
    outputs = _outputs(project, source)
    checks.append(["distinct", sorted({path for path, _ in outputs}), sorted(inputs)])
    problems = []
    written: dict[str, str] = {}
    origins: dict[str, PathT] = {}  # the field that names each of them
    folders: dict[str, str] = {}  # every folder a generated path runs through -> that path
    fixed = {same_file_key(path): why for path, why in list(inputs.items())[:3]}  # the spec, the lock, .gitattributes: files, never folders
    for path, where in outputs:
        key = same_file_key(path)
        same, why = folded.get(key, (path, None))
        if ".git" in key.split("/"):
            problems.append(_at(source, where, f"writes {path!r} into `.git`, git's own folder", "give the generated file a path outside .git"))
            continue
        above = next((k for k in _ancestors(key) if k in written or k in fixed), None)
        if why is None and key in written:
            same, why = written[key], f"the generated {written[key]!r} of {format_path(origins[key])}"
        elif why is None and (above or key in folders):
            # a file where a folder must be (`compose.yaml` and `compose.yaml/dev.yaml`)
            other = f"{fixed[above]} {above!r}" if above in fixed else repr(written[above]) if above else repr(folders[key])
            problems.append(_at(source, where, f"writes {path!r}, and {other} is a file too: one of them would have to be a folder holding the other",
                                _rename_hint(where)))  # fmt: skip
            continue
        why = why or resolved.get(target(spec_dir, path, resolve))
        if why is None and templates_key and (key == templates_key or key.startswith(templates_key.rstrip("/") + "/")):
            why = f"a file of the template directory {project.spec.templates!r}"
        written.setdefault(key, path)
        origins.setdefault(key, where)
        for folder in _ancestors(key):
            folders.setdefault(folder, path)
        if why:
            which = "which is" if same == path else "which macOS and Windows (they ignore case) take for"
            problems.append(_at(source, where, f"writes {path!r}, {which} {why}", _rename_hint(where)))
    return problems


def _rename_hint(where: PathT) -> str:
    """What to change where a generated file's path is taken: a build's Dockerfile moves with
    `build.dockerfile` (its .dockerignore with its context), any other file with its field."""
    if where[-2:] == ("build", "context") and len(where) == 4:
        return "give the build its own `build.dockerfile` path, or another context"
    return "give the generated file another name"


def _ancestors(key: str) -> list[str]:
    """The folders ``key`` (a relative, normalised path) lies in: ``a/b/c`` -> ``a``, ``a/b``."""
    parts = key.split("/")
    return ["/".join(parts[:n]) for n in range(1, len(parts))]


def _manifests(project: ResolvedProject, source: SourceMap, spec_dir: Path, checks: list[Check]) -> list[Problem]:
    """Files the built-in templates COPY by name (requirements, lockfiles, node's
    install_files): a missing one fails the build, and an install file with a credential
    ships in the dev and test images, which build on those layers. Judged where the build
    context is there (a spec may be rendered before its code)."""
    problems = []
    for name, service in project.spec.services.items():
        build = service.build
        if build is None or build.family == "generic":
            continue
        copied = [(m, m.path[-2:-1] == ("install_files",)) for m in manifests.copied(build, name)]
        checks += [["manifest", build.context, m.relative, scan] for m, scan in copied]
        if not has_code(spec_dir / build.context):
            continue
        for manifest, scan in copied:
            # None also when it lies outside the context: reported by _paths, and never read
            state = manifest_state(spec_dir, build.context, manifest.relative, scan)
            if state is None:
                continue
            if state not in ("missing", "credential"):
                problems.append(_at(source, manifest.path, f"{manifest.relative!r} is {state}: COPY cannot copy it", "list regular files and folders"))
            elif state == "missing":
                problems.append(
                    _at(
                        source, manifest.path, f"{manifest.relative!r} is not in the build context {build.context!r}: its COPY would fail the build",
                        _missing_hint(build, manifest.relative),
                    )
                )
            else:
                problems.append(
                    _at(
                        source, manifest.path, f"{manifest.relative!r} holds a registry credential: COPY would put it in a layer of the dev and test images",
                        "leave it out and mount it as a build secret: `secrets: {npmrc: {file: <it>}}` at the top level, then "
                        "`build.secrets: [npmrc]` and `build.env: {NPM_CONFIG_USERCONFIG: /run/secrets/npmrc}`",
                    )
                )
    return problems


_LOCK_COMMANDS = {"uv.lock": "uv lock", "poetry.lock": "poetry lock", "pdm.lock": "pdm lock", "package-lock.json": "npm install --package-lock-only",
                  "yarn.lock": "yarn install", "pnpm-lock.yaml": "pnpm install --lockfile-only"}  # fmt: skip


def _missing_hint(build: Build, relative: str) -> str:
    if relative in _LOCK_COMMANDS:
        return f"create and commit it (`{_LOCK_COMMANDS[relative]}`), or pick the package manager the project uses"
    if build.family == "python" and relative.startswith("requirements"):
        return "name the file the project has, `requirements: pyproject.toml` for a pyproject-only project, or `null` for none"
    return "list only files that exist"


def _test_stages(project: ResolvedProject, source: SourceMap, spec_dir: Path, checks: list[Check]) -> list[Problem]:
    """A python test stage an environment runs must have its tests: `.dockerignore` patterns
    apply to every stage (whether it has pytest is lint's DG030)."""
    tested = {
        service.plan.service
        for env in project.environments.values() for service in env.services.values()
        if service.plan is not None and service.plan.build.builtin_stage(service.target) == "test"
    }  # fmt: skip
    problems = []
    for name in sorted(tested):
        build = project.spec.services[name].build
        if build is None or build.family != "python":
            continue
        patterns = [p.strip() for p in build.ignore or []]
        if patterns:
            checks.append(["tests", build.context, patterns])
            problems += _ignored_tests(name, patterns, tests_left_out(os.path.join(spec_dir, build.context), patterns), source)
    return problems


def _ignored_tests(name: str, patterns: list[str], left_out: list[str], source: SourceMap) -> list[Problem]:
    if not left_out:
        return []
    first = left_out[0]
    index = next(i for i in range(len(patterns)) if ignored(first, patterns[: i + 1]))
    return [
        _at(
            source, ("services", name, "build", "ignore", index),
            f"{patterns[index]!r} leaves the test suite ({first}{' ...' if len(left_out) > 1 else ''}) out of the build context, so the test stage has no tests to run",
            "drop it: prod never ships the tests (`prod_exclude`, default tests, test, conftest.py), the test stage needs them",
        )
    ]


# ---- interpolation ---------------------------------------------------------------


def _interpolations(project: ResolvedProject, texts: dict[str, list[str]], source: SourceMap) -> list[Problem]:
    """A ``${`` Compose cannot interpolate fails ``docker compose`` on every command:
    reported at the spec string it comes from (a Dockerfile-only value may hold any ``$``).
    ``texts``: each document's interpolated strings (``interpolated_texts``)."""
    refused = {text for found in texts.values() for text in set(found) if interpolation_error(text)}
    if not refused:
        return []
    problems = []
    for path, text in _strings(project.spec.model_dump(by_alias=True, exclude_unset=True)):
        why = interpolation_error(text)
        if why and any(text in value for value in refused):
            problems.append(_at(source, path, f"{text!r}: {why}, so Compose would refuse the file", "write `$$` for a literal `$`"))
    return problems


def _bake_literal_names(project: ResolvedProject, source: SourceMap) -> list[Problem]:
    """A Compose variable named ``true``, ``false`` or ``null`` has no spelling in the Bake
    file (HCL reads ``${null}`` as the literal): refused at each spec string the Bake file
    carries (tags, build args, caches, SSH) that reads one, and at a ``pass_build_args`` name."""
    if not project.spec.output.bake:
        return []
    from dockergen.render import hcl  # the Bake renderer's: imported only when the Bake file is asked for

    problems = []
    for path, text in _strings(project.spec.model_dump(by_alias=True, exclude_unset=True)):
        passed = [text] if "pass_build_args" in path else []  # a name, which Bake reads as `${name}`
        names = sorted({name for name, _, _ in references(text) if name in hcl.LITERAL_NAMES} | set(passed) & hcl.LITERAL_NAMES)
        if names and _BAKED_FIELDS.intersection(str(part) for part in path):
            problems.append(_at(source, path, f"{text!r} reads {', '.join(f'${{{n}}}' for n in names)}: HCL reads "
                                f"{' and '.join(names)} as a literal, so the Bake file (output.bake) cannot pass the variable",
                                "rename the variable; Compose names are case-sensitive, so `NULL` is free"))  # fmt: skip
    return problems


_BAKED_FIELDS = frozenset({"image", "tags", "build_args", "pass_build_args", "ssh", "cache_from", "cache_to"})  # the spec keys whose values reach the Bake file as templates


def _strings(node: Any, path: PathT = ()) -> list[tuple[PathT, str]]:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else None
    if items is None:
        return [(path, node)] if isinstance(node, str) else []
    return [found for key, value in items for found in _strings(value, (*path, key))]


# ---- secrets -----------------------------------------------------------------------


def _passed_through(project: ResolvedProject, source: SourceMap) -> list[Problem]:
    """A variable given a value and passed through from the host too: which one wins would be Compose's guess."""
    problems = []
    for env in project.environments.values():
        for name, service in env.services.items():
            for key in sorted(set(service.settings.environment or {}) & set(service.settings.pass_env or ())):
                path = setter_path(source, env.info, name, "pass_env") or ("services", name)
                problems.append(_at(source, path, f"{key} is set in `environment` and passed through in `pass_env`",
                                    "keep one: a value, or the host's"))  # fmt: skip
    return list(dict.fromkeys(problems))


def _nulls_removing_nothing(source: SourceMap, data: dict[str, Any]) -> list[Problem]:
    """`KEY: null` under `environment` removes a value set below; where no block sets KEY at
    all it removes nothing, and was most likely meant as Compose's pass-through."""
    blocks = [(block, _mapping(_at_path(data, (*block, "environment")))) for block in _settings_blocks(data)]
    valued = {key for _, env in blocks for key, value in env.items() if value is not None}
    return [
        _at(source, (*block, "environment", key), f"null removes a value set below, and no block sets {key}",
            f"to pass the host's value through, use `pass_env: [{key}]`", severity="warning")  # fmt: skip
        for block, env in blocks
        for key, value in env.items()
        if value is None and key not in valued
    ]


def _secrets(project: ResolvedProject, source: SourceMap) -> list[Problem]:
    spec = project.spec
    problems = []
    for name, service in spec.services.items():
        build = service.build
        for key in (build.env or {}) if build else {}:
            if looks_secret(key):
                problems.append(
                    _at(
                        source,
                        ("services", name, "build", "env", key),
                        f"{key} looks like a secret: ENV would bake it into every image layer",
                        "pass it at run time (`environment: {" + key + ": ${" + key + "}}` or `secrets:`), or at build time with `build.secrets`",
                    )
                )
        for secret in (build.secrets or []) if build else []:
            if secret not in (spec.secrets or {}):
                problems.append(
                    _at(source, ("services", name, "build", "secrets"), f"build secret {secret!r} is not declared", "declare it under the top-level `secrets:`")
                )
    for env in project.environments.values():
        for name, service in env.services.items():
            if service.test_of is not None:
                continue  # a copy of a service checked under its own name
            for field, key in [*(("build_args", k) for k in service.settings.build_args or {}), *(("pass_build_args", k) for k in service.settings.pass_build_args or ())]:
                if service.plan is not None and not ARG_NAME.fullmatch(key):
                    path = setter_path(source, env.info, name, field) or ("services", name)
                    problems.append(
                        _at(
                            source, (*path, key) if source.has((*path, key)) else path,
                            f"build arg {key!r} cannot be declared as an `ARG` (letters, digits and `_`, not starting with a digit)",
                            "rename it: the Dockerfile declares every build arg so that it takes effect",
                        )
                    )
                if looks_secret(key):
                    path = setter_path(source, env.info, name, field) or ("services", name)
                    problems.append(
                        _at(source, path, f"build arg {key} looks like a secret: build args are stored in the image history", "use `build.secrets`")
                    )
            for key, value in (service.settings.environment or {}).items():
                if looks_secret(key) and is_literal(value):
                    path = setter_path(source, env.info, name, "environment") or ("services", name)
                    problems.append(
                        _at(
                            source,
                            (*path, key) if source.has((*path, key)) else path,
                            f"{key} has a literal value in the spec: anyone with the repository can read it",
                            "use `${" + key + "}` (documented in .env.example) or Compose `secrets:`",
                            severity="warning",
                        )
                    )
            declared = set(spec.secrets or {})
            for env_name in env.info.chain:  # an environment may declare secrets of its own
                declared |= set(getattr((spec.environments or {}).get(env_name), "secrets", None) or {})
            for item in service.settings.secrets or []:
                secret = item.get("source") if isinstance(item, dict) else item
                if secret not in declared:
                    path = setter_path(source, env.info, name, "secrets") or ("services", name)
                    problems.append(_at(source, path, f"secret {secret!r} is not declared", "declare it under the top-level `secrets:` (or the environment's)"))
    return problems


# ---- dependencies ------------------------------------------------------------------


def _deps(env: ResolvedEnvironment, name: str) -> dict[str, Any]:
    deps = env.services[name].settings.depends_on
    if isinstance(deps, list):
        return {d: None for d in deps}
    return dict(deps or {})


def _dependency_cycles(env: ResolvedEnvironment, source: SourceMap) -> list[Finding]:
    """Depth-first, with its own stack: a chain of thousands of services is no recursion."""
    problems: list[Finding] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in env.services:
        if root in state:
            continue
        state[root] = 1
        path, pending = [root], [iter(_deps(env, root))]
        while pending:
            dep = next(pending[-1], None)
            if dep is None:
                state[path.pop()] = 2
                pending.pop()
                continue
            if dep not in env.services:
                continue  # reported by resolve
            if state.get(dep) == 1:
                cycle = path[path.index(dep) :] + [dep]
                start = min(cycle[:-1])
                rotated = cycle[cycle.index(start) : -1] + cycle[: cycle.index(start)] + [start]
                where = setter_path(source, env.info, rotated[0], "depends_on") or ("services", rotated[0])
                problems.append((where, f"dependency cycle: {' -> '.join(rotated)}", "Compose cannot start any of them; remove one edge"))
            elif dep not in state:
                state[dep] = 1
                path.append(dep)
                pending.append(iter(_deps(env, dep)))
    return problems


def _healthy_without_healthcheck(env: ResolvedEnvironment, source: SourceMap) -> list[Finding]:
    problems = []
    for name in env.services:
        for dep, entry in _deps(env, name).items():
            if entry is None or entry.condition != "service_healthy" or dep not in env.services:
                continue
            target = env.services[dep]
            hc = target.healthcheck
            hatched = (target.settings.compose or {}).get("healthcheck")
            if isinstance(hatched, dict) and hatched.get("test") and not hatched.get("disable"):
                continue  # the probe the escape hatch writes (interpolated timings) is one
            if hc is None or hc.disable:
                path = setter_path(source, env.info, name, "depends_on") or ("services", name)
                if source.has((*path, dep)):
                    path = (*path, dep)
                # A third-party image or a hand-written (generic) Dockerfile may carry its own
                # HEALTHCHECK; an image dockergen writes has none unless the spec says so.
                known = target.plan is not None and target.plan.build.family != "generic" and not (hc and hc.disable) or bool(hc and hc.disable)
                problems.append(
                    (
                        path,
                        f"waits for {dep!r} to be healthy, but {dep!r} has no healthcheck" + ("" if known else " in the spec (only its image can provide one)"),
                        f"give {dep!r} a `healthcheck`, or use condition service_started",
                        "error" if known else "warning",
                    )
                )
    return problems


# ---- ports -------------------------------------------------------------------------


def _split_port(entry: str) -> tuple[str, str | None, str, str]:
    """``[ip:][host:]container[/protocol]`` (IPv6 in brackets) -> (ip, host, container, protocol)."""
    text, _, proto = entry.partition("/")
    ip = ""
    if text.startswith("["):
        ip, _, text = text[1:].partition("]")
        text = text.removeprefix(":")
    parts = text.split(":")
    if len(parts) == 3 and not ip:
        ip = parts.pop(0)
    host = parts[0] if len(parts) == 2 else None
    return ip, host, parts[-1], proto or "tcp"


def _published(entry: Any) -> tuple[list[tuple[str, int, int, str]], str | None]:
    """Host bindings of one Compose port entry: ``[(host_ip, first, last, protocol)]``, or an error."""
    if isinstance(entry, dict):
        ip, host, proto, container = entry.get("host_ip") or "", entry.get("published"), entry.get("protocol") or "tcp", entry.get("target")
    else:
        # `${HOST_PORT:-8080}:80`: a variable's value is only known when Compose runs (and
        # its `:-` is no separator).
        plain = re.sub(r"\$\{[^}]*\}", "$VAR", str(entry))
        if plain.count(":") > 2 and not plain.startswith("["):
            return [], f"{entry!r} is not a port mapping (IPv6 addresses go in brackets)"
        ip, host, container, proto = _split_port(plain)
    bindings = []
    for label, value in (("container", container), ("host", host)):
        if value in (None, "") or (isinstance(value, str) and "$" in value):
            continue
        low, _, high = str(value).partition("-")
        if not is_number(low) or (high and not is_number(high)):
            return [], f"{entry!r}: {label} port {value!r} is not a number or range"
        first, last = int(low), int(high or low)
        if not (1 <= first <= last <= 65535):
            return [], f"{entry!r}: {label} port {value} is outside 1-65535"
        if label == "host":
            bindings = [(ip, first, last, proto)]
    return bindings, None


WILDCARD = ("", "0.0.0.0")


def _ports(document: dict[str, Any], env: ResolvedEnvironment, source: SourceMap) -> list[Finding]:
    """Entries that cannot be read, and host ports two services both publish: one finding
    per entry that clashes with an earlier one (ranges are compared as ranges, so the work
    grows with the number of entries, not with the ports they span)."""
    problems: list[Finding] = []
    spans: dict[str, list[tuple[int, int, int, str, str, PathT]]] = {}  # proto -> (first, last, order, ip, service, path)
    for name, doc in document["services"].items():
        if not doc.get("ports"):
            continue
        path = setter_path(source, env.info, name, "ports") or ("services", name)
        for entry in doc["ports"]:
            bindings, error = _published(entry)
            if error:
                problems.append((path, error, None))
            for ip, first, last, proto in bindings:
                spans.setdefault(proto, []).append((first, last, len(spans.get(proto, [])), "" if ip in WILDCARD else ip, name, path))
    for proto, items in spans.items():
        # Sweep by first port: the earlier spans reaching furthest, per host address, each
        # kept for two services (a service never clashes with itself).
        reach: dict[str, list[tuple[int, str]]] = {}
        for first, last, _, ip, name, path in sorted(items):
            groups = list(reach) if ip == "" else [ip, ""]
            clash = None
            for group in groups:
                for end, other in reach.get(group, []):
                    if other != name and end >= first and (clash is None or end > clash[0]):
                        clash = (end, other)
            if clash is not None:
                shared = (first, min(last, clash[0]))
                ports = f"port {shared[0]}" if shared[0] == shared[1] else f"ports {shared[0]}-{shared[1]}"
                verb = "is" if shared[0] == shared[1] else "are"
                # A service behind a profile may be one a team never starts with the other (web / web-debug).
                gated = any(document["services"][n].get("profiles") for n in (clash[1], name))
                problems.append((path, f"host {ports}/{proto} {verb} published by both {clash[1]!r} and {name!r}"
                                 + (" (behind profiles: they clash only when run together)" if gated else ""),
                                 "give one of them another host port", "warning" if gated else "error", ("clash", clash[1], name)))  # fmt: skip
            kept = reach.setdefault(ip, [])
            kept.append((last, name))
            kept.sort(reverse=True)
            best: list[tuple[int, str]] = []
            for end, owner in kept:
                if all(owner != o for _, o in best):
                    best.append((end, owner))
            reach[ip] = best[:2]
    return problems


# ---- shutdown ----------------------------------------------------------------------

DEFAULT_STOP_GRACE = 10.0  # seconds Docker and podman wait after SIGTERM unless told otherwise


def _graceful_shutdown(env: ResolvedEnvironment, source: SourceMap) -> list[Finding]:
    """A server told to drain for longer than the engine waits is killed mid-request."""
    problems: list[Finding] = []
    for name, service in env.services.items():
        py = service.plan.build.python if service.plan is not None else None
        if py is None or py.tuning is None or py.tuning.graceful_timeout is None or service.settings.command is not None:
            continue
        grace = service.settings.stop_grace_period
        seconds = durations.seconds(grace) if grace else DEFAULT_STOP_GRACE
        if py.tuning.graceful_timeout >= seconds:
            path = setter_path(source, env.info, name, "stop_grace_period") or ("services", service.plan.service, "build", "python", "tuning", "graceful_timeout")
            problems.append(
                (
                    path,
                    f"the server drains for {py.tuning.graceful_timeout} s on shutdown, but the engine kills {name!r} "
                    f"{seconds:g} s after SIGTERM (stop_grace_period{'' if grace else ', default'})",
                    f"set `stop_grace_period` above it, e.g. {py.tuning.graceful_timeout + 5}s",
                    "warning",
                )
            )
    return problems


def _nothing_runs(env: ResolvedEnvironment, own_templates: bool, source: SourceMap) -> list[Finding]:
    """A python image whose dev or prod stage has no CMD, run without a `command`: the
    container starts the base image's `python3`, which exits at once (and restarts forever).
    A project's own templates, or a CMD among the stage's hooks, may run something."""
    out: list[Finding] = []
    for name, service in env.services.items():
        plan = service.plan
        if plan is None or service.test_of is not None or plan.build.family != "python" or own_templates:
            continue
        stage = plan.build.builtin_stage(service.target)
        if stage not in ("dev", "prod") or service.settings.command is not None or service.settings.entrypoint is not None:
            continue
        py = plan.build.python or Python()
        hooks = plan.build.hooks
        steps = [*((hooks.stages or {}).get(plan.build.stage_name(stage)) or (hooks.stages or {}).get(stage) or [])] if hooks else []
        if python_stage_command(py, plan.container_port, stage) is not None or any(re.match(r"\s*(CMD|ENTRYPOINT)\b", s, re.I) for s in steps):
            continue
        builder = ("services", plan.service, "build")
        path = (*builder, "python") if (*builder, "python") in source.positions else builder
        if py.app is not None:  # its server binds the port
            out.append((builder, "`python.app` is served on `build.port`, which is not set: the image runs nothing",
                        "set `build.port` to the port the app listens on"))  # fmt: skip
        elif stage == "dev" and py.prod_command:
            out.append((path, "the dev image runs nothing: `python.prod_command` is set and `python.dev_command` is not",
                        f"set `python.dev_command` too (e.g. {json.dumps(py.prod_command)}), or the service's `command` in dev"))  # fmt: skip
        else:
            out.append((path, "the image runs nothing: no `python.app`, `python.prod_command` or `command` (the container would start python "
                        "and exit)", "set `python.app` to the web app (`module:app`, or `module:create_app()` for an app factory), or "
                        "`python.prod_command` and `python.dev_command` to what it runs (a worker, a script), or the service's `command`"))  # fmt: skip
    return out
