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

from dockergen.errors import Problem
from dockergen.features import supported
from dockergen.render.compose import Documents
from dockergen.render.support import is_literal
from dockergen.sensitive import holds_credential, looks_secret
from dockergen.resolve import ResolvedEnvironment, ResolvedProject, setter_path
from dockergen.spec.load import SourceMap

PathT = tuple[str | int, ...]
Finding = tuple  # (path, message, hint[, severity]): a per-environment finding before grouping


def check_project(project: ResolvedProject, documents: Documents, source: SourceMap, spec_dir: Path) -> list[Problem]:
    problems: list[Problem] = []
    problems += _paths(project, source, spec_dir)
    problems += _secrets(project, source)
    problems += _install_files(project, source, spec_dir)
    per_env: dict[tuple[PathT, str, str | None, str], list[str]] = {}
    for env in project.environments.values():
        for finding in [
            *_dependency_cycles(env, source),
            *_healthy_without_healthcheck(env, source),
            *_ports(documents[env.info.name], env, source),
            *_compose_features(documents[env.info.name], env, project, source),
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


def _compose_features(doc: dict[str, Any], env: ResolvedEnvironment, project: ResolvedProject, source: SourceMap) -> list[Finding]:
    """Service settings Compose reads only in some releases, or only with a declaration."""
    out: list[Finding] = []
    declared = doc.get("configs") or {}
    for name, service in env.services.items():
        if service.test_of is not None:
            continue  # a copy of a service checked under its own name
        s = service.settings
        if any(not isinstance(f, str) and not f.required for f in s.env_file or []) and not supported("env_file_required", project.engines):
            path = setter_path(source, env.info, name, "env_file") or ("services", name)
            out.append((path, f"an optional env_file (`required: false`) needs Docker Compose 2.24; engines.compose is {project.engines.compose}",
                        "declare `engines: {compose: \"2.24\"}` (with the other engines you target)"))  # fmt: skip
        for config in s.configs or []:
            source_name = config if isinstance(config, str) else config.source
            if source_name not in declared:
                path = setter_path(source, env.info, name, "configs") or ("services", name)
                out.append((path, f"config {source_name!r} is not declared", "declare it under the top-level `configs:`"))
        if env.info.kind == "dev" and s.watch and service.plan is not None and not supported("develop_watch", project.engines):
            path = setter_path(source, env.info, name, "watch") or ("services", name)
            out.append((path, f"watch is left out: `docker compose watch` needs Docker Compose 2.22, engines.compose is {project.engines.compose}; "
                        "the source stays bind-mounted", "declare `engines: {compose: \"2.22\"}` to get it", "warning"))  # fmt: skip
    return out


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


def _install_files(project: ResolvedProject, source: SourceMap, spec_dir: Path) -> list[Problem]:
    """``node.install_files`` are COPYed into the deps stage, which the dev and test images
    build on: a missing one fails the build, a credential in one ships in those images.
    Judged where the build context is there (a spec may be rendered before its code)."""
    problems = []
    for name, service in project.spec.services.items():
        build = service.build
        if build is None or build.family != "node" or build.node is None or not build.node.install_files:
            continue
        context = spec_dir / build.context
        if not context.is_dir():
            continue
        for index, relative in enumerate(build.node.install_files):
            path = ("services", name, "build", "node", "install_files", index)
            found = context / relative
            if not found.exists():
                problems.append(
                    _at(
                        source, path, f"{relative!r} is not in the build context {build.context!r}: COPY would fail the build",
                        "list only the files the install reads that exist",
                    )
                )
            elif holds_credential(found):
                problems.append(
                    _at(
                        source, path, f"{relative!r} holds a registry credential: COPY would put it in a layer of the dev and test images",
                        "leave it out and mount it as a build secret: `secrets: {npmrc: {file: <it>}}` at the top level, then "
                        "`build.secrets: [npmrc]` and `build.env: {NPM_CONFIG_USERCONFIG: /run/secrets/npmrc}`",
                    )
                )
    return problems


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
            if service.test_of is not None:
                continue  # a copy of a service checked under its own name
            for key, value in (service.settings.build_args or {}).items():
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
