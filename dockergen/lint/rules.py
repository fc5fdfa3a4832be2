"""The lint rules: one table, ``RULES``, keyed by a stable ID.

A rule is a function registered with ``@rule``: it looks at one service in one
environment (``ServiceView``) or at one rendered Dockerfile (``ImageView``) and yields
``Hit``s. A hit names the setting responsible as a path inside the service's settings
(``("environment", "API_TOKEN")``); the engine turns that into the file:line:col of the
spec layer that set it. IDs are never reused: a retired rule keeps its number.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockergen import manifests, presets
from dockergen.render.kubernetes.probes import podman_safe
from dockergen.render.kubernetes.values import split_image
from dockergen.render.support import INTERPOLATION, is_literal
from dockergen.sensitive import looks_secret
from dockergen.resolve import EnvironmentInfo, ImagePlan, ResolvedService, image_repository
from dockergen.spec.load import SourceMap
from dockergen.spec.model import Node, Python, Spec

SEVERITIES = ("error", "warning", "note")  # highest first
PROD = frozenset({"staging", "prod"})  # kinds of environment that run for real

PathT = tuple[str | int, ...]


@dataclass(frozen=True)
class Hit:
    message: str
    path: PathT = ()  # inside the service's settings; the engine finds the layer that set it
    spec_path: PathT | None = None  # an absolute spec path, when the rule knows it
    file: str | None = None  # a generated file the finding is also visible in ...
    line: int | None = None  # ... and its line


@dataclass(frozen=True)
class Stage:
    """One ``FROM`` of a rendered Dockerfile."""

    index: int
    name: str | None
    base: str  # image or earlier stage
    line: int
    users: tuple[tuple[str, int], ...] = ()  # (USER value, line)


@dataclass(frozen=True)
class ServiceView:
    env: EnvironmentInfo
    name: str
    service: ResolvedService
    doc: dict[str, Any]  # the service as the environment's Compose document has it
    stages: tuple[Stage, ...] = ()  # of the Dockerfile it builds or uses
    layers: tuple[tuple[str, Any, dict[str, Any]], ...] = ()  # the spec layers, lowest first (resolve.spec_layers)
    kubernetes: dict[str, Any] | None = None  # its Deployment, where the environment deploys to Kubernetes


@dataclass(frozen=True)
class ImageView:
    plan: ImagePlan
    stages: tuple[Stage, ...]
    source: SourceMap


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str
    summary: str  # what it finds, one line
    why: str  # why it matters, one line
    fix: str  # what to do, one line
    check: Callable[[Any], Iterable[Hit]]
    scope: str = "service"  # service | image | project (the whole spec)
    kinds: frozenset[str] | None = None  # kinds of environment checked (None: all)
    tags: tuple[str, ...] = field(default_factory=tuple)


RULES: dict[str, Rule] = {}


def rule(
    id: str, name: str, severity: str, *, summary: str, why: str, fix: str, scope: str = "service",
    kinds: frozenset[str] | None = None, tags: tuple[str, ...] = (),
) -> Callable[[Callable[[Any], Iterable[Hit]]], Callable[[Any], Iterable[Hit]]]:  # fmt: skip
    def register(check: Callable[[Any], Iterable[Hit]]) -> Callable[[Any], Iterable[Hit]]:
        assert id not in RULES and severity in SEVERITIES
        RULES[id] = Rule(id, name, severity, summary, why, fix, check, scope, kinds, tags)
        return check

    return register


# ---- helpers -------------------------------------------------------------------------


def _entries(value: Any) -> list[tuple[str | int, Any]]:
    """``(index or name, item)`` of a list, or of the mapping form of ports/volumes."""
    if isinstance(value, dict):
        return [(k, v) for k, v in value.items() if v is not None]
    return list(enumerate(value or []))


def _plain(item: Any) -> Any:
    return item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else item


def _mount_source(item: Any) -> tuple[str, bool]:
    """``(source, is a bind mount)`` of one Compose volume entry."""
    item = _plain(item)
    if isinstance(item, dict):
        source = str(item.get("source") or "")
        return source, item.get("type") == "bind" or source.startswith(("/", ".", "~", "$"))
    text = str(item)
    if ":" not in text:
        return "", False  # an anonymous volume
    source = text.split(":", 1)[0]
    return source, source.startswith(("/", ".", "~", "$"))


LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _host_binding(item: Any) -> tuple[str, str] | None:
    """``(host ip, host port)`` of a published port entry, or None when it publishes nothing."""
    item = _plain(item)
    if isinstance(item, dict):
        return str(item.get("host_ip") or ""), str(item.get("published") or "")
    text = str(item).split("/", 1)[0]
    ip = ""
    if text.startswith("["):
        ip, _, text = text[1:].partition("]")
        text = text.removeprefix(":")
    parts = text.split(":")
    if len(parts) == 3:
        ip = parts[0]
    host = parts[-2] if len(parts) >= 2 else ""  # "5432" alone: an ephemeral host port
    return ip.strip("[]"), host


def _tag_problem(image: str) -> str | None:
    """Why ``image`` is not pinned: no tag, or ``latest``; None when it is (or is variable)."""
    if "@sha256:" in image or "$" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag (it means `latest`)"
    if last.split(":", 1)[1] == "latest":
        return "uses the `latest` tag"
    return None


def final_user(stages: tuple[Stage, ...], target: str | None) -> tuple[str | None, Stage | None]:
    """The ``USER`` a container of ``target`` runs as (None: the base image's, usually root),
    and the stage that decides it."""
    by_name = {s.name.lower(): s for s in stages if s.name}
    stage = by_name.get((target or "").lower()) or (stages[-1] if stages else None)
    seen: set[int] = set()
    last = stage
    while stage is not None and stage.index not in seen:
        seen.add(stage.index)
        if stage.users:
            return stage.users[-1][0], stage
        last, stage = stage, by_name.get(stage.base.lower())
    return None, last


def _is_root(user: str) -> bool:
    name = user.split(":", 1)[0].strip()
    return name in ("root", "0")


DATABASES = {
    "postgres", "postgresql", "postgis", "timescaledb", "mysql", "mariadb", "percona", "mongo", "mongodb",
    "redis", "valkey", "keydb", "memcached", "cassandra", "scylla", "couchdb", "couchbase", "elasticsearch",
    "opensearch", "influxdb", "clickhouse-server", "clickhouse", "neo4j", "etcd", "rabbitmq", "mssql-server",
}  # fmt: skip


def _is_database(image: str | None) -> bool:
    return bool(image) and image_repository(image or "").rsplit("/", 1)[-1] in DATABASES


# ---- rules on a service in an environment -------------------------------------------


@rule(
    "DG001", "no-resource-limits", "warning", kinds=PROD,
    summary="A staging/prod service has no memory or CPU limit.",
    why="One leaking or runaway container can starve every other service on the host.",
    fix="Set `resources.limits` (e.g. `{cpus: 1.0, memory: 512M}`) on the service or in the environment's defaults.",
)  # fmt: skip
def _no_limits(view: ServiceView) -> Iterator[Hit]:
    resources = view.service.settings.resources
    limits = resources.limits if resources else None
    if limits is None or (limits.memory is None and limits.cpus is None):
        stock = "" if view.service.plan is not None else " (dockergen sizes only the images it builds: size this one for its load)"
        yield Hit(f"no resource limits{stock}", ("resources", "limits"))
    elif limits.memory is None:
        yield Hit("no memory limit", ("resources", "limits", "memory"))


@rule(
    "DG002", "unpinned-image", "warning",
    summary="A service runs an image without a tag or with `latest`.",
    why="`latest` moves: two deploys of the same spec can run different software, and rollbacks do not roll back.",
    fix="Pin a version tag (`postgres:16.4-alpine`) or a digest (`@sha256:...`).",
)  # fmt: skip
def _unpinned_image(view: ServiceView) -> Iterator[Hit]:
    image = view.service.settings.image
    if view.service.plan is None and image:
        why = _tag_problem(image)
        if why:
            yield Hit(f"image {image!r} {why}", ("image",))


@rule(
    "DG003", "root-user", "error", kinds=PROD,
    summary="A staging/prod container runs as root.",
    why="A process escaping its application runs as root in the container, one kernel bug away from root on the host.",
    fix="Set `user: \"10001:10001\"` (or a `USER` in the image's last stage); dockergen's python/node images already do.",
)  # fmt: skip
def _root_user(view: ServiceView) -> Iterator[Hit]:
    user = view.service.settings.user
    if user is not None:
        if _is_root(user):
            yield Hit(f"runs as {user!r}", ("user",))
        return
    plan = view.service.plan
    if plan is None or not view.stages:
        return  # a third-party image: its own user is not known here
    found, stage = final_user(view.stages, view.service.target)
    if found is None or _is_root(found):
        what = "no USER" if found is None else f"USER {found}"
        spec_path = None
        if plan.build.family == "generic" and stage is not None:
            spec_path = ("services", plan.service, "build", *plan.build.stage_path(stage.index))
        built = f"target {view.service.target!r}" if view.service.target is not None else "the last stage"
        yield Hit(f"{built} of {plan.dockerfile} has {what}", spec_path=spec_path,
                  file=plan.dockerfile, line=stage.line if stage else None)  # fmt: skip


@rule(
    "DG004", "no-healthcheck", "warning", kinds=PROD,
    summary="A staging/prod service has no healthcheck.",
    why="Without one, `depends_on` cannot wait for readiness and a hung process looks healthy to Compose and to you.",
    fix="Add `healthcheck: {http: /health}` (built python/node images) or `healthcheck: {test: [...]}`.",
)  # fmt: skip
def _no_healthcheck(view: ServiceView) -> Iterator[Hit]:
    hc = view.service.healthcheck
    if hc is None:
        yield Hit("no healthcheck", ("healthcheck",))
    elif hc.disable and hc.note is not None:
        # Disabled by dockergen for a `uses` service: the service is to blame, not the
        # builder whose probe it does not run.
        yield Hit(f"no healthcheck: {hc.note}", spec_path=("services", view.name, "command" if view.service.settings.command else "uses"))
    elif hc.disable:
        yield Hit("healthcheck disabled", ("healthcheck", "disable"))


@rule(
    "DG005", "secret-literal", "error",
    summary="An environment variable named like a secret has a literal value in the spec.",
    why="Everyone who can read the repository (and its history) can read the secret.",
    fix="Write `NAME: ${NAME}` and keep the value in `.env` or the CI's secret store, or use Compose `secrets:`.",
)  # fmt: skip
def _secret_literal(view: ServiceView) -> Iterator[Hit]:
    for key, value in (view.service.settings.environment or {}).items():
        if looks_secret(key) and is_literal(value):
            if str(value).startswith("/run/secrets/"):
                continue
            yield Hit(f"{key} has a literal value", ("environment", key))


@rule(
    "DG006", "database-port-published", "error", kinds=PROD,
    summary="A staging/prod database or broker publishes a port on the host's interfaces.",
    why="A published database port is reachable from outside the Compose network, often from the internet.",
    fix="Remove `ports` in this environment (services reach it by name on the Compose network), or bind 127.0.0.1.",
)  # fmt: skip
def _database_port(view: ServiceView) -> Iterator[Hit]:
    if view.service.plan is not None or not _is_database(view.service.image):
        return
    for key, item in _entries(view.service.settings.ports):
        binding = _host_binding(item)
        if binding is None or binding[0] in LOOPBACK:
            continue
        ip, host = binding
        shown = _plain(item) if not isinstance(_plain(item), dict) else f"{host or '(ephemeral)'}->{_plain(item).get('target')}"
        yield Hit(f"publishes {shown} on {ip or 'all interfaces'}", ("ports", key))


ROTATING_DRIVERS = {"local", "journald", "syslog", "gelf", "fluentd", "awslogs", "splunk", "gcplogs", "etwlogs", "logentries", "none"}


@rule(
    "DG007", "no-log-rotation", "warning", kinds=PROD,
    summary="A staging/prod service logs with json-file without `max-size`.",
    why="Docker's default json-file driver keeps every log line forever, until the disk is full.",
    fix="Set `logging: {driver: json-file, options: {max-size: 10m, max-file: \"3\"}}`, or the `local` driver.",
)  # fmt: skip
def _log_rotation(view: ServiceView) -> Iterator[Hit]:
    logging = view.service.settings.logging
    if logging is None:
        yield Hit("no logging options (the daemon's default json-file driver does not rotate)", ("logging",))
        return
    driver = logging.driver or "json-file"
    if driver in ROTATING_DRIVERS:
        return
    if driver == "json-file" and "max-size" not in (logging.options or {}):
        yield Hit("json-file logging without max-size", ("logging", "options") if logging.options else ("logging",))


@rule(
    "DG008", "privileged", "error",
    summary="A service runs privileged.",
    why="A privileged container has every capability and every device: it is root on the host.",
    fix="Remove `privileged`; add only the capability needed (`cap_add`) or the device (`devices`).",
)  # fmt: skip
def _privileged(view: ServiceView) -> Iterator[Hit]:
    if view.doc.get("privileged") is True:
        yield Hit("privileged: true", ("compose", "privileged"))


@rule(
    "DG009", "host-namespace", "warning",
    summary="A service shares the host's network, PID, IPC or user namespace.",
    why="`network_mode: host` and friends remove the isolation Compose gives: ports, processes and users are the host's.",
    fix="Publish the needed `ports` on the Compose network instead; drop `pid`/`ipc`/`userns_mode: host`.",
)  # fmt: skip
def _host_namespace(view: ServiceView) -> Iterator[Hit]:
    escape = view.service.settings.compose or {}
    for key in ("network_mode", "pid", "ipc", "uts", "userns_mode"):
        if view.doc.get(key) == "host":
            yield Hit(f"{key}: host", ("compose", key) if key in escape else (key,))


@rule(
    "DG010", "bind-mount-in-prod", "warning", kinds=PROD,
    summary="A staging/prod service bind-mounts a host path.",
    why="The container then depends on files of one host's checkout: deploys are not reproducible, and writes reach the host.",
    fix="Bake the files into the image (a `generic` build) or use a named volume or Compose `configs`; "
    "exclude the service with `lint.rules.DG010.exclude` when the mount is deliberate.",
)  # fmt: skip
def _bind_mount(view: ServiceView) -> Iterator[Hit]:
    settings = view.service.settings
    for key, item in _entries(settings.volumes):
        source, bind = _mount_source(item)
        if bind and not source.endswith((".sock",)):
            yield Hit(f"bind-mounts {source}", ("volumes", key))
    if settings.source_mount and view.service.plan is not None:
        yield Hit("bind-mounts its build context (source_mount)", ("source_mount",))


@rule(
    "DG011", "no-restart-in-prod", "warning", kinds=PROD,
    summary="A staging/prod service is not restarted when it exits or the host reboots.",
    why="With `restart: \"no\"` (Compose's default) one crash takes the service down until someone notices.",
    fix="Set `restart: unless-stopped` or `always` (dockergen's staging/prod defaults).",
)  # fmt: skip
def _no_restart(view: ServiceView) -> Iterator[Hit]:
    restart = view.service.settings.restart
    if restart is None or restart == "no":
        yield Hit(f"restart: {restart or 'not set'}", ("restart",))


@rule(
    "DG012", "docker-socket", "error",
    summary="A service mounts the Docker or podman API socket.",
    why="Whoever controls the socket can start a privileged container: it is root on the host.",
    fix="Remove the mount; if a tool needs the API, put a filtering socket proxy in front of it.",
)  # fmt: skip
def _docker_socket(view: ServiceView) -> Iterator[Hit]:
    for key, item in _entries(view.service.settings.volumes):
        source, _ = _mount_source(item)
        if source.endswith(("docker.sock", "podman.sock")):
            yield Hit(f"mounts {source}", ("volumes", key))


DANGEROUS_CAPABILITIES = {"ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO", "DAC_READ_SEARCH", "NET_ADMIN", "SYS_BOOT"}


@rule(
    "DG013", "dangerous-capability", "warning",
    summary="A service adds a capability that is close to root on the host.",
    why="SYS_ADMIN, SYS_MODULE, SYS_PTRACE, NET_ADMIN and ALL each allow escaping or controlling the host.",
    fix="Drop it; add the narrowest capability the process needs (e.g. NET_BIND_SERVICE).",
)  # fmt: skip
def _capabilities(view: ServiceView) -> Iterator[Hit]:
    for index, cap in enumerate(view.service.settings.cap_add or []):
        if cap.upper().removeprefix("CAP_") in DANGEROUS_CAPABILITIES:
            yield Hit(f"cap_add {cap}", ("cap_add", index))


@rule(
    "DG014", "dev-settings-in-prod", "error", kinds=PROD,
    summary="A staging/prod service runs the dev or test stage, the source bind mount or the debugger port.",
    why="Dev stages carry compilers, reload servers and test tools; a debugger port is remote code execution.",
    fix="Remove the override of `target`, `source_mount` or `debug_port` for this environment.",
)  # fmt: skip
def _dev_in_prod(view: ServiceView) -> Iterator[Hit]:
    service, settings = view.service, view.service.settings
    plan = service.plan
    if plan is None:
        return
    stage = plan.build.builtin_stage(service.target)
    if plan.build.family != "generic" and stage in ("dev", "test"):
        yield Hit(f"builds the {service.target!r} stage", ("target",))
    if settings.debug_port and plan.build.python is not None and plan.build.python.debug_port and stage == "dev":
        yield Hit("publishes the debugger port", ("debug_port",))


@rule(
    "DG015", "no-new-privileges", "note", kinds=PROD,
    summary="A staging/prod service can gain privileges through setuid binaries.",
    why="`no-new-privileges` stops a compromised process from becoming root via setuid/setgid executables in the image.",
    fix="Add `security_opt: [\"no-new-privileges:true\"]` (dockergen sets it for the images it builds).",
)  # fmt: skip
def _no_new_privileges(view: ServiceView) -> Iterator[Hit]:
    options = [o.replace("=", ":") for o in view.service.settings.security_opt or []]
    if not any(o in ("no-new-privileges", "no-new-privileges:true") for o in options):
        yield Hit("no `no-new-privileges`", ("security_opt",))


@rule(
    "DG017", "secret-default", "warning",
    summary="An environment variable named like a secret falls back to a literal default (`${VAR:-admin}`).",
    why="When the variable is unset the service starts with a password everyone can read in the repository.",
    fix="Require the variable instead: `${VAR:?set VAR}` (and document it under `variables:`).",
)  # fmt: skip
def _secret_default(view: ServiceView) -> Iterator[Hit]:
    for key, value in (view.service.settings.environment or {}).items():
        if not isinstance(value, str) or not looks_secret(key):
            continue
        for match in INTERPOLATION.finditer(value):
            op, default = match.group(2), match.group(3)
            if op in (":-", "-") and default and is_literal(default):
                yield Hit(f"{key} defaults to a literal when ${{{match.group(1)}}} is unset", ("environment", key))
                break


@rule(
    "DG025", "defaults-reach-stock-image", "warning",
    summary="A credential or connection URL from `defaults` reaches a service that builds nothing (postgres, redis ...).",
    why="Application settings meant for your services land in third-party containers, where anyone who can inspect them reads the credentials.",
    fix="Give those defaults `scope: built` (only built services), or move the variable to the services that read it.",
)  # fmt: skip
def _defaults_reach_stock(view: ServiceView) -> Iterator[Hit]:
    if view.service.plan is not None:
        return
    for key, value in (view.service.settings.environment or {}).items():
        if not (looks_secret(key) or "://" in str(value)):
            continue
        label, path = next(((label, p) for label, p, layer in reversed(view.layers) if key in (layer.get("environment") or {})), ("", None))
        if path is not None and path[-1] == "defaults":
            yield Hit(f"{key} from `{label}` reaches {view.service.image}", spec_path=(*path, "environment", key))


# ---- rules on the whole spec -----------------------------------------------------------


@rule(
    "DG024", "host-file", "warning", scope="project",
    summary="A top-level secret or config is read from an absolute path on the host, outside the project.",
    why="The rendered files then work only on machines with that file at that path, and a review of the repository cannot see it.",
    fix="Keep the file in the project (git-ignored), or take the secret from an environment variable (`environment: VAR`).",
)  # fmt: skip
def _host_file(spec: Spec) -> Iterator[Hit]:
    for kind in ("secrets", "configs"):
        for name, entry in (getattr(spec, kind) or {}).items():
            file = entry.get("file") if isinstance(entry, dict) else None
            if isinstance(file, str) and os.path.isabs(file):
                yield Hit(f"{kind[:-1]} {name!r} reads {file!r}, an absolute path on the host", spec_path=(kind, name, "file"))


# ---- rules on a rendered Dockerfile --------------------------------------------------


@rule(
    "DG016", "unpinned-base-image", "warning", scope="image",
    summary="A Dockerfile starts from an image without a tag or with `latest`.",
    why="The image changes under you: the same spec builds different images on different days.",
    fix="Pin the base image's version (and `build.digest` for reproducible builds).",
)  # fmt: skip
def _unpinned_base(view: ImageView) -> Iterator[Hit]:
    plan = view.plan
    names = {s.name.lower() for s in view.stages if s.name}
    for stage in view.stages:
        base = stage.base
        if base.lower() in names or base == "scratch":
            continue
        why = _tag_problem(base)
        if why is None:
            continue
        svc = ("services", plan.service, "build")
        flavoured = (*svc, "flavours", plan.flavour)
        if plan.build.family == "generic":
            # `stages[i].from`, or the `FROM` item of `steps`
            at = plan.build.stage_path(stage.index) + (("from",) if plan.build.steps is None else ())
            candidates = [(*flavoured, *at), (*svc, *at)]
        else:
            candidates = [(*flavoured, "base_image"), (*svc, "base_image")]
        spec_path = next((c for c in candidates if view.source.has(c)), svc)
        yield Hit(f"FROM {base} {why}", spec_path=spec_path, file=plan.dockerfile, line=stage.line)


@rule(
    "DG030", "test-stage-without-pytest", "warning", scope="image",
    summary="A python test stage runs pytest, but nothing it installs names pytest.",
    why="The test image cannot run its own command: `No module named pytest`.",
    fix="Add pytest to `test_requirements`/`dev_requirements` (pip) or a dependency group (uv, Poetry, PDM), or set `python.test_command`.",
)  # fmt: skip
def _test_stage_without_pytest(view: ImageView) -> Iterator[Hit]:
    build = view.plan.build
    if build.family != "python" or build.base_image is not None or "pytest" in repr(build.hooks):
        return  # an own base image or a hook may bring it: only the template's installs are judged
    py = build.python or Python()
    context = Path(view.source.file).parent / build.context
    if not context.is_dir() or not manifests.runs_pytest(py.test_command):
        return
    names = manifests.installed_for_tests(build, context)
    if names is not None and "pytest" not in names:
        at = ("services", view.plan.service, "build", "python")
        where = "pyproject.toml" if py.package_manager != "pip" or py.requirements == "pyproject.toml" else "the requirement files"
        yield Hit(f"the test stage runs pytest, but nothing it installs ({where}) names pytest", spec_path=at if view.source.has(at) else at[:3])


@rule(
    "DG031", "prod-server-not-installed", "warning", scope="image",
    summary="A python prod image serves `app` with a server its runtime dependencies do not install.",
    why="The prod container fails at once (`gunicorn: not found`) and restarts forever; dev and test may still work.",
    fix="Add the server (gunicorn; uvicorn for an ASGI app) to the runtime requirements or `[project] dependencies`, "
    "or set `python.server` to the one installed.",
)  # fmt: skip
def _prod_server_not_installed(view: ImageView) -> Iterator[Hit]:
    build = view.plan.build
    py = build.python or Python()
    if build.family != "python" or build.base_image is not None or py.app is None or py.prod_command is not None or view.plan.container_port is None:
        return  # an own base image may bring it; a prod_command is the user's own
    if build.hooks and ("gunicorn" in repr(build.hooks) or "uvicorn" in repr(build.hooks)):
        return
    context = Path(view.source.file).parent / build.context
    names = manifests.installed_for_prod(build, context) if context.is_dir() else None
    if names is None:
        return
    needed = ["uvicorn"] if py.interface == "asgi" else []
    needed += ["gunicorn"] if py.server == "gunicorn" or py.interface == "wsgi" else []
    missing = [n for n in needed if n not in names]
    if missing:
        at = ("services", view.plan.service, "build", "python")
        yield Hit(f"the prod server runs {' and '.join(f'`{n}`' for n in missing)}, which the runtime dependencies do not install",
                  spec_path=at if view.source.has(at) else at[:3])  # fmt: skip


@rule(
    "DG032", "test-stage-without-test-script", "warning", scope="image",
    summary="A node test stage runs `npm test` (yarn, pnpm), but package.json has no `test` script.",
    why="The test image cannot run its own command: `Missing script: \"test\"` (or npm's placeholder, `Error: no test specified`).",
    fix="Add a `test` script to package.json, or set `node.test_command` (e.g. `[node, --test]`, or the runner it installs).",
)  # fmt: skip
def _test_stage_without_test_script(view: ImageView) -> Iterator[Hit]:
    build = view.plan.build
    if build.family != "node" or build.base_image is not None or (build.node or Node()).test_command is not None:
        return
    package = manifests.package_json(Path(view.source.file).parent / build.context)
    if package is not None and not manifests.has_test_script(package):
        tool = presets.PACKAGE_MANAGERS[(build.node or Node()).package_manager]
        at = ("services", view.plan.service, "build", "node")
        yield Hit(f"the test stage runs `{' '.join(tool.test_command)}`, but package.json has no `test` script",
                  spec_path=at if view.source.has(at) else at[:3])  # fmt: skip


# ---- rules on a service's Kubernetes Deployment (``ServiceView.kubernetes``) ---------

K8S = ("kubernetes",)


def _container(view: ServiceView) -> dict[str, Any] | None:
    if view.kubernetes is None:
        return None
    return view.kubernetes["spec"]["template"]["spec"]["containers"][0]


@rule(
    "DG018", "kubernetes-no-liveness-probe", "warning", tags=K8S,
    summary="A service deployed to Kubernetes has no liveness probe.",
    why="Without one the kubelet never restarts a hung process, and without readiness a Service routes to pods that cannot answer.",
    fix="Add `healthcheck: {http: /health}` (python/node builds) or `healthcheck: {test: [...]}`: probes are made from it.",
)  # fmt: skip
def _no_liveness(view: ServiceView) -> Iterator[Hit]:
    container = _container(view)
    if container is not None and "livenessProbe" not in container:
        yield Hit("no liveness probe in Kubernetes (no usable healthcheck)", ("healthcheck",))


@rule(
    "DG019", "kubernetes-no-limits", "warning", tags=K8S,
    summary="A container deployed to Kubernetes lacks a memory or CPU limit.",
    why="A pod without limits can take a node's memory or CPU from every other pod; the scheduler cannot plan around it.",
    fix="Set `resources.limits: {cpus: ..., memory: ...}` (and `reservations` for the requests) for the environment.",
)  # fmt: skip
def _no_limits(view: ServiceView) -> Iterator[Hit]:
    container = _container(view)
    if container is None:
        return
    limits = container.get("resources", {}).get("limits", {})
    missing = [kind for kind in ("memory", "cpu") if kind not in limits]
    if missing:
        yield Hit(f"no {' or '.join(missing)} limit in Kubernetes", ("resources", "limits"))


@rule(
    "DG020", "kubernetes-mutable-tag", "warning", tags=K8S,
    summary="A Kubernetes container runs an image without a tag or with `latest`.",
    why="Nodes pull `latest` whenever they like: replicas of one Deployment can run different code, and a rollback rolls back nothing.",
    fix="Give the image a version tag or digest; for built images set the tag per environment with `kustomize edit set image`.",
)  # fmt: skip
def _mutable_tag(view: ServiceView) -> Iterator[Hit]:
    container = _container(view)
    if container is None:
        return
    image = split_image(container["image"])
    if image.digest is None and image.tag in (None, "latest"):
        plan = view.service.plan
        spec_path = ("services", plan.service, "build", "image") if plan is not None else None
        yield Hit(f"image {container['image']!r} has {'no tag' if image.tag is None else 'the `latest` tag'}", ("image",), spec_path=spec_path)


@rule(
    "DG021", "kubernetes-privileged", "warning", tags=K8S,
    summary="A Kubernetes container adds capabilities or runs as root.",
    why="Pod Security `baseline` refuses most added capabilities and `restricted` any root user; each is a wider door out of the container.",
    fix="Drop `cap_add`, and run as a numeric non-root `user` (dockergen's images do already).",
)  # fmt: skip
def _privileged(view: ServiceView) -> Iterator[Hit]:
    container = _container(view)
    if container is None:
        return
    added = container["securityContext"].get("capabilities", {}).get("add")
    if added:
        yield Hit(f"adds capabilities {', '.join(added)}", ("cap_add",))
    pod = view.kubernetes["spec"]["template"]["spec"]  # type: ignore[index]
    if pod["securityContext"].get("runAsUser") == 0:
        yield Hit("runs as uid 0", ("user",))


@rule(
    "DG022", "kubernetes-replicas-on-volume", "error", tags=K8S,
    summary="A Deployment with a persistent volume has more than one replica.",
    why="Its claim is ReadWriteOnce: the second pod cannot mount it (or, on one node, two databases write one directory).",
    fix="Keep `kubernetes.replicas: 1` for services with a data volume, or move the state out of the service.",
)  # fmt: skip
def _replicas_on_volume(view: ServiceView) -> Iterator[Hit]:
    if view.kubernetes is None:
        return
    spec = view.kubernetes["spec"]
    volumes = spec["template"]["spec"].get("volumes", [])
    if spec["replicas"] > 1 and any("persistentVolumeClaim" in v for v in volumes):
        yield Hit(f"{spec['replicas']} replicas share a ReadWriteOnce volume", ("kubernetes", "replicas"))


@rule(
    "DG023", "kubernetes-probe-not-plain", "note", tags=K8S,
    summary="A liveness probe's arguments are not plain words.",
    why="podman's `kube play` (4.3) joins probe arguments into one unquoted shell line, which changes such a probe; a cluster runs it as written.",
    fix="Use a single-word command (a script in the image) or plain arguments, if the manifests must also run on podman.",
)  # fmt: skip
def _probe_not_plain(view: ServiceView) -> Iterator[Hit]:
    container = _container(view)
    command = (container or {}).get("livenessProbe", {}).get("exec", {}).get("command")
    if command and not podman_safe(command):
        yield Hit("podman's kube play would run this liveness probe as one unquoted shell line", ("healthcheck",))

def parse_stages(text: str) -> tuple[Stage, ...]:
    """The stages of a rendered Dockerfile, with each stage's ``USER`` lines."""
    import dockerfile

    stages: list[Stage] = []
    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError:
        return ()
    for command in commands:
        if command.cmd.upper() == "FROM":
            words = [w for w in command.value]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(len(stages), name, words[0] if words else "", command.start_line))
        elif command.cmd.upper() == "USER" and stages and command.value:
            last = stages[-1]
            stages[-1] = Stage(last.index, last.name, last.base, last.line, (*last.users, (command.value[0], command.start_line)))
    return tuple(stages)

