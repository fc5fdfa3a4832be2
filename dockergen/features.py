"""Which engine versions support which output features.

A feature is used only when every engine the spec targets supports it; otherwise the
renderer emits an equivalent that all of them accept (or leaves the feature out when it
is only a refinement, like ``start_interval``).
"""

from __future__ import annotations

import functools

from dockergen.spec.model import Engines

# What we target when a spec declares no `engines`: current Docker and the podman/buildah
# of Debian stable.
DEFAULT_ENGINES = Engines(compose="2.20", docker="24.0", podman="4.3", buildah="1.28")

# feature -> engine -> minimum version, or None when that engine lacks it entirely.
FEATURES: dict[str, dict[str, str | None]] = {
    # `HEALTHCHECK --start-interval` / compose `healthcheck.start_interval`: Docker Engine 25;
    # buildah 1.28 rejects the flag and podman 4.3 has no such option.
    "start_interval": {"docker": "25.0", "compose": "2.20.2", "podman": None, "buildah": None},
    # `develop.watch` (`docker compose watch`) left its experimental `x-develop` form in 2.22.
    "develop_watch": {"compose": "2.22"},
    # `env_file: [{path, required: false}]`: Compose 2.24; older releases refuse the long form.
    "env_file_required": {"compose": "2.24"},
}


@functools.lru_cache(maxsize=256)
def version_tuple(text: str) -> tuple[int, ...]:
    """``"2.20.2"`` -> ``(2, 20, 2)``, to compare engine versions."""
    return tuple(int(part) for part in text.split("."))


@functools.lru_cache(maxsize=256)  # asked per healthcheck of every service x environment; Engines is frozen
def supported(feature: str, engines: Engines) -> bool:
    needs = FEATURES[feature]
    for engine, declared in engines.model_dump().items():
        if declared is None or engine not in needs:
            continue
        minimum = needs[engine]
        if minimum is None or version_tuple(declared) < version_tuple(minimum):
            return False
    return True


def effective_engines(declared: Engines) -> Engines:
    return declared if declared.model_fields_set else DEFAULT_ENGINES


def declaration_for(feature: str, engines: Engines) -> str:
    """The `engines:` block that keeps every engine ``engines`` targets and raises those too
    old for ``feature``: a spec that declares some engines drops the defaults of the others."""
    wanted = engines.model_dump()
    for engine, minimum in FEATURES[feature].items():
        if minimum is not None and (wanted[engine] is None or version_tuple(wanted[engine]) < version_tuple(minimum)):
            wanted[engine] = minimum
    return "engines: {" + ", ".join(f'{engine}: "{version}"' for engine, version in wanted.items() if version is not None) + "}"
