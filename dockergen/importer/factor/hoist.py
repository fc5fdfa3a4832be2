"""Repeats across services, moved down into the spec's shared layers.

After each service is factored on its own (``layers``), a value that several services'
levels share goes to the spec's ``defaults``, and one that the services' blocks for one
environment share goes to ``environments.<env>.defaults``. A move is tried, every
(service, environment) is resolved again with the spec's own merge, and the move is kept
only when nothing resolves differently and the spec gets shorter; a service the move
would change otherwise says ``null`` for that key, or what differs where a ``null`` would
also drop the built-in layer's value (counted against the move). Last, a service drops
what the layers under it then give wherever it runs.

Where every environment extends one root (``prod``, and ``dev: {extends: prod}``), a
service's block for the root may join its level (``lift_root_blocks``): each environment
sees both, so only the ``prod:`` line goes, wherever that reads shorter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dockergen.importer.factor.layers import WHOLE, diff
from dockergen.resolve import merge, replaces_whole

SKIP = {"enabled", "compose", "prebuilt"}  # not values that repeat by accident; `prebuilt` means nothing without a build


def inherited(level: dict[str, Any]) -> dict[str, Any]:
    """What a service's level gives one that ``extends`` it (``resolve``'s rule)."""
    return {k: v for k, v in level.items() if k != "enabled"}


@dataclass
class Layers:
    """The settings layers of the spec being written (mutable: moves change them)."""

    defaults: dict[str, Any]
    env_defaults: dict[str, dict[str, Any]]  # env -> settings
    levels: dict[str, dict[str, Any]]  # service -> its own settings
    blocks: dict[str, dict[str, dict[str, Any]]]  # service -> env -> block
    below: dict[tuple[str, str], dict[str, Any]]  # (service, env) -> the built-in layer there
    chains: dict[str, tuple[str, ...]]  # env -> its extends chain, root first
    present: dict[str, set[str]]  # service -> the environments it runs in
    extends: dict[str, str] = field(default_factory=dict)  # service -> the service it extends

    def resolve(self, service: str, env: str) -> dict[str, Any]:
        return merge(self.below_service(service, env), self.levels[service], *(self.blocks[service].get(e, {}) for e in self.chains[env]))

    def below_service(self, service: str, env: str) -> dict[str, Any]:
        """What the layers under the service's own give it in ``env``."""
        base = self.extends.get(service)
        return merge(self.below[(service, env)], self.defaults, *(self.env_defaults.get(e, {}) for e in self.chains[env]),
                     inherited(self.levels[base]) if base else {})  # fmt: skip

    def snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(s, e): self.resolve(s, e) for s in self.levels for e in self.present[s]}


def hoist(layers: Layers) -> None:
    """Make every move that shortens the spec and changes no resolution."""
    want = layers.snapshot()
    for key, value in _candidates(layers.levels.values()):
        _to_defaults(layers, key, value, want)
    for env in sorted(layers.chains, key=lambda e: len(layers.chains[e])):
        blocks = [layers.blocks[s][env] for s in layers.levels if env in layers.present[s] and env in layers.blocks[s]]
        for key, value in _candidates(blocks):
            _to_env_defaults(layers, env, key, value, want)
    _prune(layers, want)


def _prune(layers: Layers, want: dict) -> None:
    """Drop a service's setting that the layers under it now give wherever it runs (a
    service only in staging, once staging's defaults have its `logging`)."""
    for service, level in layers.levels.items():
        for key, value in list(level.items()):
            if key in SKIP or any(layers.below_service(service, e).get(key) != value for e in layers.present[service]):
                continue
            kept = dict(level)
            del level[key]
            if any(layers.resolve(service, e) != want[(service, e)] for e in layers.present[service]):
                level.clear()
                level.update(kept)


def _candidates(settings: Any) -> list[tuple[str, Any]]:
    """(key, value) pairs that at least two of ``settings`` share, most shared first."""
    counts: dict[tuple[str, str], int] = {}
    values: dict[tuple[str, str], Any] = {}
    for layer in settings:
        for key, value in layer.items():
            if key in SKIP or value is None:
                continue
            spelling = (key, json.dumps(value, sort_keys=True))
            counts[spelling] = counts.get(spelling, 0) + 1
            values[spelling] = value
    ranked = sorted((c, k) for k, c in counts.items() if c >= 2)
    return [(k[0], values[k]) for c, k in reversed(ranked)]


def _affected(layers: Layers, envs: set[str]) -> list[tuple[str, str]]:
    return [(s, e) for s in layers.levels for e in layers.present[s] if e in envs]


def _to_defaults(layers: Layers, key: str, value: Any, want: dict) -> None:
    if key in layers.defaults and layers.defaults[key] is not None and layers.defaults[key] != value:
        return
    saved = (dict(layers.defaults), {s: dict(level) for s, level in layers.levels.items()})
    layers.defaults[key] = value
    moved = [s for s, level in layers.levels.items() if level.get(key) == value]
    for service in moved:
        del layers.levels[service][key]
    nulls = 0
    for service, level in layers.levels.items():
        if service in moved or key in level:
            continue
        if any(layers.resolve(service, e) != want[(service, e)] for e in layers.present[service]):
            level[key] = None
            nulls += 1
    if len(moved) - 1 - nulls <= 0 or any(layers.resolve(s, e) != want[(s, e)] for (s, e) in want):
        layers.defaults.clear()
        layers.defaults.update(saved[0])
        for service, level in saved[1].items():
            layers.levels[service] = level


def _to_env_defaults(layers: Layers, env: str, key: str, value: Any, want: dict) -> None:
    if key in layers.env_defaults.get(env, {}):
        return
    scope = {e for e, chain in layers.chains.items() if env in chain}
    saved = {s: {e: dict(b) for e, b in blocks.items()} for s, blocks in layers.blocks.items()}
    layers.env_defaults.setdefault(env, {})[key] = value
    moved = 0
    for service in layers.levels:
        block = layers.blocks[service].get(env)
        if block is not None and block.get(key) == value:
            del block[key]
            moved += 1
    nulls = 0
    for service, e in _affected(layers, scope):
        if layers.resolve(service, e) != want[(service, e)]:
            block = layers.blocks[service].setdefault(env if env in layers.present[service] else e, {})
            if key in block:
                continue
            block[key] = None
            nulls += 1
            if layers.resolve(service, e) != want[(service, e)]:
                # `null` also drops what the built-in layer gives (log rotation): say what differs instead
                del block[key]
                change = diff(layers.resolve(service, e), want[(service, e)])
                if key in change:
                    block[key] = change[key]
    if moved - 1 - nulls <= 0 or any(layers.resolve(s, e) != want[(s, e)] for (s, e) in _affected(layers, scope)):
        layers.env_defaults[env].pop(key, None)
        if not layers.env_defaults[env]:
            del layers.env_defaults[env]
        for service, blocks in saved.items():
            layers.blocks[service] = blocks
    for service in layers.levels:
        layers.blocks[service] = {e: b for e, b in layers.blocks[service].items() if b}


def lift_root_blocks(layers: Layers, size: Callable[[dict[str, Any], dict[str, dict[str, Any]]], int]) -> None:
    """Where every environment extends one root, each service's block for it written into its
    level instead, where ``size`` (lines of a level and its blocks) says that is shorter and
    every (service, environment) resolves as before (those extending the service too)."""
    roots = {chain[0] for chain in layers.chains.values()}
    if len(roots) != 1:
        return
    (root,) = roots
    want = layers.snapshot()
    for service in sorted(layers.levels):
        level, blocks = layers.levels[service], layers.blocks[service]
        if not blocks.get(root):
            continue
        rest = {env: block for env, block in blocks.items() if env != root}
        lifted = _overlay(level, blocks[root])
        if size(lifted, rest) >= size(level, blocks):
            continue
        layers.levels[service], layers.blocks[service] = lifted, rest
        if any(layers.resolve(s, e) != want[(s, e)] for (s, e) in want):
            layers.levels[service], layers.blocks[service] = level, blocks


def _overlay(level: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    """One layer that says what ``block`` over ``level`` gives (a ``null`` stays: it also
    removes what lies below both)."""
    out = dict(level)
    for key, value in block.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict) and key not in WHOLE and not replaces_whole(key, current, value):
            out[key] = _overlay(current, value)
        else:
            out[key] = value
    return out
