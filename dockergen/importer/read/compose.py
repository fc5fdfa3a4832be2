"""Compose files as plain values.

* ``load_compose_file``: one file with ruamel.yaml (anchors, ``<<:`` merge keys, ``!reset`` /
  ``!override`` tags kept as ``Tagged``), with what an import needs to know about it.
* ``normalize_service``: one service in one canonical shape whatever syntax it was written
  in (short or long ports/volumes, list or mapping environment, ...), with every path made
  relative to the repository root. The Compose CLI's ``config`` output goes through the
  same function, so the rest of the import never sees two spellings of one thing.
* ``merge_files``: the fallback when no Compose CLI is installed: ``include``, ``extends``
  and the multi-file merge (Compose's rules for the keys real projects use).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockergen.errors import DockergenError
from dockergen.importer.read.go_text import go_text, holds_go_spelling
from dockergen.importer.read.go_yaml import compose_scalars
from dockergen.safe_read import Unreadable, read_text
from dockergen.spec.load import read_plain
from dockergen.text import is_number, visible
from dockergen.yaml_read import COMPOSE_TAGS, plain, read_round_trip

SERVICE_KEYS_WITH_IMAGE = ("image", "build", "extends")
# Every key of a Compose service (the compose-spec schema, plus the legacy 2.x ones), so
# that a YAML file named otherwise (local.yml, helm values) is taken for one only when it is.
COMPOSE_SERVICE_KEYS = frozenset("""
annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name cpu_count
cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset credential_spec depends_on deploy
develop device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file environment expose extends
external_links extra_hosts gpus group_add healthcheck hostname image init ipc isolation label_file labels links logging
mac_address mem_limit mem_reservation mem_swappiness memswap_limit models network_mode networks oom_kill_disable
oom_score_adj pid pids_limit platform ports post_start pre_start pre_stop privileged profiles provider pull_policy
pull_refresh_after read_only restart runtime scale secrets security_opt shm_size stdin_open stop_grace_period
stop_signal storage_opt sysctls tmpfs tty ulimits umask use_api_socket user userns_mode uts volumes volumes_from
working_dir volume_driver net
""".split())
# A service, volume, network, secret or config name, as the Compose schema takes it.
COMPOSE_NAME = re.compile(r"[a-zA-Z0-9._-]+")
COMPOSE_TOP_KEYS = frozenset({"version", "name", "services", "volumes", "networks", "secrets", "configs", "include", "models"})


class ComposeFileError(ValueError):
    """A file that is not a Compose file we can read."""


@dataclass(frozen=True)
class Tagged:
    tag: str  # "!reset" | "!override" | other
    value: Any


@dataclass(frozen=True)
class ComposeFile:
    path: str  # relative to the root
    data: dict[str, Any]
    services: dict[str, dict[str, Any]]
    version: str | None
    name: str | None
    includes: tuple[str, ...]  # root-relative paths of included files
    extends_files: tuple[str, ...]  # root-relative paths that services extend from
    complete: bool  # every service names an image, a build or an extends: usable on its own
    partial_services: tuple[str, ...]  # services defined here without image/build/extends
    # included file -> the env files it is interpolated with (its `env_file`, else its project directory's .env)
    include_env_files: tuple[tuple[str, tuple[str, ...]], ...] = ()
    go_spelling: bool = True  # has a plain scalar Compose prints in Go's spelling (``holds_go_spelling``)


def _read_round_trip(text: str, rel: str = "compose file") -> Any:
    """The document through the reader every YAML input shares (its limits; tags other
    than Compose's own refused), ``!reset``/``!override`` values kept as ``Tagged``."""
    try:
        doc, problems = read_round_trip(text, rel, COMPOSE_TAGS, compose_scalars)
        if problems:
            raise DockergenError(problems)
        return plain(doc, rel, Tagged) if doc is not None else {}
    except DockergenError as exc:
        first = exc.problems[0]
        where = f"line {first.location.line}, column {first.location.column}: " if first.location and first.location.line else ""
        raise ComposeFileError(where + first.message) from None


def load_compose_file(root: Path, rel: str) -> ComposeFile:
    """Read and describe one Compose file; raise ``ComposeFileError`` if it is not one."""
    path = root / rel
    try:
        text = read_text(path)
    except OSError as exc:
        raise ComposeFileError(str(exc) if isinstance(exc, Unreadable) else f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ComposeFileError("not valid UTF-8 text") from None
    data = read_plain(text, compose_scalars)  # the C loader; tags (!reset), merge keys and errors need ruamel's own
    if data is None:
        data = _read_round_trip(text, rel)
    if not isinstance(data, dict):
        raise ComposeFileError("not a mapping at the top level")
    services = data.get("services")
    if services is None and "include" not in data:
        if any(isinstance(v, dict) and ("image" in v or "build" in v) for v in data.values()):
            raise ComposeFileError("Compose file format v1 (services at the top level); Compose v2 cannot read it")
        raise ComposeFileError("no `services`")
    if services is None:
        services = {}
    if not isinstance(services, dict) or not all(isinstance(v, dict) or v is None for v in services.values()):
        raise ComposeFileError("`services` is not a mapping of services")
    services = {k: (v or {}) for k, v in services.items()}
    for key in ("services", "volumes", "networks", "secrets", "configs"):
        block = services if key == "services" else data.get(key)
        odd = next((name for name in block if not COMPOSE_NAME.fullmatch(str(name))), None) if isinstance(block, dict) else None
        if odd is not None:
            raise ComposeFileError(f"{key}: {visible(str(odd))!r} is not a name Compose accepts (ASCII letters, digits, '.', '_', '-')")
    folder = posixpath.dirname(rel)
    _refuse_outside(root, rel, text, data, services)
    includes: list[str] = []
    include_env_files: list[tuple[str, tuple[str, ...]]] = []
    for item in _as_list(data.get("include")):
        paths = item.get("path") if isinstance(item, dict) else item
        listed = [posixpath.normpath(posixpath.join(folder, str(p))) for p in _as_list(paths)]
        includes.extend(listed)
        options = item if isinstance(item, dict) else {}
        project = options.get("project_directory")
        home = posixpath.normpath(posixpath.join(folder, str(project))) if project else posixpath.dirname(listed[0]) if listed else folder
        env_files = [posixpath.normpath(posixpath.join(folder, str(e))) for e in _as_list(options.get("env_file"))]
        for included in listed:
            include_env_files.append((included, tuple(env_files) or (posixpath.join(home, ".env") if home not in ("", ".") else ".env",)))
    extends_files = []
    partial = []
    for name, service in services.items():
        ext = service.get("extends")
        if isinstance(ext, dict) and ext.get("file"):
            extends_files.append(posixpath.normpath(posixpath.join(folder, str(ext["file"]))))
        build = service.get("build")
        has_build = build is not None and not (isinstance(build, dict) and "context" not in build)
        if "image" not in service and "extends" not in service and not has_build:
            partial.append(name)
    version = data.get("version")
    name = data.get("name")
    return ComposeFile(
        rel,
        data,
        services,
        str(version) if version is not None else None,
        str(name) if isinstance(name, str) else None,
        tuple(includes),
        tuple(sorted(set(extends_files))),
        not partial,
        tuple(partial),
        tuple(include_env_files),
        holds_go_spelling(text),
    )


def _named_paths(data: dict[str, Any], services: dict[str, dict[str, Any]]) -> list[tuple[tuple[Any, ...], Any, str | None, bool]]:
    """(where, value, relative to (a folder below the file's), absolute allowed) of every
    file or folder a Compose file makes Compose read."""
    found: list[tuple[tuple[Any, ...], Any, str | None, bool]] = []
    for index, item in enumerate(_as_list(data.get("include"))):
        if not isinstance(item, dict):
            found.append((("include", index), item, None, False))
            continue
        for key in ("path", "env_file", "project_directory"):
            values = item.get(key)
            for sub, value in enumerate(_as_list(values)):
                found.append((("include", index, key, *((sub,) if isinstance(values, list) else ())), value, None, False))
    for name, service in services.items():
        here = ("services", name)
        extends = service.get("extends")
        if isinstance(extends, dict):
            found.append(((*here, "extends", "file"), extends.get("file"), None, False))
        env_files = service.get("env_file")
        for index, entry in enumerate(_as_list(env_files)):
            at = (*here, "env_file", *((index,) if isinstance(env_files, list) else ()))
            found.append(((*at, "path"), entry.get("path"), None, False) if isinstance(entry, dict) else (at, entry, None, False))
        build = service.get("build")
        if isinstance(build, dict):
            found.append(((*here, "build", "context"), build.get("context"), None, False))
            if isinstance(build.get("context", "."), str):
                found.append(((*here, "build", "dockerfile"), build.get("dockerfile"), build.get("context", "."), False))
        else:
            found.append(((*here, "build"), build, None, False))
    for kind in ("secrets", "configs"):
        for name, entry in (data.get(kind) or {}).items() if isinstance(data.get(kind), dict) else ():
            if isinstance(entry, dict):
                found.append(((kind, name, "file"), entry.get("file"), None, True))
    return found


def _refuse_outside(root: Path, rel: str, text: str, data: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    """A path that leaves the repository is refused where it is written: the import never
    reads (nor lets the Compose CLI read) a file outside what it was pointed at."""
    from dockergen.containment import outside_reason
    from dockergen.errors import Problem
    from dockergen.spec.load import SourceMap

    folder = posixpath.dirname(rel) or "."
    problems = []
    for where, value, below, absolute_ok in _named_paths(data, services):
        if not isinstance(value, str) or "$" in value or "://" in value or value.startswith(("git@", "github.com/")):
            continue  # unset, interpolated (known only when Compose runs) or a remote context
        base = posixpath.join(folder, below) if below else folder
        why = outside_reason(root, value, base=base, absolute_ok=absolute_ok)
        if why:
            source = SourceMap(rel, data, text)
            problems.append(Problem(f"{value!r} {why}", source.locate(where), where,
                                    "import only the files inside the folder it was given; copy the file in, or import from a folder that holds it"))  # fmt: skip
    if problems:
        raise DockergenError(problems)


def looks_like_compose(cf: ComposeFile) -> bool:
    """A file named otherwise that reads as a Compose file: Compose's top-level keys only,
    every service a mapping of Compose service keys, one of them with an image or a build."""
    if set(cf.data) - COMPOSE_TOP_KEYS and not all(str(k).startswith("x-") for k in set(cf.data) - COMPOSE_TOP_KEYS):
        return False
    if not cf.services or not all(set(s) <= COMPOSE_SERVICE_KEYS | {k for k in s if str(k).startswith("x-")} for s in cf.services.values()):
        return False
    return any(set(s) & set(SERVICE_KEYS_WITH_IMAGE) for s in cf.services.values())


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------ normalisation


_RELATIVE_DEFAULT = re.compile(r"(\$\{[A-Za-z_][A-Za-z0-9_]*:?-)(\.\.?(?:/[^}]*)?)\}")


@dataclass(frozen=True)
class Paths:
    """How to spell the host paths of one source so that they mean the same on any checkout:
    a path written relative stays relative (to the repository root, ``./x`` or ``../x``),
    one written absolute stays absolute, ``~`` and ``$VAR`` stay as written.

    The Compose CLI's ``config`` has resolved every path (absolute, ``~`` expanded); with
    ``spelled`` (absolute path -> how the files wrote it) they are written back as written,
    else as root-relative when inside the root."""

    root: Path  # absolute
    base: Path  # absolute: what relative paths in this source are relative to
    spelled: dict[str, str] | None = None  # the CLI's resolved paths -> the files' spelling

    def rel(self, value: str) -> str:
        if self.spelled and value in self.spelled and "$" in value:
            return self.spelled[value]  # `${HOME}/x`, which the uninterpolated CLI put under the root
        if self.spelled is not None and value.startswith(f"{self.root.as_posix()}/") and value not in self.spelled:
            return self._inside(Path(posixpath.normpath(value)))  # resolved by the CLI, `$` and all (`./$$`, `./${DIR}`)
        if "://" in value or value.startswith("git@"):
            return value
        if "$" in value:
            return self._shifted(value)
        if value.startswith("~"):
            return value
        if self.spelled is not None:
            if value in self.spelled:
                return self.spelled[value]
            if not value.startswith("/"):
                return value
            absolute = Path(posixpath.normpath(value))
            if absolute == self.root or self.root in absolute.parents:
                return self._inside(absolute)
            return value
        if value.startswith("/"):
            return posixpath.normpath(value) if value != "/" else "/"
        return self._inside(Path(posixpath.normpath((self.base / value).as_posix())))

    def _shifted(self, value: str) -> str:
        """``./${DIR}`` and ``${DIR:-./data}`` of a file in another folder than the root: the
        parts written relative, re-spelled from the root (a variable's own value cannot be)."""
        if self.base == self.root:
            return value

        def shift(relative: str) -> str:
            moved = self._inside(Path(posixpath.normpath((self.base / relative).as_posix())))
            return moved + "/" if relative.endswith("/") and not moved.endswith("/") else moved

        value = _RELATIVE_DEFAULT.sub(lambda m: m.group(1) + shift(m.group(2)) + "}", value)
        literal = value.split("$", 1)[0]
        return shift(literal) + value[len(literal):] if literal.startswith(("./", "../")) else value

    def _inside(self, absolute: Path) -> str:
        try:
            rel = absolute.relative_to(self.root).as_posix()
        except ValueError:
            return posixpath.relpath(absolute.as_posix(), self.root.as_posix())
        return "." if rel == "." else f"./{rel}"


def path_spellings(merged: Merged, root: Path, home: str) -> dict[str, str]:
    """Absolute path -> how ``merged`` (dockergen's own merge of the files) spells it, for
    every host path of a relative or home spelling: what the CLI's resolved paths were."""
    out: dict[str, str] = {}

    def note(spelling: Any) -> None:
        if not isinstance(spelling, str) or "://" in spelling or spelling.startswith("/"):
            return
        if "$" in spelling and not spelling.startswith("$"):
            return  # `./${DIR}`: the CLI's `./` prefix is the files' own
        if spelling.startswith("$"):
            # `${HOME}/.npmrc`: uninterpolated, the CLI reads it as relative; its value may be absolute
            resolved: str | None = posixpath.normpath((root / spelling).as_posix())
        elif spelling.startswith("~"):
            resolved = home + spelling[1:] if spelling == "~" or spelling.startswith("~/") else None
        else:
            resolved = posixpath.normpath((root / spelling).as_posix())
        if resolved:
            out.setdefault(resolved, spelling)

    for service in merged.services.values():
        for volume in service.get("volumes") or []:
            if volume.get("type") == "bind":
                note(volume.get("source"))
        for item in service.get("env_file") or []:
            note(item.get("path"))
        build = service.get("build")
        if isinstance(build, dict):
            note(build.get("context"))
            for context in (build.get("additional_contexts") or {}).values() if isinstance(build.get("additional_contexts"), dict) else ():
                if is_local_context(context):
                    note(context)
        develop = service.get("develop")
        for watch in develop.get("watch") or [] if isinstance(develop, dict) and isinstance(develop.get("watch"), list) else ():
            if isinstance(watch, dict):
                note(watch.get("path"))
    for key in ("secrets", "configs"):
        for entry in (merged.top.get(key) or {}).values():
            note(entry.get("file"))
    return out


def normalize_service(raw: dict[str, Any], paths: Paths) -> dict[str, Any]:
    """One service in canonical form (see the module docstring)."""
    out: dict[str, Any] = {}
    overrides: list[str] = []
    resets: list[str] = []
    for key, value in raw.items():
        if isinstance(value, Tagged):
            if value.tag == "!reset":
                resets.append(key)
                continue
            overrides.append(key)
            value = value.value
        if value is None and key in ("command", "entrypoint"):
            continue
        handler = _NORMALIZERS.get(key)
        out[key] = handler(value, paths) if handler else value
    if overrides:
        out[OVERRIDE] = overrides
    if resets:
        out[RESET] = resets
    return out


OVERRIDE = "__override__"
RESET = "__reset__"


def strip_markers(service: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in service.items() if k not in (OVERRIDE, RESET)}


def _environment(value: Any, paths: Paths) -> dict[str, str | None]:
    if isinstance(value, dict):
        return {str(k): _scalar(v) for k, v in value.items()}
    out: dict[str, str | None] = {}
    for item in _as_list(value):
        key, sep, val = str(item).partition("=")
        out[key] = val if sep else None
    return out


def _scalar(value: Any) -> str | None:
    return None if value is None else go_text(value)


def _env_file(value: Any, paths: Paths) -> list[dict[str, Any]]:
    out = []
    for item in _as_list(value):
        if isinstance(item, dict):
            entry = {"path": paths.rel(str(item.get("path"))), "required": item.get("required", True) is not False}
            if item.get("format") is not None:
                entry["format"] = item["format"]  # `raw`: no quote removal or interpolation
            out.append(entry)
        else:
            out.append({"path": paths.rel(str(item)), "required": True})
    return out


def parse_port(text: str) -> dict[str, Any]:
    """``[host_ip:][published:]target[/protocol]`` (``${VAR}`` and ``[::1]`` kept whole)."""
    body, _, proto = text.rpartition("/") if "/" in text.rsplit(":", 1)[-1] else (text, "", "")
    parts = _split_volume(body)
    if len(parts) > 3:  # an IPv6 address without brackets
        parts = [":".join(parts[:-2]), parts[-2], parts[-1]]
    target = parts[-1]
    published = parts[-2] if len(parts) >= 2 else None
    host_ip = parts[0].strip("[]") if len(parts) == 3 else None
    return {
        "target": int(target) if is_number(target) else target,
        "published": published or None,
        "host_ip": host_ip or None,
        "protocol": proto or "tcp",
    }


def _ports(value: Any, paths: Paths) -> list[dict[str, Any]]:
    out = []
    for item in _as_list(value):
        if isinstance(item, dict):
            port = {
                "target": item.get("target"),
                "published": _scalar(item.get("published")) if item.get("published") not in (None, "") else None,
                "host_ip": item.get("host_ip"),
                "protocol": item.get("protocol") or "tcp",
            }
            for extra in ("mode", "name", "app_protocol"):
                if item.get(extra) not in (None, "ingress" if extra == "mode" else None):
                    port[extra] = item[extra]
        else:
            port = parse_port(str(item))
        if isinstance(port.get("target"), str) and is_number(port["target"]):
            port["target"] = int(port["target"])
        out.append({k: v for k, v in port.items() if v is not None})
    return out


def _volumes(value: Any, paths: Paths) -> list[dict[str, Any]]:
    out = []
    for item in _as_list(value):
        out.append(volume_entry(item, paths))
    return out


def volume_entry(item: Any, paths: Paths) -> dict[str, Any]:
    if isinstance(item, dict):
        entry: dict[str, Any] = {"type": item.get("type", "volume"), "target": item.get("target")}
        source = item.get("source")
        if source:
            # `${DIR:-./data}` is a bind the CLI's uninterpolated config calls a volume
            entry["source"] = paths.rel(str(source)) if entry["type"] == "bind" or "$" in str(source) else str(source)
        if item.get("read_only"):
            entry["read_only"] = True
        bind = item.get("bind") or {}
        if bind.get("selinux"):
            entry["selinux"] = bind["selinux"]
        if bind.get("propagation"):
            entry["propagation"] = bind["propagation"]
        if entry["type"] == "bind" and bind.get("create_host_path") is not None:
            entry["create_host_path"] = bool(bind["create_host_path"])
        if item.get("consistency"):
            entry["consistency"] = item["consistency"]
        volume = item.get("volume") or {}
        if volume.get("nocopy"):
            entry["nocopy"] = True
        if volume.get("subpath"):
            entry["subpath"] = volume["subpath"]
        if item.get("tmpfs"):
            entry["tmpfs"] = item["tmpfs"]
        return entry
    text = str(item)
    parts = _split_volume(text)
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0]}
    source, target = parts[0], parts[1]
    options = parts[2].split(",") if len(parts) > 2 else []
    is_bind = source.startswith((".", "/", "~", "$"))
    entry = {"type": "bind" if is_bind else "volume", "source": paths.rel(source) if is_bind else source, "target": target}
    for option in options:
        if option == "ro":
            entry["read_only"] = True
        elif option in ("z", "Z"):
            entry["selinux"] = option
        elif option in ("cached", "delegated", "consistent"):
            entry["consistency"] = option
        elif option == "nocopy":
            entry["nocopy"] = True
        elif option in ("shared", "slave", "private", "rshared", "rslave", "rprivate"):
            entry["propagation"] = option
    if is_bind:
        entry["create_host_path"] = True
    return entry


def _split_volume(text: str) -> list[str]:
    # "${VAR:-x}:/target" and "[::1]:80:80" must not be split inside the brackets.
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        if ch == ":" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def _depends_on(value: Any, paths: Paths) -> dict[str, dict[str, Any]]:
    if isinstance(value, dict):
        out = {}
        for name, entry in value.items():
            entry = entry or {}
            out[str(name)] = {
                "condition": entry.get("condition", "service_started"),
                "required": entry.get("required", True) is not False,
                **({"restart": bool(entry["restart"])} if "restart" in entry else {}),
            }
        return out
    return {str(name): {"condition": "service_started", "required": True} for name in _as_list(value)}


def _networks(value: Any, paths: Paths) -> dict[str, dict[str, Any]]:
    if isinstance(value, dict):
        return {str(k): dict(v or {}) for k, v in value.items()}
    return {str(name): {} for name in _as_list(value)}


def _build(value: Any, paths: Paths) -> dict[str, Any]:
    if isinstance(value, str):
        value = {"context": value}
    build = dict(value)
    out: dict[str, Any] = {}
    if "context" in build:  # an overlay without one keeps the base file's context
        out["context"] = paths.rel(str(build.pop("context")))
    dockerfile = build.pop("dockerfile", None)
    if dockerfile is not None:
        out["dockerfile"] = str(dockerfile)
    if build.get("target"):
        out["target"] = str(build.pop("target"))
    else:
        build.pop("target", None)
    args = build.pop("args", None)
    if args:
        out["args"] = _environment(args, paths)
    ssh = build.pop("ssh", None)
    if isinstance(ssh, dict):  # `default: null` would read as "remove" in a spec layer: Compose's list form
        out["ssh"] = [k if v is None else f"{k}={v}" for k, v in ssh.items()]
    elif ssh is not None:
        out["ssh"] = ssh
    contexts = build.pop("additional_contexts", None)
    if isinstance(contexts, dict):
        out["additional_contexts"] = {k: paths.rel(v) if is_local_context(v) else v for k, v in contexts.items()}
    elif contexts is not None:
        out["additional_contexts"] = contexts
    out.update(build)
    return out


def is_local_context(context: Any) -> bool:
    """A build context that is a folder (not ``docker-image://``, ``service:``, a URL)."""
    return isinstance(context, str) and not re.match(r"^[a-z][a-z0-9+.-]*:", context)


def _healthcheck(value: Any, paths: Paths) -> dict[str, Any]:
    hc = dict(value or {})
    if hc.get("disable") is False:
        del hc["disable"]  # says nothing: Compose normalises it to `healthcheck: {}`
    test = hc.get("test")
    if isinstance(test, str):
        hc["test"] = ["CMD-SHELL", test]
    elif isinstance(test, list) and test and test[0] == "NONE":
        hc = {"disable": True}
    return hc


def _extra_hosts(value: Any, paths: Paths) -> list[str]:
    if isinstance(value, dict):
        return [f"{k}:{v}" for k, v in value.items()]
    out = []
    for item in _as_list(value):
        host, sep, ip = str(item).partition("=")
        out.append(f"{host}:{ip}" if sep else str(item))
    return out


def _develop(value: Any, paths: Paths) -> Any:
    """``develop.watch`` paths are host paths."""
    if not isinstance(value, dict) or not isinstance(value.get("watch"), list):
        return value
    watch = [{**w, "path": paths.rel(w["path"])} if isinstance(w, dict) and isinstance(w.get("path"), str) else w for w in value["watch"]]
    return {**value, "watch": watch}


def _str_list(value: Any, paths: Paths) -> list[str]:
    return [str(v) for v in _as_list(value)]


def _labels(value: Any, paths: Paths) -> dict[str, str]:
    return {k: v if v is not None else "" for k, v in _environment(value, paths).items()}


def _gpus(value: Any, paths: Paths) -> Any:
    """``gpus: all`` is ``[{count: all}]`` to Compose (its config, and its merge with a list)."""
    return [{"count": "all"}] if value == "all" else value


_NORMALIZERS = {
    "environment": _environment,
    "env_file": _env_file,
    "ports": _ports,
    "volumes": _volumes,
    "depends_on": _depends_on,
    "networks": _networks,
    "build": _build,
    "develop": _develop,
    "healthcheck": _healthcheck,
    "extra_hosts": _extra_hosts,
    "labels": _labels,
    "annotations": _labels,  # `[key=value]` or a mapping, as labels
    "expose": _str_list,
    "profiles": _str_list,
    "cap_add": _str_list,
    "cap_drop": _str_list,
    "security_opt": _str_list,
    "tmpfs": _str_list,
    "dns": _str_list,
    "dns_opt": _str_list,
    "gpus": _gpus,
}


def default_dockerfile(context: Path) -> str:
    """The file a build that names none builds from ``context``: its Dockerfile, or, where it
    has only a Containerfile, that one (podman and buildah look for it; docker compose must be
    told its name)."""
    return "Containerfile" if not (context / "Dockerfile").exists() and (context / "Containerfile").is_file() else "Dockerfile"


def dockerfile_path(build: dict[str, Any]) -> str:
    """The Dockerfile a normalised ``build`` uses, relative to the root (posix)."""
    context = build.get("context", ".")
    dockerfile = build.get("dockerfile") or "Dockerfile"
    if not is_local_context(context):
        return f"{dockerfile} in {context}"  # a name only: no file of the repository, and no URL to normalise
    if dockerfile.startswith("/"):
        return dockerfile
    return posixpath.normpath(posixpath.join(context, dockerfile))


# ------------------------------------------------------------------ fallback merge

APPEND_UNIQUE = ("expose", "cap_add", "cap_drop", "security_opt", "dns", "dns_search", "dns_opt", "tmpfs", "extra_hosts", "devices",
                 "external_links", "links", "volumes_from", "group_add", "gpus", "post_start", "pre_stop")  # fmt: skip
MAP_MERGE = ("environment", "labels", "depends_on", "networks", "build", "deploy", "ulimits", "sysctls", "annotations",
             "healthcheck", "logging", "x-develop", "blkio_config")  # fmt: skip


def merge_service(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Compose's merge of one service across files, for normalised services."""
    out = strip_markers(base)
    for key in over.get(RESET, []):
        out.pop(key, None)
    for key, value in over.items():
        if key in (OVERRIDE, RESET):
            continue
        if key not in out or key in over.get(OVERRIDE, []):
            out[key] = value
        elif key == "volumes":
            by_target = {v.get("target"): v for v in out[key]}
            for v in value:
                by_target[v.get("target")] = v
            out[key] = list(by_target.values())
        elif key == "ports":
            out[key] = out[key] + [p for p in value if p not in out[key]]
        elif key == "env_file":
            out[key] = out[key] + [p for p in value if p not in out[key]]
        elif key in APPEND_UNIQUE and isinstance(value, list):
            out[key] = out[key] + [v for v in value if v not in out[key]]
        elif key in MAP_MERGE and isinstance(out[key], dict) and isinstance(value, dict):
            merged = dict(out[key])
            if key == "logging" and value.get("driver") not in (None, merged.get("driver")):
                merged = {}
            for k, v in value.items():
                if isinstance(merged.get(k), dict) and isinstance(v, dict) and key in ("build", "deploy"):
                    merged[k] = {**merged[k], **v}
                elif isinstance(merged.get(k), list) and isinstance(v, list) and key == "blkio_config":
                    merged[k] = merged[k] + [item for item in v if item not in merged[k]]  # per-device limits add up
                else:
                    merged[k] = v
            out[key] = merged
        else:
            out[key] = value
    return out


@dataclass
class Merged:
    name: str | None
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    top: dict[str, dict[str, Any]] = field(default_factory=dict)  # networks, volumes, secrets, configs
    problems: list[str] = field(default_factory=list)
    extensions: dict[str, Any] = field(default_factory=dict)  # top-level `x-` fields that are no anchor of service settings


def merge_files(root: Path, files: list[str], loaded: dict[str, ComposeFile]) -> Merged:
    """The effective project of ``files`` (``-f`` order) without the Compose CLI. As in Compose,
    relative paths of every ``-f`` file are relative to the first file's folder (the project
    directory); those of an ``include``d or ``extends``'d file to that file's own folder."""
    result = Merged(None)
    project_dir = posixpath.dirname(files[0]) if files else ""
    for rel in files:
        project = _file_project(root, rel, project_dir, loaded, result.problems, stack=())
        if project.name:
            result.name = project.name
        for name, service in project.services.items():
            if service:
                result.services[name] = merge_service(result.services.get(name, {}), service)
        for key, values in project.top.items():
            result.top.setdefault(key, {}).update(values)
    if result.name is None:
        folder = (root / project_dir).resolve().name
        result.name = re.sub(r"[^a-z0-9_-]", "", folder.lower()) or "default"
    return result


def _load(root: Path, rel: str, loaded: dict[str, ComposeFile]) -> ComposeFile:
    if rel not in loaded:
        loaded[rel] = load_compose_file(root, rel)
    return loaded[rel]


def _file_project(
    root: Path, rel: str, base: str, loaded: dict[str, ComposeFile], problems: list[str], stack: tuple[str, ...]
) -> Merged:
    out = Merged(None)
    if rel in stack:
        problems.append(f"{rel}: include cycle")
        return out
    try:
        cf = _load(root, rel, loaded)
    except ComposeFileError as exc:
        problems.append(f"{rel}: {exc}")
        return out
    out.name = cf.name
    for inc in cf.includes:
        sub = _file_project(root, inc, posixpath.dirname(inc), loaded, problems, (*stack, rel))
        out.services.update(sub.services)
        for key, values in sub.top.items():
            out.top.setdefault(key, {}).update(values)
    for name in cf.services:
        out.services[name] = _resolve_extends(root, rel, base, name, loaded, problems, ())
    for key in ("networks", "volumes", "secrets", "configs"):
        block = cf.data.get(key)
        if isinstance(block, dict):
            entries = {k: dict(v or {}) for k, v in block.items() if isinstance(v, dict) or v is None}
            problems.extend(f"{rel}: {key}.{k}: not a mapping; left out" for k, v in block.items() if k not in entries)
            if key in ("secrets", "configs"):
                paths = Paths(root.resolve(), (root / base).resolve())
                for entry in entries.values():
                    if isinstance(entry.get("file"), str):
                        entry["file"] = paths.rel(entry["file"])
            out.top.setdefault(key, {}).update(entries)
    return out


def _resolve_extends(
    root: Path, rel: str, base: str, name: str, loaded: dict[str, ComposeFile], problems: list[str], stack: tuple
) -> dict[str, Any]:
    cf = _load(root, rel, loaded)
    raw = dict(cf.services.get(name) or {})
    paths = Paths(root.resolve(), (root / base).resolve())
    ext = raw.pop("extends", None)
    try:
        own = normalize_service(raw, paths)
    except Exception as exc:  # noqa: BLE001 - a value of an unexpected shape: skip the service, say so
        problems.append(f"{rel}: services.{name}: cannot read it ({type(exc).__name__}: {exc}); left out")
        return {}
    if ext is None:
        return own
    if isinstance(ext, str):
        ext = {"service": ext}
    base_file = posixpath.normpath(posixpath.join(posixpath.dirname(rel), ext["file"])) if ext.get("file") else rel
    base_dir = posixpath.dirname(base_file) if ext.get("file") else base
    key = (base_file, ext.get("service"))
    if key in stack:
        problems.append(f"{rel}: services.{name}: extends cycle")
        return own
    try:
        inherited = _resolve_extends(root, base_file, base_dir, str(ext.get("service")), loaded, problems, (*stack, key))
    except ComposeFileError as exc:
        problems.append(f"{rel}: services.{name}: extends {base_file}: {exc}")
        return own
    return merge_service(inherited, own)


def from_cli_config(config: dict[str, Any], root: Path, spelled: dict[str, str] | None = None, project: Path | None = None) -> Merged:
    """The Compose CLI's ``config --no-interpolate --format json`` output, normalised; its
    resolved host paths written back as the files spell them (``spelled``); what it could not
    resolve (``${DIR:-./data}``) is relative to the ``project`` directory."""
    paths = Paths(root.resolve(), (project or root).resolve(), spelled or {})
    out = Merged(str(config.get("name")) if config.get("name") else None)
    for name, service in (config.get("services") or {}).items():
        try:
            out.services[name] = normalize_service(service or {}, paths)
        except Exception as exc:  # noqa: BLE001 - reported; the service is left out
            out.problems.append(f"services.{name}: cannot read it ({type(exc).__name__}: {exc}); left out")
    for key in ("networks", "volumes", "secrets", "configs"):
        block = config.get(key)
        if isinstance(block, dict):
            out.top[key] = {k: _without_default_name(out.name, k, dict(v or {})) for k, v in block.items()}
            if key in ("secrets", "configs"):
                for entry in out.top[key].values():
                    if isinstance(entry.get("file"), str):
                        entry["file"] = paths.rel(entry["file"])
    if out.top.get("networks", {}).get("default") == {}:
        del out.top["networks"]["default"]
    return out


def _without_default_name(project: str | None, key: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Drop the ``name`` Compose fills in (``<project>_<key>``, or the key for external ones)."""
    if entry.get("name") == (key if entry.get("external") else f"{project}_{key}"):
        entry.pop("name")
    entry.pop("ipam", None) if entry.get("ipam") == {} else None
    return entry
