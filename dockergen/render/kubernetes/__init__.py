"""Kubernetes output: a kustomize base and one overlay per deploying environment.

``workload`` maps one resolved environment to resources, ``kustomize`` splits them into
the base and the overlays, and ``kubernetes_files`` writes them as generated files (one
per resource, through the one YAML emitter), with what was left out as notes.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from dockergen.errors import DockergenError, Problem
from dockergen.render.kubernetes import kustomize
from dockergen.render.kubernetes.values import is_dns_label, k8s_name
from dockergen.render.kubernetes.workload import Manifests, Notes, environment_manifests
from dockergen.render.project import header
from dockergen.render.rendered_file import RenderedFile
from dockergen.render.yaml_out import dump_yaml
from dockergen.resolve import ResolvedEnvironment, ResolvedProject
from dockergen.spec.load import SourceMap
from dockergen.spec.model import KubernetesEnvironment

SECRETS_FILE = "secrets.env"
SECRET_FILES = "secrets"  # the folder of k8s/local/<env> holding one file per mounted secret


@dataclass(frozen=True)
class Deployment:
    env: ResolvedEnvironment
    namespace: str


def deploying(project: ResolvedProject, source: SourceMap) -> list[Deployment]:
    """The environments with an overlay, and their namespaces."""
    out = []
    declared = project.spec.environments or {}
    for name, env in project.environments.items():
        setting = declared[name].kubernetes if name in declared else None
        if setting is None:
            deploy = env.info.kind in ("staging", "prod") and env.info.engine == "docker"
            setting = KubernetesEnvironment(deploy=deploy)
        elif isinstance(setting, bool):
            setting = KubernetesEnvironment(deploy=setting)
        if not setting.deploy:
            continue
        namespace = setting.namespace or f"{k8s_name(project.spec.project)}-{k8s_name(name)}"
        if not is_dns_label(namespace):
            path = ("environments", name)
            raise DockergenError.single(
                f"the namespace {namespace!r} is not a Kubernetes name (at most 63 letters, digits, `-`)",
                location=source.locate(path),
                path=path,
                hint="set `kubernetes: {namespace: ...}`",
            )
        out.append(Deployment(env, namespace))
    return out


def kubernetes_files(project: ResolvedProject, source: SourceMap, spec_name: str) -> tuple[list[RenderedFile], list[Problem]]:
    """The generated Kubernetes files (unstamped) and the notes on what was left out."""
    root = project.spec.output.kubernetes
    if root is None:
        return [], []
    targets = deploying(project, source)
    if not targets:
        path = ("output", "kubernetes")
        return [], [Problem("no environment deploys to Kubernetes", source.locate(path), path, "set `kubernetes: true` on one", "warning")]
    notes = Notes()
    manifests = {t.env.info.name: environment_manifests(project, t.env, source, notes) for t in targets}
    factored = kustomize.factored_images({n: m.images for n, m in manifests.items()}, set().union(*(m.built for m in manifests.values())))
    resources = {n: {stem: kustomize.strip_tags(r, factored) for stem, r in m.resources.items()} for n, m in manifests.items()}
    stems = set.intersection(*(set(r) for r in resources.values()))
    base: dict[str, dict[str, Any]] = {}
    for stem in sorted(stems):
        versions = [r[stem] for r in resources.values()]
        shared = versions[0]
        for other in versions[1:]:
            shared = kustomize.common(shared, other)
        base[stem] = shared

    files: list[RenderedFile] = []

    def add(path: str, data: dict[str, Any], note: str, env: str | None = None) -> None:
        files.append(RenderedFile(posixpath.join(root, path), dump_yaml(data, header(spec_name, extra=note)), "kubernetes", env))

    overlay_hint = f"kubectl apply -k {root}/overlays/<environment>"
    add("base/kustomization.yaml", {**kustomize.KUSTOMIZATION, "resources": [f"{s}.yaml" for s in sorted(base)]}, f"Kubernetes base shared by every environment; deploy one overlay: {overlay_hint}")
    for stem, resource in base.items():
        add(f"base/{stem}.yaml", resource, f"Part of the Kubernetes base; deploy one overlay: {overlay_hint}")
    for target in targets:
        files += _overlay(target, manifests[target.env.info.name], resources[target.env.info.name], base, factored, root, spec_name, project)
    ignored = []
    if any(m.mounted_secrets for m in manifests.values()):
        ignored.append(f"{SECRET_FILES}/")
    if any(m.secret_keys for m in manifests.values()):
        ignored.append(SECRETS_FILE)
    if ignored:
        ignore = header(spec_name, extra="Secret values for local clusters stay out of git") + "\n" + "".join(f"{line}\n" for line in ignored)
        files.append(RenderedFile(posixpath.join(root, ".gitignore"), ignore, "kubernetes"))
    problems = [
        Problem(message + ("" if len(envs) == len(targets) else f" (in {', '.join(envs)})"), source.locate(path), path, severity="note")
        for (path, message), envs in notes.found.items()
    ]
    return files, sorted(problems, key=lambda p: (p.location.line or 0, p.location.column or 0, p.message) if p.location else (0, 0, p.message))


def _overlay(
    target: Deployment,
    manifests: Manifests,
    resources: dict[str, dict[str, Any]],
    base: dict[str, dict[str, Any]],
    factored: set[str],
    root: str,
    spec_name: str,
    project: ResolvedProject,
) -> list[RenderedFile]:
    name = target.env.info.name
    folder = f"{root}/overlays/{name}"
    usage = f"Environment {name!r}: kubectl apply -k {folder}"
    files: list[RenderedFile] = []

    def add(path: str, data: dict[str, Any], note: str) -> None:
        files.append(RenderedFile(f"{folder}/{path}", dump_yaml(data, header(spec_name, extra=note)), "kubernetes", name))

    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target.namespace, "labels": _pod_security(resources)}}
    add("namespace.yaml", namespace, usage)
    extra, patches = [], []
    for stem, resource in resources.items():
        if stem not in base:
            extra.append(f"{stem}.yaml")
            add(f"{stem}.yaml", resource, f"Only in environment {name!r}; {usage}")
            continue
        patch = kustomize.difference(resource, base[stem])
        if patch:
            patches.append({"path": f"{stem}.yaml"})
            add(f"{stem}.yaml", {**kustomize.identity(resource), **patch}, f"What environment {name!r} changes in the base's {stem}.yaml; {usage}")
    kustomization: dict[str, Any] = {**kustomize.KUSTOMIZATION, "namespace": target.namespace, "resources": ["../../base", "namespace.yaml", *extra]}
    images = kustomize.image_entries(manifests.images, factored)
    if images:
        kustomization["images"] = images
    if patches:
        kustomization["patches"] = patches
    secret = f"{k8s_name(project.spec.project)}-secrets"
    read = [f"{secret!r} (keys {', '.join(manifests.secret_keys)})"] if manifests.secret_keys else []
    read += [f"{m.secret!r} (key {m.key}: the content of Compose's {m.origin})" for m in manifests.mounted_secrets]
    note = usage
    if read:
        note += f". It reads Secret {', '.join(read)}, which you create in namespace {target.namespace!r}, or use {root}/local/{name} on a local cluster"
    add("kustomization.yaml", kustomization, note)
    if read:
        generators: list[dict[str, Any]] = [{"name": secret, "envs": [SECRETS_FILE]}] if manifests.secret_keys else []
        generators += [{"name": m.secret, "files": [f"{m.key}={SECRET_FILES}/{m.key}"]} for m in manifests.mounted_secrets]
        local = {**kustomize.KUSTOMIZATION, "namespace": target.namespace, "resources": [f"../../overlays/{name}"], "secretGenerator": generators}
        made = [f"{SECRETS_FILE} (KEY=value lines for {', '.join(manifests.secret_keys)})"] if manifests.secret_keys else []
        made += [f"{SECRET_FILES}/{m.key}" for m in manifests.mounted_secrets]
        hint = f"For local clusters: environment {name!r} with its Secrets made from files here (git-ignored): {', '.join(made)}. kubectl apply -k {root}/local/{name}"
        files.append(RenderedFile(f"{root}/local/{name}/kustomization.yaml", dump_yaml(local, header(spec_name, extra=hint)), "kubernetes", name))
    return files


def _pod_security(resources: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Pod Security Admission: `baseline` enforced unless a container adds capabilities;
    `restricted` reported (stock images may run as root)."""
    labels = {"pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/warn": "restricted"}
    adds = any(
        c.get("securityContext", {}).get("capabilities", {}).get("add")
        for r in resources.values()
        if r.get("kind") == "Deployment"
        for c in r["spec"]["template"]["spec"]["containers"]
    )
    if not adds:
        labels["pod-security.kubernetes.io/enforce"] = "baseline"
    return dict(sorted(labels.items()))
