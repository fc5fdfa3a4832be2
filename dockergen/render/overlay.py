"""Split per-environment Compose documents into one shared base and one overlay each.

The base holds exactly what every environment has in common; each overlay adds what
its environment has on top. Because an overlay then only ever *adds* to or sets values
the base left out, ``docker compose -f base -f overlay`` merges back to the environment
under Compose's own rules (compose-go ``override/merge.go``) without ``!reset`` or
``!override``, which older Compose releases and podman-compose do not all understand.

How a value is shared depends on how Compose merges it, declared per path below.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

MISSING = object()

# Sequences that Compose appends across files (and de-duplicates by a key whose values
# our items never share): the base keeps the items all environments have, overlays add
# theirs. Order inside them carries no meaning.
APPENDED = [
    "services.*.ports",
    "services.*.expose",
    "services.*.volumes",
    "services.*.tmpfs",
    "services.*.secrets",
    "services.*.configs",
    "services.*.extra_hosts",
    "services.*.cap_add",
    "services.*.cap_drop",
    "services.*.security_opt",
    "services.*.profiles",
]
# Every other sequence (command, entrypoint, healthcheck.test, env_file, ...) is either
# replaced by Compose or order-sensitive: shared only when equal everywhere.
# Mappings are merged key by key by Compose and recurse here, except these, shared only
# when equal everywhere: Compose validates every file alone before the merge, and half of
# one fails the schema (`ulimits.nofile` needs `soft` and `hard`, a `depends_on` entry its
# `condition`); older Compose releases took an `x-` extension whole from the
# later file, so half of one in each file would lose the base's half there.
WHOLE = ["services.*.ulimits.*", "services.*.depends_on.*", "x-*", "services.*.x-*"]


def _matcher(patterns: list[str]) -> re.Pattern[str]:
    # One regex per table: asked once per value in every environment of every service.
    return re.compile("|".join(fnmatch.translate(pattern) for pattern in patterns))


_APPENDED = _matcher(APPENDED)
_WHOLE = _matcher(WHOLE)


def is_appended(path: tuple[str, ...]) -> bool:
    return _APPENDED.match(".".join(path)) is not None


def is_whole(path: tuple[str, ...]) -> bool:
    return _WHOLE.match(".".join(path)) is not None


def split(documents: dict[str, dict[str, Any]], each: Each | None = None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Return ``(base, {env: overlay})`` for the full documents of every environment.
    ``each``: what stands for one service's share of them (``split_service``: the lines
    ``service_cache`` keeps), asked once per service instead of working it out here."""
    values = list(documents.values())
    shares = None
    if each is not None:
        names = dict.fromkeys(name for doc in values for name in doc["services"])
        shares = {name: each(name, [doc["services"].get(name, MISSING) for doc in values]) for name in names}
    base = _common(values, (), None if shares is None else {name: share[0] for name, share in shares.items()})
    if base is MISSING:
        base = {}
    overlays = {}
    for i, (env, doc) in enumerate(documents.items()):
        overlay = _subtract(doc, base, (), None if shares is None else {name: share[1][i] for name, share in shares.items()})
        overlays[env] = {} if overlay is MISSING else overlay
    return base, overlays


# One service's share of ``split``: its base entry and its overlay entry in each environment
# (MISSING: none), from its entry in each environment (MISSING where it has none).
Each = Callable[[str, list[Any]], tuple[Any, list[Any]]]


def split_service(name: str, entries: list[Any]) -> tuple[Any, list[Any]]:
    """``split``'s share of the service ``name`` (``Each``)."""
    path = ("services", name)
    base = _common(entries, path) if all(entry is not MISSING for entry in entries) else MISSING
    return base, [entry if base is MISSING else _subtract(entry, base, path) for entry in entries]


def _common(values: list[Any], path: tuple[str, ...], shares: dict[str, Any] | None = None) -> Any:
    first = values[0]
    if all(isinstance(v, dict) for v in values) and not is_whole(path):
        out = {}
        own = shares is not None and path == ("services",)
        for key in first:
            if all(key in v for v in values):
                shared = shares[key] if own else _common([v[key] for v in values], (*path, key), shares)  # type: ignore[index]
                if shared is not MISSING:
                    out[key] = shared
        return out if out or not first else MISSING
    if all(isinstance(v, list) for v in values) and is_appended(path):
        others = [{_frozen(item) for item in v} for v in values[1:]]
        shared_items = [item for item in first if all(_frozen(item) in other for other in others)]
        return shared_items or MISSING
    return first if all(v == first for v in values[1:]) else MISSING


def _subtract(full: Any, base: Any, path: tuple[str, ...], shares: dict[str, Any] | None = None) -> Any:
    if isinstance(full, dict) and isinstance(base, dict):
        out = {}
        own = shares is not None and path == ("services",)
        for key, value in full.items():
            if own:
                rest = shares[key]  # type: ignore[index]
            elif key not in base:
                out[key] = value
                continue
            else:
                rest = _subtract(value, base[key], (*path, key), shares)
            if rest is not MISSING:
                out[key] = rest
        return out or MISSING
    if isinstance(full, list) and isinstance(base, list) and is_appended(path):
        present = {_frozen(item) for item in base}
        extra = [item for item in full if _frozen(item) not in present]
        return extra or MISSING
    return MISSING


def merge_like_compose(base: dict[str, Any], overlay: dict[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Compose's merge, restricted to what ``split`` produces; used to self-check."""
    out = dict(base)
    for key, value in overlay.items():
        here = (*path, key)
        if key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = merge_like_compose(out[key], value, here)
        elif key in out and isinstance(out[key], list) and is_appended(here):
            present = {_frozen(item) for item in out[key]}
            out[key] = out[key] + [item for item in value if _frozen(item) not in present]
        else:
            out[key] = value
    return out


def _frozen(item: Any) -> Any:
    """A hashable stand-in for ``item`` that is equal exactly when the items are equal (so
    list membership is a set lookup: 20,000 items compared in linear, not quadratic, time)."""
    if isinstance(item, dict):
        return frozenset((key, _frozen(value)) for key, value in item.items())
    if isinstance(item, list):
        return tuple(_frozen(value) for value in item)
    return item
