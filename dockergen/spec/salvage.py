"""The part of a spec with errors that the later checks can still judge.

Every problem of a run is reported in that run: a schema error in one service does not
hide an extends cycle or a host-port clash elsewhere. So after a phase fails, the units
that hold its problems are taken out of the spec data -- a service, an environment, a
top-level key -- and so is every unit that refers to one taken out (a service that
`uses` or `depends_on` it, an environment that `extends` it), so that a later phase
never reports a cascade of a problem already reported ("depends on unknown service").
The result is only ever checked, never rendered.
"""

from __future__ import annotations

import copy
from typing import Any

from dockergen.errors import Problem

PLACEHOLDERS = {"version": 1, "project": "salvaged"}  # required keys: stand-ins keep the rest checkable
WHOLE = {("services",), ("environments",)}  # without them nothing sound is left to check


def salvage(data: dict[str, Any], problems: list[Problem]) -> dict[str, Any] | None:
    """``data`` without the units ``problems`` sit in and their dependents, or None when
    nothing worth checking is left."""
    units = set()
    for problem in problems:
        unit = _unit(problem.path)
        if unit is None:
            return None
        units.add(unit)
    out = copy.deepcopy(data)
    services, environments = _mapping(out, "services"), _mapping(out, "environments")
    all_services, all_environments = set(services), set(environments)
    for unit in units:
        if len(unit) == 1:
            if unit[0] in PLACEHOLDERS:
                out[unit[0]] = PLACEHOLDERS[unit[0]]
            else:
                out.pop(unit[0], None)
        else:
            (services if unit[0] == "services" else environments).pop(unit[1], None)
    _drop_dependents(out, services, all_services, environments, all_environments)
    if not services or ("environments" in out and not environments) or not isinstance(out.get("services"), dict):
        return None
    return out


def _unit(path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    if not path:
        return None
    if path[0] in ("services", "environments"):
        return None if len(path) < 2 else path[:2]
    return path[:1]


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _depends(block: Any) -> set[str]:
    deps = block.get("depends_on") if isinstance(block, dict) else None
    if isinstance(deps, dict):
        return {str(k) for k in deps}
    if isinstance(deps, list):
        return {d for d in deps if isinstance(d, str)}
    return set()


def _drop_dependents(out: dict[str, Any], services: dict[str, Any], all_services: set[str],
                     environments: dict[str, Any], all_environments: set[str]) -> None:  # fmt: skip
    """Take out, until nothing changes, what refers to a unit taken out (a reference to
    a name that never existed stays: the later phase reports it)."""

    def removed_service(name: str) -> bool:
        return name in all_services and name not in services

    changed = True
    while changed:
        changed = False
        for name, env in list(environments.items()):
            parent = env.get("extends") if isinstance(env, dict) else None
            if isinstance(parent, str) and parent in all_environments and parent not in environments:
                environments.pop(name)
                changed = True
        for name, service in list(services.items()):
            if not isinstance(service, dict):
                continue
            blocks = [service, *(v for v in _mapping(service, "environments").values())]
            gone = any(removed_service(d) for b in blocks for d in _depends(b))
            uses = service.get("uses")
            if gone or (isinstance(uses, str) and removed_service(uses)):
                services.pop(name)
                changed = True
                continue
            per_env = _mapping(service, "environments")
            for env_name in list(per_env):
                if env_name in all_environments and env_name not in environments:
                    per_env.pop(env_name)  # that environment was taken out: its block goes with it
    for block in [out.get("defaults"), *(_mapping(env, "defaults") for env in environments.values() if isinstance(env, dict))]:
        if isinstance(block, dict) and any(removed_service(d) for d in _depends(block)):
            block.pop("depends_on")
