"""Per-environment settings of one service, factored into spec layers.

Given what a service must resolve to in every environment (``targets``; ``None`` where it
does not run) and what lies below the service in the spec's layers there (built-in presets
merged with the spec's ``defaults``), choose:

* the service level: what the environments it runs in share, mappings key by key (a
  common ``environment`` entry is written once): what all of them have, or, where that is
  shorter, the value most of them have (the others override it);
* one block per environment: what differs from the layers below it, following the
  environments' ``extends`` chains (an overlay environment only says what its overlay
  changed); ``null`` removes what a lower layer has and the environment must not.

``resolve(layers)`` then gives back each target exactly; ``check`` proves it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from dockergen.resolve import merge, replaces_whole

MISSING = object()
# Values Compose replaces as a whole (a spec layer replaces them too): never diffed inside.
WHOLE = {"command", "entrypoint", "ports", "volumes", "env_file", "expose", "tmpfs", "profiles", "cap_add", "cap_drop",
         "security_opt", "extra_hosts", "secrets", "test", "networks", "aliases"}  # fmt: skip


def common(values: list[dict[str, Any]]) -> dict[str, Any]:
    """What all ``values`` share; mappings key by key."""
    if not values:
        return {}
    out: dict[str, Any] = {}
    for key, first in values[0].items():
        others = [v.get(key, MISSING) for v in values[1:]]
        if any(o is MISSING for o in others):
            continue
        if isinstance(first, dict) and all(isinstance(o, dict) for o in others) and key not in WHOLE:
            shared = common([first, *others])
            if shared:
                out[key] = shared
        elif all(o == first for o in others):
            out[key] = first
    return out


def majority(values: list[dict[str, Any]]) -> dict[str, Any]:
    """Each key's most common value among ``values`` (mappings key by key), where more of them
    share it than lack the key (those would have to remove it)."""
    out: dict[str, Any] = {}
    keys = list(dict.fromkeys(k for v in values for k in v))
    for key in keys:
        having = [v[key] for v in values if key in v]
        if key not in WHOLE and all(isinstance(h, dict) for h in having):
            shared = majority(having)
            if shared and len(having) * 2 > len(values):
                out[key] = shared
            continue
        spellings = [json.dumps(h, sort_keys=True) for h in having]
        best = max(spellings, key=lambda s: (spellings.count(s), -spellings.index(s)))
        count = spellings.count(best)
        if count >= min(2, len(values)) and count > len(values) - len(having):
            out[key] = having[spellings.index(best)]
    return out


def leaves(value: Any) -> int:
    """About how many lines a value takes in the spec."""
    if isinstance(value, dict):
        return sum(1 + leaves(v) if isinstance(v, dict) else 1 for v in value.values())
    return 1


def diff(below: dict[str, Any], want: dict[str, Any], keep: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The layer that turns ``below`` into ``want`` under ``merge`` (``keep``: keys of ``below``
    to leave alone when ``want`` lacks them)."""
    out: dict[str, Any] = {}
    for key, value in want.items():
        current = below.get(key, MISSING)
        if current == value:
            continue
        if isinstance(current, dict) and isinstance(value, dict) and key not in WHOLE and not replaces_whole(key, current, value):
            sub = diff(current, value)
            if sub:
                out[key] = sub
        else:
            out[key] = value
    for key in below:
        if key not in want and key not in keep and not inert(key, below[key]):
            out[key] = None
    return out


def inert(key: str, value: Any) -> bool:
    """A value that renders nothing: healthcheck timings without a probe (the spec's
    ``defaults`` write Docker's timings under every service's healthcheck)."""
    return key == "healthcheck" and isinstance(value, dict) and not ({"test", "http", "disable"} & set(value))


def leaves_size(level: dict[str, Any], blocks: dict[str, dict[str, Any]]) -> int:
    return leaves(level) + sum(leaves(b) for b in blocks.values())


def factor(
    targets: dict[str, dict[str, Any] | None],
    chains: dict[str, tuple[str, ...]],
    below: dict[str, dict[str, Any]],
    keep: dict[str, frozenset[str]],
    size: Callable[[dict[str, Any], dict[str, dict[str, Any]]], int] = leaves_size,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Return ``(service_level, {env: block})`` (empty blocks left out), the shorter of the
    candidate levels by ``size(level, blocks)`` (the spec's writer can say how many lines).

    ``chains[env]`` is the environment's ``extends`` chain, root first, ending with env;
    ``below[env]`` what the layers under the service resolve to there."""
    present = [e for e, t in targets.items() if t is not None]
    under = [below[e] for e in present]
    candidates = [_above(common([targets[e] for e in present]), under), _above(majority([targets[e] for e in present]), under)]  # type: ignore[misc]
    best = None
    for level in candidates:
        if len(present) * 2 < len(targets):
            level["enabled"] = False
        blocks = _blocks(targets, chains, below, keep, level)
        lines = size(level, blocks)
        if best is None or lines < best[0]:
            best = (lines, level, blocks)
    assert best is not None
    return best[1], best[2]


def _above(level: dict[str, Any], belows: list[dict[str, Any]]) -> dict[str, Any]:
    """``level`` without what the layers under it already give in every environment."""
    out: dict[str, Any] = {}
    for key, value in level.items():
        under = [b.get(key, MISSING) for b in belows]
        if all(u == value for u in under):
            continue
        if isinstance(value, dict) and key not in WHOLE and all(isinstance(u, dict) for u in under):
            rest = _above(value, under)  # type: ignore[arg-type]
            if rest:
                out[key] = rest
            continue
        out[key] = value
    return out


def _blocks(
    targets: dict[str, dict[str, Any] | None],
    chains: dict[str, tuple[str, ...]],
    below: dict[str, dict[str, Any]],
    keep: dict[str, frozenset[str]],
    level: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    blocks: dict[str, dict[str, Any]] = {}
    order = sorted(targets, key=lambda e: len(chains[e]))
    for env in order:
        layers = [below[env], level, *(blocks.get(parent, {}) for parent in chains[env][:-1])]
        current = merge(*layers)
        want = targets[env]
        if want is None:
            block = {} if current.get("enabled") is False else {"enabled": False}
        else:
            # A kept preset stays only as the preset: the same key inherited from a parent block is undone.
            kept = frozenset(k for k in keep.get(env, frozenset()) if current.get(k, MISSING) == below[env].get(k, MISSING))
            block = diff({k: v for k, v in current.items() if k != "enabled"}, want, kept)
            if current.get("enabled") is False:
                block["enabled"] = True
        if block:
            blocks[env] = block
    return blocks


def resolved(level: dict[str, Any], blocks: dict[str, dict[str, Any]], chain: tuple[str, ...], below: dict[str, Any]) -> dict[str, Any]:
    """What the layers give in one environment (the spec's rule, as ``resolve`` applies it)."""
    return merge(below, level, *(blocks.get(env, {}) for env in chain))


def layering(
    order: list[str], parents: dict[str, str | None], targets: dict[str, dict[str, dict[str, Any] | None]]
) -> dict[str, str | None]:
    """Each environment's parent in the spec: the one its files extend; else, when it shares
    much with one declared before it (``podman-no-dns`` and ``podman``), that one, so that
    its blocks only say what differs. ``targets``: service -> env -> settings (None: absent)."""
    out: dict[str, str | None] = {}
    flat = {(s, e): _flat(t) for s, per_env in targets.items() for e, t in per_env.items() if t is not None}
    for index, env in enumerate(order):
        if parents.get(env):
            out[env] = parents[env]
            continue
        best: tuple[int, str] | None = None
        for other in order[:index]:
            score = 0
            for service, per_env in targets.items():
                mine, theirs = flat.get((service, env)), flat.get((service, other))
                if (mine is None) != (theirs is None):
                    score -= 2  # `enabled` flips
                elif mine is not None and theirs is not None:
                    score += len(mine & theirs) - len(mine - theirs)
            if score > 0 and (best is None or score > best[0]):
                best = (score, other)
        out[env] = best[1] if best else None
    return out


def _flat(settings: dict[str, Any], prefix: str = "") -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for key, value in settings.items():
        if isinstance(value, dict) and key not in WHOLE and value:
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out.add((prefix + key, json.dumps(value, sort_keys=True)))
    return out
