"""The pipeline, end to end: load -> validate -> resolve -> render (all in memory)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from dockergen import __version__
from dockergen.disk_checks import Check
from dockergen.errors import DockergenError, Location, Problem
from dockergen.fingerprint import LOCK_NAME, Lock, TemplateUnreadable, recorded_fingerprint, spec_digest, stamp, templates_digest
from dockergen.render.compose import Documents, environment_documents
from dockergen.render.dockerfile_store import DockerfileStore
from dockergen.render.project import render_project
from dockergen.render.rendered_file import RenderedFile
from dockergen.render.support import VariableUse, collect_variables, interpolated_texts
from dockergen.resolve import ResolvedProject, resolve
from dockergen.semantics import check_project
from dockergen.service_cache import Reuse
from dockergen.spec.load import LoadedSpec, load_spec, parse_spec
from dockergen.spec.model import Spec
from dockergen.spec.salvage import salvage
from dockergen.spec.validate import validate
from dockergen.unknown_names import require_known


@dataclass(frozen=True)
class Rendered:
    loaded: LoadedSpec
    spec: Spec
    project: ResolvedProject
    documents: Documents
    files: list[RenderedFile]
    notes: tuple[Problem, ...] = ()  # what the Kubernetes output left out, for the render summary
    variables: dict[str, VariableUse] = dataclasses.field(default_factory=dict)  # what the Compose files interpolate (``collect_variables``)


def load_and_resolve(
    spec_path: Path, raw: bytes | None = None, checks: list[Check] | None = None, texts: dict[str, list[str]] | None = None,
    reuse: Reuse | None = None,
) -> tuple[LoadedSpec, Spec, ResolvedProject, Documents]:  # fmt: skip
    """The resolved project and each environment's Compose document (built once: the
    checks read them and the renderer writes them); raises with every error, keeps
    warnings on the project. ``raw``: the spec's bytes as they are about to be written
    there (absorb, import), instead of the file.

    Every problem in one run: when reading, the schema or resolving fails, the parts of
    the spec that failed are set aside (``spec.salvage``) and the rest still goes through
    the later phases, so their problems are reported too; nothing is rendered then.
    ``checks`` receives the checks that read the project's files (for the lock), ``texts``
    each document's interpolated strings (``interpolated_texts``: the checks and the
    render's ``collect_variables`` read them); ``reuse``: services' entries of earlier renders
    (``service_cache``), taken when nothing failed."""
    loaded = load_spec(spec_path, keep_going=True) if raw is None else parse_spec(raw, str(spec_path), spec_path)
    problems: list[Problem] = list(loaded.problems)
    data: dict | None = salvage(loaded.data, problems) if problems else loaded.data
    project = None
    for _ in range(MAX_ROUNDS):
        if data is None:
            break
        try:
            spec = validate(dataclasses.replace(loaded, data=data))
            project = resolve(spec, loaded.source)
            known, made = reuse.start(spec_path, data, project) if reuse is not None and not problems else (None, None)
            documents = environment_documents(project, known, made)
            break
        except DockergenError as exc:
            problems += exc.problems
            project, data = None, salvage(data, exc.problems)
    if project is not None:
        walked = interpolated_texts(documents)
        if texts is not None:
            texts.update(walked)
        problems += check_project(project, documents, loaded.source, spec_path.parent, data, checks, walked)
    errors = _unique([p for p in problems if p.severity == "error"])
    if errors or project is None:
        raise DockergenError(errors)
    return loaded, spec, dataclasses.replace(project, warnings=tuple(problems)), documents


MAX_ROUNDS = 12  # each round sets aside at least one failed part of the spec


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: dict[str, Problem] = {}
    for problem in problems:
        seen.setdefault(problem.render(), problem)
    return sorted(seen.values(), key=lambda p: (p.location.line or 0, p.location.column or 0) if p.location else (0, 0))


def render(spec_path: Path, only_envs: list[str] | None = None, *, raw: bytes | None = None, cache: bool = False) -> Rendered:
    """Render every file in memory; ``only_envs`` is only checked here (the writer
    decides which overlays to touch, so the base and the lock never depend on it).
    ``cache``: reuse and keep Dockerfiles in the per-user ``DockerfileStore`` (the console
    script's runs only), and the services' Compose entries and lines of earlier renders
    (``service_cache``)."""
    checks: list[Check] = []
    texts: dict[str, list[str]] = {}
    reuse = Reuse() if cache else None
    loaded, spec, project, documents = load_and_resolve(spec_path, raw, checks, texts, reuse)
    require_known("environment", only_envs or [], project.environments, location=Location(str(spec_path)))
    templates = (spec_path.parent / spec.templates) if spec.templates else None
    if spec.templates:
        checks.append(["folder", spec.templates])
    if templates is not None and not templates.is_dir():
        raise DockergenError.single(
            f"template directory {spec.templates!r} does not exist",
            location=loaded.source.locate(("templates",)),
            path=("templates",),
        )
    try:  # before rendering: every template file is checked to be a regular file first
        lock = Lock(
            spec_digest(loaded.raw), templates_digest(templates), spec.templates, __version__, warnings=relative_problems(project.warnings, spec_path), checks=checks
        )
    except TemplateUnreadable as exc:
        raise DockergenError.single(f"cannot read the template: {exc.why}", location=Location(_shown(exc.path, spec_path.parent))) from None
    variables = collect_variables(documents, texts)  # .env.example, the summary and doctor read them: collected once
    store = DockerfileStore.open(spec_path, lock.templates) if cache else None
    files = render_project(project, documents, spec_path.name, templates, variables, store, reuse.each if reuse is not None else None)
    if store is not None:
        store.save()
    if reuse is not None:
        reuse.finish()
    notes: list[Problem] = []
    if spec.output.kubernetes is not None:  # imported only then: a fifth of the imports of a render without it
        from dockergen.render.kubernetes import kubernetes_files

        k8s_files, notes = kubernetes_files(project, loaded.source, spec_path.name)
        files += [RenderedFile(f.path, stamp(f.content), f.kind, f.env) for f in k8s_files]
    _check_unique(files, loaded)
    for f in files:
        lock.files[f.path] = recorded_fingerprint(f.content.encode("utf-8")) or ""
    files.append(RenderedFile(LOCK_NAME, lock.to_text(), "lock"))
    return Rendered(loaded, spec, project, documents, sorted(files, key=lambda f: f.path), tuple(notes), variables)


def _shown(path: str, spec_dir: Path) -> str:
    try:
        return Path(path).relative_to(spec_dir).as_posix()
    except ValueError:
        return path


def relative_problems(problems: tuple[Problem, ...], spec_path: Path) -> list[dict[str, str]]:
    """Warnings or notes, located relative to the spec's folder (the lock is the same bytes
    whatever directory dockergen ran from); ``fingerprint.replay_warnings`` prints them."""
    out = []
    for warning in problems:
        at = ""
        if warning.location is not None:
            relative = os.path.relpath(warning.location.file, spec_path.parent)
            at = str(dataclasses.replace(warning.location, file=relative.replace(os.sep, "/")))
        out.append({"at": at, "text": dataclasses.replace(warning, location=None).render()})
    return out


def _check_unique(files: list[RenderedFile], loaded: LoadedSpec) -> None:
    seen: set[str] = set()
    for f in files:
        if f.path in seen:
            raise DockergenError.single(
                f"two generated files would both be written to {f.path!r}",
                location=Location(loaded.source.file),
                hint="give one of them another path (an `output.*` field or a build's `dockerfile`)",
            )
        seen.add(f.path)
