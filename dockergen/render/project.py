"""Render a resolved project into the complete set of generated files (in memory)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from dockergen.fingerprint import MARK, stamp
from dockergen.render.bake import bake_file
from dockergen.render.compose import Documents
from dockergen.render.dockerfile import oci_labels, render_dockerfile
from dockergen.render.overlay import split
from dockergen.render.support import dockerignore, env_example
from dockergen.render.yaml_out import dump_yaml
from dockergen.resolve import ImagePlan, ResolvedProject

def header(spec_name: str, comment: str = "#", extra: str = "") -> str:
    lines = [
        f"{comment} {MARK} from {spec_name}. DO NOT EDIT: edit the spec, then run `dockergen render`.",
    ]
    if extra:
        lines.append(f"{comment} {extra}")
    return "\n".join(lines)


@dataclass(frozen=True)
class RenderedFile:
    path: str  # posix, relative to the output directory
    content: str
    kind: str  # dockerfile | compose | overlay | snapshot | dockerignore | env-example | bake | lock
    env: str | None = None  # the environment an overlay or snapshot is for


def render_project(project: ResolvedProject, documents: Documents, spec_name: str, templates: Path | None) -> list[RenderedFile]:
    """Every generated file but the lock, sorted by path; ``documents`` are the
    environments' Compose documents (``environment_documents(project)``)."""
    spec = project.spec
    files: list[RenderedFile] = []
    for plan in project.images:
        build_args = sorted({
            name for env in project.environments.values() for service in env.services.values()
            if service.plan == plan for name in service.settings.build_args or {}
        })  # fmt: skip
        oci = oci_labels(spec.oci, spec.services[plan.service].description, plan)
        files.append(RenderedFile(plan.dockerfile, render_dockerfile(plan, header(spec_name), templates, tuple(build_args), oci), "dockerfile"))
    by_context: dict[str, list[ImagePlan]] = {}
    for plan in project.images:
        by_context.setdefault(posixpath.normpath(plan.build.context), []).append(plan)
    for context, plans in sorted(by_context.items()):
        path = posixpath.normpath(posixpath.join(context, ".dockerignore"))
        files.append(RenderedFile(path, header(spec_name) + "\n" + dockerignore(plans), "dockerignore"))

    base, overlays = split(documents)
    base_name = spec.output.compose_file
    files.append(
        RenderedFile(
            base_name,
            dump_yaml(base, header(spec_name, extra="Shared by every environment; use it with one overlay: docker compose -f " + f"{base_name} -f <overlay> ...")),
            "compose",
        )
    )
    for name, env in project.environments.items():
        usage = f"Environment {name!r}: docker compose -f {base_name} -f {env.info.compose_file} up"
        files.append(RenderedFile(env.info.compose_file, dump_yaml(overlays[name], header(spec_name, extra=usage)), "overlay", name))
    if spec.output.snapshots:
        for name, env in project.environments.items():
            note = f"Environment {name!r} fully merged ({base_name} + {env.info.compose_file}), for review; run with the pair."
            path = posixpath.normpath(posixpath.join(spec.output.snapshots, f"{name}.yaml"))
            files.append(RenderedFile(path, dump_yaml(documents[name], header(spec_name, extra=note)), "snapshot", name))
    if spec.output.bake:
        files.append(RenderedFile(posixpath.normpath(spec.output.bake), bake_file(project, header(spec_name), spec.output.bake), "bake"))
    files.append(
        RenderedFile(
            spec.output.env_example,
            env_example(spec, documents, header(spec_name), list(project.environments)),
            "env-example",
        )
    )
    stamped = [RenderedFile(f.path, stamp(f.content), f.kind, f.env) for f in files]
    return sorted(stamped, key=lambda f: f.path)
