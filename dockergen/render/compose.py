"""Turn one resolved environment into the complete Compose document it stands for.

The document is built as plain data (never text templates) and later split into the
shared base file and the environment's overlay by ``render.overlay``.
"""

from __future__ import annotations

import functools
import posixpath
import shlex
from typing import Any

from dockergen.resolve import ResolvedEnvironment, ResolvedHealthcheck, ResolvedProject, ResolvedService, merge, merge_over
from dockergen.spec.model import ServiceSettings
from dockergen.text import is_number

# Readable, stable key order for a service (Compose does not care).
SERVICE_KEY_ORDER = [
    "image", "build", "develop", "container_name", "hostname", "domainname", "platform", "runtime", "profiles", "command",
    "entrypoint", "working_dir", "user", "group_add", "userns_mode", "init", "stdin_open", "tty",
    "environment", "env_file", "secrets", "configs", "ports", "expose", "volumes", "volumes_from",
    "tmpfs", "devices", "device_cgroup_rules", "network_mode", "networks", "mac_address", "links", "external_links",
    "extra_hosts", "dns", "dns_search", "dns_opt", "pid", "ipc", "uts", "cgroup", "cgroup_parent", "depends_on", "healthcheck",
    "restart", "scale", "deploy", "mem_limit", "memswap_limit", "mem_reservation", "mem_swappiness", "cpus",
    "cpu_shares", "cpu_quota", "cpu_period", "cpuset", "shm_size", "storage_opt", "blkio_config", "gpus", "pids_limit",
    "oom_score_adj", "oom_kill_disable", "attach", "post_start", "pre_stop", "logging", "read_only", "privileged",
    "cap_add", "cap_drop", "security_opt",
    "sysctls", "ulimits", "stop_signal", "stop_grace_period", "pull_policy", "labels", "annotations", "isolation",
]  # fmt: skip
_KEY_RANK = {key: i for i, key in enumerate(SERVICE_KEY_ORDER)}


def _rank(item: tuple[str, Any]) -> tuple[int, str]:
    return _KEY_RANK.get(item[0], len(_KEY_RANK)), item[0]  # a key the order forgets still comes out, last


# Settings Compose takes as they are: written under their own name.
AS_THEY_ARE = (
    "container_name", "hostname", "domainname", "stdin_open", "tty", "privileged", "network_mode", "pid", "ipc",
    "links", "external_links", "volumes_from", "sysctls", "devices", "dns", "dns_search", "group_add",
    "shm_size", "pids_limit", "mem_limit", "memswap_limit", "mem_reservation", "cpus", "cpu_shares", "cpu_quota",
    "cpuset", "pull_policy", "scale", "runtime", "oom_score_adj", "oom_kill_disable", "mem_swappiness", "cgroup",
    "cgroup_parent", "uts", "mac_address", "device_cgroup_rules", "storage_opt", "cpu_period", "annotations", "isolation",
    "attach", "dns_opt", "gpus", "blkio_config", "post_start", "pre_stop",
)  # fmt: skip


Documents = dict[str, dict[str, Any]]  # environment name -> its full Compose document


# What a service's settings alone give its Compose entry, by the settings' id and whether
# the engine is podman: services that settle on the same settings (``resolve.DumpedOnce``)
# share it. The settings are kept beside it, so that their id stays theirs.
Parts = dict[tuple[int, bool], tuple[ServiceSettings, dict[str, Any]]]


# A service's Compose entry in one environment and the named volumes it mounts, by
# (environment, service): what ``service_cache`` keeps of an earlier render.
Entries = dict[tuple[str, str], tuple[dict[str, Any], list[str]]]


def environment_documents(project: ResolvedProject, known: Entries | None = None, made: Entries | None = None) -> Documents:
    """Every environment's full Compose document, in declaration order; ``known``: entries
    taken as they are, ``made``: receives every other one."""
    parts: Parts = {}
    return {name: environment_document(project, env, parts, known, made) for name, env in project.environments.items()}


def environment_document(
    project: ResolvedProject, env: ResolvedEnvironment, parts: Parts | None = None, known: Entries | None = None, made: Entries | None = None
) -> dict[str, Any]:
    """The full Compose document for ``env`` (what base + overlay must merge to);
    ``parts``: shared by the documents of one project."""
    spec = project.spec
    services: dict[str, Any] = {}
    named_volumes: set[str] = set()
    builders = image_builders(env)
    parts = {} if parts is None else parts
    for name, service in env.services.items():
        entry = known.get((env.info.name, name)) if known else None
        if entry is None:
            mounted: set[str] = set()
            entry = (_service(service, env, mounted, name in builders, parts), sorted(mounted))
            if made is not None:
                made[env.info.name, name] = entry
        services[name] = entry[0]
        named_volumes.update(entry[1])
    doc: dict[str, Any] = {"name": env.info.project, "services": services}
    declared_volumes = _declared(spec, env, "volumes")
    for volume in sorted(named_volumes):
        declared_volumes.setdefault(volume, None)
    if declared_volumes:
        doc["volumes"] = {k: declared_volumes[k] for k in sorted(declared_volumes)}
    for key in ("networks", "secrets", "configs"):
        declared = _declared(spec, env, key)
        if declared:
            doc[key] = declared
    doc.update(_extensions(spec, env))
    return doc


def _extensions(spec: Any, env: ResolvedEnvironment) -> dict[str, Any]:
    """The spec's ``extensions`` with the environment's over them (its ``extends`` chain, parent
    first): a value replaces that field whole, ``null`` leaves it out."""
    out: dict[str, Any] = dict(spec.extensions or {})
    for name in env.info.chain if spec.environments else ():
        for key, value in (getattr(spec.environments.get(name), "extensions", None) or {}).items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = value
    return out


def image_builders(env: ResolvedEnvironment) -> set[str]:
    """The services that carry ``build:``: one per image name. Compose builds every service
    with a ``build`` section, so a worker on the API's image would build it a second time;
    without one it runs the image its builder built (Compose does not pull an image another
    service of the project builds). A service that always starts (no `profiles`) is preferred,
    since one behind a profile builds nothing when only the others start; then the builder
    itself, else the first."""
    owners: dict[str, str] = {}
    rank = lambda name, service: (bool(service.settings.profiles), name != service.plan.service)  # noqa: E731
    for name, service in env.services.items():
        if service.plan is None or service.image is None:
            continue
        current = owners.get(service.image)
        if current is None or rank(name, service) < rank(current, env.services[current]):
            owners[service.image] = name
    return set(owners.values())


def _declared(spec: Any, env: ResolvedEnvironment, key: str) -> dict[str, Any]:
    """The spec's top-level ``key`` with the environment's own declarations over it (its
    ``extends`` chain, parent first): a mapping deep-merges into one of that name, ``null``
    removes a key; an emptied declaration is written as Compose's bare ``name:``."""
    out: dict[str, Any] = dict(getattr(spec, key) or {})
    for name in env.info.chain:
        block = getattr((spec.environments or {}).get(name), key, None) if spec.environments else None
        for item, config in (block or {}).items():
            if config is None:
                out[item] = out.get(item)
            else:
                out[item] = merge(out.get(item) or {}, config) or None
    return out


def _service(service: ResolvedService, env: ResolvedEnvironment, named_volumes: set[str], builds: bool, parts: Parts) -> dict[str, Any]:
    s = service.settings
    podman = env.info.engine == "podman"
    found = parts.get((id(s), podman))
    if found is None:
        found = parts[id(s), podman] = (s, _settings_part(s, podman))
    out: dict[str, Any] = dict(found[1])  # the shared values are only read from here on, as every document's are
    if service.image is not None:
        out["image"] = service.image
    if service.plan is not None and builds:
        plan = service.plan
        context = posixpath.normpath(plan.build.context)
        build: dict[str, Any] = {"context": _relative(context)}
        dockerfile = _relpath(plan.dockerfile, context)
        if dockerfile != "Dockerfile":
            build["dockerfile"] = dockerfile
        if service.target is not None:  # an unnamed last stage: what Compose builds without one
            build["target"] = service.target
        if s.build_args or s.pass_build_args:
            build["args"] = dict(sorted({**dict(s.build_args or {}), **dict.fromkeys(s.pass_build_args or ())}.items()))
        if plan.build.additional_contexts:
            build["additional_contexts"] = {k: v if "://" in v else _relative(posixpath.normpath(v)) for k, v in plan.build.additional_contexts.items()}
        if plan.build.secrets:
            build["secrets"] = list(plan.build.secrets)
        options = service.build_options()
        build.update({k: v for k, v in options.items() if k != "extensions"}, **options.get("extensions", {}))
        out["build"] = build
    if service.watch:
        out["develop"] = {"watch": [rule.model_dump(exclude_none=True) for rule in service.watch]}
    debug_port = _debug_port(service)
    if debug_port is not None:
        out["ports"] = [*out.get("ports", ()), f"127.0.0.1:{debug_port}:{debug_port}"]
    volumes, tmpfs = _volumes(service, env, named_volumes)
    if volumes:
        out["volumes"] = volumes
    if tmpfs:
        out["tmpfs"] = tmpfs
    depends = _depends_on(service, env)
    if depends:
        out["depends_on"] = depends
    if service.healthcheck is not None:
        out["healthcheck"] = healthcheck_document(service.healthcheck, podman)
    ordered = dict(sorted(out.items(), key=_rank))
    if s.compose:
        ordered = merge_over(ordered, s.compose)
    return ordered


def _settings_part(s: ServiceSettings, podman: bool) -> dict[str, Any]:
    """The entries of a service's Compose description that its settings alone decide."""
    out: dict[str, Any] = {}
    for key in ("platform", "profiles", "command", "entrypoint", "working_dir", "user", "userns_mode", "init"):
        value = getattr(s, key)
        if value is not None:
            out[key] = value
    if s.environment or s.pass_env:
        # Compose's `NAME:` without a value passes the variable through from where it runs.
        out["environment"] = {**dict(s.environment or {}), **dict.fromkeys(s.pass_env or ())}
    for key in ("env_file", "secrets", "configs", "expose", "extra_hosts", "cap_add", "cap_drop", "security_opt"):
        value = getattr(s, key)
        if value:
            out[key] = [v.model_dump(exclude_none=True) if hasattr(v, "model_dump") else v for v in value]
    for key in AS_THEY_ARE:
        value = getattr(s, key)
        if value is not None and value != {}:  # a mapping whose entries an environment all removed says nothing
            out[key] = _dumped(value)
    ports = _ports(s.ports, podman)
    if ports:
        out["ports"] = ports
    if s.networks:
        out["networks"] = {n: None for n in s.networks} if isinstance(s.networks, list) else dict(s.networks)
    if s.restart is not None:
        out["restart"] = s.restart
    deploy = dict(s.deploy or {})
    if s.resources is not None:
        resources = s.resources.model_dump(exclude_none=True)
        if resources:
            deploy["resources"] = resources
    if deploy:
        out["deploy"] = deploy
    if s.logging is not None:
        logging = s.logging.model_dump(exclude_none=True)
        if logging:
            out["logging"] = logging
    for key in ("read_only", "ulimits", "stop_signal", "stop_grace_period", "labels"):
        value = getattr(s, key)
        if value is not None and value != {}:
            out[key] = value
    out.update(s.extensions or {})
    return out


# posixpath.relpath asks the OS for the working directory on every call; a project has
# few distinct (Dockerfile, context) pairs and many services sharing them.
_relpath = functools.lru_cache(maxsize=4096)(posixpath.relpath)


def _relative(path: str) -> str:
    return "." if path == "." else f"./{path}" if not path.startswith(("/", "./", "../")) else path


def healthcheck_document(hc: ResolvedHealthcheck, podman: bool) -> dict[str, Any]:
    if hc.disable:
        return {"disable": True}
    test = list(hc.test or ())
    if podman and test and test[0] == "CMD" and any(" " in arg for arg in test[1:]):
        # podman 4.3's Docker API splits exec-form arguments on spaces (containers/podman#26519);
        # one shell string survives intact and means the same.
        test = ["CMD-SHELL", shlex.join(test[1:])]
    doc: dict[str, Any] = {"test": test}
    for key in ("interval", "timeout", "start_period", "start_interval", "retries"):
        value = getattr(hc, key)
        if value is not None:
            doc[key] = value
    return doc


def _dumped(value: Any) -> Any:
    """A setting as Compose data: its models (`gpus`, `blkio_config`, hooks) as mappings."""
    if isinstance(value, list):
        return [_dumped(item) for item in value]
    return value.model_dump(exclude_none=True) if hasattr(value, "model_dump") else value


def _ports(ports: Any, podman: bool) -> list[Any]:
    items = list(ports.values()) if isinstance(ports, dict) else list(ports or [])
    out = []
    for item in items:
        if item is None:
            continue
        if hasattr(item, "model_dump"):
            item = item.model_dump(exclude_none=True)
        elif isinstance(item, int):
            item = str(item)
        if podman:
            item = _unprivileged_port(item)
        out.append(item)
    return out


def _debug_port(service: ResolvedService) -> int | None:
    plan = service.plan
    if not service.settings.debug_port or plan is None or plan.build.python is None:
        return None
    return plan.build.python.debug_port if plan.build.builtin_stage(service.target) == "dev" else None


def _unprivileged_port(item: Any) -> Any:
    """Rootless podman cannot bind host ports below 1024; shift them by 8000 (80 -> 8080)."""
    if isinstance(item, dict):
        published = item.get("published")
        if isinstance(published, int) and published < 1024:
            return {**item, "published": published + 8000}
        if isinstance(published, str) and is_number(published) and int(published) < 1024:
            return {**item, "published": str(int(published) + 8000)}
        return item
    parts = item.split(":")
    if len(parts) >= 2 and is_number(parts[-2]) and int(parts[-2]) < 1024:
        parts[-2] = str(int(parts[-2]) + 8000)
    return ":".join(parts)


def _volumes(service: ResolvedService, env: ResolvedEnvironment, named: set[str]) -> tuple[list[Any], list[str]]:
    s = service.settings
    podman = env.info.engine == "podman"
    raw = s.volumes
    items = [v for v in (raw.values() if isinstance(raw, dict) else raw or []) if v is not None]
    tmpfs = list(s.tmpfs or [])
    if s.data_dir:
        if env.info.kind == "test":
            tmpfs.append(s.data_dir)  # throwaway state: fast and clean on every run
        else:
            volume = f"{service.name}-data"
            named.add(volume)
            items.append(f"{volume}:{s.data_dir}")
    if s.source_mount and service.plan is not None:
        build = service.plan.build
        items.append(f"{_relative(posixpath.normpath(build.context))}:{build.workdir}")
        if build.family == "node":
            items.append(f"{build.workdir}/node_modules")  # keep the image's deps over the bind mount
    out = []
    for item in items:
        if isinstance(item, str):
            source = item.split(":", 1)[0] if ":" in item else ""
            if source and not source.startswith((".", "/", "~", "$")):
                named.add(source)
            if podman and source.startswith((".", "/", "~")):
                item = _selinux_label(item)
        elif item.get("type") == "volume" and item.get("source") and not str(item["source"]).startswith("$"):
            named.add(item["source"])  # the long form names its volume too: Compose needs it declared
        out.append(item)
    return out, tmpfs


def _selinux_label(mount: str) -> str:
    """Private SELinux label on bind mounts, or podman on Fedora/RHEL gets EACCES."""
    parts = mount.split(":")
    if len(parts) == 2:
        return f"{mount}:Z"
    options = parts[2].split(",")
    if not {"z", "Z"} & set(options):
        options.append("Z")
    return ":".join([*parts[:2], ",".join(options)])


def _depends_on(service: ResolvedService, env: ResolvedEnvironment) -> dict[str, Any]:
    deps = service.settings.depends_on
    if not deps:
        return {}
    entries = {name: None for name in deps} if isinstance(deps, list) else dict(deps)
    out: dict[str, Any] = {}
    for name, entry in entries.items():
        declared = entry.model_dump(exclude_none=True) if entry is not None else {}
        if "condition" not in declared:
            dep = env.services[name]
            healthy = dep.healthcheck is not None and not dep.healthcheck.disable
            declared["condition"] = "service_healthy" if healthy else "service_started"
        out[name] = {"condition": declared.pop("condition"), **declared}
    return out
