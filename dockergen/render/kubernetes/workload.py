"""One resolved environment as the Kubernetes resources it stands for (plain data).

Each service becomes a Deployment, with a Service when it has ports and a ConfigMap for
its non-secret environment; each named volume a PersistentVolumeClaim; each Compose
network a NetworkPolicy. Databases with a data volume are Deployments with
``strategy: Recreate`` and one replica, not StatefulSets: a single instance gains nothing
from a StatefulSet's stable identities, the claim's name stays the one the spec gives,
and podman's `kube play` (which refuses StatefulSets) can run the very same manifests.

Settings with no Kubernetes meaning are left out and reported as notes (``Notes``).
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from dockergen import presets
from dockergen.errors import DockergenError
from dockergen.fingerprint import digest
from dockergen.render.compose import _declared, _volumes
from dockergen.render.kubernetes import probes as probe_rules
from dockergen.render.kubernetes.values import (
    Image,
    Ref,
    cpu,
    expansion_literal,
    is_dns_label,
    k8s_name,
    memory,
    parse,
    seconds,
    split_image,
    substituted,
    without_interpolation,
)
from dockergen.resolve import ResolvedEnvironment, ResolvedProject, ResolvedService, image_repository, setter_path
from dockergen.sensitive import looks_secret
from dockergen.spec.load import SourceMap
from dockergen.spec.model import KubernetesService

PathT = tuple[str | int, ...]
NETWORK_LABEL = "dockergen.io/network-{}"
CONFIG_HASH = "dockergen.io/config-hash"
WAIT_CONTAINER = "wait-for-dependencies"
# Waits for TCP on every host:port argument; runs in the service's own image.
WAIT_PYTHON = (
    "import socket,sys,time\n"
    "for target in sys.argv[1:]:\n"
    "    host, port = target.rsplit(':', 1)\n"
    "    while True:\n"
    "        try:\n"
    "            socket.create_connection((host, int(port)), 2).close()\n"
    "            break\n"
    "        except OSError:\n"
    "            print('waiting for', target, flush=True)\n"
    "            time.sleep(2)\n"
)
WAIT_NODE = (
    "const net=require('net');const wait=(h,p)=>new Promise(r=>{const t=()=>{const s=net.connect(p,h,()=>{s.end();r()});"
    "s.on('error',()=>{console.log('waiting for',h+':'+p);setTimeout(t,2000)})};t()});"
    "(async()=>{for(const a of process.argv.slice(1)){const i=a.lastIndexOf(':');await wait(a.slice(0,i),+a.slice(i+1))}})()"
)
_ENV_KEY = re.compile(r"[-._a-zA-Z0-9]+")  # what a ConfigMap key may be
_SYSCTL = re.compile(r"[a-z0-9]([-_a-z0-9]*[a-z0-9])?([./][a-z0-9]([-_a-z0-9]*[a-z0-9])?)*")  # Kubernetes' sysctl name
_ANNOTATION = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
# Settings that have no Kubernetes field, and what stands in for them there.
UNMAPPED = {
    "init": "Kubernetes has no init process option; the app is PID 1",
    "logging": "the cluster's log collection (kubelet rotation) applies instead",
    "ulimits": "Kubernetes sets no per-container ulimits",
    "profiles": "every service of the environment is deployed",
    "userns_mode": "user namespaces are a node setting",
    "env_file": "the file may hold secrets: move its values to `environment` or a Secret",
    "compose": "Compose-only escape hatch",
    "stop_signal": "Kubernetes always sends SIGTERM",
    "security_opt": "mapped only to allowPrivilegeEscalation: false and seccomp RuntimeDefault",
    "debug_port": "a debugger port is for dev environments",
    "container_name": "Kubernetes names the pods; the Service named like the service is the stable name",
    "privileged": "the pod runs unprivileged: grant what it needs with `cap_add` (or patch securityContext.privileged)",
    "pids_limit": "the pod PID limit is a kubelet setting",
    "links": "the Service named like each service resolves instead",
    "external_links": "the Service named like each service resolves instead",
    "devices": "host devices need a device plugin on the node",
    "dns": "set the pod's dnsConfig with a patch",
    "dns_search": "set the pod's dnsConfig with a patch",
    "domainname": "set the pod's subdomain with a patch",
    "network_mode": "every pod has a network namespace of its own",
    "pid": "hostPID is a node-level privilege: patch it in where needed",
    "ipc": "hostIPC is a node-level privilege: patch it in where needed",
    "cpu_quota": "give `resources.limits.cpus`",
    "cpu_shares": "give `resources.reservations.cpus`",
    "cpuset": "CPU pinning is the kubelet's CPU manager policy",
    "memswap_limit": "containers get no swap of their own in Kubernetes",
    "shm_size": "mount an emptyDir with medium: Memory at /dev/shm with a patch",
    "group_add": "set securityContext.supplementalGroups with a patch",
    "pull_policy": "imagePullPolicy stays Kubernetes' default (IfNotPresent for a tagged image)",
    "volumes_from": "containers share volumes only within one pod: patch the volume in",
    "deploy": "`resources` and `kubernetes.replicas` say it for Kubernetes",
    "configs": "mount the file from a ConfigMap of yours with a patch",
    "watch": "`docker compose watch` is for local development; the cluster runs the image as built",
    "pass_env": "a pod has no host environment to take them from: give them in `environment` or a Secret",
    "scale": "give `kubernetes.replicas`",
    "runtime": "name a RuntimeClass (runtimeClassName) with a patch",
    "oom_score_adj": "the kubelet sets it from the pod's QoS class",
    "oom_kill_disable": "the kubelet decides what is killed when a node runs out of memory",
    "mem_swappiness": "swap is a node setting",
    "cgroup": "cgroup namespaces are a node setting",
    "cgroup_parent": "the kubelet places every pod's cgroup",
    "uts": "hostUTS does not exist; set the pod's hostname instead",
    "mac_address": "pods get their addresses from the cluster network",
    "device_cgroup_rules": "host devices need a device plugin on the node",
    "storage_opt": "ask for ephemeral-storage in the resources with a patch",
    "cpu_period": "give `resources.limits.cpus`",
    "annotations": "container annotations are the runtime's: set pod annotations with a patch",
    "isolation": "a Windows container setting: the node's runtime decides",
    "attach": "`docker compose up`'s log only; `kubectl logs` shows every container",
    "dns_opt": "set the pod's dnsConfig options with a patch",
    "gpus": "request the device plugin's resource (`nvidia.com/gpu`) with a patch",
    "blkio_config": "Kubernetes sets no block IO weights or limits",
    "post_start": "add a lifecycle.postStart hook with a patch",
    "pre_stop": "add a lifecycle.preStop hook with a patch",
    "extensions": "x- fields are for tools that read the Compose files",
}
# Settings of the image build: the note on `build` covers them (the manifests run the image).
BUILD_ONLY = frozenset({"build_args", "pass_build_args", "build_options", "target", "prebuilt"})
# Settings the workload maps (tests/test_kubernetes_files.py: every setting is in one of the three).
MAPPED = frozenset({
    "cap_add", "cap_drop", "command", "cpus", "data_dir", "depends_on", "enabled", "entrypoint", "environment",
    "expose", "extra_hosts", "healthcheck", "hostname", "image", "kubernetes", "labels", "mem_limit",
    "mem_reservation", "networks", "platform", "ports", "read_only", "resources", "restart", "secrets",
    "source_mount", "stdin_open", "stop_grace_period", "sysctls", "tmpfs", "tty", "user", "volumes", "working_dir",
})  # fmt: skip


@dataclass
class Notes:
    """What was left out: (spec path, message) -> environments it applies to."""

    found: dict[tuple[PathT, str], list[str]] = field(default_factory=dict)

    def add(self, path: PathT, message: str, env: str) -> None:
        envs = self.found.setdefault((path, message), [])
        if env not in envs:
            envs.append(env)


@dataclass(frozen=True)
class MountedSecret:
    """A Compose secret as the Secret its services mount: one key, the secret's name."""

    secret: str  # the Secret's name
    key: str  # the Compose secret's name
    origin: str  # where Compose reads it, for the user who creates the Secret


@dataclass(frozen=True)
class Manifests:
    """An environment's resources: file stem (``api-deployment``) -> resource."""

    resources: dict[str, dict[str, Any]]
    images: dict[str, set[str]]  # image name (no tag) -> the images of that name it runs
    built: set[str]  # names of images dockergen's Dockerfiles build
    secret_keys: tuple[str, ...]  # keys read from the user's Secret
    mounted_secrets: tuple[MountedSecret, ...] = ()  # Secrets mounted as files, by name


@dataclass(frozen=True)
class Context:
    project: ResolvedProject
    env: ResolvedEnvironment
    source: SourceMap
    notes: Notes

    @property
    def part_of(self) -> str:
        return k8s_name(self.project.spec.project)

    @property
    def secret_name(self) -> str:
        return f"{self.part_of}-secrets"

    def note(self, path: PathT, message: str) -> None:
        self.notes.add(path, message, self.env.info.name)

    def setter(self, name: str, key: str) -> PathT | None:
        return setter_path(self.source, self.env.info, name, key)


def secret_variables(project: ResolvedProject) -> set[str]:
    declared = project.spec.variables or {}
    return {name for name, var in declared.items() if var.secret}


def variable_defaults(project: ResolvedProject) -> dict[str, str]:
    declared = project.spec.variables or {}
    return {name: var.default for name, var in declared.items() if var.default is not None and not var.secret}


def environment_manifests(project: ResolvedProject, env: ResolvedEnvironment, source: SourceMap, notes: Notes) -> Manifests:
    ctx = Context(project, env, source, notes)
    _check_names(ctx)
    resources: dict[str, dict[str, Any]] = {}
    images: dict[str, set[str]] = {}
    built: set[str] = set()
    secret_keys: set[str] = set()
    claims: dict[str, dict[str, Any]] = {}
    networks: set[str] = set()
    mounted: dict[str, MountedSecret] = {}
    for name, service in env.services.items():
        workload = _Workload(ctx, name, service, claims, networks)
        deployment, extra = workload.build()
        resources.update(extra)
        resources[f"{k8s_name(name)}-deployment"] = deployment
        secret_keys |= workload.secret_keys
        for path, found in workload.mounted:
            known = mounted.setdefault(found.secret, found)
            if known.key != found.key or found.secret == ctx.secret_name:
                raise DockergenError.single(
                    f"secret {found.key!r} would be Kubernetes Secret {found.secret!r}, which "
                    + ("holds the environment's secret variables" if found.secret == ctx.secret_name else f"secret {known.key!r} is too"),
                    location=source.locate(path),
                    path=path,
                    hint="rename the secret (or its top-level `name:`)",
                )
        if workload.image is not None:
            images.setdefault(workload.image.name, set()).add(str(workload.image))
            if service.plan is not None:
                built.add(workload.image.name)
    for claim, resource in sorted(claims.items()):
        resources[f"{claim}-pvc"] = resource
    for network in sorted(networks):
        resources[f"network-{network}-networkpolicy"] = _network_policy(ctx, network)
    return Manifests(dict(sorted(resources.items())), images, built, tuple(sorted(secret_keys)), tuple(mounted[s] for s in sorted(mounted)))


def _check_names(ctx: Context) -> None:
    seen: dict[str, str] = {}
    for name in ctx.env.services:
        other = seen.setdefault(k8s_name(name), name)
        if other != name:
            path = ("services", name)
            raise DockergenError.single(
                f"{name!r} and {other!r} are the same Kubernetes name {k8s_name(name)!r} (`_` becomes `-`)",
                location=ctx.source.locate(path),
                path=path,
                hint="rename one of them",
            )


def labels(ctx: Context, name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": k8s_name(name),
        "app.kubernetes.io/part-of": ctx.part_of,
        "app.kubernetes.io/managed-by": "dockergen",
    }


def selector(ctx: Context, name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": k8s_name(name), "app.kubernetes.io/part-of": ctx.part_of}


@dataclass(frozen=True)
class Port:
    target: int
    protocol: str  # TCP | UDP
    published: bool  # reachable from outside the host in Compose

    @property
    def name(self) -> str:
        return f"{self.protocol.lower()}-{self.target}"


def parse_port(item: Any) -> list[Port] | None:
    """One Compose `ports`/`expose` entry as container ports; None when unreadable."""
    if hasattr(item, "model_dump"):
        item = item.model_dump(exclude_none=True)
    if isinstance(item, dict):
        target = item.get("target")
        if not isinstance(target, int):
            return None
        published = item.get("published") is not None and str(item.get("host_ip") or "") not in ("127.0.0.1", "::1", "localhost")
        return [Port(target, str(item.get("protocol") or "tcp").upper(), published)]
    text = str(item)
    text, _, protocol = text.partition("/")
    host_ip = ""
    if text.startswith("["):
        host_ip, _, text = text[1:].partition("]")
        text = text.removeprefix(":")
    parts = text.rsplit(":", 2) if text.count(":") <= 2 else [text]
    if len(parts) == 3:
        host_ip = parts[0]
    target = parts[-1]
    published = len(parts) >= 2 and host_ip not in ("127.0.0.1", "::1", "localhost")
    first, _, last = target.partition("-")
    if not first.isdigit() or (last and not last.isdigit()):
        return None
    low, high = int(first), int(last or first)
    if not 1 <= low <= high <= 65535 or high - low >= 100:
        return None
    proto = (protocol or "tcp").upper()
    if proto not in ("TCP", "UDP", "SCTP"):
        return None
    return [Port(p, proto, published) for p in range(low, high + 1)]


class _Workload:
    """Builds one service's Deployment and the resources that go with it."""

    def __init__(self, ctx: Context, name: str, service: ResolvedService, claims: dict[str, dict[str, Any]], networks: set[str]) -> None:
        self.ctx = ctx
        self.name = name
        self.service = service
        self.settings = service.settings
        self.k8s = service.settings.kubernetes or KubernetesService()
        self.claims = claims
        self.networks = networks
        self.secret_keys: set[str] = set()
        self.secret_env: dict[str, dict[str, Any]] = {}  # env entries read from the Secret
        self.mounted: list[tuple[PathT, MountedSecret]] = []  # the Compose secrets it mounts, and where
        self.secrets = secret_variables(ctx.project)
        self.defaults = variable_defaults(ctx.project)
        self.image: Image | None = None

    @property
    def path(self) -> PathT:
        return ("services", self.name)

    def where(self, key: str) -> PathT:
        return self.ctx.setter(self.name, key) or self.path

    # ---- the Deployment --------------------------------------------------------------

    def build(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        ctx, name = self.ctx, k8s_name(self.name)
        extra: dict[str, dict[str, Any]] = {}
        self._notes()
        ports = self._ports()
        http_port = self._http_port(ports)
        config, env = self._environment()
        container: dict[str, Any] = {"name": name, "image": self._image()}
        entrypoint, command = self._command("entrypoint"), self._command("command")
        if entrypoint is not None:
            container["command"] = entrypoint
        if command is not None:
            container["args"] = command
        if self.settings.working_dir:
            container["workingDir"] = self.settings.working_dir
        for key, field in (("stdin_open", "stdin"), ("tty", "tty")):
            if getattr(self.settings, key):
                container[field] = True
        if ports:
            container["ports"] = self._port_entries(ports)
        if config:
            container["envFrom"] = [{"configMapRef": {"name": f"{name}-env"}}]
            extra[f"{name}-env-configmap"] = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"{name}-env", "labels": labels(ctx, self.name)},
                "data": config,
            }
        env_list = [*(self.secret_env[k] for k in sorted(self.secret_env)), *env]
        if env_list:
            container["env"] = env_list
        resources = self._resources()
        if resources:
            container["resources"] = resources
        first_port = ports[0].target if ports and ports[0].protocol == "TCP" else None
        container.update(probe_rules.probes(self.service, "http" if http_port else None, first_port, self.defaults))
        security = self._container_security()
        container["securityContext"] = security
        mounts, volumes, has_claim = self._volumes()
        if mounts:
            container["volumeMounts"] = mounts
        pod: dict[str, Any] = {"automountServiceAccountToken": False, "securityContext": self._pod_security()}
        init = self._wait_container(security, resources)
        if init is not None:
            pod["initContainers"] = [init]
        pod["containers"] = [container]
        if volumes:
            pod["volumes"] = volumes
        if self.settings.stop_grace_period:
            pod["terminationGracePeriodSeconds"] = seconds(self.settings.stop_grace_period)
        hostname = self.settings.hostname
        if hostname and is_dns_label(hostname):
            pod["hostname"] = hostname
        elif hostname:
            self.ctx.note(self.where("hostname"), f"left out of Kubernetes: hostname {hostname!r} (a pod's is one DNS label)")
        aliases = self._host_aliases()
        if aliases:
            pod["hostAliases"] = aliases
        node_selector = self._node_selector()
        if node_selector:
            pod["nodeSelector"] = node_selector
        template_labels = {**labels(ctx, self.name), **{NETWORK_LABEL.format(n): "true" for n in self._networks()}}
        template_meta: dict[str, Any] = {"labels": template_labels}
        annotations = self._annotations()
        if config:
            annotations[CONFIG_HASH] = digest(json.dumps(config, sort_keys=True).encode())
        if annotations:
            template_meta["annotations"] = dict(sorted(annotations.items()))
        spec: dict[str, Any] = {"replicas": self.k8s.replicas if self.k8s.replicas is not None else 1}
        spec["selector"] = {"matchLabels": selector(ctx, self.name)}
        if has_claim:
            spec["strategy"] = {"type": "Recreate"}  # one pod at a time on a ReadWriteOnce volume
        spec["template"] = {"metadata": template_meta, "spec": pod}
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": labels(ctx, self.name)},
            "spec": spec,
        }
        if ports:
            extra[f"{name}-service"] = self._service_resource(ports)
        published = [p for p in ports if p.published]
        ingress = self.k8s.ingress
        if ingress is not None:
            if http_port is None:
                path = (*self.where("kubernetes"), "ingress")
                raise DockergenError.single(
                    "an Ingress needs the service's HTTP port",
                    location=ctx.source.locate(path),
                    path=path,
                    hint="give it `healthcheck.http` or a build with `port`",
                )
            extra[f"{name}-ingress"] = self._ingress(ingress)
            published += [p for p in ports if p.target == http_port and not p.published]
        if published:
            extra[f"{name}-published-networkpolicy"] = self._published_policy(published)
        return deployment, extra

    def _notes(self) -> None:
        for key, why in UNMAPPED.items():
            path = self.ctx.setter(self.name, key)
            if path is not None and getattr(self.settings, key, None) not in (None, [], {}, False):
                self.ctx.note(path, f"left out of Kubernetes: {why}")
        if self.settings.restart in ("no", "on-failure") or (self.settings.restart or "").startswith(("on-failure:", "$")):
            self.ctx.note(self.where("restart"), f"restart: {self.settings.restart} left out: a Deployment always restarts its pods")
        if self.settings.resources and self.settings.resources.limits and self.settings.resources.limits.pids:
            self.ctx.note(self.where("resources"), "left out of Kubernetes: resources.limits.pids (a node setting)")
        if self.service.plan is not None:
            builder = self.service.plan.service
            self.ctx.note(
                ("services", builder, "build"),
                "left out of Kubernetes: the image is built by `docker build` / `docker compose build`; "
                "the manifests run it, so push it where the cluster pulls from",
            )
        deps = self.settings.depends_on
        if isinstance(deps, dict):
            for dep, entry in deps.items():
                if entry is not None and entry.condition == "service_completed_successfully":
                    self.ctx.note(
                        (*self.where("depends_on"), dep),
                        "left out of Kubernetes: waiting for a one-off task to complete (run it as a Job before deploying)",
                    )

    def _image(self) -> str:
        raw = self.service.image or ""
        image = without_interpolation(raw, self.defaults.get)
        if image is None:
            path = self.where("image") if self.service.plan is None else ("services", self.service.plan.service, "build", "image")
            raise DockergenError.single(
                f"Kubernetes cannot interpolate the image {raw!r}: a `${{VAR}}` in it has no default",
                location=self.ctx.source.locate(path),
                path=path,
                hint="give it a default (`${VAR:-1.0}`) and set tags per environment with `kustomize edit set image`",
            )
        self.image = split_image(image)
        return image

    def _command(self, key: str) -> list[str] | None:
        value = getattr(self.settings, key)
        if value is None:
            return None
        try:
            words = shlex.split(value) if isinstance(value, str) else list(value)
        except ValueError as exc:  # an unclosed quote: Compose cannot split it either
            path = self.where(key)
            raise DockergenError.single(
                f"cannot split the {key} into words for Kubernetes: {exc}",
                location=self.ctx.source.locate(path),
                path=path,
                hint="write it as a list of words",
            ) from None
        return [self._expandable(word, (*self.where(key),)) for word in words]

    def _expandable(self, text: str, path: PathT) -> str:
        """``text`` for a field Kubernetes expands (`env[].value`, `command`, `args`): secret
        `${VAR}`s become `$(VAR)` read from the Secret, others their default."""
        out = []
        for part in parse(text):
            if isinstance(part, str):
                out.append(expansion_literal(part))
            elif self._is_secret(part.name):
                self._secret_entry(part.name, part.name)
                out.append(f"$({part.name})")
            else:
                out.append(expansion_literal(self._default(part, path)))
        return "".join(out)

    def _is_secret(self, variable: str) -> bool:
        return variable in self.secrets or looks_secret(variable)

    def _default(self, ref: Ref, path: PathT) -> str:
        value = substituted(ref, self.defaults.get)
        if value is not None:
            return value
        self.ctx.note(path, f"${{{ref.name}}} has no default: empty in Kubernetes (set it in `variables`)")
        return ""

    def _secret_entry(self, env_name: str, key: str) -> None:
        self.secret_keys.add(key)
        self.secret_env[env_name] = {"name": env_name, "valueFrom": {"secretKeyRef": {"name": self.ctx.secret_name, "key": key}}}

    def _environment(self) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """(ConfigMap data, `env` entries that Kubernetes must expand)."""
        config: dict[str, str] = {}
        env: list[dict[str, Any]] = []
        for key, value in (self.settings.environment or {}).items():
            path = (*self.where("environment"), key)
            if value is None:
                self.ctx.note(path, "left out of Kubernetes: a variable passed through from the host's environment")
                continue
            if "=" in key:
                self.ctx.note(path, "left out of Kubernetes: a variable name with `=`")
                continue
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            parts = parse(text)
            refs = [p for p in parts if isinstance(p, Ref)]
            if len(parts) == 1 and refs and self._is_secret(refs[0].name):
                self._secret_entry(key, refs[0].name)
                continue
            if any(self._is_secret(r.name) for r in refs) or not _ENV_KEY.fullmatch(key):
                env.append({"name": key, "value": self._expandable(text, path)})
                continue
            config[key] = "".join(p if isinstance(p, str) else self._default(p, path) for p in parts)
        return config, env

    # ---- ports, resources, security ----------------------------------------------------

    def _ports(self) -> list[Port]:
        found: dict[tuple[int, str], Port] = {}
        plan = self.service.plan

        def add(port: Port) -> None:
            key = (port.target, port.protocol)
            if key not in found or port.published:
                found[key] = port

        # A `uses` service with a command of its own (a worker) does not serve the build's port.
        if plan is not None and plan.container_port and (plan.service == self.name or self.settings.command is None):
            add(Port(plan.container_port, "TCP", False))
        raw = self.settings.ports
        for index, item in (raw.items() if isinstance(raw, dict) else enumerate(raw or [])):
            if item is None:
                continue
            parsed = parse_port(item)
            if parsed is None:
                self.ctx.note((*self.where("ports"), index), f"left out of Kubernetes: port {item!r} (not one port or a short range)")
                continue
            for port in parsed:
                add(port)
        for index, item in enumerate(self.settings.expose or []):
            for port in parse_port(str(item)) or []:
                add(Port(port.target, port.protocol, False))
        if not found and self.service.image is not None and plan is None:
            known = presets.KNOWN_PORTS.get(image_repository(self.service.image))
            if known:
                add(Port(known, "TCP", False))
        return sorted(found.values(), key=lambda p: (p.target, p.protocol))

    def _http_port(self, ports: list[Port]) -> int | None:
        hc = self.service.healthcheck
        if hc is not None and hc.http is not None:
            return hc.http[0]
        plan = self.service.plan
        if plan is not None and plan.build.family != "generic" and any(p.target == plan.container_port for p in ports):
            return plan.container_port
        return None

    def _resources(self) -> dict[str, Any]:
        res = self.settings.resources
        out: dict[str, Any] = {}
        for key, block in (("limits", res.limits if res else None), ("requests", res.reservations if res else None)):
            values: dict[str, str] = {}
            if block is not None and block.cpus is not None:
                values["cpu"] = cpu(block.cpus)
            if block is not None and block.memory is not None:
                values["memory"] = memory(block.memory)
            if values:
                out[key] = values
        # Compose's service-level spellings, where `resources` does not say.
        for setting, key, field in (("cpus", "limits", "cpu"), ("mem_limit", "limits", "memory"), ("mem_reservation", "requests", "memory")):
            value = getattr(self.settings, setting)
            if value is None or field in out.get(key, {}):
                continue
            quantity = _quantity(value, field)
            if quantity is None:
                self.ctx.note(self.where(setting), f"left out of Kubernetes: {setting} {value!r} (not a {'number of CPUs' if field == 'cpu' else 'size'})")
            else:
                out.setdefault(key, {})[field] = quantity
        return {key: dict(sorted(out[key].items())) for key in ("limits", "requests") if key in out}

    def _user(self) -> tuple[int, int] | None:
        """The uid and gid the container runs as, when known: the spec's numeric `user`, else
        the user dockergen's Dockerfile creates."""
        user = self.settings.user
        if user is not None:
            uid, _, gid = user.partition(":")
            if uid.isdigit() and (not gid or gid.isdigit()):
                return int(uid), int(gid or uid)
            self.ctx.note(self.where("user"), "left out of Kubernetes: a user name (runAsUser needs a numeric uid)")
            return None
        plan = self.service.plan
        if plan is None or plan.build.family == "generic":
            return None
        if plan.build.family == "node" and plan.build.node is not None and plan.build.node.serve == "nginx":
            return presets.NGINX_UID, presets.NGINX_UID
        return plan.build.user.uid, plan.build.user.gid

    def _pod_security(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        user = self._user()
        if user is not None and user[0] != 0:
            out = {"runAsNonRoot": True, "runAsUser": user[0], "runAsGroup": user[1], "fsGroup": user[1]}
        out["seccompProfile"] = {"type": "RuntimeDefault"}
        sysctls = self._sysctls()
        if sysctls:
            out["sysctls"] = sysctls
        return out

    def _sysctls(self) -> list[dict[str, str]]:
        raw = self.settings.sysctls
        pairs = raw.items() if isinstance(raw, dict) else (item.partition("=")[::2] for item in raw or [])
        out = {}
        for name, value in pairs:
            if _SYSCTL.fullmatch(str(name)):
                out[str(name)] = str(value)
            else:
                self.ctx.note(self.where("sysctls"), f"left out of Kubernetes: sysctl {name!r} (not a sysctl name)")
        # Only the kubelet's safe set runs without the node allowing it (--allowed-unsafe-sysctls).
        return [{"name": name, "value": value} for name, value in sorted(out.items())]

    def _container_security(self) -> dict[str, Any]:
        drop = [c.upper().removeprefix("CAP_") for c in self.settings.cap_drop or []]
        add = [c.upper().removeprefix("CAP_") for c in self.settings.cap_add or []]
        # Stock images may need their default capabilities; raw sockets none of them.
        capabilities: dict[str, Any] = {"drop": ["ALL"] if "ALL" in drop else sorted(set(drop) | {"NET_RAW"})}
        if add:
            capabilities["add"] = add
        read_only = self.settings.read_only
        if read_only is None:
            # dockergen's presets write only to /tmp and `build.writable`; where a generic
            # build (`steps`, an imported Dockerfile) writes is unknown: writable, as in Compose.
            plan = self.service.plan
            read_only = plan is not None and plan.build.family != "generic"
        return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": read_only, "capabilities": capabilities}

    # ---- volumes -----------------------------------------------------------------------

    def _volumes(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
        mounts: list[dict[str, Any]] = []
        volumes: list[dict[str, Any]] = []
        has_claim = False
        items, tmpfs = _volumes(self.service, self.ctx.env, set())
        declared = self.ctx.project.spec.volumes or {}
        for mount, volume in self._secret_mounts():
            mounts.append(mount)
            volumes.append(volume)
        for item in items:
            mount = _mount(item)
            if mount is None or mount[0] == "bind":
                self.ctx.note(self.where("volumes") if not self.settings.source_mount else self.where("source_mount"),
                              f"left out of Kubernetes: bind mount {item!r} (a host path; ship the files in the image or a ConfigMap)")  # fmt: skip
                continue
            kind, source, target, read_only = mount
            entry: dict[str, Any] = {"name": "", "mountPath": target}
            if read_only:
                entry["readOnly"] = True
            if kind == "volume":
                claim = k8s_name(source)
                if not is_dns_label(claim):
                    self.ctx.note(self.where("volumes"), f"left out of Kubernetes: volume {source!r} (not a valid Kubernetes name)")
                    continue
                has_claim = True
                entry["name"] = claim
                options = declared.get(source) or {}
                if options.get("external"):
                    claim = str(options.get("name") or source)
                else:
                    self.claims.setdefault(claim, self._claim(claim))
                volumes.append({"name": entry["name"], "persistentVolumeClaim": {"claimName": claim}})
            else:
                entry["name"] = f"scratch-{len(volumes)}"
                volumes.append({"name": entry["name"], "emptyDir": {}})
            mounts.append(entry)
        for index, item in enumerate(tmpfs):
            target, _, options = item.partition(":")
            size = re.search(r"(?:^|,)size=(\d+[kmgKMG]?)", options)
            empty: dict[str, Any] = {"medium": "Memory"}
            if size:
                empty["sizeLimit"] = memory(size.group(1))
            name = "tmp" if target == "/tmp" else f"tmpfs-{index}"
            volumes.append({"name": name, "emptyDir": empty})
            mounts.append({"name": name, "mountPath": target})
        if self._container_security()["readOnlyRootFilesystem"]:
            # Where a read-only image still writes: /tmp, and the directories the build
            # gives the app user (`build.writable`), each starting empty as the image makes it.
            for index, directory in enumerate(["/tmp", *self._writable()]):
                if not any(m["mountPath"] == directory for m in mounts):
                    name = "tmp" if directory == "/tmp" else f"writable-{index}"
                    volumes.append({"name": name, "emptyDir": {}})
                    mounts.append({"name": name, "mountPath": directory})
        return mounts, volumes, has_claim

    def _secret_mounts(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Compose `secrets`: each a file at its target (``/run/secrets/<name>`` unless told),
        from a Secret of its own holding one key; the Secret is the user's to create."""
        out = []
        declared = _declared(self.ctx.project.spec, self.ctx.env, "secrets")
        for index, item in enumerate(self.settings.secrets or []):
            path = (*self.where("secrets"), index)
            entry = {"source": item} if isinstance(item, str) else dict(item)
            source, target = entry.get("source"), entry.get("target") or entry.get("source")
            if not isinstance(source, str) or not _ENV_KEY.fullmatch(source) or not isinstance(target, str):
                self.ctx.note(path, f"left out of Kubernetes: secret {item!r} (a Secret key is letters, digits, `-`, `_`, `.`)")
                continue
            if entry.get("uid") is not None or entry.get("gid") is not None:
                self.ctx.note(path, "left out of Kubernetes: the secret's uid/gid (the file belongs to the pod's fsGroup)")
            mode = _file_mode(entry.get("mode"))
            if mode is None:
                self.ctx.note(path, f"left out of Kubernetes: the secret's mode {entry['mode']!r} (0444 instead)")
            options = declared.get(source) or {}
            name = options.get("name") if options.get("external") and isinstance(options.get("name"), str) else None
            secret = k8s_name(name) if name else f"{self.ctx.part_of}-{k8s_name(source)}"
            if not is_dns_label(secret):
                self.ctx.note(path, f"left out of Kubernetes: secret {source!r} ({secret!r} is not a Kubernetes name)")
                continue
            volume = f"secret-{k8s_name(source)}"[:63].rstrip("-")
            target = target if target.startswith("/") else posixpath.join("/run/secrets", target)
            self.mounted.append((path, MountedSecret(secret, source, _origin(source, options))))
            out.append((
                {"name": volume, "mountPath": posixpath.normpath(target), "subPath": source, "readOnly": True},
                # `optional: false` is the default; podman 4.3's kube play crashes without it (podman#16636).
                {"name": volume, "secret": {"secretName": secret, "items": [{"key": source, "path": source, "mode": 0o444 if mode is None else mode}], "optional": False}},
            ))  # fmt: skip
        return out

    def _writable(self) -> list[str]:
        plan = self.service.plan
        if plan is None or plan.build.family == "generic":
            return []
        return [posixpath.normpath(posixpath.join(plan.build.workdir, d)) for d in plan.build.writable or []]

    def _claim(self, claim: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": self.k8s.storage or "1Gi"}}}
        if self.k8s.storage_class:
            spec["storageClassName"] = self.k8s.storage_class
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim, "labels": {"app.kubernetes.io/part-of": self.ctx.part_of, "app.kubernetes.io/managed-by": "dockergen"}},
            "spec": spec,
        }

    # ---- the rest of the pod -----------------------------------------------------------

    def _wait_container(self, security: dict[str, Any], resources: dict[str, Any]) -> dict[str, Any] | None:
        if not self.k8s.wait_for_dependencies:
            return None
        path = (*self.where("kubernetes"), "wait_for_dependencies")
        plan = self.service.plan
        if plan is None or plan.build.family == "generic":
            raise DockergenError.single(
                "waiting for dependencies runs the service's own python or node image",
                location=self.ctx.source.locate(path),
                path=path,
            )
        targets = []
        deps = self.settings.depends_on
        for dep in deps if isinstance(deps, list) else list(deps or {}):
            other = self.ctx.env.services[dep]
            ports = _Workload(self.ctx, dep, other, {}, set())._ports()
            if ports:
                targets.append(f"{k8s_name(dep)}:{ports[0].target}")
            else:
                self.ctx.note(path, f"{dep!r} has no port to wait for")
        if not targets:
            return None
        interpreter = ["python", "-c", WAIT_PYTHON] if plan.build.family == "python" else ["node", "-e", WAIT_NODE]
        init: dict[str, Any] = {"name": WAIT_CONTAINER, "image": str(self.image), "command": [*interpreter, *targets]}
        if resources:
            init["resources"] = resources
        init["securityContext"] = security
        return init

    def _networks(self) -> list[str]:
        raw = self.settings.networks
        names = list(raw) if raw else ["default"]
        out = []
        for network in names:
            label = k8s_name(network)
            if not is_dns_label(label) or len(NETWORK_LABEL.format(label).split("/", 1)[1]) > 63:
                self.ctx.note(self.where("networks"), f"left out of Kubernetes: network {network!r} (not a valid label name)")
                continue
            self.networks.add(label)
            out.append(label)
        return out

    def _host_aliases(self) -> list[dict[str, Any]]:
        by_ip: dict[str, list[str]] = {}
        for entry in self.settings.extra_hosts or []:
            host, sep, ip = entry.partition("=") if "=" in entry else entry.partition(":")
            if not sep or ip == "host-gateway" or not re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", ip.strip("[]")):
                self.ctx.note(self.where("extra_hosts"), f"left out of Kubernetes: extra host {entry!r} (no fixed address)")
                continue
            by_ip.setdefault(ip.strip("[]"), []).append(host)
        return [{"ip": ip, "hostnames": hosts} for ip, hosts in sorted(by_ip.items())]

    def _node_selector(self) -> dict[str, str]:
        platform = self.settings.platform
        if not platform:
            return {}
        os_name, _, arch = platform.partition("/")
        arch = arch.split("/", 1)[0]
        if not os_name or not arch:
            self.ctx.note(self.where("platform"), f"left out of Kubernetes: platform {platform!r}")
            return {}
        return {"kubernetes.io/arch": arch, "kubernetes.io/os": os_name}

    def _annotations(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in (self.settings.labels or {}).items():
            prefix, _, rest = key.rpartition("/")
            if _ANNOTATION.fullmatch(key) and len(prefix) <= 253 and len(rest) <= 63:
                out[key] = value
            else:
                self.ctx.note((*self.where("labels"), key), "left out of Kubernetes: not a valid annotation key")
        return out

    # ---- resources besides the Deployment ------------------------------------------------

    def _service_resource(self, ports: list[Port]) -> dict[str, Any]:
        name = k8s_name(self.name)
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "labels": labels(self.ctx, self.name)},
            "spec": {
                "selector": selector(self.ctx, self.name),
                "ports": [
                    {"name": port["name"], "port": port["containerPort"], "targetPort": port["name"], "protocol": port["protocol"]}
                    for port in self._port_entries(ports)
                ],
            },
        }

    def _port_entries(self, ports: list[Port]) -> list[dict[str, Any]]:
        http_port = self._http_port(ports)
        return [
            {"name": "http" if p.target == http_port and p.protocol == "TCP" else p.name, "containerPort": p.target, "protocol": p.protocol}
            for p in ports
        ]

    def _ingress(self, ingress: Any) -> dict[str, Any]:
        name = k8s_name(self.name)
        spec: dict[str, Any] = {}
        if ingress.class_name:
            spec["ingressClassName"] = ingress.class_name
        if ingress.tls_secret:
            spec["tls"] = [{"hosts": [ingress.host], "secretName": ingress.tls_secret}]
        backend = {"service": {"name": name, "port": {"name": "http"}}}
        spec["rules"] = [{"host": ingress.host, "http": {"paths": [{"path": ingress.path, "pathType": "Prefix", "backend": backend}]}}]
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name, "labels": labels(self.ctx, self.name)},
            "spec": spec,
        }

    def _published_policy(self, ports: list[Port]) -> dict[str, Any]:
        """Ports Compose publishes on the host are open to any source, as they were there."""
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": f"{k8s_name(self.name)}-published", "labels": labels(self.ctx, self.name)},
            "spec": {
                "podSelector": {"matchLabels": selector(self.ctx, self.name)},
                "policyTypes": ["Ingress"],
                "ingress": [{"ports": [{"port": p.target, "protocol": p.protocol} for p in ports]}],
            },
        }


def _network_policy(ctx: Context, network: str) -> dict[str, Any]:
    """A Compose network: its members accept traffic from each other (egress stays open)."""
    members = {"matchLabels": {NETWORK_LABEL.format(network): "true"}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"network-{network}", "labels": {"app.kubernetes.io/part-of": ctx.part_of, "app.kubernetes.io/managed-by": "dockergen"}},
        "spec": {"podSelector": members, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": members}]}]},
    }


def _quantity(value: str | int | float, field: str) -> str | None:
    """A service-level `cpus` / `mem_limit` value in Kubernetes' units; None when unreadable."""
    text = str(value).strip()
    if field == "cpu":
        return cpu(float(text)) if re.fullmatch(r"\d+(\.\d+)?", text) and float(text) > 0 else None
    return memory(text) if re.fullmatch(r"\d+(\.\d+)?[bkmgBKMG]?[bB]?", text) else None


def _file_mode(mode: Any) -> int | None:
    """A Compose file mode as Kubernetes takes it: an int as Compose reads it, a string in
    octal (`"0440"`); None when it is neither or out of range."""
    if mode is None:
        return 0o444  # Compose's
    if isinstance(mode, str) and re.fullmatch(r"0?[0-7]{1,3}", mode):
        mode = int(mode, 8)
    if isinstance(mode, int) and not isinstance(mode, bool) and 0 <= mode <= 0o777:
        return mode
    return None


def _origin(name: str, options: dict[str, Any]) -> str:
    if options.get("external"):
        return "external"
    if isinstance(options.get("file"), str):
        return f"file {options['file']}"
    if isinstance(options.get("environment"), str):
        return f"variable {options['environment']}"
    return f"secret {name}"


def _mount(item: Any) -> tuple[str, str, str, bool] | None:
    """(volume | bind | anonymous, source, target, read-only) of a Compose mount."""
    if isinstance(item, dict):
        kind = str(item.get("type") or "volume")
        target = str(item.get("target") or "")
        source = str(item.get("source") or "")
        if not target.startswith("/") or kind not in ("volume", "bind"):
            return None
        if kind == "volume" and not source:
            kind = "anonymous"
        return kind, source, posixpath.normpath(target), bool(item.get("read_only"))
    parts = str(item).split(":")
    if len(parts) == 1:
        return ("anonymous", "", posixpath.normpath(parts[0]), False) if parts[0].startswith("/") else None
    source, target = parts[0], parts[1]
    options = parts[2].split(",") if len(parts) > 2 else []
    if not target.startswith("/"):
        return None
    kind = "bind" if source.startswith((".", "/", "~", "$")) else "volume"
    return kind, source, posixpath.normpath(target), "ro" in options
