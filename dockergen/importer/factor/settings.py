"""An effective Compose service (normalised by ``compose``) as spec settings.

Every key the spec models becomes that field, in its shortest faithful spelling (short
port and volume syntax, a list of networks ...). What the spec has no field for, or what
the field cannot hold exactly, goes to the service's ``compose:`` escape hatch verbatim.
Healthchecks get Docker's defaults spelled out (interval 30s, timeout 30s, start period
0s, retries 3) so that dockergen's own defaults never change them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from pydantic import ValidationError

from dockergen.render.compose import AS_THEY_ARE
from dockergen.spec import names
from dockergen.spec.model import EXTENSION_KEY, ConfigMount, Healthcheck, Logging, PortSpec, Resources, ServiceSettings, WatchRule
from dockergen.text import ENV_NAME

DOCKER_HEALTHCHECK_DEFAULTS = {"interval": "30s", "timeout": "30s", "start_period": "0s", "retries": 3}
PLAIN_KEYS = ("image", "command", "entrypoint", "user", "init", "read_only", "stop_signal", "stop_grace_period",
              "working_dir", "platform", "userns_mode", "restart", "profiles", "cap_add", "cap_drop", "security_opt",
              "expose", "extra_hosts", "tmpfs", "ulimits", *AS_THEY_ARE)  # fmt: skip
HANDLED = {*PLAIN_KEYS, "build", "environment", "env_file", "ports", "volumes", "networks", "depends_on", "healthcheck",
           "deploy", "logging", "labels", "secrets", "configs", "develop"}  # fmt: skip
VARIABLE = re.compile(ENV_NAME)  # what `pass_env` takes (with fullmatch)
RENAMED_REFS = ("links", "volumes_from", "external_links")  # name other services: written under their canonical names


@dataclass(frozen=True)
class Conversion:
    settings: dict[str, Any]  # ServiceSettings fields (incl. `compose` for the rest)
    named_volumes: tuple[str, ...]  # named volumes the service mounts
    notes: tuple[str, ...]  # what could not be carried exactly


def convert(
    service: dict[str, Any],
    *,
    rename: Callable[[str], str],
    alias: str | None,
    target: str | None,
    build_passthrough: dict[str, Any] | None,
    verbatim: frozenset[str] = frozenset(),
    left_out: frozenset[str] = frozenset(),
    watched: bool = False,
) -> Conversion:
    """``service`` (normalised) -> settings. ``rename`` maps the environment's service names
    to canonical ones; ``alias`` is the original name to keep resolvable on the networks;
    ``target`` the stage to build (for services dockergen builds); ``build_passthrough`` the
    ``build:`` keys to carry verbatim (for builds dockergen does not render); ``verbatim`` the
    keys to carry verbatim anyway and ``left_out`` those to leave out (their spec field, or
    the escape hatch, refused them before)."""
    out: dict[str, Any] = {}
    forced = {k: v for k, v in service.items() if k in verbatim and k not in left_out and k != "build"}
    service = {k: v for k, v in service.items() if k not in left_out and k not in forced}
    extra: dict[str, Any] = dict(forced)
    notes: list[str] = []
    volumes_named: list[str] = []
    for key, value in service.items():
        if key.startswith("__"):
            continue
        if key in RENAMED_REFS and isinstance(value, list):
            value = [_rename_ref(item, rename) for item in value]
        elif key == "network_mode" and isinstance(value, str) and value.startswith("service:"):
            value = f"service:{rename(value[8:])}"
        if key in PLAIN_KEYS:
            _try(out, extra, key, value)
        elif re.fullmatch(EXTENSION_KEY, key):
            out.setdefault("extensions", {})[key] = value
        elif key not in HANDLED:
            extra[key] = value
    build = service.get("build")
    if build is not None:
        if target is not None:
            out["target"] = target
            if build.get("args"):
                args = build["args"]
                # `ARG` alone takes the host's value when set: the spec's `pass_build_args`.
                passed = [k for k, v in args.items() if v is None]
                if all(VARIABLE.fullmatch(k) for k in passed) and "build_args" not in verbatim:
                    if len(passed) < len(args):
                        out["build_args"] = {k: v for k, v in args.items() if v is not None}
                    if passed:
                        out["pass_build_args"] = passed
                else:
                    extra.setdefault("build", {})["args"] = args
            rest = {k: v for k, v in build.items() if k not in ("context", "dockerfile", "target", "args")}
            if rest:
                extra.setdefault("build", {}).update(rest)
        if build_passthrough is not None:
            extra["build"] = {**build_passthrough, **extra.get("build", {})}
    environment = service.get("environment")
    if environment:
        # `KEY` alone passes the host's value through: the spec's `pass_env` (its `null` removes).
        passed = [k for k, v in environment.items() if v is None]
        if all(VARIABLE.fullmatch(k) for k in passed):
            if len(passed) < len(environment):
                out["environment"] = {k: v for k, v in environment.items() if v is not None}
            if passed:
                out["pass_env"] = passed
        else:
            extra["environment"] = [k if v is None else f"{k}={v}" for k, v in environment.items()]
    env_files = service.get("env_file")
    if env_files:
        out["env_file"] = [_env_file_entry(e) for e in env_files]
    ports = service.get("ports")
    if ports:
        short = _port_ranges([port_string(p) for p in ports], ports)
        if all(s is not None for s in short):
            out["ports"] = short
        elif all(set(p) <= PORT_KEYS for p in ports):
            # `name`, `mode`, `app_protocol`: the long form is a spec field too
            out["ports"] = [port_string(p) or _long_port(p) for p in ports]
        else:
            extra["ports"] = [_long_port(p) for p in ports]
    volumes = service.get("volumes")
    if volumes:
        items = []
        for v in volumes:
            text = volume_string(v)
            items.append(text if text is not None else long_volume(v))
            if v.get("type") == "volume" and v.get("source"):
                volumes_named.append(v["source"])
        out["volumes"] = items
    networks = dict(service.get("networks") or {})
    if networks == {"default": {}} and alias is None:
        networks = {}
    if alias is not None and service.get("network_mode") is None:
        if not networks:
            networks = {"default": {}}
        for name, options in networks.items():
            aliases = list(options.get("aliases") or [])
            if alias not in aliases:
                aliases.append(alias)
            networks[name] = {**options, "aliases": aliases}
    if networks:
        if all(not v for v in networks.values()):
            out["networks"] = list(networks)
        else:
            out["networks"] = {k: _literal_aliases(dict(v)) for k, v in networks.items()}
    depends = service.get("depends_on")
    if depends:
        out["depends_on"] = {
            rename(name): {
                "condition": entry.get("condition", "service_started"),
                **({"required": False} if entry.get("required") is False else {}),
                **({"restart": entry["restart"]} if "restart" in entry else {}),
            }
            for name, entry in depends.items()
        }
    hc = service.get("healthcheck")
    if hc:  # `healthcheck: {}` changes nothing
        converted = healthcheck_settings(hc)
        if converted is None:
            extra["healthcheck"] = hc
        else:
            out["healthcheck"] = converted
    deploy = service.get("deploy")
    if deploy:
        resources = deploy.get("resources")
        rest = {k: v for k, v in deploy.items() if k != "resources" and v not in ({}, None)}
        if resources:
            converted_r = _resources(resources)
            if converted_r is None:
                rest["resources"] = resources
            else:
                out["resources"] = converted_r
        if rest:
            out["deploy"] = rest
    logging = service.get("logging")
    if logging:
        try:
            Logging.model_validate(logging)
            out["logging"] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in logging.items()}
        except ValidationError:
            extra["logging"] = logging
    labels = service.get("labels")
    if labels:
        out["labels"] = {k: str(v) for k, v in labels.items()}
    secrets = service.get("secrets")
    if secrets:
        out["secrets"] = [s if isinstance(s, str) else dict(s) for s in secrets]
    configs = service.get("configs")
    if configs:
        try:
            out["configs"] = [c if isinstance(c, str) else ConfigMount.model_validate(c).model_dump(exclude_none=True) for c in configs]
        except ValidationError:
            extra["configs"] = configs
    develop = service.get("develop")
    if develop is not None:
        # The spec's `watch` renders in a development environment for a service dockergen builds.
        rules = develop.get("watch") if watched and isinstance(develop, dict) and set(develop) == {"watch"} else None
        try:
            watch = [WatchRule.model_validate(rule).model_dump(exclude_none=True) for rule in rules or ()]
        except ValidationError:
            watch = []
        if watch:
            out["watch"] = watch
        else:
            extra["develop"] = develop
    if extra:
        out["compose"] = extra
    return Conversion(out, tuple(volumes_named), tuple(notes))


def _try(out: dict[str, Any], extra: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` when the spec field accepts the value exactly, else carry it verbatim."""
    if value is None:
        return
    if key in names.FIELDS and isinstance(value, str):
        value = names.literal(value)  # a brace of the original's is no placeholder
    try:
        read = getattr(ServiceSettings.model_validate({key: value}), key)
    except ValidationError:
        extra[key] = value
        return
    # Compose reads `tty: yes`, `"on"`, `"off"` as booleans (YAML 1.1 habits): the spec says true or false.
    out[key] = read if isinstance(read, bool) and isinstance(value, str) else value


def _literal_aliases(options: dict[str, Any]) -> dict[str, Any]:
    aliases = options.get("aliases")
    if isinstance(aliases, list):
        options["aliases"] = [names.literal(a) if isinstance(a, str) else a for a in aliases]
    return options


def _env_file_entry(entry: dict[str, Any]) -> str | dict[str, Any]:
    """A path alone, or the long form where the file may be missing or is read ``raw``."""
    long = {"required": False} if not entry.get("required", True) else {}
    if entry.get("format") is not None:
        long["format"] = entry["format"]
    return {"path": _dot(entry["path"]), **long} if long else _dot(entry["path"])


def _dot(path: str) -> str:
    return path[2:] if path.startswith("./") and "/" not in path[2:] and path[2:] else path


def _rename_ref(item: str, rename: Callable[[str], str]) -> str:
    name, sep, rest = item.partition(":")
    return rename(name) + sep + rest


def port_string(port: dict[str, Any]) -> str | None:
    if set(port) - {"target", "published", "host_ip", "protocol"}:
        return None
    text = str(port["target"])
    if port.get("published") is not None:
        text = f"{port['published']}:{text}"
    if port.get("host_ip"):
        ip = port["host_ip"]
        ip = f"[{ip}]" if ":" in ip else ip
        text = f"{ip}:{text}" if port.get("published") is not None else f"{ip}::{text}"
    if port.get("protocol", "tcp") != "tcp":
        text += f"/{port['protocol']}"
    return text


def _port_ranges(short: list[str | None], ports: list[dict[str, Any]]) -> list[str | None]:
    """Consecutive ports one apart on both sides written as the range they were
    (``8000-8010:8000-8010``: Compose's config lists each port of it)."""
    out: list[str | None] = []
    run: list[dict[str, Any]] = []

    def flush() -> None:
        if len(run) > 1:
            first, last = run[0], run[-1]
            out.append(port_string({**first, "target": f"{first['target']}-{last['target']}",
                                    "published": f"{first['published']}-{last['published']}"}))  # fmt: skip
        elif run:
            out.append(port_string(run[0]))
        run.clear()

    for text, port in zip(short, ports):
        number = text is not None and isinstance(port.get("target"), int) and str(port.get("published", "")).isdigit()
        if not number:
            flush()
            out.append(text)
            continue
        prev = run[-1] if run else None
        if prev is not None and not (port["target"] == prev["target"] + 1 and int(port["published"]) == int(prev["published"]) + 1
                                     and (port.get("host_ip"), port.get("protocol")) == (prev.get("host_ip"), prev.get("protocol"))):  # fmt: skip
            flush()
        run.append(port)
    flush()
    return out


PORT_KEYS = frozenset(PortSpec.model_fields)


def _long_port(port: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in port.items() if v is not None}


def volume_string(v: dict[str, Any]) -> str | None:
    """Short syntax, when it means exactly ``v``."""
    kind = v.get("type")
    extra = set(v) - {"type", "source", "target", "read_only", "selinux", "consistency", "create_host_path", "nocopy", "propagation"}
    if extra or kind not in ("bind", "volume") or not v.get("target"):
        return None
    if kind == "bind" and not v.get("create_host_path"):
        return None
    if kind == "volume" and not v.get("source"):
        return None if set(v) - {"type", "target"} else v["target"]
    options = []
    if v.get("read_only"):
        options.append("ro")
    if v.get("nocopy"):
        options.append("nocopy")
    for key in ("selinux", "consistency", "propagation"):
        if v.get(key):
            options.append(v[key])
    text = f"{v['source']}:{v['target']}"
    return f"{text}:{','.join(options)}" if options else text


def long_volume(v: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": v.get("type", "volume")}
    for key in ("source", "target", "read_only", "consistency"):
        if v.get(key) not in (None, False):
            out[key] = v[key]
    if out["type"] == "bind":
        bind = {k: v[k] for k in ("selinux", "propagation") if v.get(k)}
        if v.get("create_host_path") is not None:
            bind["create_host_path"] = v["create_host_path"]
        if bind:
            out["bind"] = bind
    volume = {k: v[k] for k in ("nocopy", "subpath") if v.get(k)}
    if volume:
        out["volume"] = volume
    if v.get("tmpfs"):
        out["tmpfs"] = v["tmpfs"]
    return out


def healthcheck_settings(hc: dict[str, Any]) -> dict[str, Any] | None:
    """A healthcheck as the spec's ``Healthcheck``, Docker's defaults spelled out; None when it
    cannot be one (timings without a test: they refine the image's own check)."""
    if hc.get("disable"):
        return {"disable": True}
    test = hc.get("test")
    if not test:
        return None
    out: dict[str, Any] = {"test": list(test) if isinstance(test, list) else test}
    for key, default in DOCKER_HEALTHCHECK_DEFAULTS.items():
        out[key] = hc.get(key, default)
    if hc.get("start_interval"):
        out["start_interval"] = hc["start_interval"]
    if set(hc) - {"test", "interval", "timeout", "start_period", "retries", "start_interval", "disable"}:
        return None
    try:
        Healthcheck.model_validate(out)
    except ValidationError:
        return None
    return out


def _resources(resources: dict[str, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for part in ("limits", "reservations"):
        block = resources.get(part)
        if not block:
            continue
        converted = {}
        for key, value in block.items():
            if key == "cpus":
                converted["cpus"] = float(value)
            elif key in ("memory", "pids"):
                converted[key] = value if key == "pids" else str(value)
            else:
                return None
        out[part] = converted
    if set(resources) - {"limits", "reservations"}:
        return None
    try:
        Resources.model_validate(out)
    except (ValidationError, ValueError):
        return None
    return out
