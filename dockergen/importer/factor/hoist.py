"""Repeats across services, moved down into the spec's shared layers.

After each service is factored on its own (``layers``), a value that several services'
levels share goes to the spec's ``defaults``, and one that the services' blocks for one
environment share goes to ``environments.<env>.defaults``; there, names that differ only by
the service's own (``container_name: shop-dev-api``, ``shop-dev-db``) are tried as one
with ``{service}`` in it (``spec.names``). A move is tried, every (service, environment)
is resolved again with the spec's own merge, and the move is kept
only when nothing resolves differently and the spec gets shorter; a service the move
would change otherwise says ``null`` for that key, or what differs where a ``null`` would
also drop the built-in layer's value (counted against the move). Last, a service drops
what the layers under it then give wherever it runs.

Where every environment extends one root (``prod``, and ``dev: {extends: prod}``), a
service's block for the root may join its level (``lift_root_blocks``): each environment
sees both, so only the ``prod:`` line goes, wherever that reads shorter.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dockergen.importer.factor.layers import WHOLE, diff, leaves
from dockergen.resolve import merge, replaces_whole
from dockergen.spec import names

MISSING = object()
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
    projects: dict[str, str] = field(default_factory=dict)  # env -> its Compose project (``{project}``)

    def resolve(self, service: str, env: str) -> dict[str, Any]:
        merged = merge(self.below_service(service, env), self.levels[service], *(self.blocks[service].get(e, {}) for e in self.chains[env]))
        return self._named(merged, service, env)

    def below_service(self, service: str, env: str) -> dict[str, Any]:
        """What the layers under the service's own give it in ``env``."""
        base = self.extends.get(service)
        merged = merge(self.below[(service, env)], self.defaults, *(self.env_defaults.get(e, {}) for e in self.chains[env]),
                       inherited(self.levels[base]) if base else {})  # fmt: skip
        return self._named(merged, service, env)

    def _named(self, settings: dict[str, Any], service: str, env: str) -> dict[str, Any]:
        """``settings`` with the placeholders of its names put in, as ``resolve`` does."""
        named = names.expanded(settings, {"service": service, "env": env, "project": self.projects.get(env, "")})
        return {**settings, **named} if named else settings

    def snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(s, e): self.resolve(s, e) for s in self.levels for e in self.present[s]}


def hoist(layers: Layers) -> None:
    """Make every move that shortens the spec and changes no resolution."""
    want = layers.snapshot()
    for key, value in _candidates(layers.levels.values()):
        if _rule(key, value):
            _to_defaults(layers, key, value, want)
    _to_all_env_defaults(layers, want)
    _lower_names(layers, want)
    _prune(layers, want)


def _to_all_env_defaults(layers: Layers, want: dict, keys: tuple[str, ...] | None = None) -> None:
    """Each environment's shared values (and names with ``{service}``; ``keys``: only those)
    moved to its defaults, parents first. A name pattern goes no lower than an environment:
    one that three tool images share by accident reads, in the spec's ``defaults``, as a
    rule for every service."""
    for env in sorted(layers.chains, key=lambda e: len(layers.chains[e])):
        blocks = [(s, layers.blocks[s][env]) for s in layers.levels if env in layers.present[s] and env in layers.blocks[s]]
        # A pattern first: two services on one literal name are not a rule for the others;
        # what the environment's defaults say already, for one service that still says it.
        offers = _candidates(_named(blocks)) + _candidates(b for _, b in blocks)
        for key, value in [*offers, *layers.env_defaults.get(env, {}).items()]:
            if (keys is None or key in keys) and _rule(key, value):
                _to_env_defaults(layers, env, key, value, want)


def _rule(key: str, value: Any) -> bool:
    """Whether ``value`` may be a default for many services: not one name (``image:
    acme/backend:local`` two services run reads, in ``defaults``, as every service's image,
    the others overriding it), only a name with ``{service}`` in it."""
    return key not in names.FIELDS or (isinstance(value, str) and "{service}" in value)


def _lower_names(layers: Layers, want: dict) -> None:
    """A name at a service's own level that is really one family of environments' (the dev
    image, which every other environment overrides) keeps the environments' patterns from
    reaching it: moved into the blocks of the environments it names the service in, it may
    join their pattern there. Tried service by service; kept where the spec gets shorter."""
    for key in names.FIELDS:
        for service, level in layers.levels.items():
            value = level.get(key)
            if not isinstance(value, str) or _general(key, value, service) == value or service in layers.extends.values():
                continue  # not a name of its own; or another service extends this level
            saved, before = _saved(layers), _size(layers)
            del level[key]
            reached = [e for e in layers.present[service] if want[(service, e)].get(key) == layers._named({key: value}, service, e)[key]]
            for env in reached:
                if not any(a in reached for a in layers.chains[env][:-1]):
                    layers.blocks[service].setdefault(env, {})[key] = value
            if any(layers.resolve(service, e) != want[(service, e)] for e in layers.present[service]):
                _restore(layers, saved)
                continue
            _to_all_env_defaults(layers, want, keys=(key,))
            if _size(layers) >= before:
                _restore(layers, saved)


def _size(layers: Layers) -> int:
    return (leaves(layers.defaults) + sum(leaves(d) for d in layers.env_defaults.values())
            + sum(leaves(level) + sum(leaves(b) for b in layers.blocks[s].values()) for s, level in layers.levels.items()))  # fmt: skip


def _saved(layers: Layers) -> tuple:
    return copy.deepcopy((layers.defaults, layers.env_defaults, layers.levels, layers.blocks))


def _restore(layers: Layers, saved: tuple) -> None:
    for target, kept in zip((layers.defaults, layers.env_defaults, layers.levels, layers.blocks), saved):
        target.clear()
        target.update(kept)


def _named(levels: Any) -> list[dict[str, Any]]:
    """Each ``(service, settings)``'s names with ``{service}`` for the service's own name in
    them, where it is there (``container_name: shop-dev-{service}``)."""
    out = []
    for service, level in levels:
        general = {key: _general(key, level[key], service) for key in (*names.FIELDS, "networks") if key in level}
        out.append({key: value for key, value in general.items() if value != level[key]})
    return out


def _general(key: str, value: Any, service: str) -> Any:
    """``value`` of ``key`` (a name, or networks with aliases) with ``{service}`` where it
    says ``service``; else ``value``."""
    if key == "networks" and isinstance(value, dict):
        return {name: {**options, "aliases": [_general_text(a, service) for a in options["aliases"]]}
                if isinstance(options, dict) and isinstance(options.get("aliases"), list) else options
                for name, options in value.items()}  # fmt: skip
    return _general_text(value, service)


def _general_text(value: Any, service: str) -> Any:
    """``{service}`` where ``value`` says ``service`` as a word of its own, outside Compose's
    ``${...}`` (a brace of any other kind: left as it is, it is no name)."""
    if not isinstance(value, str) or "{" in value.replace("${", ""):
        return value
    word = re.compile(rf"(?<![A-Za-z0-9]){re.escape(service)}(?![A-Za-z0-9])")
    return "".join(part if part.startswith("${") else word.sub("{service}", part) for part in re.split(r"(\$\{[^}]*\})", value))


def _same(key: str, have: Any, value: Any, service: str) -> bool:
    """Whether a service's ``have`` is what the candidate ``value`` gives it."""
    return have == value or (have is not None and _general(key, have, service) == value)


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
    had = layers.env_defaults.get(env, {}).get(key, MISSING)
    if had is not MISSING and had != value:
        return  # (the same value: blocks that still say it may go, at no cost)
    scope = {e for e, chain in layers.chains.items() if env in chain}
    saved = {s: {e: dict(b) for e, b in blocks.items()} for s, blocks in layers.blocks.items()}
    layers.env_defaults.setdefault(env, {})[key] = value
    moved = 0
    for service in layers.levels:
        block = layers.blocks[service].get(env)
        if block is not None and _same(key, block.get(key), value, service):
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
    if moved - (had is MISSING) - nulls <= 0 or any(layers.resolve(s, e) != want[(s, e)] for (s, e) in _affected(layers, scope)):
        if had is MISSING:
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
