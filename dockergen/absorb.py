"""Turn a hand edit of a generated Compose file into the equivalent spec change.

The edited file is merged the way Compose merges it (base + the environment's overlay)
and compared with what the spec resolves for that environment. Each difference becomes
a setting on the right service and environment: native settings where the spec has the
same field, the service's ``compose:`` escape hatch otherwise. What has no place in the
spec (a new service, top-level resources, Dockerfile lines) is reported precisely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockergen.render.compose import Documents
from dockergen.render.overlay import merge_like_compose
from dockergen.resolve import ResolvedProject

# Compose keys that are spec settings with the same name and shape.
NATIVE = {
    "command", "entrypoint", "working_dir", "user", "userns_mode", "init", "env_file", "secrets",
    "expose", "extra_hosts", "cap_add", "cap_drop", "security_opt", "restart", "read_only",
    "stop_signal", "stop_grace_period", "labels", "platform", "profiles", "ulimits", "logging",
    "environment", "depends_on",
}  # fmt: skip
REMOVED = object()


@dataclass
class Absorption:
    edits: list[tuple[tuple[str, ...], Any]] = field(default_factory=list)
    unexpressible: list[str] = field(default_factory=list)


def service_changes(expected: dict[str, Any], edited: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Per service, the keys whose value differs (``REMOVED`` when dropped)."""
    changes: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for key in sorted(set(expected) | set(edited)):
        if key != "services" and expected.get(key) != edited.get(key):
            problems.append(f"top-level `{key}` changed: declare it in the spec's `{key}:`")
    exp_services, new_services = expected.get("services", {}), edited.get("services") or {}
    if not isinstance(new_services, dict):
        return {}, [*problems, "`services` is not a mapping of services"]
    for name in new_services:
        if name not in exp_services:
            problems.append(f"service `{name}` is new: add it to the spec's `services:`")
    for name, exp in exp_services.items():
        if name not in new_services:
            changes[name] = {"enabled": False}
            continue
        new = new_services[name]
        if not isinstance(new, dict):
            problems.append(f"service `{name}` is not a mapping of settings")
            continue
        misshapen = [key for key in ("healthcheck", "deploy", "logging") if key in new and not isinstance(new[key], dict)]
        problems += [f"services.{name}.{key} is not a mapping, as Compose needs it" for key in misshapen]
        if misshapen:
            continue
        diff = {k: new.get(k, REMOVED) for k in set(exp) | set(new) if exp.get(k) != new.get(k)}
        if diff:
            changes[name] = diff
    return changes, problems


def _patch(old: Any, new: Any) -> Any:
    """The mapping to layer over ``old`` to get ``new`` (null removes a key)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = {}
        for key in new:
            if key not in old:
                out[key] = new[key]
            elif old[key] != new[key]:
                out[key] = _patch(old[key], new[key])
        for key in old:
            if key not in new:
                out[key] = None
        return out
    return new


def settings_edits(service: str, env: str | None, expected: dict[str, Any], changed: dict[str, Any]) -> list[tuple[tuple[str, ...], Any]]:
    prefix = ("services", service) if env is None else ("services", service, "environments", env)
    edits: list[tuple[tuple[str, ...], Any]] = []
    for key in sorted(changed):
        value = changed[key]
        if key == "enabled":
            edits.append(((*prefix, "enabled"), value))
        elif key in NATIVE:
            if value is REMOVED:
                edits.append(((*prefix, key), None))
            elif isinstance(value, dict) and isinstance(expected.get(key), dict):
                for sub, sub_value in _patch(expected[key], value).items():
                    edits.append(((*prefix, key, sub), sub_value))
            else:
                edits.append(((*prefix, key), value))
        elif key == "healthcheck" and value is not REMOVED and not value.get("disable"):
            for sub, sub_value in _patch(expected.get(key) or {}, value).items():
                edits.append(((*prefix, "healthcheck", sub), sub_value))
        elif (key == "deploy" and value is not REMOVED and set(value) <= {"resources"} and isinstance(value.get("resources", {}), dict)
              and set(expected.get(key) or {}) <= {"resources"}):  # fmt: skip
            for sub, sub_value in _patch((expected.get(key) or {}).get("resources", {}), value.get("resources", {})).items():
                edits.append(((*prefix, "resources", sub), sub_value))
        else:
            # No spec field has Compose's exact shape here: the escape hatch keeps it verbatim.
            edits.append(((*prefix, "compose", key), None if value is REMOVED else value))
    return edits


def absorb_compose(
    project: ResolvedProject,
    documents: Documents,
    base: dict[str, Any],
    overlays: dict[str, dict[str, Any]],
    edited_envs: list[str],
) -> Absorption:
    """``documents``: each environment as rendered from the spec; ``base``/``overlays``:
    the Compose files as they are on disk (edited or not)."""
    result = Absorption()
    per_env: dict[str, dict[str, dict[str, Any]]] = {}
    for env in edited_envs:
        merged = merge_like_compose(base, overlays[env])
        changes, problems = service_changes(documents[env], merged)
        per_env[env] = changes
        result.unexpressible += [f"{env}: {p}" for p in problems]
    all_envs = list(project.environments)
    services = sorted({s for changes in per_env.values() for s in changes})
    for service in services:
        keys = sorted({k for changes in per_env.values() for k in changes.get(service, {})})
        for key in keys:
            values = [per_env[e].get(service, {}).get(key, "<unchanged>") for e in edited_envs]
            everywhere = set(edited_envs) == set(all_envs) and all(v == values[0] for v in values)
            if everywhere and key not in ("enabled",):
                first = edited_envs[0]
                result.edits += settings_edits(service, None, documents[first]["services"].get(service, {}), {key: values[0]})
                continue
            for env, value in zip(edited_envs, values):
                if value == "<unchanged>":
                    continue
                result.edits += settings_edits(service, env, documents[env]["services"].get(service, {}), {key: value})
    return result
