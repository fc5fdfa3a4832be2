"""What a bare ``docker compose up`` runs once the spec is rendered beside the originals.

Compose picks, in the folder it runs in, the first base file and the first override file of
its own orders (``BASES``, ``OVERRIDES``), whatever else is there. When the environment an
import found was exactly that pair, the spec names the environment's overlay Compose's
override file (``output.override``, and ``output.compose_file`` where the base keeps another
name), so that the rendered pair is what Compose picks: ``render --force`` replaces the
hand-written files in place (as it does every original it takes over), and no old override
is merged over the new base. Pure: the environments and the root's file names in, the
``output`` block and what the report says out.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dockergen.importer.plan import EnvPlan
from dockergen.resolve import override_name

# The order Compose prefers them in one folder (a bare `up` reads the first there is of each).
BASES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDES = ("compose.override.yml", "compose.override.yaml", "docker-compose.override.yml", "docker-compose.override.yaml")


@dataclass(frozen=True)
class BareUp:
    output: dict[str, Any]  # the spec's `output` keys (empty: the defaults do)
    note: str  # for the report's Review section


def bare_up(envs: Iterable[EnvPlan], root_files: Iterable[str]) -> BareUp | None:
    """None when a bare ``up`` at the root ran no environment."""
    at_root = {f for f in root_files if posixpath.dirname(f) == ""}
    base = next((f for f in BASES if f in at_root), None)
    override = next((f for f in OVERRIDES if f in at_root), None)
    if base is None:
        return None
    if override is None:
        # The base alone was one of several environments: rendered, it holds only what they
        # all share, so that environment's overlay becomes the override a bare `up` reads with
        # it. (The base of a spec of one environment holds all of it.)
        envs = list(envs)
        alone = next((e for e in envs if e.files == (base,)), None)
        if alone is None or len(envs) < 2 or override_name(base) is None:
            return None
        output = {**({"compose_file": base} if base != "compose.yaml" else {}), "override": alone.name}
        return BareUp(output, f"a bare `docker compose up` still runs {alone.name} (it ran {base}): `output: {_flow(output)}` "
                              f"renders its overlay as {override_name(base)}; `dockergen render --force` replaces {base}")  # fmt: skip
    env = next((e for e in envs if e.files == (base, override)), None)
    for candidate in dict.fromkeys((base, override.replace(".override.", "."))) if env is not None else ():  # the originals' stems
        rendered = override_name(candidate)
        # Each rendered file takes over the original of its name, or comes before it in Compose's order.
        if rendered is not None and BASES.index(candidate) <= BASES.index(base) and OVERRIDES.index(rendered) <= OVERRIDES.index(override):
            output = {**({"compose_file": candidate} if candidate != "compose.yaml" else {}), "override": env.name}
            kept = " and ".join(f for f in (base, override) if f not in (candidate, rendered))
            how = f"`dockergen render --force` replaces {base} and {override}" if not kept else (
                f"the spec renders {candidate} + {rendered}, which Compose reads before {kept}: delete {kept} after `dockergen render --force`")
            return BareUp(output, f"a bare `docker compose up` still runs {env.name} (it ran {base} + {override}): `output: {_flow(output)}` "
                                  f"renders its overlay as {rendered}; {how}")  # fmt: skip
    return BareUp({}, (
        f"{override} is not an overlay the spec renders: a bare `docker compose up` merges it over the rendered base; "
        f"move it away after `dockergen render --force`, and run environments with `dockergen compose <env>`"
    ))  # fmt: skip


def _flow(output: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in output.items()) + "}"
