"""Services that share much of another's settings, written as ``extends: <that service>``.

Compose files say "a worker like the web service, with another command" with YAML anchors
(``<<: *django``) or ``extends``; after ``layers`` each service has its own level again. A
service whose level shares settings with another's gets ``extends``, and is factored anew
over what it inherits (that service's level, without ``enabled``, as ``resolve`` has it):
kept where every environment resolves exactly as before and the service gets shorter.
One level deep: a service extended by others extends none, so each reads in one step.
"""

from __future__ import annotations

import json
from typing import Any

from dockergen.importer.factor.hoist import Layers, inherited
from dockergen.importer.factor.layers import MISSING, WHOLE, factor, leaves
from dockergen.resolve import merge, replaces_whole

Targets = dict[str, dict[str, Any] | None]  # env -> settings (None: not there)
Offer = tuple[int, str, str, dict[str, Any], dict[str, dict[str, Any]]]  # (lines saved, service, base, its level, its blocks)


def extend(layers: Layers, targets: dict[str, Targets], keeps: dict[str, dict[str, frozenset[str]]], runs: dict[str, str]) -> None:
    """Set ``layers.extends`` where it shortens the spec, each such service factored anew
    over what it inherits; every (service, environment) resolves as before. ``runs``: the
    service whose build each built or ``uses`` service runs, or what names the image a
    stock one runs: only services of one image extend each other (a worker and its web
    app, three brokers), as Compose files share them."""
    envs = sorted(layers.chains)
    size = {s: leaves(layers.levels[s]) + sum(leaves(b) for b in layers.blocks[s].values()) for s in layers.levels}
    offers: list[Offer] = []
    for service in sorted(layers.levels):
        own = _spellings(layers.levels[service])
        before = {env: layers.resolve(service, env) for env in envs}
        for base in sorted(layers.levels):
            given = inherited(layers.levels[base])
            shared = own & _spellings(given)
            if base == service or len(shared) < 2 or runs.get(service) is None or runs.get(service) != runs.get(base):
                continue
            layers.extends[service] = base
            below = {env: layers.below_service(service, env) for env in envs}
            del layers.extends[service]
            level, blocks = factor(targets[service], layers.chains, below, keeps[service])
            # `extends` and then undo what it gives would not read as "like that service"
            undone = any(given.get(k) is not None and v is None for layer in [level, *blocks.values()] for k, v in layer.items())
            saving = size[service] - leaves(level) - sum(leaves(b) for b in blocks.values()) - 1  # the `extends` line
            if undone or saving < 1:
                continue
            if all(merge(below[env], level, *(blocks.get(e, {}) for e in layers.chains[env])) == before[env] for env in envs):
                offers.append((saving, service, base, level, blocks))
    # The largest savings first, or the builders as bases first (a worker and a beat both
    # like the web app rather than one like the other): whichever saves more.
    picks = [_pick(sorted(offers, key=key)) for key in (lambda o: (-o[0], o[1], o[2]), lambda o: (runs[o[2]] != o[2], -o[0], o[1], o[2]))]
    for _, service, base, level, blocks in max(picks, key=lambda chosen: sum(o[0] for o in chosen)):
        layers.extends[service] = base
        layers.levels[service], layers.blocks[service] = level, blocks


def _pick(offers: list[Offer]) -> list[Offer]:
    """Offers in order, each unless its service or base is already taken (one level deep)."""
    chosen: list[Offer] = []
    for offer in offers:
        _, service, base, _, _ = offer
        if any(service in (s, b) or base == s for _, s, b, _, _ in chosen):
            continue
        chosen.append(offer)
    return chosen


def _spellings(level: dict[str, Any]) -> set[str]:
    """The settings of a level one by one (an ``environment`` entry each), to see what two share."""
    out = set()
    for key, value in level.items():
        if isinstance(value, dict) and key == "environment":
            out |= {json.dumps([key, k, v]) for k, v in value.items()}
        elif value is not None and key not in ("enabled", "compose"):
            out.add(json.dumps([key, value], sort_keys=True))
    return out


def drop_inherited(layers: Layers) -> None:
    """Take out of each extending service's level what it inherits unchanged: a root block
    lifted into both levels (``lift_root_blocks``) writes it twice. Kept where the service
    would resolve otherwise anywhere."""
    for service, base in sorted(layers.extends.items()):
        want = {env: layers.resolve(service, env) for env in layers.present[service]}
        level = layers.levels[service]
        layers.levels[service] = _without(level, inherited(layers.levels[base]))
        if any(layers.resolve(service, env) != want[env] for env in want):
            layers.levels[service] = level


def _without(level: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in level.items():
        under = given.get(key, MISSING)
        if value == under:
            continue
        if isinstance(value, dict) and isinstance(under, dict) and key not in WHOLE and not replaces_whole(key, under, value):
            value = _without(value, under)
            if not value:
                continue
        out[key] = value
    return out
