"""Which layer set each resolved value, and where in the spec (for ``dockergen explain``).

Replays the layers ``resolve`` merges, labelled, and keeps for every leaf of the result
the last layer that wrote it. A ``null`` removes what lower layers set, as in ``merge``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dockergen.errors import Location
from dockergen.resolve import EnvironmentInfo, Layer, builtin_layer, spec_layers
from dockergen.spec.load import SourceMap
from dockergen.spec.model import Spec

Path_ = tuple[str, ...]


@dataclass(frozen=True)
class Origin:
    layer: str  # e.g. "built-in (prod)", "defaults", "environments.prod.defaults", "services.api"
    location: Location | None


@dataclass(frozen=True)
class Traced:
    path: Path_
    value: Any
    origin: Origin


def labelled_layers(spec: Spec, env: EnvironmentInfo, name: str) -> list[Layer]:
    """All five layers, lowest first, as ``resolve`` merges them."""
    layers = spec_layers(spec, env, name)
    service = spec.services[name]
    built = service.uses is not None or service.build is not None
    builtin = builtin_layer(env.kind, built, [layer for _, _, layer in layers], uses=service.uses is not None)
    return [(f"built-in ({env.kind}{', built image' if built else ''})", None, builtin), *layers]


def trace(spec: Spec, source: SourceMap, env: EnvironmentInfo, name: str) -> list[Traced]:
    origins: dict[Path_, Traced] = {}
    for label, prefix, layer in labelled_layers(spec, env, name):
        for path, value in _leaves(layer, ()):
            for known in [p for p in origins if p[: len(path)] == path or path[: len(p)] == p]:
                del origins[known]  # replaced (or removed) as a whole
            if value is None:
                continue
            location = source.locate((*prefix, *path)) if prefix is not None and source.has((*prefix, *path)) else None
            origins[path] = Traced(path, value, Origin(label, location))
    return sorted(origins.values(), key=lambda t: t.path)


def _leaves(data: dict[str, Any], prefix: Path_) -> list[tuple[Path_, Any]]:
    out = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out += _leaves(value, (*prefix, key))
        else:
            out.append(((*prefix, key), value))
    return out
