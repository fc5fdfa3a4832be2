"""A Buildx Bake file (``output.bake``): one target per built service and environment,
one group per environment (``default``: prod), with what the Compose files give each build.

Targets are named ``<service>-<env>``; tags, build args, platforms, caches, SSH, network,
pull, no-cache, shm size and attestations are the ones the environment's Compose build would
use (Bake has no form of Compose's build `extra_hosts`, `privileged` or `isolation`). Every value is
quoted by ``render.hcl``.
"""

from __future__ import annotations

import posixpath
from typing import Any

from dockergen import presets
from dockergen.render import hcl
from dockergen.resolve import ResolvedProject


def bake_file(project: ResolvedProject, header: str, bake_path: str) -> str:
    """``header``: the comment lines the file starts with."""
    base = posixpath.dirname(posixpath.normpath(bake_path))
    targets: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[str]] = {}
    # The OCI args default to the spec's values, as in the Dockerfile: an empty value passed
    # to the build would replace the ARG's default.
    oci = project.spec.oci
    defaults = {arg: (getattr(oci, field, None) if oci else None) or "" for field, arg in presets.OCI_ARGS}
    variables: list[str] = list(defaults)
    for env_name, env in project.environments.items():
        for name, service in env.services.items():
            plan = service.plan
            if plan is None or plan.service != name:  # a `uses` service runs its builder's image
                continue
            build = plan.build
            context = posixpath.relpath(posixpath.normpath(build.context), base or ".")
            body: dict[str, Any] = {
                "context": hcl.literal(context),
                "dockerfile": hcl.literal(posixpath.relpath(plan.dockerfile, posixpath.normpath(build.context))),
                "target": hcl.literal(service.target or ""),
            }
            options = service.build_options()
            tags = [service.image] if service.image else []
            if tags or options.get("tags"):
                rendered_tags = []
                for image in [*tags, *options.get("tags", ())]:
                    tag, names = hcl.template(image)
                    rendered_tags.append(tag)
                    variables += names
                body["tags"] = "[" + ", ".join(rendered_tags) + "]"
            passed = {arg: "${" + arg + "}" for arg in service.settings.pass_build_args or ()}  # empty where unset: Bake has no unset
            args = {arg: "${" + arg + "}" for _, arg in presets.OCI_ARGS} | passed | dict(service.settings.build_args or {})
            rendered = []
            for key, value in sorted(args.items()):
                text, names = hcl.template(value)
                variables += names
                rendered.append(f"{hcl.key(key)} = {text}")
            body["args"] = "{\n    " + "\n    ".join(rendered) + "\n  }"
            if build.additional_contexts:
                named = {k: v if "://" in v else posixpath.relpath(posixpath.normpath(v), base or ".") for k, v in build.additional_contexts.items()}
                body["contexts"] = "{\n    " + "\n    ".join(f"{hcl.key(k)} = {hcl.literal(v)}" for k, v in sorted(named.items())) + "\n  }"
            if options.get("platforms"):
                body["platforms"] = "[" + ", ".join(hcl.literal(v) for v in options["platforms"]) + "]"
            for field, attribute in (("cache_from", "cache-from"), ("cache_to", "cache-to")):
                if options.get(field):
                    written = [hcl.template(v) for v in options[field]]  # `${REGISTRY:-local}/api:cache`
                    body[attribute] = "[" + ", ".join(text for text, _ in written) + "]"
                    variables += [name for _, names in written for name in names]
            ssh = options.get("ssh")
            if ssh:
                # Compose's mapping form is Bake's `id=path` items; a path may name ${SSH_AUTH_SOCK}.
                items = [f"{k}={v}" for k, v in ssh.items()] if isinstance(ssh, dict) else ssh
                written = [hcl.template(item) for item in items]
                body["ssh"] = "[" + ", ".join(text for text, _ in written) + "]"
                variables += [name for _, names in written for name in names]
            for field, attribute in (("network", "network"), ("shm_size", "shm-size")):
                if field in options:
                    body[attribute] = hcl.literal(str(options[field]))
            for field, attribute in (("pull", "pull"), ("no_cache", "no-cache")):
                if field in options:
                    body[attribute] = "true" if options[field] else "false"
            attest = _attestations(options.get("sbom"), options.get("provenance"))
            if attest:
                body["attest"] = "[" + ", ".join(hcl.literal(a) for a in attest) + "]"
            target = f"{name}-{env_name}"
            targets[target] = body
            groups.setdefault(env_name, []).append(target)
    default = "prod" if "prod" in groups else next(iter(groups), None)
    lines = [header]
    for name in dict.fromkeys(variables):
        lines += ["", f"variable {hcl.literal(name)} {{", f"  default = {hcl.literal(defaults.get(name, ''))}", "}"]
    if default is not None:
        lines += ["", 'group "default" {', f"  targets = [{hcl.literal(default)}]", "}"]
    for env_name, members in groups.items():
        lines += ["", f"group {hcl.literal(env_name)} {{", "  targets = [" + ", ".join(hcl.literal(t) for t in members) + "]", "}"]
    for target, body in targets.items():
        lines += ["", f"target {hcl.literal(target)} {{", *(f"  {hcl.key(k)} = {v}" for k, v in body.items()), "}"]
    return "\n".join(lines) + "\n"


def _attestations(sbom: bool | None, provenance: bool | str | None) -> list[str]:
    out = []
    if sbom is not None:
        out.append("type=sbom" if sbom else "type=sbom,disabled=true")
    if provenance is not None:
        out.append("type=provenance,disabled=true" if provenance is False else f"type=provenance,mode={'min' if provenance is True else provenance}")
    return out
