"""The spec's data model: what a ``dockergen.yaml`` may contain.

These pydantic models are the single definition of the spec. The JSON Schema in
``specs/`` is exported from them (``dockergen schema``), and their docstrings and field
descriptions become the schema's documentation.

Service settings (``ServiceSettings``) appear at four levels that ``resolve`` layers:
``defaults`` < ``environments.<env>.defaults`` < ``services.<svc>`` <
``services.<svc>.environments.<env>``. Mappings deep-merge, a ``null`` value removes a
key, and any other value (lists included) replaces what the lower layer had; a ``logging``
with another ``driver`` replaces the lower one whole, as in Compose.
"""

# No `from __future__ import annotations` here: pydantic would then compile and evaluate
# each of the ~290 annotation strings at import (a few % of building the models); real
# annotations are evaluated once, from the bytecode. Hence `Self` in the validators.
import posixpath
import re
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from dockergen import durations, presets
from dockergen.render import quote
from dockergen.spec import names
from dockergen.spec.steps import StageHead, read_steps
from dockergen.text import ENV_NAME, forbidden_character


def matching(pattern: str, means: str, default: Any = ..., **kwargs: Any) -> Any:
    """A string field that must match ``pattern``; ``means`` says in words what it accepts.
    It is the error message (``must be <means>``) and, in the JSON Schema, editors'
    ``patternErrorMessage``; a test fails on a pattern without one."""
    return Field(default, pattern=pattern, json_schema_extra={"patternErrorMessage": f"must be {means}"}, **kwargs)


# Patterns are whole-string (pydantic's engine anchors `$` at the very end) and spell
# digits [0-9]: its `\d` also matches `３` and `٣`, which no consumer reads as a number.
NAME = r"^[a-z][a-z0-9_-]*$"
DURATION = r"^([0-9]+(\.[0-9]+)?(us|ms|s|m|h))+$"
VERSION = r"^[0-9]+(\.[0-9]+){0,2}$"
MEMORY = r"^[0-9]+(\.[0-9]+)?([bkmgBKMG][bB]?)?$"

Name = Annotated[str, matching(NAME, "lowercase letters, digits, '-' or '_', starting with a letter", max_length=63)]


def _bounded_duration(duration: str) -> str:
    why = durations.too_long(duration)
    if why:
        raise ValueError(why)
    return duration


Duration = Annotated[str, matching(DURATION, "a duration such as 30s, 1m30s or 500ms", description="A duration such as `30s`, `1m30s`, `500ms`."),
                     AfterValidator(_bounded_duration)]  # fmt: skip
# A healthcheck timing the project sets per run: a `${VAR:-default}` whose default is a duration,
# which is what runs where nothing interpolates (the image's HEALTHCHECK, Kubernetes probes).
# A bare `$VAR` (sentry's `$HEALTHCHECK_INTERVAL`) is one the project requires (Compose refuses
# the file without it); where nothing interpolates, Docker's default for that timing runs.
_BARE_VARIABLE = r"\$([A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})"
TIMING = "^(" + DURATION[1:-1] + r"|\$\{[A-Za-z_][A-Za-z0-9_]*:?-" + DURATION[1:-1] + r"\}|" + _BARE_VARIABLE + ")$"
Timing = Annotated[str, matching(TIMING, "a duration such as 30s, 1m30s or 500ms, or a variable (${HC_INTERVAL:-10s}, $HC_INTERVAL)",
                                 description="A duration such as `30s`, or a variable Compose interpolates: `${VAR:-30s}` (the image "
                                 "and Kubernetes use the default) or `$VAR` (they use Docker's default for the timing)."),
                   AfterValidator(_bounded_duration)]  # fmt: skip
RETRIES_VARIABLE = r"^(\$\{[A-Za-z_][A-Za-z0-9_]*:?-[1-9][0-9]{0,2}\}|" + _BARE_VARIABLE + ")$"
RetriesVariable = Annotated[str, matching(RETRIES_VARIABLE, "a number, or a variable (${HC_RETRIES:-5}, $HC_RETRIES)")]
Memory = Annotated[str, matching(MEMORY, "a size such as 512m, 1G, 4GB: a number and one of the units b, k, m, g, kb, mb, gb, without a space", description="A memory size such as `512M` or `1G`.")]
EnvValue = str | int | float | bool | None


def _env_key(name: str) -> str:
    bad = forbidden_character(name)
    if bad is not None or "=" in name or not name:
        what = f"holds {bad}" if bad is not None else "is empty" if not name else "holds `=`"
        raise ValueError(f"a container variable's name {what}, which no process environment can carry: {name!r}")
    return name


EnvKey = Annotated[str, AfterValidator(_env_key)]
"""A variable's name in `environment`: anything a process environment can hold (`NAME=value`
entries: no `=`, one line)."""


def _dockerfile_rule(rule: Any) -> AfterValidator:
    """Check a value that goes into a Dockerfile with the quoting rule that will write it,
    so that a value it would refuse is reported at its line in the spec."""

    def check(value: str) -> str:
        rule(value)  # raises quote.UnsafeValue, a ValueError
        return value

    return AfterValidator(check)


DockerWord = Annotated[str, _dockerfile_rule(quote.word)]
"""A bare word in a Dockerfile: package name, path, image."""
DockerKey = Annotated[str, _dockerfile_rule(quote.key)]
DockerValue = Annotated[str, _dockerfile_rule(quote.double_quoted)]
DockerArgWord = Annotated[str, _dockerfile_rule(quote.arg_word)]


def _description(text: str) -> str:
    quote.double_quoted(" ".join(text.split()))  # the LABEL it becomes, its lines joined
    return text


Description = Annotated[str, AfterValidator(_description)]
"""A bare word that may name build arguments (`node:${NODE_VERSION}-alpine`)."""


def _escape(info: ValidationInfo) -> str:
    """The escape character of the Dockerfile being validated (``Build`` puts a declared one
    in the validation context)."""
    return (info.context or {}).get("escape", "\\")


DockerInstruction = Annotated[str, AfterValidator(lambda step, info: quote.instruction(step, _escape(info)))]
"""One Dockerfile instruction, as written (trailing line breaks dropped)."""


def _ignore_pattern(pattern: str) -> str:
    bad = forbidden_character(pattern)
    if bad is not None:
        raise ValueError(f"a .dockerignore pattern is one line without {bad}: {pattern!r}")
    if pattern != pattern.strip() or pattern.strip("!").strip() == "":
        raise ValueError(f"Docker trims spaces around a .dockerignore pattern and skips an empty one: {pattern!r}")
    if pattern.startswith("#"):
        raise ValueError(f"a .dockerignore line starting with `#` is a comment, not a pattern: {pattern!r}")
    return pattern


IgnorePattern = Annotated[str, AfterValidator(_ignore_pattern)]

# Characters no generated file's name may hold: they do not survive a checkout on Windows
# (<>:"|?* and backslash), are globs in .gitattributes and .dockerignore (*?[), or split Compose's
# short volume syntax (`./context:/app` for the source mount).
_UNPORTABLE = set('<>:"|?*\\[')
# Names Windows opens as a device, whatever the case or extension (`nul.txt` is the null device).
_WINDOWS_DEVICE = re.compile(r"(?i)(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])")
# The longest file name (one path component, in bytes) and path Linux and macOS file systems take.
NAME_MAX, PATH_MAX = 255, 1024


def _project_path(path: str) -> str:
    if path.strip("./") == "" and path != ".":
        raise ValueError(f"not a file or folder name: {path!r}")
    bad = forbidden_character(path)
    if bad is not None:
        raise ValueError(f"a file name may not contain {bad}: {path!r}")
    unportable = sorted(_UNPORTABLE.intersection(path))
    if unportable:
        raise ValueError(f"{path!r} holds {' '.join(unportable)}, which a file name cannot carry everywhere (use letters, digits, `-`, `_`, `.`, `/`)")
    if path.startswith("-") or any(part != part.strip() for part in path.split("/")):
        raise ValueError(f"{path!r} may not start with `-` or have a name starting or ending with a space")
    if any(part.endswith(".") and part not in (".", "..") for part in path.split("/")):
        raise ValueError(f"{path!r} has a name ending in `.`, which Windows drops (`a.` is `a` there)")
    device = next((part for part in path.split("/") if _WINDOWS_DEVICE.fullmatch(part.split(".", 1)[0])), None)
    if device is not None:
        raise ValueError(f"{path!r}: Windows opens {device!r} as a device, not a file (CON, PRN, AUX, NUL, COM1-9 and LPT1-9, whatever the extension)")
    if any(len(part.encode("utf-8")) > NAME_MAX for part in path.split("/")) or len(path.encode("utf-8")) > PATH_MAX:
        raise ValueError(f"no file system holds a file name over {NAME_MAX} bytes or a path over {PATH_MAX}: shorten {path[:60]!r}...")
    return path


ProjectPath = Annotated[str, AfterValidator(_project_path)]
# A top-level volume, network, secret or config name, as the Compose schema takes it.
ResourceName = Annotated[str, matching(r"^[a-zA-Z0-9._-]+$", "a Compose name: ASCII letters, digits, '.', '_' and '-'")]
EXTENSION_KEY = r"^x-[a-zA-Z0-9._-]+$"
ExtensionKey = Annotated[str, matching(EXTENSION_KEY, "an extension field: `x-` and ASCII letters, digits, '.', '_' or '-' (x-kompose)")]
# A Compose profile, as Docker's documentation defines one: a word for `--profile` and
# COMPOSE_PROFILES (a comma-separated list).
ProfileName = Annotated[str, matching(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$", "a profile name: ASCII letters, digits, '.', '_' and '-', starting with a letter or digit")]
# `python.app`: the module path and the application object's name, or its factory called
# with no arguments (`app:create_app()`), which gunicorn calls itself and uvicorn with `--factory`.
APP_OBJECT = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*(\(\))?$"
"""A path in the project that becomes a file or folder name (relative; `semantics` keeps it inside)."""


def _container_dir(path: str) -> str:
    bad = forbidden_character(path)
    if bad is not None or not path.startswith("/") or ":" in path:
        # `:` would add a field to the Compose mount (`<volume>:<path>:ro`) it is written into.
        raise ValueError(f"must be an absolute path in the container, without `:` or control characters: {path!r}")
    return path


ContainerDir = Annotated[str, AfterValidator(_container_dir)]
VARIABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
VariableName = Annotated[str, matching(VARIABLE_NAME, "a variable name: ASCII letters, digits and _, not starting with a digit")]
"""What Compose interpolates as `${NAME}`, and a `.env` line can set."""
EnvName = Annotated[str, matching(ENV_NAME, "an environment variable name: ASCII letters, digits, '_', '.' and '-', starting with a letter or '_'")]
"""A container's variable, passed through by name: also `spring.datasource.url`, which
Compose reads from `.env` and the shell though `${...}` cannot name it."""
HTTP_PATH = re.compile(r"/[A-Za-z0-9._~!&()*+,;=:@%/?-]*")
# Docker's reference grammar (distribution/reference), with `${VAR}` interpolation allowed
# anywhere: Compose fills it in before the engine sees the name.
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?)"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REGISTRY = re.compile(rf"{_HOST}(?:/{_COMPONENT})*")
BUILT_IMAGE = re.compile(rf"(?:{_HOST}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?")


def _reference_rule(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(names.INTERPOLATED.sub("x", value)):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


BuiltImage = Annotated[str, _reference_rule(BUILT_IMAGE, "an image name (`[registry/]path[:tag]`, lower case, no digest)")]
Registry = Annotated[str, _reference_rule(REGISTRY, "a registry with an optional namespace (`ghcr.io/acme`)")]
ImageNames = Literal["dockergen", "compose"]
Named = Annotated[str, AfterValidator(names.check)]
"""A name that may say `{service}`, `{env}` or `{project}` (``spec.names``)."""
Command = str | list[str]


class Model(BaseModel):
    # `x-` keys are the author's, as in Compose (notes, anchors for `<<` merges): ignored.
    model_config = ConfigDict(extra="forbid", frozen=True) | ConfigDict(json_schema_extra={"patternProperties": {"^x-": {}}})

    @model_validator(mode="before")
    @classmethod
    def _drop_extensions(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:  # a plain loop: this runs for every model of every layer resolve validates
                if isinstance(key, str) and key.startswith("x-"):
                    return {key: value for key, value in data.items() if not (isinstance(key, str) and key.startswith("x-"))}
        return data


class Healthcheck(Model):
    """How to tell that the service is ready. Give `http` for a generated, dependency-free
    probe, or `test` for your own command."""

    http: str | None = matching(r"^/", "a path starting with / (e.g. /health)", None)
    """HTTP path probed on the service's `port` (e.g. `/health`); any status below 400 is healthy."""
    port: int | None = Field(None, ge=1, le=65535)
    """Port the HTTP probe connects to inside the container (default: the build's `port`)."""
    tcp: int | None = Field(None, ge=1, le=65535)
    """Port that must accept a TCP connection inside the container: a generated probe with the
    image's own interpreter (python and node builds), for servers without an HTTP endpoint."""
    test: Command | None = None
    """Compose healthcheck test: an exec-form list (`["CMD", "pg_isready"]`) or a shell string."""
    interval: Timing | None = None
    """Time between two probes (Compose's default: 30s)."""
    timeout: Timing | None = None
    """How long one probe may take before it counts as failed."""
    start_period: Timing | None = None
    """Grace time after start during which failing probes do not count."""
    start_interval: Timing | None = None
    """Only rendered where every declared engine supports it (not podman 4.3 / buildah 1.28)."""
    retries: Annotated[int, Field(ge=1, le=1000)] | RetriesVariable | None = None
    """Consecutive failures after which the container is unhealthy: a number, or a variable
    Compose interpolates (`${HC_RETRIES:-5}`; the image and Kubernetes take its default, or
    Docker's 3 for a bare `$HC_RETRIES`)."""
    disable: bool | None = None
    """Turn off a healthcheck inherited from a lower layer or from the image."""

    @field_validator("http")
    @classmethod
    def _plain_path(cls, path: str | None) -> str | None:
        # The path is written into a quoted string of the probe's code, and Compose would
        # interpolate a `$` in it.
        if path is not None and not HTTP_PATH.fullmatch(path):
            raise ValueError(
                f"{path!r} is not a plain URL path: `/`, then letters, digits and -._~!&()*+,;=:@%/? only "
                "(percent-encode anything else)"
            )
        return path

    @field_validator("test")
    @classmethod
    def _no_continuation(cls, test: Command | None) -> Command | None:
        if test is not None and (not test or (isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") and len(test) == 1)):
            raise ValueError("names no command (use `disable: true` to turn the healthcheck off)")
        shell = test if isinstance(test, str) else test[1] if test and len(test) == 2 and test[0] == "CMD-SHELL" else None
        if shell is not None and shell.rstrip().endswith("\\"):
            # In a Dockerfile's shell-form HEALTHCHECK it would continue into the next instruction.
            raise ValueError(f"a shell healthcheck may not end with `\\`: {shell!r}")
        return test

    @model_validator(mode="after")
    def _one_probe(self) -> Self:
        given = [key for key in ("http", "tcp", "test") if getattr(self, key) is not None]
        if len(given) > 1:
            raise ValueError(f"give one probe, not {' and '.join(given)}")
        return self


class Limits(Model):
    cpus: float | None = Field(None, gt=0, le=1024)
    """CPU limit in cores (`0.5`, `2`)."""
    memory: Memory | None = None
    """Memory limit (`512M`, `1G`); the container is killed above it."""
    pids: int | None = Field(None, ge=1)
    """Maximum number of processes in the container."""


class _DeviceRequest(Model):
    """What Compose's `deploy.resources.reservations.devices` and `gpus` entries share."""

    capabilities: list[str] | None = None
    """What the device must offer (`[gpu]`; `[gpu, compute, utility]`)."""
    driver: str | None = None
    """Device driver (`nvidia`)."""
    count: int | Literal["all"] | None = None
    """How many devices (`1`, `all`); not with `device_ids`."""
    device_ids: list[str] | None = None
    """Exactly these devices (`["0", "3"]`); not with `count`."""
    options: dict[str, str] | None = None
    """Driver-specific options."""

    @model_validator(mode="after")
    def _count_or_ids(self) -> Self:
        if self.count is not None and self.device_ids is not None:
            raise ValueError("give `count` or `device_ids`, not both")
        return self


class Device(_DeviceRequest):
    """A device the container reserves (`deploy.resources.reservations.devices`), e.g. a GPU:
    `{capabilities: [gpu], driver: nvidia, count: all}`."""

    capabilities: list[str] = Field(min_length=1)
    """What the device must offer (`[gpu]`; `[gpu, compute, utility]`)."""


class Gpu(_DeviceRequest):
    """A GPU the container gets (Compose `gpus`), e.g. `{driver: nvidia, count: 1}`."""

    capabilities: list[str] | None = None
    """What the GPU must offer beyond `gpu` (`[compute, utility]`)."""


class DeviceRate(Model):
    """One device's rate limit in `blkio_config`."""

    path: str
    """The block device (`/dev/sda`)."""
    rate: int | str
    """Bytes (`50mb`, `1048576`) or operations per second."""


class DeviceWeight(Model):
    path: str
    """The block device (`/dev/sda`)."""
    weight: int = Field(ge=10, le=1000)
    """Relative weight of this device's IO (10-1000)."""


class BlkioConfig(Model):
    """Compose `blkio_config`: the container's block IO weight and per-device limits."""

    weight: int | None = Field(None, ge=10, le=1000)
    """Relative weight of the container's block IO (10-1000)."""
    weight_device: list[DeviceWeight] | None = None
    """Weights per device."""
    device_read_bps: list[DeviceRate] | None = None
    """Read limits in bytes per second per device."""
    device_write_bps: list[DeviceRate] | None = None
    """Write limits in bytes per second per device."""
    device_read_iops: list[DeviceRate] | None = None
    """Read limits in operations per second per device."""
    device_write_iops: list[DeviceRate] | None = None
    """Write limits in operations per second per device."""


class LifecycleHook(Model):
    """A command Compose runs in the container after it starts (`post_start`) or before it
    stops (`pre_stop`), Compose 2.30+."""

    command: Command
    """What to run (a list, or a string Compose splits)."""
    user: str | None = None
    """User it runs as (default: the container's)."""
    privileged: bool | None = None
    """Run it with every capability."""
    working_dir: str | None = None
    """Its working directory."""
    environment: dict[EnvKey, EnvValue] | list[str] | None = None
    """Variables set for it only."""


class Reservations(Model):
    cpus: float | None = Field(None, gt=0, le=1024)
    """CPU cores reserved for the container."""
    memory: Memory | None = None
    """Memory reserved for the container (`256M`)."""
    devices: list[Device] | None = None
    """Devices reserved for the container, e.g. GPUs."""


class Resources(Model):
    """Rendered as `deploy.resources`."""

    limits: Limits | None = None
    """Upper bounds (Compose `deploy.resources.limits`)."""
    reservations: Reservations | None = None
    """What the container is guaranteed (Compose `deploy.resources.reservations`)."""


class Logging(Model):
    driver: str | None = None
    """`json-file`, `local`, `journald`, ...; `json-file` and `local` rotate with `max-size`/`max-file`.
    Another driver than a lower layer's replaces that layer's logging whole."""
    options: dict[str, str | None] | None = None
    """Options of the logging driver, e.g. `{max-size: 10m, max-file: "3"}` for json-file;
    `null` removes one a lower layer set (e.g. the built-in `max-file`)."""


class EnvFile(Model):
    path: str
    """The file, relative to the spec."""
    required: bool | None = None
    """`false`: a missing file is skipped (Compose 2.24+)."""
    format: str | None = None
    """`raw`: values read as they are, no quotes or interpolation (Compose 2.30+)."""


class PortSpec(Model):
    target: int = Field(ge=1, le=65535)
    """Port inside the container."""
    published: int | str | None = None
    """Port on the host (a number or a range such as `8000-8010`; default: a random free one)."""
    host_ip: str | None = None
    """Host address to bind (`127.0.0.1` keeps the port off the network)."""
    protocol: Literal["tcp", "udp"] | None = None
    """`tcp` (default) or `udp`."""
    mode: Literal["host", "ingress"] | None = None
    """`host` publishes on each node (Swarm); `ingress` (default) through the routing mesh."""
    name: str | None = None
    """A name for the port mapping."""
    app_protocol: str | None = None
    """The application protocol (`http`, `grpc` ...)."""


class DependsOn(Model):
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"] | None = None
    """Default: `service_healthy` when the dependency has a healthcheck, else `service_started`."""
    required: bool | None = None
    """`false`: start even when the dependency is not part of the stack (Compose 2.20+)."""
    restart: bool | None = None
    """Restart this service when Compose restarts the dependency."""


class ConfigMount(Model):
    source: str
    """A config declared under the top-level `configs:`."""
    target: str | None = None
    """Where it appears in the container (default `/<source>`)."""
    uid: str | None = None
    """Owner of the file in the container (a user ID, e.g. `"101"`)."""
    gid: str | None = None
    """Group of the file in the container."""
    mode: int | None = Field(None, ge=0, le=0o777)
    """File mode, e.g. `0o440` (YAML `0440` is octal too)."""


def _stays_in_project(path: str) -> str:
    normal = posixpath.normpath(path)
    if path.startswith(("/", "~")) or normal == ".." or normal.startswith("../"):
        raise ValueError(f"must be a path inside the project: {path!r}")
    return path


class WatchRule(Model):
    """One rule of Compose's `develop.watch`."""

    action: Literal["sync", "rebuild", "sync+restart", "restart", "sync+exec"]
    """`sync` copies changed files into the container, `rebuild` builds the image again and
    recreates the container, `sync+restart` syncs then restarts it."""
    path: Annotated[str, AfterValidator(_stays_in_project)]
    """What to watch, relative to the spec."""
    target: str | None = matching(r"^/", "an absolute path in the container (starting with `/`)", None)
    """Where `sync` copies to in the container."""
    ignore: list[str] | None = None
    """Patterns under `path` that never trigger the rule."""

    @model_validator(mode="after")
    def _sync_has_target(self) -> Self:
        if self.action.startswith("sync") and self.target is None:
            raise ValueError(f"a `{self.action}` rule needs a `target` in the container")
        return self


K8S_LABEL = r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
"""A Kubernetes DNS-1123 label: a namespace, a Secret's name."""
K8S_LABEL_MEANS = "a Kubernetes name: at most 63 lowercase letters, digits and '-', starting with a letter"


class KubernetesIngress(Model):
    """An Ingress routing `host` + `path` to the service's HTTP port (its HTTP healthcheck's
    port, else the build's `port`)."""

    host: str = matching(r"^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$", "a lowercase DNS name such as api.example.com (or *.example.com)", max_length=253)
    """Host name the Ingress answers for (e.g. `api.example.com`; `*.example.com` for a wildcard)."""
    path: str = matching(r"^/[A-Za-z0-9._~!&()*+,;=:@%/-]*$", "a URL path starting with / (letters, digits and -._~!&()*+,;=:@%/)", "/")
    """Path prefix routed to the service."""
    class_name: str | None = matching(K8S_LABEL, K8S_LABEL_MEANS, None)
    """`ingressClassName` (e.g. `nginx`); default: the cluster's default class."""
    tls_secret: str | None = matching(K8S_LABEL, K8S_LABEL_MEANS, None)
    """TLS Secret (created by you or cert-manager) that terminates HTTPS for `host`."""


class KubernetesService(Model):
    """Settings only the Kubernetes output reads (with `output.kubernetes` set); they layer
    per environment like every other setting."""

    replicas: int | None = Field(None, ge=0, le=1000)
    """Pods of the Deployment (default 1). A service with a persistent volume keeps 1: its
    volume is ReadWriteOnce."""
    storage: str | None = matching(r"^[1-9][0-9]{0,5}(Mi|Gi|Ti)$", "a size in Mi, Gi or Ti such as 10Gi", None)
    """Size requested by the PersistentVolumeClaim of each named volume the service mounts (default `1Gi`)."""
    storage_class: str | None = matching(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$", "a Kubernetes name: lowercase letters, digits, '-' and '.'", None)
    """`storageClassName` of those claims (default: the cluster's default class)."""
    wait_for_dependencies: bool | None = None
    """Add an init container that waits until every `depends_on` service answers on its
    port (python and node builds; it runs the service's own image). Off by default: a
    Service only routes to ready pods, and the app's restarts cover the rest."""
    ingress: KubernetesIngress | None = None
    """Route outside HTTP traffic to the service through an Ingress."""


class KubernetesEnvironment(Model):
    """How an environment deploys to Kubernetes."""

    deploy: bool = True
    """Render an overlay for this environment."""
    namespace: str | None = matching(K8S_LABEL, K8S_LABEL_MEANS, None)
    """Namespace the overlay deploys to (default `<project>-<environment>`)."""


Platform = Annotated[str, matching(r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$", "an OCI platform os/arch[/variant], e.g. linux/arm64")]
"""An OCI platform, `os/arch[/variant]`."""
# A Compose variable in a cache location (`${REGISTRY:-ghcr.io/acme}/api:cache`): a name and an
# optional `-`/`:-` default of the location's own characters, so it can only ever be part of one.
_CACHE_VAR = r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?-[A-Za-z0-9._:/@+-]*)?\}"
CacheLocation = Annotated[str, matching(rf"^(type=[a-z0-9]+(,[A-Za-z0-9_-]+=([A-Za-z0-9._:/@+-]|{_CACHE_VAR})*)*|([A-Za-z0-9]|{_CACHE_VAR})([A-Za-z0-9._/:@-]|{_CACHE_VAR})*)$",
                                         "a BuildKit cache location, type=<kind>,key=value,... or an image reference, e.g. type=registry,ref=ghcr.io/acme/api:cache")]
"""A BuildKit cache location, `type=<kind>,key=value,...`, or an image reference (BuildKit's
shorthand for `type=registry,ref=<image>`); `${VAR}` and `${VAR:-default}` are Compose's (and Bake's)."""
SSH_ID = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
# What an agent socket or key path may hold, `${SSH_AUTH_SOCK:-/run/ssh-agent.sock}` included;
# `,` separates several keys of one id, as in `docker build --ssh`.
SSH_PATH = r"[A-Za-z0-9_./~:${}@+,-]+"
SshSource = Annotated[str, matching(rf"^(default|{SSH_ID}={SSH_PATH})$", "`default` (the running agent) or `id=path`, e.g. default=${SSH_AUTH_SOCK}")]
SshId = Annotated[str, matching(rf"^{SSH_ID}$", "an SSH id: ASCII letters, digits, '.', '_' and '-'")]
SshPath = Annotated[str, matching(rf"^{SSH_PATH}$", "an agent socket or key path (e.g. ~/.ssh/id_ed25519 or ${SSH_AUTH_SOCK})")]
BUILD_HOST = r"[A-Za-z0-9][A-Za-z0-9._-]*"
HOST_ADDRESS = r"[A-Za-z0-9.:\[\]%_-]+"
BuildHost = Annotated[str, matching(rf"^{BUILD_HOST}[=:]{HOST_ADDRESS}$", "`host=address` or `host:address`, e.g. proxy.internal=10.0.0.5 or host.docker.internal:host-gateway")]
HostName = Annotated[str, matching(rf"^{BUILD_HOST}$", "a host name: ASCII letters, digits, '.', '_' and '-'")]
HostAddress = Annotated[str, matching(rf"^{HOST_ADDRESS}$", "an IP address or host-gateway")]


class BuildOptions(Model):
    """Compose `build` options beyond the Dockerfile: how BuildKit runs the build, where it
    caches, what it tags. A service's `build` block sets them for every environment; a
    layer's `build_options` (`defaults`, an environment's, `services.<name>.environments.<env>`)
    replaces them field by field there."""

    platforms: list[Platform] | None = None
    """Platforms to build for with BuildKit (`linux/amd64`, `linux/arm64`): Compose `build.platforms`
    and the Bake file's targets. Building several needs a builder that can (buildx with QEMU
    or native nodes); the base images must exist for each."""
    cache_from: list[CacheLocation] | None = None
    """External build caches to read, as BuildKit writes them: `type=registry,ref=ghcr.io/acme/api:cache`,
    `type=gha`, `type=local,src=.buildx-cache` (Compose `build.cache_from`, Bake `cache-from`)."""
    cache_to: list[CacheLocation] | None = None
    """Where to export the build cache: `type=registry,ref=ghcr.io/acme/api:cache,mode=max`
    (Compose `build.cache_to`, Bake `cache-to`); usually set only where CI builds."""
    sbom: bool | None = None
    """Attach an SBOM attestation to the pushed image (BuildKit; Compose `build.sbom`, Bake `attest`)."""
    provenance: bool | Literal["min", "max"] | None = None
    """Attach a SLSA provenance attestation (`max` records the build's full inputs; Compose
    `build.provenance`, Bake `attest`)."""
    ssh: list[SshSource] | dict[SshId, SshPath] | None = None
    """SSH agent sockets or keys the build may use (`RUN --mount=type=ssh`), never stored in a
    layer: a list of `default` (the agent of `SSH_AUTH_SOCK`) and `id=path` items, or a
    mapping of id to path, as Compose takes either (Compose `build.ssh`, Bake `ssh`)."""
    tags: list[BuiltImage] | None = None
    """More names for the built image besides its own (`ghcr.io/acme/api:latest`; Compose `build.tags`, Bake `tags`)."""
    network: ResourceName | None = None
    """Network the build's `RUN` steps use: `host`, `none`, or a network's name (Compose
    `build.network`, Bake `network`)."""
    shm_size: Annotated[int, Field(ge=0)] | Memory | None = None
    """Size of `/dev/shm` for the build's `RUN` steps, in bytes or as `256m`, `2gb` (Compose `build.shm_size`, Bake `shm-size`)."""
    extra_hosts: list[BuildHost] | dict[HostName, HostAddress | list[HostAddress]] | None = None
    """`/etc/hosts` entries while the image builds: `host=address` items, or a mapping of host
    to address(es), as Compose takes either (Compose `build.extra_hosts`)."""
    pull: bool | None = None
    """Pull the base images again even when a local copy exists (Compose `build.pull`, Bake `pull`)."""
    no_cache: bool | None = None
    """Build without the local layer cache (Compose `build.no_cache`, Bake `no-cache`)."""
    privileged: bool | None = None
    """Run the build with elevated privileges (Compose `build.privileged`; the builder must allow it)."""
    isolation: Literal["default", "process", "hyperv"] | None = None
    """Isolation of the build's containers on Windows (Compose `build.isolation`)."""
    extensions: dict[ExtensionKey, Any] | None = None
    """Compose extension fields of the build (`x-` keys other tools read, e.g. the `x-bake`
    block `docker buildx bake` takes from a Compose file), written into its Compose `build` as they are."""


class ServiceSettings(Model):
    """Settings of one service; every field can be set per environment."""

    enabled: bool | None = None
    """`false` leaves the service out of an environment (e.g. a mail catcher only in dev)."""
    image: Named | None = None
    """Image to run for services that build nothing (e.g. `postgres:16-alpine`). On a service
    with a `build`, the exact name (tag included) of the built image in that layer's
    environments, replacing the rule of `build.image`; a `uses` service that names its own
    builds that name itself (otherwise it runs its builder's, built once). Like
    `container_name`, `hostname` and network `aliases`, it may say `{service}`, `{env}` and
    `{project}` (the environment's Compose project), which each service's name, the
    environment's and its project's replace, so that `defaults` name every service alike
    (`image: "ghcr.io/acme/{service}:${TAG:-{env}}"`: quoted, as YAML reads a bare `{` as a
    mapping); `${VAR}` stays Compose's, `{{` and `}}` are a brace, and any other `{...}` is an
    error."""
    target: str | None = None
    """Stage of the service's Dockerfile to build (default: `dev`, `test` or `prod` by environment kind)."""
    prebuilt: bool | None = None
    """`true`: run `image` as it is published (pulled from its registry) instead of building
    the service's Dockerfile (its own `build` or the one it `uses`), e.g. in the environments
    where a stack runs released images while development builds them from source. A `uses`
    service without an `image` of its own runs its builder's there."""
    build_args: dict[str, str] | None = None
    """Build arguments (`ARG`s) passed to the build; secret-looking names are refused (use
    `build.secrets`)."""
    pass_build_args: list[EnvName] | None = None
    """Build arguments the build takes from the environment Compose runs in (the shell, or
    `.env`), and only when they are set there, so that the Dockerfile's `ARG` default holds
    otherwise: Compose's `build.args: [HTTP_PROXY]`. The Bake file passes them empty when unset."""
    build_options: BuildOptions | None = None
    """The build's Compose options in this layer's environments, each replacing the `build`
    block's value of that option (e.g. `cache_to` only where CI builds, `ssh` only in dev)."""
    command: Command | None = None
    """Replaces the image's command. A string is split by Compose, not run by a shell."""
    entrypoint: Command | None = None
    """Overrides the image's `ENTRYPOINT` (a list, or a string run by a shell)."""
    environment: dict[EnvKey, EnvValue] | None = None
    """Container environment. `${VAR:-default}` interpolation is passed through to Compose untouched.
    `KEY: null` removes a value set below (in `defaults` or the service); to hand the host's
    value to the container, list the name in `pass_env`."""
    pass_env: list[EnvName] | None = None
    """Variables the container takes from the environment Compose runs in (the shell, or
    `.env`), and only when they are set there: Compose's `environment: [NAME]`. Kubernetes
    output leaves them out (a pod has no such environment) and says so."""
    env_file: list[str | EnvFile] | None = None
    """Files of `KEY=value` lines Compose loads into the container's environment: a path, or
    `{path: .env.local, required: false}` for a file that may be missing (Compose 2.24)."""
    ports: list[str | int | PortSpec] | dict[str, str | int | PortSpec | None] | None = None
    """Published ports, as a list (replaced as a whole by a higher layer) or a mapping of
    names to ports (merged by name; `null` removes one)."""
    expose: list[int | str] | None = None
    """Ports other services reach on the network, without publishing them on the host."""
    volumes: list[str | dict[str, Any]] | dict[str, str | dict[str, Any] | None] | None = None
    """Mounts, as a list or as a mapping of names to mounts (merged by name)."""
    data_dir: ContainerDir | None = None
    """Directory holding the service's state: a named volume, or a tmpfs in test environments.
    Known images (postgres, redis, ...) have it preset."""
    source_mount: bool | None = None
    """Bind-mount the build context over the app directory (on by default in dev)."""
    debug_port: bool | None = None
    """Publish the build's `python.debug_port` on 127.0.0.1 (on by default in dev)."""
    depends_on: list[str] | dict[str, DependsOn | None] | None = None
    """Services to start first: a list of names, or a mapping of name to `{condition, required,
    restart}`; waits for `service_healthy` when the dependency has a healthcheck."""
    healthcheck: Healthcheck | None = None
    """How to tell the service is ready; `depends_on` waits for it."""
    resources: Resources | None = None
    """CPU and memory limits and reservations (`deploy.resources`); staging and prod get built-in limits."""
    restart: str | None = matching(r"^(no|always|unless-stopped|on-failure(:[0-9]+)?|\$\{[A-Za-z_][A-Za-z0-9_]*(:?-(no|always|unless-stopped|on-failure(:[0-9]+)?))?\})$",
                                   "one of no, always, unless-stopped, on-failure or on-failure:N, or ${VARIABLE[:-policy]}", None)
    """Restart policy: `no`, `always`, `unless-stopped` or `on-failure[:N]` (built in: `always` in
    prod, `unless-stopped` in staging, `no` in test), or a variable Compose fills in from `.env`
    (`${RESTART_POLICY:-unless-stopped}`; Kubernetes output leaves it out)."""
    logging: Logging | None = None
    """Logging driver and options (built in for staging and prod: json-file with rotation)."""
    networks: Annotated[list[ResourceName] | dict[ResourceName, dict[str, Any] | None] | None, AfterValidator(names.check_networks)] = None
    """Networks to join: a list of names, or a mapping of name to its options (aliases, ipv4_address ...);
    an alias may say `{service}`, `{env}` and `{project}` (e.g. `defaults: {networks: {default:
    {aliases: ["dev-{service}"]}}}` keeps every service reachable under its old name)."""
    profiles: list[ProfileName] | None = None
    """Compose profiles: the service only starts when one of them is enabled (`--profile`)."""
    labels: dict[str, str | None] | None = None
    """Container labels. `KEY: null` removes a label set below (in `defaults` or the service)."""
    user: str | None = None
    """User (`name`, `uid` or `uid:gid`) the container runs as, overriding the image's."""
    init: bool | None = None
    """Run an init process as PID 1 that reaps zombies and forwards signals (on for built services in
    prod)."""
    read_only: bool | None = None
    """Mount the container's root file system read-only (give writable paths with `tmpfs` or volumes)."""
    tmpfs: list[str] | None = None
    """Paths mounted as in-memory file systems."""
    cap_add: list[str] | None = None
    """Linux capabilities to add."""
    cap_drop: list[str] | None = None
    """Linux capabilities to drop (`ALL` for built services in prod)."""
    security_opt: list[str] | None = None
    """Security options, e.g. `no-new-privileges:true`."""
    stop_grace_period: Duration | None = None
    """How long Compose waits after the stop signal before it kills the container."""
    stop_signal: str | None = None
    """Signal sent to stop the container (default SIGTERM)."""
    working_dir: str | None = None
    """Working directory of the container's command, overriding the image's."""
    secrets: list[str | dict[str, Any]] | None = None
    """Secrets (declared under the top-level `secrets:`) mounted at `/run/secrets/<name>` at run
    time: a name, or Compose's long form `{source, target, uid, gid, mode}`."""
    configs: list[str | ConfigMount] | None = None
    """Configs (declared under the top-level `configs:`) mounted read-only: a name (at
    `/<name>`) or `{source, target, uid, gid, mode}`."""
    watch: bool | list[WatchRule] | None = None
    """Compose's `develop.watch` in dev environments, for `docker compose watch` (Compose
    2.22): `true` syncs the build context into the `workdir` and rebuilds the image when a
    dependency manifest changes (requirements files; package.json, the lockfile and
    `install_files`), in place of the source bind mount; or your own rules. With an older
    `engines.compose`, dev keeps the bind mount and `render` says so."""
    extra_hosts: list[str] | None = None
    """Extra `/etc/hosts` entries (`host:address`)."""
    ulimits: dict[str, int | dict[str, int] | None] | None = None
    """Resource limits of the container's processes (`nofile`, `nproc` ...); `name: null`
    removes one set below."""
    platform: str | None = None
    """Target platform of the image, e.g. `linux/amd64`."""
    userns_mode: str | None = None
    """User namespace mode (e.g. `keep-id` on podman, `host`)."""
    container_name: Named | None = None
    """Compose `container_name`: a fixed name (one container per environment, then); it may
    say `{service}`, `{env}` and `{project}` (`defaults: {container_name: "shop-{env}-{service}"}`)."""
    hostname: Named | None = None
    """Compose `hostname` inside the container (it may say `{service}`, `{env}`, `{project}`)."""
    domainname: str | None = None
    """Compose `domainname` inside the container."""
    stdin_open: bool | None = None
    """Compose `stdin_open` (`docker run -i`)."""
    tty: bool | None = None
    """Compose `tty` (`docker run -t`)."""
    privileged: bool | None = None
    """Compose `privileged`: every capability and device (avoid; `cap_add` names what is needed)."""
    network_mode: str | None = None
    """Compose `network_mode`: `host`, `none`, `service:<name>` or `container:<name>`."""
    pid: str | None = None
    """Compose `pid` namespace (`host`, `service:<name>`)."""
    ipc: str | None = None
    """Compose `ipc` namespace (`host`, `shareable`, `service:<name>`)."""
    links: list[str] | None = None
    """Legacy Compose `links` (`db`, `db:database`): an alias on the default network."""
    external_links: list[str] | None = None
    """Legacy Compose `external_links` to containers outside the project."""
    volumes_from: list[str] | None = None
    """Compose `volumes_from`: mount every volume of another service (`<name>[:ro]`)."""
    sysctls: dict[str, str | int | None] | list[str] | None = None
    """Compose `sysctls` (kernel parameters in the container's namespaces); in the mapping
    form `name: null` removes one set below."""
    devices: list[str | dict[str, Any]] | None = None
    """Compose `devices` (`/dev/net/tun:/dev/net/tun`)."""
    dns: list[str] | str | None = None
    """Compose `dns` servers."""
    dns_search: list[str] | str | None = None
    """Compose `dns_search` domains."""
    group_add: list[str | int] | None = None
    """Compose `group_add`: extra groups for the container's user."""
    shm_size: str | int | None = None
    """Compose `shm_size` (`/dev/shm`, e.g. `2gb` for a browser)."""
    pids_limit: int | None = None
    """Compose `pids_limit`."""
    mem_limit: str | int | None = None
    """Compose (2.x) `mem_limit`; `resources.limits.memory` is the same for Compose v2."""
    memswap_limit: str | int | None = None
    """Compose (2.x) `memswap_limit`."""
    mem_reservation: str | int | None = None
    """Compose (2.x) `mem_reservation`."""
    cpus: float | str | None = None
    """Compose (2.x) `cpus`."""
    cpu_shares: int | None = None
    """Compose (2.x) `cpu_shares` (relative weight)."""
    cpu_quota: int | str | None = None
    """Compose (2.x) `cpu_quota`."""
    cpuset: str | None = None
    """Compose `cpuset` (`0-3`, `0,1`)."""
    deploy: dict[str, Any] | None = None
    """Compose `deploy` keys beyond `resources` (`replicas`, `placement`, `update_config`,
    `restart_policy` ...), merged with what `resources` renders."""
    pull_policy: str | None = None
    """Compose `pull_policy` (`always`, `missing`, `never`, `build`)."""
    scale: int | None = Field(None, ge=0)
    """Compose `scale`: how many containers `docker compose up` starts (as `deploy.replicas`)."""
    runtime: str | None = None
    """Compose `runtime`: the OCI runtime of the container (`nvidia`, `runsc`, `kata`)."""
    oom_score_adj: int | None = Field(None, ge=-1000, le=1000)
    """Compose `oom_score_adj`: how readily the kernel kills the container when memory runs out."""
    oom_kill_disable: bool | None = None
    """Compose `oom_kill_disable`."""
    mem_swappiness: int | None = Field(None, ge=0, le=100)
    """Compose `mem_swappiness` (0-100; `0` keeps the container's memory out of swap)."""
    cgroup: Literal["host", "private"] | None = None
    """Compose `cgroup` namespace (`host` for a container that runs systemd)."""
    cgroup_parent: str | None = None
    """Compose `cgroup_parent`."""
    uts: str | None = None
    """Compose `uts` namespace (`host`)."""
    mac_address: str | None = None
    """Compose `mac_address` of the container."""
    device_cgroup_rules: list[str] | None = None
    """Compose `device_cgroup_rules` (`c 1:3 mr`)."""
    storage_opt: dict[str, str | None] | None = None
    """Compose `storage_opt` of the container's storage driver (`size: 20G`); `name: null`
    removes one set below."""
    cpu_period: int | str | None = None
    """Compose `cpu_period` (with `cpu_quota`)."""
    annotations: dict[str, str | None] | None = None
    """Compose `annotations` of the container (OCI annotations); `KEY: null` removes one set
    below."""
    isolation: str | None = None
    """Compose `isolation`: the container's isolation technology (Windows containers: `process`, `hyperv`; `default`)."""
    attach: bool | None = None
    """Compose `attach`: `false` keeps the service's output out of `docker compose up`'s log
    (a chatty sidecar); `docker compose logs` still shows it."""
    dns_opt: list[str] | None = None
    """Compose `dns_opt`: resolver options written into the container's `/etc/resolv.conf` (`ndots:2`)."""
    gpus: Literal["all"] | list[Gpu] | None = None
    """Compose `gpus` (2.30+): `all`, or the GPUs the container gets; the same as a
    `resources.reservations.devices` entry with the `gpu` capability."""
    blkio_config: BlkioConfig | None = None
    """Compose `blkio_config`: block IO weight and per-device read/write limits."""
    post_start: list[LifecycleHook] | None = None
    """Compose `post_start` (2.30+): commands run in the container once it has started."""
    pre_stop: list[LifecycleHook] | None = None
    """Compose `pre_stop` (2.30+): commands run in the container before it is stopped."""
    extensions: dict[ExtensionKey, Any] | None = None
    """Compose extension fields of the service (`x-` keys other tools read, e.g.
    `x-traefik-note`), written into its Compose entry as they are."""
    compose: dict[str, Any] | None = None
    """Escape hatch: keys merged verbatim into the rendered Compose service, last."""
    kubernetes: KubernetesService | None = None
    """Kubernetes-only settings: replicas, volume size, Ingress, an init container that waits for dependencies."""


class Defaults(ServiceSettings):
    """Settings for many services at once, and which services they reach."""

    scope: Literal["all", "built"] = "all"
    """`all`: every service; `built`: only the services dockergen builds (and those that `uses`
    one), so application settings such as `DATABASE_URL` or credentials stay out of stock
    images like postgres and redis (`lint` warns when such a variable reaches one)."""


class Packages(Model):
    build: list[DockerWord] | None = None
    """OS packages needed only to build (compilers, `-dev` headers); never in the prod stage."""
    runtime: list[DockerWord] | None = None
    """OS packages the app needs at run time."""


class User(Model):
    name: str = matching(r"^[a-z_][a-z0-9_-]*$", "a Linux user name: lowercase letters, digits, '_' or '-', not starting with a digit", "app")
    """Name of the non-root user the image runs as."""
    uid: int = Field(10001, ge=1, le=2**31 - 1)
    """Its fixed user ID (the same on every machine, so file ownership on volumes is stable)."""
    gid: int = Field(10001, ge=1, le=2**31 - 1)
    """Its fixed group ID."""


class ServerTuning(Model):
    """Production server settings, written as flags of the generated prod command (gunicorn,
    or uvicorn with `server: uvicorn`); all in seconds or requests. Unset ones keep the
    server's own default."""

    timeout: int | None = Field(None, ge=1, le=86400)
    """gunicorn `--timeout`: a worker silent this long is killed and replaced (gunicorn only;
    uvicorn has no such timeout)."""
    keep_alive: int | None = Field(None, ge=0, le=3600)
    """How long an idle keep-alive connection stays open: gunicorn `--keep-alive`, uvicorn
    `--timeout-keep-alive`. Keep it above the idle timeout of a load balancer in front."""
    max_requests: int | None = Field(None, ge=1)
    """Restart a worker after this many requests (bounds slow memory leaks): gunicorn
    `--max-requests`, uvicorn `--limit-max-requests`."""
    max_requests_jitter: int | None = Field(None, ge=0)
    """Add a random 0..N to `max_requests` per worker so that workers do not restart together:
    gunicorn `--max-requests-jitter`, uvicorn `--limit-max-requests-jitter` (uvicorn 0.41+)."""
    graceful_timeout: int | None = Field(None, ge=0, le=3600)
    """Seconds workers get to finish in-flight requests on shutdown: gunicorn `--graceful-timeout`,
    uvicorn `--timeout-graceful-shutdown`. Keep it below the service's `stop_grace_period`
    (10 s unless set), after which the engine kills the container."""

    @model_validator(mode="after")
    def _jitter_needs_max(self) -> Self:
        if self.max_requests_jitter is not None and self.max_requests is None:
            raise ValueError("`max_requests_jitter` needs `max_requests`")
        return self


class Python(Model):
    version: str = matching(r"^[0-9]+\.[0-9]+(\.[0-9]+)?$", "a Python version as major.minor or major.minor.patch, e.g. \"3.12\" (quoted, or YAML reads 3.10 as 3.1)", "3.12")
    """Python version of the official base image: `3.12` is pinned to that minor's latest
    patch release known to this dockergen (`ARG PYTHON_VERSION`, overridable with a build arg);
    `3.12.7` pins one yourself."""
    package_manager: Literal["pip", "uv", "poetry", "pdm"] = "pip"
    """Installs into the virtualenv /opt/venv, which prod copies without the tools: `pip`
    (`requirements` files, or `requirements: pyproject.toml` for the `[project]` dependencies
    of a project without a lockfile); `uv` (`uv sync --locked` from uv.lock); `poetry`
    (`poetry install` from poetry.lock); `pdm` (`pdm install --check --frozen-lockfile` from
    pdm.lock). The lockfile tools install exactly the lockfile and fail when pyproject.toml has
    moved on from it; prod gets the main dependencies, dev and test every dependency group;
    the project itself is not installed (its source runs from `workdir`). uv, Poetry and PDM
    are installed from PyPI (pinned) into /opt/tools of the builder stage; downloads stay in
    BuildKit cache mounts."""
    requirements: DockerWord | None = "requirements.txt"
    """pip only: runtime requirements (`pyproject.toml`: its `[project] dependencies`; `null`
    for apps on the standard library only)."""
    dev_requirements: DockerWord | None = None
    """pip only: requirements of the dev stage (debugpy, reloaders). The test stage installs
    them too."""
    test_requirements: DockerWord | None = None
    """pip only: requirements of the test stage (pytest and its plugins), installed after
    `dev_requirements`."""
    app: str | None = matching(APP_OBJECT, "module:attribute or module:factory(), e.g. app.main:app or app:create_app()", None)
    """ASGI/WSGI application (`package.module:app`), or a factory that makes it, called with no
    arguments (`package:create_app()`); omit for workers that only get a `command`."""
    interface: Literal["asgi", "wsgi"] = "asgi"
    """Whether `app` is an ASGI or a WSGI application; picks the dev and prod servers' mode."""
    server: Literal["gunicorn", "uvicorn"] = "gunicorn"
    """Production server: gunicorn (with uvicorn workers for ASGI) or uvicorn."""
    workers: int = Field(2, ge=1, le=256)
    """Worker processes of the production server."""
    tuning: ServerTuning | None = None
    """Timeouts and worker recycling of the production server, e.g.
    `{timeout: 60, keep_alive: 75, max_requests: 1000, max_requests_jitter: 100, graceful_timeout: 25}`."""
    debug_port: int | None = Field(None, ge=1, le=65535)
    """Run the dev server under debugpy listening here (add `debugpy` to `dev_requirements`);
    dev environments publish it on 127.0.0.1."""
    dev_command: list[str] | None = None
    """Command of the dev stage (default: a reloading server for `app`)."""
    test_command: list[str] = ["python", "-m", "pytest", "-q"]
    """Command of the test stage (lint DG030 warns when it runs pytest and nothing the stage
    installs names pytest)."""
    prod_command: list[str] | None = None
    """Command of the prod stage (default: the production server for `app`); required without `app`."""

    @model_validator(mode="after")
    def _tuning_applies(self) -> Self:
        if self.package_manager != "pip":
            given = sorted(f for f in ("requirements", "dev_requirements", "test_requirements") if f in self.model_fields_set and getattr(self, f))
            if given:
                raise ValueError(f"{self.package_manager} installs from its lockfile and pyproject.toml: `{'`, `'.join(given)}` is for pip")
        if self.tuning is None:
            return self
        if self.prod_command is not None:
            raise ValueError("`tuning` shapes the generated prod command; with `prod_command`, write the flags there")
        uvicorn = self.server == "uvicorn" and self.interface == "asgi"
        if uvicorn and self.tuning.timeout is not None:
            raise ValueError("uvicorn has no worker `timeout` (gunicorn's `--timeout`); use `server: gunicorn` or leave it out")
        return self


def _inside_context(path: str) -> str:
    normal = posixpath.normpath(path)
    if path.startswith("/") or normal == "." or normal == ".." or normal.startswith("../"):
        raise ValueError(f"must name a file or folder inside the build context: {path!r}")
    return path


ContextPath = Annotated[DockerWord, AfterValidator(_inside_context)]


# Handing one of these to the app user would let it replace programs, libraries or the
# virtualenv the image runs.
SYSTEM_DIRS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/opt/venv", "/opt/tools", "/proc", "/root", "/sbin", "/sys", "/usr")


def _writable(path: str) -> str:
    normal = posixpath.normpath(path)
    if normal in ("/", ".", "/var", "/opt", "/srv", "/home") or ".." in path.split("/"):
        raise ValueError(f"must name a directory of its own (absolute, or inside `workdir`), without `..`: {path!r}")
    if any(normal == d or normal.startswith(f"{d}/") for d in SYSTEM_DIRS):
        raise ValueError(f"{path!r} is part of the system or the virtualenv: the app user may not own it (pick e.g. /var/log/<app> or a folder in `workdir`)")
    if any(c in path for c in "*?["):
        raise ValueError(f"must be a directory, not a pattern: {path!r}")
    return path


WritablePath = Annotated[DockerWord, AfterValidator(_writable)]
# A named build context: a folder of the project, or an image / remote source BuildKit fetches.
NamedContext = Annotated[str, matching(r"^((docker-image|oci-layout|https?)://[^\s]+|[A-Za-z0-9._][A-Za-z0-9._/-]*)$",
                                       "a folder of the project (./proto) or docker-image://, oci-layout://, https:// ...")]


class Node(Model):
    version: str = matching(r"^[0-9]+(\.[0-9]+)*$", "a version number such as 20 or 20.11.1", "20")
    """Node.js major (or exact) version of the official image. With `base_image`, keep it at
    that image's major: from 25 on, Node no longer bundles corepack, so yarn and pnpm builds
    install it from npm."""
    package_manager: Literal["npm", "yarn", "yarn-berry", "pnpm"] = "npm"
    """Installs exactly what the committed lockfile says, downloads in a BuildKit cache mount:
    `npm` (`npm ci`, package-lock.json); `yarn`, Yarn 1 (`yarn install --frozen-lockfile`,
    yarn.lock); `yarn-berry`, Yarn 2+ (`yarn install --immutable`, yarn.lock; into node_modules,
    not Plug'n'Play; prod drops dev dependencies with `yarn workspaces focus`, built in since
    Yarn 4, a plugin before); `pnpm` (`pnpm install --frozen-lockfile`, pnpm-lock.yaml). yarn
    and pnpm come through corepack, which downloads the version the `packageManager` field of
    package.json pins (pin one) from the npm registry while the image builds."""
    install_files: list[ContextPath] | None = None
    """Files and folders the install reads besides package.json and the lockfile, copied to
    the same path before the source: `.npmrc`, `.yarnrc.yml`, `.yarn/releases`, `.yarn/patches`,
    `pnpm-workspace.yaml`, `patches`, each workspace's package.json. Where the build context
    exists, validation refuses one that does not (its COPY would fail the build) and one that writes out a registry
    credential (`_authToken=...`, `npmAuthToken: ...`; a `${VAR}` reference is fine): the dev
    and test images build on these layers. Mount such a file with `build.secrets` instead."""
    build_script: DockerWord | None = "build"
    """Script (`<package manager> run <it>`) that builds the app (`null` for apps without a build step)."""
    serve: Literal["node", "nginx"] = "node"
    """`nginx` serves the static build output from an unprivileged nginx image."""
    output: DockerWord = "dist"
    """Build output directory (for `serve: nginx`, or copied into the node runtime)."""
    start: list[str] = ["node", "server.js"]
    """Command of the prod stage."""
    dev_command: list[str] | None = None
    """Default: `npm run dev`, `yarn dev` or `pnpm run dev`, by `package_manager`."""
    test_command: list[str] | None = None
    """Default: `npm test`, `yarn test` or `pnpm test`, by `package_manager`."""
    nginx_version: str = matching(r"^[0-9]+(\.[0-9]+)*$", "a version number such as 1.27", "1.27")
    """Version of the unprivileged nginx image that serves a static build (`serve: nginx`)."""


class Stage(Model):
    name: Name
    """Stage name (`FROM ... AS <name>`); environments pick one with `build.target`."""
    from_: DockerArgWord = Field(alias="from")
    """Base image or an earlier stage's name; may name build arguments (`node:${NODE_VERSION}-alpine`)."""
    platform: DockerArgWord | None = None
    """`FROM --platform=...` (e.g. `$BUILDPLATFORM` for a stage that cross-compiles)."""
    steps: list[DockerInstruction] = []
    """Dockerfile instructions, rendered verbatim: each item exactly one instruction (not
    FROM: `from` writes it), as BuildKit's parser reads it. An item spans lines only when
    they are one instruction: a closed heredoc (`RUN <<EOF` ... `EOF`) or a `\\` continuation."""


ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Docker passes these without an ARG and keeps them out of the image history; declaring
# one would put the proxy (and any password in it) into the history.
PREDEFINED_ARGS = frozenset(
    name for base in ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY") for name in (base, base.lower())
)


def _arg_name(name: str) -> str:
    if not ARG_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a build argument name (letters, digits and `_`, not starting with a digit)")
    if name in PREDEFINED_ARGS:
        raise ValueError(f"{name} is predefined: every build sees it without an `ARG`, and declaring it would store it in the image history")
    return name


ArgName = Annotated[str, AfterValidator(_arg_name)]


class BuildArg(Model):
    """A build argument the Dockerfile declares."""

    default: DockerValue | None = None
    """Value when the build passes none (unset: empty)."""
    stages: list[Name] | None = None
    """Stages that declare it (default: every stage of the Dockerfile). An `ARG` is seen by
    the steps after it in its stage only, and a new value reruns every `RUN` after it: give a
    value that changes on every build (a commit) only the stages that need it, e.g. `[prod]`."""


class Hooks(Model):
    """Your own Dockerfile instructions at named points of the built-in python and node
    templates, one instruction per item (like `stages[].steps`), run as root."""

    system: list[DockerInstruction] | None = None
    """In `base`, after the OS packages and the app user: CA certificates, system tweaks."""
    before_install: list[DockerInstruction] | None = None
    """Before the dependency install (python `builder`, node `deps`), after its build
    packages: index credentials, tool configuration."""
    after_install: list[DockerInstruction] | None = None
    """Right after the dependency install, in the same stage: model downloads into the
    virtualenv, `prisma generate` on the node modules."""
    after_source: list[DockerInstruction] | None = None
    """After the source is copied into `dev`, `test` and `prod` (python) or `dev`, `test` and
    `builder` (node; `prod` copies the built app): `collectstatic`, code generation."""
    stages: dict[Name, list[DockerInstruction]] | None = None
    """Steps at the end of the named stage, before its `USER`, `EXPOSE`, `HEALTHCHECK` and `CMD`."""


class Build(BuildOptions):
    """How the service's image is built; rendered as one multi-stage Dockerfile per flavour."""

    family: Literal["python", "node", "generic"] = "generic"
    """How the image is built: `python` and `node` use the built-in templates; `generic` (the
    default, implied by `steps` or `stages`) is your own Dockerfile."""
    context: ProjectPath = "."
    """Build context, relative to the spec's directory."""
    dockerfile: ProjectPath | None = None
    """Where to write the Dockerfile, relative to the spec (default `<context>/Dockerfile`)."""
    image: BuiltImage | None = None
    """Name of the built image, e.g. `ghcr.io/acme/api` (default `<project>/<service>`), prefixed
    with `registry` when it names no registry. Without a tag, each environment tags it
    `${TAG:-<env>}`, plus `-<stage>` when the environment builds a stage other than its kind's
    (`dev`, `test`, `prod`); with a tag (`ghcr.io/acme/api:1.0`) every environment uses that
    tag for the `prod` stage and `<tag>-<stage>` for the others. A non-default flavour appends
    `-<flavour>`. Services that `uses:` this one run the same name; an `engine: podman`
    environment prefixes `localhost/` to a name without a registry. A service's `image`
    setting, when given, is the exact name instead."""
    port: int | None = Field(None, ge=1, le=65535)
    """Port the app listens on."""
    workdir: Annotated[DockerWord, AfterValidator(_container_dir)] = "/app"
    """Directory the app is copied to and runs in (absolute, without `:`)."""
    flavour: Name | None = None
    """Base image flavour: `slim` (Debian) or `alpine`; environments can pick another one."""
    base_image: DockerWord | None = None
    """Override the flavour's base image (keep it pinned to a tag)."""
    digest: str | None = matching(r"^sha256:[0-9a-f]{64}$", "sha256: followed by 64 lowercase hex digits", None)
    """Pins the base image by digest as well as by tag (`sha256:...`)."""
    packages: Packages | None = None
    """OS packages: `build` for the build stage only, `runtime` for the images that run."""
    user: User = User()
    """The non-root user every stage that runs the app uses."""
    env: dict[DockerKey, DockerValue] | None = None
    """`ENV` baked into the image (never secrets). Python and node templates; a generic build writes `ENV` in its steps."""
    labels: dict[DockerKey, DockerValue] | None = None
    """Image labels (`LABEL`), e.g. OCI annotations. Python and node templates; a generic build writes `LABEL` in its steps."""
    additional_contexts: dict[ResourceName, NamedContext] | None = None
    """Named build contexts a Dockerfile reads with `COPY --from=<name>` or `FROM <name>` (Compose
    `build.additional_contexts`, Bake `contexts`): a folder of the project (from the spec's
    folder), or `docker-image://alpine:3.20`, `oci-layout://...`, `https://...`."""
    secrets: list[Name] | None = None
    """Build secrets (declared under the top-level `secrets:`) mounted at `/run/secrets/<name>`
    while dependencies install, e.g. a private index's credentials; never stored in a layer."""
    ignore: list[IgnorePattern] | None = None
    """Extra `.dockerignore` patterns for this context. They apply to every stage: to keep
    tests out of prod use `prod_exclude`, not `tests/` here (the test stage needs them)."""
    args: dict[ArgName, BuildArg | DockerValue] | None = None
    """Build arguments (`ARG`) the built-in templates declare, as `NAME: default`, `NAME: {}`
    (no default) or `NAME: {default, stages}`, for your `hooks` and for tools that read them from the
    environment while dependencies install (`PIP_INDEX_URL`, `npm_config_registry`). Every key
    of a service's `build_args` (in any environment) is declared too, in every stage."""
    prod_exclude: list[ContextPath] | None = None
    """Paths of the build context the prod image leaves out. Default:
    `tests`, `test`, `conftest.py` and the dev/test requirement files (python); `tests`,
    `test`, `__tests__` (node). A list replaces the default; `[]` ships everything."""
    writable: list[WritablePath] | None = None
    """Directories the app user may write at run time (created and owned by it in the dev,
    test and prod stages): logs, uploads, a volume's mount point. Everything else the image
    ships is owned by root, so the running app cannot rewrite its own code. Relative paths
    are inside `workdir`."""
    hooks: Hooks | None = None
    """Extra steps at named points of the built-in python and node templates."""
    stage_names: dict[Literal["base", "builder", "deps", "dev", "test", "source", "prod"], Name] | None = None
    """Names for the built-in stages, e.g. `{prod: production, dev: development}`: the Dockerfile,
    `target`s and `hooks.stages` use them (the built-in names keep working as `target`)."""
    python: Python | None = None
    """Settings of the `python` family."""
    node: Node | None = None
    """Settings of the `node` family."""
    steps: list[str] | None = None
    """`generic` family: your Dockerfile as a list, each item exactly one instruction as
    BuildKit's parser reads it (an item spans lines only when they are one instruction: a
    closed heredoc or a `\\` continuation), rendered verbatim under the `directives`. `ARG`
    items before the first `FROM` are the global arguments; each `FROM` starts a stage, named
    by its `AS` (`FROM --platform=$BUILDPLATFORM golang:1.22 AS build`; lowercase letters,
    digits, `-`, `_`): what `target` names. Without a `target`, an environment builds the
    stage named after its kind (`dev`, `test`, `prod`) if there is one, else the last stage,
    as `docker build` does."""
    stages: list[Stage] | None = None
    """`generic` family, the longer form of `steps`: the stages, each with its `name`, `from`
    and `steps`."""
    global_args: list[str] | None = None
    """With `stages`: `ARG` declarations before the first stage, each what follows `ARG`
    (`NODE_VERSION=20`, `TARGETOS TARGETARCH`); stages' `from` may use them."""
    directives: dict[Literal["syntax", "escape", "check"], str] | None = None
    """`generic` family: parser directives on top of the Dockerfile (`syntax`, default
    `docker/dockerfile:1`; `escape`, e.g. a backtick; `check`, e.g. `skip=JSONArgsRecommended`)."""
    flavours: dict[Name, dict[str, Any]] | None = None
    """Per-flavour overrides of the fields above, e.g. `alpine: {packages: {runtime: [libpq]}}`."""

    @field_validator("global_args")
    @classmethod
    def _each_one_arg(cls, items: list[str] | None, info: ValidationInfo) -> list[str] | None:
        for item in items or []:
            quote.instruction(f"ARG {item}", _escape(info))  # exactly one ARG instruction, as BuildKit reads it
        return items

    @field_validator("steps")
    @classmethod
    def _steps_read_as_a_dockerfile(cls, steps: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if steps is None:
            return None
        problems = read_steps(tuple(steps), _escape(info)).problems
        if problems:
            # Each problem at the user's own item (or at `steps` for the list as a whole).
            raise ValidationError.from_exception_data("Build", [
                InitErrorDetails(type=PydanticCustomError("value_error", "{message}", {"message": message}),
                                 loc=() if item is None else (item,), input=steps if item is None else steps[item])
                for item, message in problems
            ])  # fmt: skip
        return steps

    @model_validator(mode="wrap")
    @classmethod
    def _steps_under_the_declared_escape(cls, data: Any, handler: Any, info: ValidationInfo) -> Self:
        """Steps and global ARGs are parsed with the escape character the Dockerfile will
        declare (`directives.escape`): under a backtick a trailing `\\` is text, a trailing `` ` `` is not."""
        directives = data.get("directives") if isinstance(data, dict) else None
        escape = directives.get("escape") if isinstance(directives, dict) else None
        if not isinstance(escape, str) or info.context is None:
            return handler(data)
        outer = info.context.get("escape")
        info.context["escape"] = escape
        try:
            return handler(data)
        finally:
            info.context.pop("escape")
            if outer is not None:
                info.context["escape"] = outer

    @field_validator("directives")
    @classmethod
    def _directives_written_safely(cls, items: dict[str, str] | None) -> dict[str, str] | None:
        for name, value in (items or {}).items():
            quote.directive(name, value)
        return items

    @model_validator(mode="after")
    def _family_block(self) -> Self:
        if self.family == "generic" and not (self.stages or self.steps):
            raise ValueError("a build needs its Dockerfile as `steps` (one instruction per item, from its first `FROM`), "
                             "or `family: python` / `family: node` for a built-in template")  # fmt: skip
        if self.family != "generic" and (self.stages or self.steps):
            raise ValueError(f"`steps` and `stages` are your own Dockerfile (the generic family), not the {self.family} template")
        if self.stages is not None and self.steps is not None:
            raise ValueError("`steps` and `stages` each write the whole Dockerfile: give one of them")
        if self.steps is not None and self.global_args is not None:
            raise ValueError("`global_args` go with `stages`: in `steps`, the ARG items before the first FROM are the global arguments")
        if self.family == "generic":
            # The template settings: a generic Dockerfile is `steps`/`stages` verbatim, so
            # accepting one of these would drop it without a word.
            for name in ("hooks", "stage_names", "prod_exclude", "writable", "env", "labels", "packages", "base_image", "digest", "flavour", "flavours"):
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"`{name}` is for the built-in python and node templates; a generic build writes its stages itself "
                        "(write it as an instruction of `steps`, e.g. `ENV`, `LABEL`, `RUN apk add`, `FROM`)"
                    )
            return self
        if self.directives is not None:  # the templates write their own; accepted, it would be dropped without a word
            raise ValueError(f"`directives` are the parser directives of your own Dockerfile (the generic family); the {self.family} "
                             "template writes its own `# syntax=` and uses `\\` as its escape character: drop them, or write the Dockerfile as `steps`")  # fmt: skip
        built_in = presets.TEMPLATE_STAGES[self.family]
        renamed = self.stage_names or {}
        wrong = sorted(set(renamed) - set(built_in))
        if wrong:
            raise ValueError(f"the {self.family} template has no stage {', '.join(wrong)} (stages: {', '.join(built_in)})")
        names = self.stage_list()
        if len(set(names)) != len(names):
            raise ValueError(f"`stage_names` gives two stages one name: {', '.join(names)}")
        known = {*names, *built_in}
        for where, stages in [("hooks.stages", list((self.hooks.stages if self.hooks else None) or {})),
                              *[(f"args.{k}.stages", v.stages or []) for k, v in (self.args or {}).items() if isinstance(v, BuildArg)]]:  # fmt: skip
            unknown = [stage for stage in stages if stage not in known]
            if unknown:
                raise ValueError(f"`{where}` names no stage of the {self.family} template: {', '.join(unknown)} (stages: {', '.join(names)})")
        return self

    def stage_list(self) -> list[str]:
        """The Dockerfile's stage names, in order (built-in templates: after `stage_names`)."""
        if self.steps is not None:
            return [stage.name for stage in self.step_stages() if stage.name is not None]
        if self.family == "generic":
            return [stage.name for stage in self.stages or []]
        return [(self.stage_names or {}).get(stage, stage) for stage in presets.TEMPLATE_STAGES[self.family]]

    def last_stage(self) -> str | None:
        """The stage a build without `--target` builds (its name; None when it has none)."""
        if self.steps is not None:
            return self.step_stages()[-1].name
        return self.stage_list()[-1]

    def stage_path(self, index: int) -> tuple[str | int, ...]:
        """Where the Dockerfile's stage ``index`` (0-based) is written in the build block:
        its `FROM` item in `steps`, else its entry of `stages`."""
        return ("steps", self.step_stages()[index].item) if self.steps is not None else ("stages", index)

    def step_stages(self) -> tuple[StageHead, ...]:
        """The stages of `steps` (none without them): where each starts and its name."""
        return read_steps(tuple(self.steps or ()), (self.directives or {}).get("escape", "\\")).stages

    def stage_name(self, name: str) -> str:
        """A stage's name in the Dockerfile: a built-in name follows `stage_names`."""
        return (self.stage_names or {}).get(name, name) if self.family != "generic" else name

    def builtin_stage(self, name: str | None) -> str | None:
        """What a Dockerfile stage is in the built-in template (``production`` -> ``prod``)."""
        for builtin, renamed in (self.stage_names or {}).items():
            if renamed == name:
                return builtin
        return name


class Service(ServiceSettings):
    description: Description | None = None
    """What the service is for: the `org.opencontainers.image.description` label of the image
    it builds (lines joined into one)."""
    build: Build | None = None
    """How to build the service's image; omit it (and give `image`) for a stock image."""
    uses: Name | None = None
    """Run the image another service builds (e.g. a worker on the API's image), under the
    name that service's image has in each environment. It never runs that image's probe
    (its `HEALTHCHECK` checks the builder): without a `healthcheck` of its own, a known
    command gets a preset (`celery worker`: `celery inspect ping` for its own node; `arq
    --check`; Celery Flower: `GET /healthcheck`) and any other command an explicit
    `healthcheck: {disable: true}` (Celery beat, rq and dramatiq answer no probe), which
    lint reports on this service."""
    extends: Name | None = None
    """Start from another service's settings, those at its top level (e.g. a worker with the
    API's `environment`, `depends_on` and `extra_hosts`): they lie under this service's own
    and its `environments` blocks, above every `defaults`. Not its `environments` blocks,
    `build`, `uses` or `enabled`; that service may extend a third one."""
    environments: dict[str, ServiceSettings] | None = None
    """Per-environment settings: the highest layer."""


class Environment(Model):
    description: str | None = None
    """What the environment is for."""
    extends: Name | None = None
    """Start from another environment's settings (its defaults and the services' blocks for it)."""
    kind: Literal["dev", "test", "staging", "prod"] | None = None
    """Which built-in policy applies (default: the name if standard, else the parent's kind, else prod).
    In a `test` environment each built service runs its test suite (its `test` stage, no
    probe, no published port) against what it depends on, and exits: `docker compose -f
    compose.yaml -f compose.test.yaml run --rm <service>` runs one suite. A built service that
    other services wait for serves there instead (its `prod` stage, its healthcheck) and its
    suite runs beside it as `<service>-test`; a `uses` service serves too. The overlay's
    header lists the suites."""
    engine: Literal["docker", "podman"] | None = None
    """Container engine the environment runs on: `docker` (default) or `podman` (SELinux labels, ports
    >= 1024, `localhost/` tags)."""
    flavour: Name | None = None
    """Base image flavour for every built service (e.g. `alpine`)."""
    registry: Registry | None = None
    """Registry prefix of the built images in this environment (default: the spec's `registry`)."""
    image_names: ImageNames | None = None
    """How built images are named in this environment (default: the spec's `image_names`,
    inherited along `extends`)."""
    compose_file: ProjectPath | None = None
    """Name of the environment's overlay (default: `output.overlay` with `{env}` replaced)."""
    env_file: ProjectPath | None = None
    """The file Compose reads to interpolate `${VAR}` in this environment's files, instead of
    the `.env` beside them (`docker compose --env-file`, e.g. `deploy/.env.prod`); inherited
    along `extends`. `dockergen compose <env>` passes it and the overlay's header names it."""
    project: Name | None = None
    """Compose project name in this environment; it prefixes volume, network and container
    names, so two environments with different names can run side by side and keep their own
    data. Default: the spec's `project`, and `<project>-<env>` for a `test` environment
    (`shop-test`), so that running its suites never recreates or stops the dev containers or
    touches their volumes. Inherited along `extends`, except that a test environment does not
    take the name of a non-test one. `dockergen compose <env>` and the rendered files agree."""
    defaults: Defaults | None = None
    """Settings for the services in this environment (above the spec's `defaults`, below the services)."""
    kubernetes: bool | KubernetesEnvironment | None = None
    """Whether (and how) `output.kubernetes` renders an overlay for this environment.
    Default: yes for environments of kind staging or prod on the docker engine (a podman
    environment is the Compose setup for one host, with `localhost/` image names)."""
    volumes: dict[ResourceName, dict[str, Any] | None] | None = None
    """Top-level `volumes` as this environment declares them, over the spec's (along
    `extends`, parent first): a mapping deep-merges into the declaration of that name,
    `null` removes a key (e.g. `uploads: {driver_opts: null}`), e.g. an NFS volume in prod only."""
    networks: dict[ResourceName, dict[str, Any] | None] | None = None
    """Top-level `networks` as this environment declares them, over the spec's (the rule of `volumes`)."""
    secrets: dict[ResourceName, dict[str, Any] | None] | None = None
    """Top-level `secrets` as this environment declares them, over the spec's (the rule of
    `volumes`), e.g. a file in dev and `external: true` in prod."""
    configs: dict[ResourceName, dict[str, Any] | None] | None = None
    """Top-level `configs` as this environment declares them, over the spec's (the rule of `volumes`)."""
    extensions: dict[ExtensionKey, Any] | None = None
    """Top-level `x-` fields of this environment's Compose files, over the spec's `extensions`
    (along `extends`, parent first): a value replaces the one of that name whole, `null`
    leaves it out of this environment."""


class Engines(Model):
    """Minimum engine versions the output must work with; features are used only where all support them."""

    compose: str | None = matching(VERSION, "a version such as 2.20 or 24.0.7 (quoted)", None)
    """Oldest Docker Compose version the output must work with."""
    docker: str | None = matching(VERSION, "a version such as 2.20 or 24.0.7 (quoted)", None)
    """Oldest Docker Engine version."""
    podman: str | None = matching(VERSION, "a version such as 2.20 or 24.0.7 (quoted)", None)
    """Oldest podman version."""
    buildah: str | None = matching(VERSION, "a version such as 2.20 or 24.0.7 (quoted)", None)
    """Oldest buildah version (podman's builder)."""


def _overlay_pattern(pattern: str) -> str:
    if pattern.count("{env}") != 1 or pattern.replace("{env}", "").count("{") + pattern.replace("{env}", "").count("}"):
        raise ValueError(f"must be a file name containing {{env}} once and no other braces, e.g. compose.{{env}}.yaml: {pattern!r}")
    return pattern


def _inside_project(path: str) -> str:
    if any(part in (".", "..") for part in path.split("/")):
        raise ValueError(f"must be a folder inside the project, without `.` or `..`: {path!r}")
    return path


class Output(Model):
    compose_file: ProjectPath = "compose.yaml"
    """Name of the Compose file every environment shares."""
    overlay: Annotated[ProjectPath, AfterValidator(_overlay_pattern)] = "compose.{env}.yaml"
    """Overlay file name pattern; `{env}` is replaced by the environment's name."""
    env_example: ProjectPath = ".env.example"
    """Where the documented list of `${VAR}`s goes."""
    override: Name | None = None
    """Environment whose overlay is written as Compose's override file (`compose.override.yaml`
    next to `compose.yaml`), so a plain `docker compose up` starts it; usually `dev`. Off by
    default: many repositories keep a hand-written, git-ignored `compose.override.yaml`, and
    `render` never overwrites a file it did not write."""
    snapshots: ProjectPath | None = None
    """Directory (relative to the spec) that `render` also fills with each environment's fully
    merged Compose configuration, `<env>.yaml`, so a review shows what a spec change does to
    each environment. Off by default; the files are generated (checked and locked) like the rest."""
    kubernetes: Annotated[str, AfterValidator(_inside_project)] | None = matching(
        r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", "a folder path relative to the spec, such as k8s or deploy/k8s", None
    )
    """Directory (relative to the spec) for Kubernetes manifests: a kustomize base and one
    overlay per deploying environment (`kubectl apply -k <dir>/overlays/prod`). Off by default."""
    bake: ProjectPath | None = None
    """Also write a Buildx Bake file at this path (relative to the spec), e.g. `docker-bake.hcl`:
    a target `<service>-<env>` per built service and environment, a group per environment
    (`default`: prod), with the tags, build args, platforms, caches and attestations of the
    Compose files. `docker buildx bake prod --print` shows what it builds."""


class Oci(Model):
    """OCI annotations (`org.opencontainers.image.*` labels) of every prod image dockergen
    builds. `title` is the service's name and `description` its description; `source`,
    `version`, `revision` and `created` come from build args (`OCI_SOURCE`, `OCI_VERSION`,
    `OCI_REVISION`, `OCI_CREATED`) whose defaults are the values here (revision and created:
    empty), so the Dockerfile is the same on every machine and CI passes the commit and time:
    `--build-arg OCI_REVISION=$(git rev-parse HEAD) --build-arg OCI_CREATED=$(date -u +%FT%TZ)`.
    A key set in `build.labels` wins."""

    source: DockerValue | None = None
    """URL of the source repository, e.g. `https://github.com/acme/shop`."""
    version: DockerValue | None = None
    """Version of the packaged software (default: empty; CI usually passes a tag)."""
    url: DockerValue | None = None
    """Where to find more about the image."""
    documentation: DockerValue | None = None
    """URL of its documentation."""
    vendor: DockerValue | None = None
    """Who distributes it."""
    licenses: DockerValue | None = None
    """SPDX license expression, e.g. `MIT` or `Apache-2.0`."""
    authors: DockerValue | None = None
    """Contact people or groups, e.g. `Platform team <platform@example.com>`."""


class Variable(Model):
    description: str | None = None
    """What the variable is for (a comment in `.env.example`)."""
    default: str | None = None
    """Default value written to `.env.example`."""
    required: bool = False
    """Compose refuses to start without a value."""
    secret: bool = False
    """Never written with a value to `.env.example`."""


LintSeverity = Literal["error", "warning", "note", "off"]
LintRuleId = Annotated[str, matching(r"^(DG[0-9]{3}|hadolint/[A-Z]+[0-9]+)$", "a rule ID such as DG005 or hadolint/DL3008 (`dockergen lint --list-rules`)")]


class LintRule(Model):
    """How `dockergen lint` applies one rule."""

    severity: LintSeverity | None = None
    """Replaces the rule's default severity; `off` disables the rule."""
    exclude: list[Name] | None = None
    """Services the rule does not check (e.g. a proxy that must bind-mount its config)."""


class Lint(Model):
    """Settings of `dockergen lint` (`dockergen lint --list-rules` lists the rules)."""

    fail_on: Literal["error", "warning", "note"] = "error"
    """Exit 1 when a finding has this severity or a higher one."""
    rules: dict[LintRuleId, LintSeverity | LintRule] | None = None
    """Per rule ID (`DG005`, `hadolint/DL3008`): a severity, `off`, or `{severity, exclude}`."""
    hadolint: bool = True
    """Also run hadolint on the rendered Dockerfiles when it is installed."""


class Spec(Model):
    """A dockergen spec: the single source of truth for a project's containers."""

    version: Literal[1, "1"] = 1
    """Version of the spec format; always `1` (quoted or not, as Compose files quote theirs), as for a spec that leaves it out (`import` does)."""
    project: Name
    """Project name: the Compose project, the prefix of image names, volumes and networks."""
    engines: Engines = Engines()
    """Oldest engine versions the output must run on; features newer than these are left out."""
    output: Output = Output()
    """Names of the generated Compose files and snapshots."""
    templates: ProjectPath | None = None
    """Directory (relative to the spec) whose templates override the built-in ones. They
    render sandboxed, in `check`, `validate`, `lint` and `doctor` too: they read the values
    dockergen passes and call macros, loop helpers and plain string methods, nothing else
    (no `str.format`); they include only files of this folder or the built-in templates; a
    render is bounded in size and work."""
    registry: Registry | None = None
    """Registry (and namespace) prefixed to every built image whose name has none, e.g.
    `ghcr.io/acme` makes `ghcr.io/acme/<project>/<service>`; environments can set their own."""
    image_names: ImageNames = "dockergen"
    """How a built service's image is named where neither its `image` setting nor `build.image`
    names it: `dockergen` is the rule of `build.image` (`<project>/<service>:${TAG:-<env>}`);
    `compose` is the name `docker compose build` gives an image without `image:`,
    `<Compose project>-<service>` (the environment's `project`), the same for every stage and
    flavour and without `registry`, so scripts and Dockerfiles that use those names keep
    working (`import` writes it). Environments can set their own."""
    defaults: Defaults | None = None
    """Settings for every service (with `scope: built`, every built one) in every environment
    (the lowest layer after the built-in one)."""
    environments: dict[Name, Environment] | None = None
    """Environments to render. Default: `dev`, `test`, `staging`, `prod`, and `podman`, which
    `extends: prod` (prod's settings, limits and per-service `environments.prod` blocks, on
    rootless podman: `localhost/` image names, `:Z` bind mounts, host ports from 1024).
    Declaring `environments` replaces the defaults; write `extends` yourself there."""
    services: dict[Name, Service]
    """The services, by name (lowercase letters, digits, `-`, `_`)."""
    volumes: dict[ResourceName, dict[str, Any] | None] | None = None
    """Top-level named volumes (Compose `volumes`); known images get theirs automatically."""
    networks: dict[ResourceName, dict[str, Any] | None] | None = None
    """Top-level networks (Compose `networks`)."""
    secrets: dict[ResourceName, dict[str, Any]] | None = None
    """Top-level secrets (Compose `secrets`): files or variables mounted at `/run/secrets/<name>`;
    `build.secrets` uses them at build time."""
    configs: dict[ResourceName, dict[str, Any]] | None = None
    """Top-level Compose `configs` (a file or content services mount read-only, e.g. an nginx.conf);
    a service mounts one with `configs: [name]` or `configs: [{source: name, target: /etc/...}]`."""
    extensions: dict[ExtensionKey, Any] | None = None
    """Top-level Compose extension fields (`x-kompose`, `x-project-meta`: what other tools read
    from a Compose file and Compose itself ignores), written as they are into every
    environment's Compose files. Not a place for settings: dockergen reads none of them.
    (A spec's own `x-` keys, for YAML anchors, are not written anywhere.)"""
    variables: dict[VariableName, Variable] | None = None
    """Documentation for `${VAR}`s used in the spec; feeds `.env.example`."""
    lint: Lint | None = None
    """Settings of `dockergen lint`: the failing severity, rules turned off or re-graded."""
    oci: Oci | None = None
    """OCI annotations of the prod images (the labels are there even without this block)."""

    @field_validator("services")
    @classmethod
    def _not_empty(cls, services: dict[str, Service]) -> dict[str, Service]:
        if not services:
            raise ValueError("declare at least one service")
        return services


def is_project_path(path: str) -> bool:
    """Whether a spec can name ``path`` as a file or folder of the project (``ProjectPath``)."""
    try:
        _project_path(path)
    except ValueError:
        return False
    return True


def is_valid_name(name: str) -> bool:
    return re.fullmatch(r"[a-z][a-z0-9_-]*", name) is not None and len(name) <= 63
