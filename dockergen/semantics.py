"""Checks that need the whole resolved project, beyond what the model's types say.

Each returns ``Problem``s located at the spec value responsible (errors stop the run;
warnings are reported and rendering goes on). Kept apart from ``resolve`` so that
resolution stays a pure layering step.
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path
from typing import Any

from dockergen import durations, manifests
from dockergen.errors import Problem
from dockergen.ignore_match import ignored
from dockergen.render.compose import Documents
from dockergen.render.support import is_literal
from dockergen.sensitive import holds_credential, looks_secret
from dockergen.resolve import ResolvedEnvironment, ResolvedProject, setter_path
from dockergen.spec.load import SourceMap
from dockergen.spec.model import ARG_NAME, Build

PathT = tuple[str | int, ...]
Finding = tuple  # (path, message, hint[, severity]): a per-environment finding before grouping


def check_project(project: ResolvedProject, documents: Documents, source: SourceMap, spec_dir: Path) -> list[Problem]:
    problems: list[Problem] = []
    problems += _paths(project, source, spec_dir)
    problems += _secrets(project, source)
    problems += _manifests(project, source, spec_dir)
    problems += _test_stages(project, source, spec_dir)
    per_env: dict[tuple[PathT, str, str | None, str], list[str]] = {}
    for env in project.environments.values():
        for finding in [
            *_dependency_cycles(env, source),
            *_healthy_without_healthcheck(env, source),
            *_ports(documents[env.info.name], env, source),
            *_graceful_shutdown(env, source),
        ]:
            path, message, hint, severity = (*finding, "error")[:4]
            per_env.setdefault((path, message, hint, severity), []).append(env.info.name)
    everywhere = list(project.environments)
    for (path, message, hint, severity), envs in per_env.items():
        where = "" if envs == everywhere else f" (in {', '.join(envs)})"
        problems.append(_at(source, path, message + where, hint, severity))
    seen: dict[str, Problem] = {}
    for problem in problems:
        seen.setdefault(problem.render(), problem)
    return sorted(seen.values(), key=lambda p: (p.location.line or 0, p.location.column or 0) if p.location else (0, 0))


def _at(source: SourceMap, path: PathT, message: str, hint: str | None = None, severity: str = "error") -> Problem:
    return Problem(message, source.locate(path), path, hint, severity)


# ---- paths -------------------------------------------------------------------------


def _inside(spec_dir: Path, relative: str) -> str | None:
    """Why ``relative`` (a path in the spec) is not inside the project, or None."""
    if os.path.isabs(relative) or relative.startswith("~"):
        return "must be a relative path inside the project"
    normal = posixpath.normpath(relative.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        return "leaves the project directory"
    root = spec_dir.resolve()
    resolved = (spec_dir / normal).resolve()
    if resolved != root and root not in resolved.parents:
        return "resolves (through a symbolic link) outside the project directory"
    return None


def _paths(project: ResolvedProject, source: SourceMap, spec_dir: Path) -> list[Problem]:
    spec = project.spec
    candidates: list[tuple[PathT, str]] = [
        (("output", "compose_file"), spec.output.compose_file),
        (("output", "overlay"), spec.output.overlay.replace("{env}", "env")),
        (("output", "env_example"), spec.output.env_example),
        *([(("output", "bake"), spec.output.bake)] if spec.output.bake else []),
    ]
    if spec.templates:
        candidates.append((("templates",), spec.templates))
    for name, env in (spec.environments or {}).items():
        if env.compose_file:
            candidates.append((("environments", name, "compose_file"), env.compose_file))
    for name, service in spec.services.items():
        if service.build is not None:
            candidates.append((("services", name, "build", "context"), service.build.context))
            if service.build.dockerfile:
                candidates.append((("services", name, "build", "dockerfile"), service.build.dockerfile))
    problems = []
    for path, value in candidates:
        why = _inside(spec_dir, value)
        if why:
            problems.append(_at(source, path, f"{value!r} {why}", "generated files and build contexts stay inside the spec's directory"))
    return problems


def _manifests(project: ResolvedProject, source: SourceMap, spec_dir: Path) -> list[Problem]:
    """Files the built-in templates COPY by name (requirements, lockfiles, node's
    install_files): a missing one fails the build, and an install file with a credential
    ships in the dev and test images, which build on those layers. Judged where the build
    context is there (a spec may be rendered before its code)."""
    problems = []
    for name, service in project.spec.services.items():
        build = service.build
        if build is None or build.family == "generic" or not has_code(spec_dir / build.context):
            continue
        context = spec_dir / build.context
        for manifest in manifests.copied(build, name):
            found = context / manifest.relative
            if not found.exists():
                problems.append(
                    _at(
                        source, manifest.path, f"{manifest.relative!r} is not in the build context {build.context!r}: its COPY would fail the build",
                        _missing_hint(build, manifest.relative),
                    )
                )
            elif manifest.path[-2:-1] == ("install_files",) and holds_credential(found):
                problems.append(
                    _at(
                        source, manifest.path, f"{manifest.relative!r} holds a registry credential: COPY would put it in a layer of the dev and test images",
                        "leave it out and mount it as a build secret: `secrets: {npmrc: {file: <it>}}` at the top level, then "
                        "`build.secrets: [npmrc]` and `build.env: {NPM_CONFIG_USERCONFIG: /run/secrets/npmrc}`",
                    )
                )
    return problems


def has_code(context: Path) -> bool:
    """The build context holds something besides what dockergen writes into it (a spec may
    be rendered before its code, into an empty folder)."""
    try:
        return any(not (e.name == ".dockerignore" or e.name.startswith("Dockerfile")) for e in context.iterdir())
    except OSError:
        return False


_LOCK_COMMANDS = {"uv.lock": "uv lock", "poetry.lock": "poetry lock", "pdm.lock": "pdm lock", "package-lock.json": "npm install --package-lock-only",
                  "yarn.lock": "yarn install", "pnpm-lock.yaml": "pnpm install --lockfile-only"}  # fmt: skip


def _missing_hint(build: Build, relative: str) -> str:
    if relative in _LOCK_COMMANDS:
        return f"create and commit it (`{_LOCK_COMMANDS[relative]}`), or pick the package manager the project uses"
    if build.family == "python" and relative.startswith("requirements"):
        return "name the file the project has, `requirements: pyproject.toml` for a pyproject-only project, or `null` for none"
    return "list only files that exist"


def _test_stages(project: ResolvedProject, source: SourceMap, spec_dir: Path) -> list[Problem]:
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
        problems += _ignored_tests(name, build, spec_dir / build.context, source)
    return problems


def _ignored_tests(name: str, build: Build, context: Path, source: SourceMap) -> list[Problem]:
    patterns = [p.strip() for p in build.ignore or []]
    if not patterns:
        return []
    found = _test_files(context) if context.is_dir() else ["tests/test_app.py"]
    left_out = [f for f in found if ignored(f, patterns)]
    if not found or len(left_out) < len(found):
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


_TEST_FILE = re.compile(r"test_\w*\.py|\w+_test\.py")
_NOT_SOURCE = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache", "build", "dist"}


def _test_files(context: Path, limit: int = 5000) -> list[str]:
    """Context-relative test modules pytest would collect, by its default file names (a bounded walk)."""
    out: list[str] = []
    stack = [context]
    while stack and len(out) < limit:
        directory = stack.pop()
        try:
            entries = sorted(directory.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink() and entry.name not in _NOT_SOURCE and len(entry.relative_to(context).parts) < 6:
                stack.append(entry)
            elif entry.is_file() and _TEST_FILE.fullmatch(entry.name):
                out.append(entry.relative_to(context).as_posix())
    return sorted(out)


# ---- secrets -----------------------------------------------------------------------


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
            for key, value in (service.settings.build_args or {}).items():
                if service.plan is not None and not ARG_NAME.fullmatch(key):
                    path = setter_path(source, env.info, name, "build_args") or ("services", name)
                    problems.append(
                        _at(
                            source, (*path, key) if source.has((*path, key)) else path,
                            f"build arg {key!r} cannot be declared as an `ARG` (letters, digits and `_`, not starting with a digit)",
                            "rename it: the Dockerfile declares every build arg so that it takes effect",
                        )
                    )
                if looks_secret(key):
                    path = setter_path(source, env.info, name, "build_args") or ("services", name)
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
            for secret in service.settings.secrets or []:
                if secret not in (spec.secrets or {}):
                    path = setter_path(source, env.info, name, "secrets") or ("services", name)
                    problems.append(_at(source, path, f"secret {secret!r} is not declared", "declare it under the top-level `secrets:`"))
    return problems


# ---- dependencies ------------------------------------------------------------------


def _deps(env: ResolvedEnvironment, name: str) -> dict[str, Any]:
    deps = env.services[name].settings.depends_on
    if isinstance(deps, list):
        return {d: None for d in deps}
    return dict(deps or {})


def _dependency_cycles(env: ResolvedEnvironment, source: SourceMap) -> list[Finding]:
    problems: list[Finding] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for dep in _deps(env, name):
            if dep not in env.services:
                continue  # reported by resolve
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep) :] + [dep]
                start = min(cycle[:-1])
                rotated = cycle[cycle.index(start) : -1] + cycle[: cycle.index(start)] + [start]
                path = setter_path(source, env.info, rotated[0], "depends_on") or ("services", rotated[0])
                problems.append((path, f"dependency cycle: {' -> '.join(rotated)}", "Compose cannot start any of them; remove one edge"))
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[name] = 2

    for name in env.services:
        if name not in state:
            visit(name)
    return problems


def _healthy_without_healthcheck(env: ResolvedEnvironment, source: SourceMap) -> list[Finding]:
    problems = []
    for name in env.services:
        for dep, entry in _deps(env, name).items():
            if entry is None or entry.condition != "service_healthy" or dep not in env.services:
                continue
            target = env.services[dep]
            hc = target.healthcheck
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


def _published(entry: Any) -> tuple[list[tuple[str, int, str]], str | None]:
    """Host bindings of one Compose port entry: ``[(host_ip, port, protocol)]``, or an error."""
    if isinstance(entry, dict):
        ip, host, proto, container = entry.get("host_ip") or "", entry.get("published"), entry.get("protocol") or "tcp", entry.get("target")
    else:
        if str(entry).count(":") > 2 and not str(entry).startswith("["):
            return [], f"{entry!r} is not a port mapping (IPv6 addresses go in brackets)"
        # `${HOST_PORT:-8080}:80`: a variable's value is only known when Compose runs.
        ip, host, container, proto = _split_port(re.sub(r"\$\{[^}]*\}", "$VAR", str(entry)))
    bindings = []
    for label, value in (("container", container), ("host", host)):
        if value in (None, "") or (isinstance(value, str) and "$" in value):
            continue
        low, _, high = str(value).partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            return [], f"{entry!r}: {label} port {value!r} is not a number or range"
        first, last = int(low), int(high or low)
        if not (1 <= first <= last <= 65535):
            return [], f"{entry!r}: {label} port {value} is outside 1-65535"
        if label == "host":
            bindings = [(ip, port, proto) for port in range(first, last + 1)]
    return bindings, None


def _ports(document: dict[str, Any], env: ResolvedEnvironment, source: SourceMap) -> list[Finding]:
    problems: list[Finding] = []
    taken: dict[tuple[int, str], list[tuple[str, str]]] = {}
    services = document["services"]
    for name, doc in services.items():
        path = setter_path(source, env.info, name, "ports") or ("services", name)
        for entry in doc.get("ports", []):
            bindings, error = _published(entry)
            if error:
                problems.append((path, error, None))
                continue
            for ip, port, proto in bindings:
                for other_ip, other in taken.get((port, proto), []):
                    if other != name and (ip == other_ip or ip in ("", "0.0.0.0") or other_ip in ("", "0.0.0.0")):
                        problems.append((path, f"host port {port}/{proto} is published by both {other!r} and {name!r}", "give one of them another host port"))
                taken.setdefault((port, proto), []).append((ip, name))
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
