"""Render a resolved project into the complete set of generated files (in memory)."""

from __future__ import annotations

import fnmatch
import posixpath
from pathlib import Path

from dockergen import presets
from dockergen.fingerprint import LOCK_NAME, MARK, stamp
from dockergen.render.comment import comment_lines
from dockergen.render.compose import Documents
from dockergen.render.dockerfile import oci_labels, render_dockerfile, ships_probe
from dockergen.render.dockerfile_store import DockerfileStore
from dockergen.render.overlay import Each, split
from dockergen.render.rendered_file import RenderedFile
from dockergen.render.support import VariableUse, dockerignore, env_example
from dockergen.render.yaml_out import dump_yaml
from dockergen.resolve import TEST_RUN, ImagePlan, ResolvedProject, override_name


_BAKE_USAGE = "Build every image of an environment: docker buildx bake <env> (`default`: prod)."


def header(spec_name: str, extra: str = "") -> str:
    """The comment lines every generated file starts with (the first carries the mark)."""
    lines = comment_lines(f"{MARK} from {spec_name}. DO NOT EDIT: edit the spec, then run `dockergen render`.")
    if extra:
        lines += comment_lines(extra)
    return "\n".join(lines)


def _own_files(project: ResolvedProject, spec_name: str) -> list[str]:
    """What dockergen reads or writes beside the spec, none of which an image needs; a
    change to one must not invalidate a build's cache."""
    spec = project.spec
    own = [spec_name, LOCK_NAME, spec.output.compose_file, *(env.info.compose_file for env in project.environments.values())]
    own += [plan.dockerfile for plan in project.images] + ([spec.output.bake] if spec.output.bake else [])
    own += [directory + "/" for directory in (spec.output.snapshots, spec.templates) if directory]
    return list(dict.fromkeys(posixpath.normpath(p) + ("/" if p.endswith("/") else "") for p in own))


def _files_within(paths: list[str]) -> dict[str, list[str]]:
    """Each folder (normalized, relative to the spec) -> the ``paths`` below it, in their
    order: a context's .dockerignore reads only its own, not every project's file (with a
    Dockerfile per context, that was contexts x Dockerfiles)."""
    within: dict[str, list[str]] = {}
    for path in paths:
        parts = path.rstrip("/").split("/")
        for depth in range(1, len(parts)):
            within.setdefault("/".join(parts[:depth]), []).append(path)
    return within


def _relative_inside(path: str, context: str) -> str | None:
    """``path`` as a pattern anchored at ``context`` (both normalized, relative to the spec),
    or None when it lies outside it. Patterns that the defaults cover are left to them.
    String prefixes, not ``relpath``: this runs once per generated file and context."""
    bare = path.rstrip("/")
    if context == ".":
        relative = bare
    elif bare.startswith(context + "/"):
        relative = bare[len(context) + 1 :]
    else:
        return None
    if relative.startswith("../") or any(fnmatch.fnmatchcase(relative, pattern) for pattern in presets.DOCKERIGNORE_COMMON):
        return None  # outside, or `Dockerfile*`, `compose*.yaml` ..., which every .dockerignore has already
    return relative + ("/" if path.endswith("/") else "")


def _build_args(project: ResolvedProject) -> dict[tuple[str, str], tuple[str, ...]]:
    """The build args each image plan's Dockerfile declares (``ARG``), keyed by the plan's
    (service, flavour): every name any service built from it sets in any environment. One
    pass over the services, not one per plan (a plan is unique per service and flavour)."""
    names: dict[tuple[str, str], set[str]] = {(plan.service, plan.flavour): set() for plan in project.images}
    for env in project.environments.values():
        for service in env.services.values():
            if service.plan is not None:
                names[service.plan.service, service.plan.flavour].update([*(service.settings.build_args or {}), *(service.settings.pass_build_args or ())])
    return {key: tuple(sorted(found)) for key, found in names.items()}


def render_project(
    project: ResolvedProject,
    documents: Documents,
    spec_name: str,
    templates: Path | None,
    variables: dict[str, VariableUse],
    store: DockerfileStore | None = None,
    each: Each | None = None,
) -> list[RenderedFile]:
    """Every generated file but the lock, sorted by path; ``documents`` are the
    environments' Compose documents (``environment_documents(project)``), ``variables``
    what they interpolate (``collect_variables(documents)``), ``store`` Dockerfiles an
    earlier run rendered, ``each`` what stands for a service's share of the split
    (``overlay.split``)."""
    spec = project.spec
    files: list[RenderedFile] = []
    build_args = _build_args(project)
    head = header(spec_name)  # the same for every Dockerfile and .dockerignore
    for plan in project.images:
        probe = spec.output.kubernetes is not None and ships_probe(plan)
        oci = oci_labels(spec.oci, spec.services[plan.service].description, plan)
        files.append(RenderedFile(plan.dockerfile, render_dockerfile(plan, head, templates, build_args[plan.service, plan.flavour], oci, probe=probe, store=store), "dockerfile"))
    by_context: dict[str, list[ImagePlan]] = {}
    for plan in project.images:
        by_context.setdefault(posixpath.normpath(plan.build.context), []).append(plan)
    own = _own_files(project, spec_name)
    within = _files_within(own)
    for context, plans in sorted(by_context.items()):
        path = posixpath.normpath(posixpath.join(context, ".dockerignore"))
        inside = [_relative_inside(f, context) for f in (own if context == "." else within.get(context, []))]
        files.append(RenderedFile(path, head + "\n" + dockerignore(plans, [f for f in inside if f]), "dockerignore"))

    base, overlays = split(documents, each)
    base_name = spec.output.compose_file
    files.append(
        RenderedFile(
            base_name,
            dump_yaml(base, header(spec_name, extra="Shared by every environment; use it with one overlay: docker compose -f " + f"{base_name} -f <overlay> ...")),
            "compose",
        )
    )
    for name, env in project.environments.items():
        compose = "docker compose" + (f" --env-file {env.info.env_file}" if env.info.env_file else "")
        usage = f"Environment {name!r}: {compose} -f {base_name} -f {env.info.compose_file} up"
        if env.info.compose_file == override_name(base_name):
            usage = f"Environment {name!r}: {compose} up (Compose reads {env.info.compose_file} with {base_name} by itself)"
        suites = [s.name for s in env.services.values() if s.healthcheck == TEST_RUN]
        if suites:
            usage = (f"Environment {name!r}: run a test suite with {compose} -f {base_name} -f {env.info.compose_file} "
                     f"run --rm <suite>; suites: {', '.join(suites)}")  # fmt: skip
        files.append(RenderedFile(env.info.compose_file, dump_yaml(overlays[name], header(spec_name, extra=usage)), "overlay", name))
    if spec.output.snapshots:
        for name, env in project.environments.items():
            note = f"Environment {name!r} fully merged ({base_name} + {env.info.compose_file}), for review; run with the pair."
            path = posixpath.normpath(posixpath.join(spec.output.snapshots, f"{name}.yaml"))
            files.append(RenderedFile(path, dump_yaml(documents[name], header(spec_name, extra=note)), "snapshot", name))
    if spec.output.bake:  # imported only then, as the Kubernetes renderer is
        from dockergen.render.bake import bake_file

        files.append(RenderedFile(posixpath.normpath(spec.output.bake), bake_file(project, header(spec_name, extra=_BAKE_USAGE), spec.output.bake), "bake"))
    files.append(
        RenderedFile(
            spec.output.env_example,
            env_example(spec, variables, header(spec_name), list(project.environments)),
            "env-example",
        )
    )
    stamped = [RenderedFile(f.path, stamp(f.content), f.kind, f.env) for f in files]
    return sorted(stamped, key=lambda f: f.path)
