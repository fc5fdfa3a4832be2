"""Per-environment settings of one service, factored into spec layers.

Given what a service must resolve to in every environment (``targets``; ``None`` where it
does not run) and what lies below the service in the spec's layers there (built-in presets
merged with the spec's ``defaults``), choose:

* the service level: what every environment it runs in shares (mappings are shared key by
  key, so a common ``environment`` entry is written once);
* one block per environment: what differs from the layers below it, following the
  environments' ``extends`` chains (an overlay environment only says what its overlay
  changed); ``null`` removes what a lower layer has and the environment must not.

``resolve(layers)`` then gives back each target exactly; ``check`` proves it.
"""

from __future__ import annotations

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
        if key not in want and key not in keep:
            out[key] = None
    return out


def factor(
    targets: dict[str, dict[str, Any] | None],
    chains: dict[str, tuple[str, ...]],
    below: dict[str, dict[str, Any]],
    keep: dict[str, frozenset[str]],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Return ``(service_level, {env: block})`` (empty blocks left out).

    ``chains[env]`` is the environment's ``extends`` chain, root first, ending with env;
    ``below[env]`` what the layers under the service resolve to there."""
    present = [e for e, t in targets.items() if t is not None]
    level = common([targets[e] for e in present])  # type: ignore[misc]
    if len(present) * 2 < len(targets):
        level["enabled"] = False
    blocks: dict[str, dict[str, Any]] = {}
    order = sorted(targets, key=lambda e: len(chains[e]))
    for env in order:
        layers = [below[env], level, *(blocks.get(parent, {}) for parent in chains[env][:-1])]
        current = merge(*layers)
        want = targets[env]
        if want is None:
            block = {} if current.get("enabled") is False else {"enabled": False}
        else:
            block = diff({k: v for k, v in current.items() if k != "enabled"}, want, keep.get(env, frozenset()))
            if current.get("enabled") is False:
                block["enabled"] = True
        if block:
            blocks[env] = block
    return level, blocks


def resolved(level: dict[str, Any], blocks: dict[str, dict[str, Any]], chain: tuple[str, ...], below: dict[str, Any]) -> dict[str, Any]:
    """What the layers give in one environment (the spec's rule, as ``resolve`` applies it)."""
    return merge(below, level, *(blocks.get(env, {}) for env in chain))
