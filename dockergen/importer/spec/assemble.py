"""Assemble the spec: environments, services (factored settings + build), top-level blocks.

Built-in policies that would change behaviour (restart policies, resource limits, dropped
capabilities, source bind mounts, data volumes, preset healthchecks) are switched off in
the spec's ``defaults`` (a lone environment's) so that every environment resolves to what its files say. Log
rotation is the one preset kept where an environment of kind staging/prod had none: it
changes nothing but how much disk the logs may take.
"""

from __future__ import annotations

import copy
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from dockergen import presets
from dockergen.command_probes import probe_for
from dockergen.features import FEATURES, supported, version_tuple
from dockergen.importer.environments.infer import is_default, label
from dockergen.importer.group.builds import BuildPlan
from dockergen.importer.group.stages import MergedBuild
from dockergen.importer.read.compose import Merged, dockerfile_path
from dockergen.importer.read.dockerfile import ParsedDockerfile
from dockergen.importer.factor.extends import drop_inherited, extend
from dockergen.importer.factor.hoist import SKIP, Layers, hoist, lift_root_blocks
from dockergen.importer.factor.layers import diff, factor, inert, layering, resolved
from dockergen.importer.group.services import Grouping, sanitize
from dockergen.importer.read.ignorefile import newly_excluded
from dockergen.importer.plan import EnvPlan
from dockergen.importer.records import BAKED, CARRIED, KEPT, UNIFIED, Decision
from dockergen.importer.spec.text import service_lines, spec_lines
from dockergen.importer.factor.settings import DOCKER_HEALTHCHECK_DEFAULTS, convert
from dockergen.resolve import builtin_layer, merge, project_name
from dockergen.sensitive import looks_secret
from dockergen.spec.model import EXTENSION_KEY, Build, BuildOptions, Engines

DEFAULT_SYNTAX = "docker/dockerfile:1"  # what the generic template writes when a spec names none
KEPT_PRESETS = {"staging": frozenset({"logging"}), "prod": frozenset({"logging"})}
NEUTRAL = {"source_mount": False, "debug_port": False}  # readable "off" for booleans that render nothing
# What a service says that is no setting for `defaults`: what it builds or is, its names (one
# image or container for several services is no rule), and what hoist never moves.
BUILT_ONLY = frozenset({"build", "uses", "extends", "description", "environments", "image", "container_name", "hostname"}) | SKIP
# Policies that render nothing for the builds import writes (generic `steps`): the debugger
# port is the python template's. Not switched off, as there is nothing to switch.
INERT = frozenset({"debug_port"})
# What the renderer gives a probe for each timing it sets none of (``resolve``'s rule): the
# layer under every other, so that only the timings that differ from it are written.
RENDERER_TIMING = {"healthcheck": {key: presets.HEALTHCHECK_TIMING[key] for key in DOCKER_HEALTHCHECK_DEFAULTS}}


@dataclass
class SpecResult:
    spec: dict[str, Any]
    targets: dict[tuple[str, str], dict[str, Any]]  # (env, canonical) -> settings it must resolve to
    decisions: list[Decision] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    comments: dict[tuple, tuple[str, ...]] = field(default_factory=dict)  # spec path -> comment lines above it


def _chain(parent_of: dict[str, str | None], name: str) -> tuple[str, ...]:
    chain = [name]
    while parent_of.get(chain[-1]) and parent_of[chain[-1]] not in chain:
        chain.append(parent_of[chain[-1]])  # type: ignore[arg-type]
    return tuple(reversed(chain))


def build_spec(
    project: str,
    envs: list[EnvPlan],
    effective: dict[str, Merged],
    grouping: Grouping,
    builds: BuildPlan,
    parsed: dict[str, ParsedDockerfile],
    ignore: dict[str, list[str]],
    variables: dict[str, dict[str, Any]],
    carried: dict[tuple[str, str], str] | None = None,
    left_out: dict[tuple[str, str], str] | None = None,
) -> SpecResult:
    """``carried``/``left_out``: (service or "*", Compose key) -> why that key goes to the escape
    hatch / is left out (what an earlier attempt's spec could not render)."""
    carried, left_out = carried or {}, left_out or {}
    by_name = {e.name: e for e in envs}
    result = SpecResult({}, {})
    targets: dict[str, dict[str, dict[str, Any] | None]] = {c: {e.name: None for e in envs} for c in grouping.order}
    originals: dict[str, dict[str, list[str]]] = {}
    named_volumes: set[str] = set()
    built = set(builds.merged) | set(builds.uses)
    fallback_target: dict[str, str] = {c: m.stages[-1]["name"] for c, m in builds.merged.items()}
    building: set[tuple[str, str]] = set()  # (service, environment) where the original builds
    for env in envs:
        merged = effective[env.name]
        built_here = {grouping.canonical[(env.name, o)] for o, s in merged.services.items() if s.get("build") is not None}
        building.update((service, env.name) for service in built_here)
        for original, service in merged.services.items():
            canonical = grouping.canonical[(env.name, original)]
            if (canonical, "*") in left_out:
                continue
            originals.setdefault(canonical, {}).setdefault(original, []).append(env.name)

            def rename(other: str, env_name: str = env.name) -> str:
                return grouping.canonical.get((env_name, other), other)

            dropped = frozenset(k for s, k in left_out if s in ("*", canonical))
            try:
                target, passthrough = (None, None) if "build" in dropped else _build_choice(canonical, service, builds, parsed, fallback_target)
                conversion = convert(
                    service,
                    rename=rename,
                    alias=original if original != canonical else None,
                    target=target,
                    build_passthrough=passthrough,
                    verbatim=frozenset(k for s, k in carried if s in ("*", canonical)),
                    left_out=dropped,
                    watched=env.kind == "dev" and target is not None,
                )
            except Exception as exc:  # noqa: BLE001 - one odd service must not stop the import
                result.notes.append(f"{env.name}: {original}: not imported ({type(exc).__name__}: {exc})")
                continue
            settings = dict(conversion.settings)
            if canonical in builds.uses and "healthcheck" not in service and probe_for(service.get("entrypoint"), service.get("command")):
                settings["healthcheck"] = {"disable": True}  # no probe, as before (dockergen would add its command's preset)
            hatched = (settings.get("compose") or {}).get("healthcheck")
            if canonical in builds.uses and isinstance(hatched, dict) and "disable" not in hatched:
                # A `uses` service renders `disable: true` (not its builder's probe); the
                # escape hatch is merged over that, so it must switch it back on.
                settings["compose"] = {**settings["compose"], "healthcheck": {"disable": False, **hatched}}
            if service.get("build") is not None and "image" not in settings:
                settings["image"] = f"{env.project}-{original}"
            if service.get("build") is None and canonical in built and builds.uses.get(canonical, canonical) not in built_here:
                # Built in another environment; here the original runs the published image
                # (the target the others build, so that it stays where they set it).
                settings["prebuilt"] = True
                if target is not None:
                    settings.setdefault("target", target)
            targets[canonical][env.name] = settings
            named_volumes.update(conversion.named_volumes)
            for note in conversion.notes:
                result.notes.append(f"{env.name}: {original}: {note}")
    for service, _ in left_out:
        if all(t is None for t in targets.get(service, {}).values()):
            targets.pop(service, None)
    _short_depends_on(targets)
    compose_named = _compose_names(targets, builds, by_name)
    parent_of = layering([e.name for e in envs], {e.name: e.parent for e in envs}, targets)
    chains = {e.name: _chain(parent_of, e.name) for e in envs}

    below_by: dict[tuple[str, str], dict[str, Any]] = {}
    preset_keys: set[str] = set()
    for service, per_env in targets.items():
        for env in envs:
            layer = builtin_layer(env.kind, service in built, [per_env[env.name] or {}], uses=service in builds.uses)
            below_by[(service, env.name)] = merge(RENDERER_TIMING, _default_target(layer, builds.merged.get(builds.uses.get(service, service))))
            preset_keys |= set(layer) - {"target"}
    kept = set().union(*KEPT_PRESETS.values())
    defaults = {key: NEUTRAL.get(key) for key in sorted(preset_keys - kept - INERT)}
    if defaults:
        # Said in the report, not in a comment of the spec's own: null/false is the spec's word for "off".
        result.decisions.append(Decision(KEPT, "defaults: built-in policies switched off", f"{', '.join(defaults)}: so that "
                                         "every environment stays as its files say (delete one from `defaults` to adopt it)"))  # fmt: skip
    probes = any(((s or {}).get("healthcheck") or {}).get("test") for per_env in targets.values() for s in per_env.values())
    # Before Docker's default start_interval is written into probes (that is not a feature used).
    needed = _engines_needed([t for per_env in targets.values() for t in per_env.values() if t])
    if "healthcheck" in defaults and not probes:
        defaults["healthcheck"] = {"test": None}  # no preset probe; timings without one render nothing
    elif "healthcheck" in defaults or probes:
        # No preset probe, and Docker's own timings under every service's (those the renderer's
        # differ in): each then says only what differs.
        own_interval = any("start_interval" in (s or {}).get("healthcheck", {}) for per_env in targets.values() for s in per_env.values())
        # Where the spec's engines know start_interval for another reason, the renderer would add its own 1s.
        renders = bool(needed) and supported("start_interval", Engines(**{e: v for e, (v, _) in needed.items()}))
        docker = {k: v for k, v in DOCKER_HEALTHCHECK_DEFAULTS.items() if RENDERER_TIMING["healthcheck"][k] != v}
        defaults["healthcheck"] = {"test": None, **docker, **({"start_interval": "5s"} if own_interval or renders else {})}
        for settings in (s for per_env in targets.values() for s in per_env.values() if (own_interval or renders) and s):
            if (settings.get("healthcheck") or {}).get("test") is not None:
                # Docker's default, like the other timings: a probe without one must not differ from the defaults
                settings["healthcheck"].setdefault("start_interval", "5s")
    spec_services: dict[str, Any] = {}
    keeps: dict[str, dict[str, frozenset[str]]] = {}
    levels: dict[str, dict[str, Any]] = {}
    all_blocks: dict[str, dict[str, dict[str, Any]]] = {}
    ignored_contexts: set[str] = set()  # the renderer unites a context's patterns: write them once
    for service in sorted(builds.merged):
        _build_block(builds.merged[service], ignore, ignored_contexts, claim=service)
    # A `uses` service that builds renders its builder's `build` block: only what it builds with too is lifted there.
    lifted = {service: _lift_build_options(per_env, [targets.get(user, {}).get(env) for user, builder in builds.uses.items()
                                                     if builder == service for env in {e for u, e in building if u == user}])
              for service, per_env in targets.items() if service in builds.merged}  # fmt: skip
    for service, builder in builds.uses.items():
        _drop_lifted(targets.get(service, {}), lifted.get(builder) or {})
    for service in (s for s in targets if s in builds.merged or s in builds.uses):
        _layered_build_options(targets[service])
    for service, per_env in targets.items():
        below = {env.name: merge(below_by[(service, env.name)], defaults) for env in envs}
        for env in envs:
            settings = per_env[env.name]
            if settings is not None and settings.get("healthcheck") == {"disable": True}:
                # Renders `disable: true` alone: the timings under it need no nulls.
                settings["healthcheck"] = merge({"h": below[env.name].get("healthcheck") or {}}, {"h": {"disable": True}})["h"]
        keep = {env.name: KEPT_PRESETS.get(env.kind, frozenset()) | frozenset(NEUTRAL) for env in envs}
        level, blocks = factor(per_env, chains, below, keep, service_lines)
        keeps[service] = keep
        # Names it had in other environments are not written here: each stays a network alias
        # there, and the report lists them (a `description` would become its image's label).
        entry: dict[str, Any] = {}
        if service in builds.merged:
            entry["build"] = {**_build_block(builds.merged[service], ignore, ignored_contexts), **lifted[service]}
            result.comments.update(build_comments(builds.merged[service], ("services", service, "build")))
            keep_in = _reincluded(builds.merged[service], parsed, ignore)
            if keep_in:
                entry["build"]["ignore"] = [*entry["build"].get("ignore", []), *keep_in]
                result.decisions.append(Decision(KEPT, f"{service}: .dockerignore", "dockergen's default patterns would leave "
                                                 f"{', '.join(p[1:] for p in keep_in)} out of the build context, which a COPY "
                                                 "needs: re-included with `!` patterns", service=service))  # fmt: skip
        elif service in builds.uses:
            entry["uses"] = builds.uses[service]
        spec_services[service] = entry
        levels[service], all_blocks[service] = level, blocks
        for env in envs:
            want = per_env[env.name]
            if want is None:
                continue
            result.targets[(env.name, service)] = want
            got = resolved(level, blocks, chains[env.name], below[env.name])
            extra = {k: v for k, v in got.items() if k not in want and k not in keep[env.name] and k != "enabled" and not inert(k, v)}
            if {k: got.get(k) for k in want} != want or extra:
                result.notes.append(f"{env.name}: {service}: the factored layers do not resolve to the original (import bug)")
    shared = Layers(defaults, {}, levels, all_blocks, below_by, chains,
                    {s: {e for e, want in per_env.items() if want is not None} for s, per_env in targets.items()},
                    projects={e.name: e.project for e in envs})  # fmt: skip
    hoist(shared)
    extend(shared, targets, keeps, {s: builds.uses.get(s, s) if s in built else _stock_image(targets[s]) for s in spec_services})
    lift_root_blocks(shared, service_lines)
    drop_inherited(shared)
    for service, base in sorted(shared.extends.items()):
        spec_services[service]["extends"] = base
        result.decisions.append(Decision(UNIFIED, f"{service}: extends {base}", f"the settings it shares with {base} are written "
                                         f"once, at {base} (`extends: {base}`); its own say what differs", service=service))  # fmt: skip
    for service, entry in spec_services.items():
        entry.update(levels[service])
        if all_blocks[service]:
            entry["environments"] = {env.name: all_blocks[service][env.name] for env in envs if env.name in all_blocks[service]}
    spec: dict[str, Any] = {"project": project}  # `version` is 1 where a spec leaves it out
    if compose_named:
        spec["image_names"] = "compose"
    if needed:
        spec["engines"] = {engine: version for engine, (version, _) in needed.items()}
        for engine, (version, why) in needed.items():
            result.notes.append(f"{why}: the spec targets {engine} {version}+ (`engines`)")
    if defaults:
        spec["defaults"] = defaults
    spec["environments"] = {}
    projects = _written_projects(envs, chains, project)
    env_files: dict[str, str | None] = {}
    for env in envs:
        parent = by_name.get(parent_of[env.name] or "")
        block: dict[str, Any] = {} if _named_for(env, parent) else {"description": env.description}
        if parent is not None:
            block["extends"] = parent.name
        # Each written where the spec would infer another: a standard name's, else the parent's, else its own default.
        standard = presets.STANDARD_ENVIRONMENTS.get(env.name, {})
        if env.kind != (standard.get("kind") or (parent.kind if parent else "prod")):
            block["kind"] = env.kind
        if env.engine != (standard.get("engine") or (parent.engine if parent else "docker")):
            block["engine"] = env.engine
        if env.name in projects:
            block["project"] = projects[env.name]
        # The .env its interpolation read (Compose's --env-file), where `extends` would not give it.
        inherited = env_files.get(parent.name) if parent is not None else None
        if (env.env_file or ".env") != (inherited or ".env"):
            block["env_file"] = env.env_file or ".env"
        env_files[env.name] = block.get("env_file", inherited)
        if env.name in shared.env_defaults:
            block["defaults"] = shared.env_defaults[env.name]
        spec["environments"][env.name] = block
    spec["services"] = spec_services
    for key in ("networks", "volumes", "secrets", "configs"):
        top, per_env = _top_level(envs, chains, effective, key)
        if top:
            spec[key] = top
        for env_name, block in per_env.items():
            spec["environments"][env_name][key] = block
    top, per_env = _extension_layers(envs, chains, effective)
    if top:
        spec["extensions"] = top
    for env_name, block in per_env.items():
        spec["environments"][env_name]["extensions"] = block
    if variables:
        spec["variables"] = variables
    _unname_last_stages(spec, builds)
    if len(envs) == 1:
        spec = _shortest_lone_form(spec, builds, envs[0].project)
    result.spec = spec
    result.decisions.extend(_decisions(envs, grouping, builds, spec, originals, targets, projects))
    for (service, key), why in sorted(carried.items()):
        result.decisions.append(Decision(CARRIED, f"{'every service' if service == '*' else service}: {key}",
                                         f"the spec's own field refused it ({why}): carried verbatim by the `compose:` escape hatch",
                                         service=None if service == "*" else service))  # fmt: skip
    for (service, key), why in sorted(left_out.items()):
        if key == "*":
            result.notes.append(f"{service} left out: {why} (Compose refuses the original too); --verify lists it")
            continue
        result.notes.append(f"{'every service' if service == '*' else service}: {key} left out: the escape hatch refused it too "
                            f"({why}); --verify lists what that changes")  # fmt: skip
    return result


# On a tie the first: the spec as assembled, then both rules moved (as before one could move alone), then one.
LONE_FOLDS = ((), ("image_names", "defaults"), ("image_names",), ("defaults",))


def _shortest_lone_form(spec: dict[str, Any], builds: BuildPlan, project: str) -> dict[str, Any]:
    """The shortest of the forms a spec of one environment (whose Compose project is
    ``project``) may take that mean the same: its rules at the top or on the environment's
    line (``into_lone_environment``), each or both, with the built services' names as they
    are or by ``image_names: compose`` (``_compose_named``), with what every built service
    says alike said once or not (``_built_defaults``); the first of the shortest, so the
    spec stays as assembled where no form is shorter."""
    named = [form for form in (spec, _compose_named(spec, builds, project)) if form is not None]
    forms = [*named, *(form for form in map(_built_defaults, named) if form is not None)]
    candidates = []
    for form in forms:
        for keys in LONE_FOLDS:
            if all(key in form for key in keys):
                compact = copy.deepcopy(form)
                into_lone_environment(compact, keys)
                candidates.append(compact)
    return min(candidates, key=spec_lines)


def _compose_named(spec: dict[str, Any], builds: BuildPlan, project: str) -> dict[str, Any] | None:
    """A one-environment spec with ``image_names: compose`` instead of the ``image`` of each
    built service that Compose's rule names so (``<project>-<service>``), where
    ``_compose_names`` found too few for the rule's line: on the environment's line it may
    cost none. Not a ``uses`` service (it runs its builder's name under the rule), nor one
    another service extends or where ``defaults`` name images (either would then give its
    name instead of the rule)."""
    (block,) = spec["environments"].values()
    if "image_names" in spec or "image_names" in block:
        return None
    if "image" in (spec.get("defaults") or {}) or "image" in (block.get("defaults") or {}):
        return None
    services = spec["services"]
    extended = {entry.get("extends") for entry in services.values()}
    named = [service for service in builds.merged if service not in builds.uses and service not in extended
             and services.get(service, {}).get("image") == f"{project}-{service}"
             and not any("image" in (b or {}) for b in (services[service].get("environments") or {}).values())]  # fmt: skip
    if not named:
        return None
    form = copy.deepcopy(spec)
    for service in named:
        del form["services"][service]["image"]
    return {"project": form.pop("project"), "image_names": "compose", **form}


def _built_defaults(spec: dict[str, Any]) -> dict[str, Any] | None:
    """A one-environment spec whose built services (those that build or ``uses`` one) say
    what they all say alike once, in the environment's ``defaults`` with ``scope: built``
    (``env_file: [.env.app]`` for the app and its worker, never for the database): it lies
    right under each service's own settings, over the spec's ``defaults``, as the value did.
    Not where the environment has defaults already, nor where a service extends another
    (the level it inherits would lie over the value, or lose it), and only for two built
    services or more."""
    (block,) = spec["environments"].values()
    services = spec["services"]
    built = [entry for entry in services.values() if "build" in entry or "uses" in entry]
    if "defaults" in block or len(built) < 2 or any("extends" in entry for entry in services.values()):
        return None
    first, *others = built
    shared = {key: value for key, value in first.items() if key not in BUILT_ONLY and value is not None
              and all(key in other and other[key] == value for other in others)}  # fmt: skip
    if not shared:
        return None
    form = copy.deepcopy(spec)
    for entry in form["services"].values():
        if "build" in entry or "uses" in entry:
            for key in shared:
                del entry[key]
    (block,) = form["environments"].values()
    block["defaults"] = {"scope": "built", **copy.deepcopy(shared)}
    return form


def into_lone_environment(spec: dict[str, Any], keys: tuple[str, ...] = ("image_names", "defaults")) -> None:
    """A spec of one environment says its ``image_names`` and its policy switches
    (``defaults``), those of ``keys``, in that environment, on the line that declares it,
    not on lines of their own (written so where that is shorter): nothing is above the
    spec's layer or below the environment's, so they mean the same there. Not where both
    ``defaults`` set one key: a ``null`` of the spec's removes a built-in value which the
    environment's mapping, alone, would merge into."""
    (block,) = spec["environments"].values()
    if "image_names" in spec and "image_names" in keys:
        block["image_names"] = spec.pop("image_names")
    own = block.get("defaults") or {}
    same_scope = own.get("scope", "all") == spec.get("defaults", {}).get("scope", "all")
    if spec.get("defaults") and "defaults" in keys and same_scope and not set(own) & set(spec["defaults"]):
        block["defaults"] = {**spec.pop("defaults"), **own}


def _named_for(env: EnvPlan, parent: EnvPlan | None) -> bool:
    """Whether the environment's name and its ``extends`` already say the ``-f`` set it was,
    so that a ``was:`` description would only repeat them (the report lists every set): its
    parent's files and one file of the project's root named for it (``compose.<name>.yaml``;
    an add-on ``compose.<x>.yaml`` on its parent ``p``: ``p-<x>``), or, with no parent, that
    one file alone, or the default Compose file alone for ``dev`` (a bare ``docker compose
    up``). A ``-p`` or another ``.env`` is said by the description too."""
    if env.project_flag or env.env_file or not env.files:
        return False
    head = parent.files if parent is not None else ()
    own = env.files[len(head) :]
    if env.files[: len(head)] != head or len(own) != 1 or posixpath.dirname(own[0]):
        return False
    name = label(own[0])
    if parent is not None:
        return env.name in (name, f"{parent.name}-{name}")
    return env.name == (name or ("dev" if is_default(own[0]) else None))


def _default_target(layer: dict[str, Any], merged: MergedBuild | None) -> dict[str, Any]:
    """The built-in layer with the stage an environment builds when the spec names none: the
    one named after its kind if the Dockerfile has it, else the last (``resolve``'s rule for a
    generic build); so a ``target`` is written only where it picks another."""
    if merged is None or "target" not in layer:
        return layer
    names = [stage["name"] for stage in merged.stages]
    return layer if layer["target"] in names else {**layer, "target": names[-1]}


def _compose_names(targets: dict[str, dict[str, dict[str, Any] | None]], builds: BuildPlan, envs: dict[str, EnvPlan]) -> bool:
    """Whether the spec says ``image_names: compose``: then a built service named as Compose
    names an image built without ``image:`` (``<project>-<service>``) needs no ``image``;
    said where two services or more need none (one `image` line is as short as the rule).
    A ``uses`` service runs its builder's image under the rule, so it keeps its own name."""
    named = [(service, env) for service in builds.merged if service not in builds.uses for env, settings in targets.get(service, {}).items()
             if settings is not None and settings.get("image") == f"{envs[env].project}-{service}"]  # fmt: skip
    if len({service for service, _ in named}) < 2:
        return False
    for service, env in named:
        del targets[service][env]["image"]  # type: ignore[index]
    return True


def _unname_last_stages(spec: dict[str, Any], builds: BuildPlan) -> None:
    """A one-variant Dockerfile's unnamed last stage stays unnamed (``FROM x``, not ``FROM x
    AS default``) where no ``target`` names it, its own or that of another service's build
    of it through the escape hatch: every environment then builds it as the last."""
    layers = [spec.get("defaults") or {}, *((e.get("defaults") or {}) for e in spec["environments"].values())]
    for entry in spec["services"].values():
        layers += [entry, *(entry.get("environments") or {}).values()]
    named = {layer.get("target") for layer in layers}
    named |= {((layer.get("compose") or {}).get("build") or {}).get("target") for layer in layers}
    for service, merged in builds.merged.items():
        last = merged.stages[-1]
        steps = spec["services"][service]["build"]["steps"]
        platform = f"--platform={last['platform']} " if last.get("platform") else ""
        written = f"FROM {platform}{last['from']} AS {last['name']}"
        if last.get("unnamed") and last["name"] not in named and written in steps:
            steps[len(steps) - 1 - steps[::-1].index(written)] = written.rsplit(" AS ", 1)[0]


def _short_depends_on(targets: dict[str, dict[str, dict[str, Any] | None]]) -> None:
    """``depends_on: [db]`` where every condition is the one the renderer gives anyway:
    ``service_healthy`` for a dependency with a healthcheck there, else ``service_started``."""
    for per_env in targets.values():
        for env, settings in per_env.items():
            deps = (settings or {}).get("depends_on")
            if not isinstance(deps, dict):
                continue
            implied = {}
            for name in deps:
                hc = (targets.get(name, {}).get(env) or {}).get("healthcheck") or {}
                healthy = not hc.get("disable") and bool(hc.get("test") or hc.get("http"))
                implied[name] = {"condition": "service_healthy" if healthy else "service_started"}
            if deps == implied:
                settings["depends_on"] = sorted(deps)  # type: ignore[index]  # (their order means nothing)


def _why_carried(service: str, present: dict[str, dict[str, Any]], builds: BuildPlan) -> str:
    """Why a service's ``compose:`` keys have no spec field, said for the ``build`` cases."""
    hatched = {env: (t.get("compose") or {}).get("build") for env, t in present.items()}
    build_keys = {k for b in hatched.values() if isinstance(b, dict) for k in b}
    if service in builds.fallback:
        return "its build stays Compose's own (its Dockerfiles are kept as they are: why is said above)"
    named = {env: b for env, b in hatched.items() if isinstance(b, dict) and {"context", "dockerfile"} & set(b)}
    if named:
        own = builds.merged[service].dockerfile if service in builds.merged else None
        files = {posixpath.normpath(posixpath.join(b.get("context") or ".", b.get("dockerfile") or "Dockerfile")) for b in named.values()}
        if files == {own}:
            return "its `target` names no stage of its Dockerfile (the original build fails the same way): kept as written"
        return (f"in {', '.join(sorted(named))} it builds a stage of a Dockerfile the spec renders for another service, elsewhere "
                "its own: a service has one `build` (or `uses`), so those environments name that file and stage")  # fmt: skip
    why = []
    shared = sorted(build_keys & {"secrets", "additional_contexts"})
    if shared and service in builds.uses.values():
        why.append(f"build.{', build.'.join(shared)} of the `build` block reach every service that `uses` it too, and those build without them")
    secret_like = sorted({n for b in hatched.values() if isinstance(b, dict) for n in b.get("args") or () if looks_secret(n)})
    if secret_like:
        why.append(f"`build_args` refuses {', '.join(secret_like)} as a secret's name (a secret belongs in `build.secrets`), "
                   "so the build's args stay as written")  # fmt: skip
    if "labels" in build_keys:
        why.append("Compose's build.labels have no field in a generic build (its `LABEL` steps are the Dockerfile's own)")
    return "; ".join(why) or "no spec field holds these (exactly)"


def _dotted(key: str, value: Any) -> str:
    if isinstance(value, dict) and key == "build":
        return ", ".join(f"build.{k}" for k in sorted(value))
    return key


def _engines_needed(settings: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """engine -> (the lowest version that renders every feature the services use, which feature):
    only engines that know a feature get it from the renderer (features.py)."""
    used = {
        "start_interval": ("a healthcheck sets start_interval", any("start_interval" in (s.get("healthcheck") or {}) for s in settings)),
        "develop_watch": ("a service is watched (develop.watch)", any(s.get("watch") for s in settings)),
        "env_file_required": ("an env_file is optional (required: false)",
                              any(isinstance(f, dict) and f.get("required") is False for s in settings for f in s.get("env_file") or [])),
    }  # fmt: skip
    out: dict[str, tuple[str, str]] = {}
    for feature, (why, needed) in used.items():
        for engine, minimum in FEATURES[feature].items() if needed else ():
            if minimum is not None and (engine not in out or version_tuple(minimum) > version_tuple(out[engine][0])):
                out[engine] = (minimum, why)
    return out


def _build_choice(
    canonical: str,
    service: dict[str, Any],
    builds: BuildPlan,
    parsed: dict[str, ParsedDockerfile],
    fallback_target: dict[str, str],
) -> tuple[str | None, dict[str, Any] | None]:
    """(target stage, build keys to carry verbatim) for one service in one environment."""
    own = fallback_target.get(canonical)
    build = service.get("build")
    if build is None:
        return own, None
    dockerfile = dockerfile_path(build)
    owner = builds.owner.get(dockerfile)
    merged = builds.merged.get(owner) if owner else None
    stage = merged.target_for(dockerfile, parsed[dockerfile], build.get("target")) if merged and dockerfile in parsed else None
    if merged is not None and stage is not None:
        if owner == canonical or builds.uses.get(canonical) == owner:
            return stage, None
        context = merged.context
        relative = posixpath.relpath(merged.dockerfile, posixpath.normpath(context))
        return own, {"context": context, "dockerfile": relative, "target": stage}
    carried = {k: v for k, v in build.items() if k != "args"}
    if build.get("args"):
        carried["args"] = build["args"]
    return own, carried


LIFTED_BUILD_KEYS = (*BuildOptions.model_fields, "secrets", "additional_contexts")


def _lift_build_options(per_env: dict[str, dict[str, Any] | None], users: list[dict[str, Any] | None]) -> dict[str, Any]:
    """Compose ``build`` options the spec's ``build`` block holds (the same in every environment
    that builds it, and in the builds of the services that ``uses`` it), moved out of the
    builder's ``compose:`` hatch."""
    hatches = [_options_view((s.get("compose") or {}).get("build") or {}) for s in [*per_env.values(), *users] if s is not None and not s.get("prebuilt")]
    out: dict[str, Any] = {}
    for key in LIFTED_BUILD_KEYS:
        values = [h.get(key) for h in hatches]
        value = values[0] if values and all(v is not None and v == values[0] for v in values) else None
        if value is None:
            continue
        if key == "secrets" and isinstance(value, list):
            value = [e["source"] if isinstance(e, dict) and set(e) == {"source"} else e for e in value]
        try:
            Build.model_validate({"steps": ["FROM scratch"], key: value})  # the field's own rules decide
        except ValidationError:
            continue
        out[key] = value
        for settings in (s for s in per_env.values() if s is not None and not s.get("prebuilt")):
            _out_of_hatch(settings, key)
    return out


def _layered_build_options(per_env: dict[str, dict[str, Any] | None]) -> None:
    """The Compose ``build`` options left in a service's hatch where it renders a build of
    its own (its builder's block, plus these): each environment's ``build_options``, which
    ``factor`` then hoists where they agree. Not from a build the hatch carries whole (a
    stage borrowed from another service's Dockerfile): its ``context`` is not the spec's."""
    for settings in (s for s in per_env.values() if s is not None and not s.get("prebuilt")):
        build = (settings.get("compose") or {}).get("build")
        if not isinstance(build, dict) or {"context", "dockerfile", "dockerfile_inline"} & set(build):
            continue
        view = _options_view(build)
        for key in [k for k in view if k in BuildOptions.model_fields]:
            try:
                BuildOptions.model_validate({key: view[key]})  # the field's own rules decide
            except ValidationError:
                continue
            settings.setdefault("build_options", {})[key] = _out_of_hatch(settings, key)


def _options_view(build: dict[str, Any]) -> dict[str, Any]:
    """A hatch's Compose ``build`` keyed as ``BuildOptions`` is: its ``x-`` fields together, as ``extensions``."""
    view = {k: v for k, v in build.items() if not re.fullmatch(EXTENSION_KEY, str(k))}
    found = {k: v for k, v in build.items() if k not in view}
    return {**view, "extensions": found} if found else view


def _out_of_hatch(settings: dict[str, Any], key: str) -> Any:
    """Take ``key`` (of ``_options_view``) out of the layer's ``compose: {build: ...}``, dropping what it empties."""
    build = settings["compose"]["build"]
    if key == "extensions":
        value = _options_view(build)["extensions"]
        for name in value:
            del build[name]
    else:
        value = build.pop(key)
    if not build:
        del settings["compose"]["build"]
    if not settings["compose"]:
        del settings["compose"]
    return value


def _drop_lifted(per_env: dict[str, dict[str, Any] | None], lifted: dict[str, Any]) -> None:
    """A `uses` service that builds an image of its own renders its builder's ``build`` block:
    the options lifted there leave its escape hatch."""
    for settings in (s for s in per_env.values() if s is not None):
        build = (settings.get("compose") or {}).get("build")
        if not isinstance(build, dict):
            continue
        for key in [k for k, v in _options_view(build).items() if k in lifted and lifted[k] == v]:
            _out_of_hatch(settings, key)


def _build_block(merged: Any, ignore: dict[str, list[str]], done: set[str], claim: str | None = None) -> dict[str, Any]:
    """The generic ``build`` block, its Dockerfile as ``steps``; a context's ``.dockerignore``
    patterns go to the first service (by name) built there (``claim`` pass), since the renderer
    unites them per context."""
    context = merged.context[2:] if merged.context.startswith("./") else merged.context
    block: dict[str, Any] = {} if posixpath.normpath(context or ".") == "." else {"context": context}
    default_path = posixpath.normpath(posixpath.join(context or ".", "Dockerfile"))
    if merged.dockerfile != default_path:
        block["dockerfile"] = merged.dockerfile
    key = posixpath.normpath(context or ".")
    patterns = ignore.get(key)
    owner = f"{key}:{merged.service}"
    if claim is not None:
        if patterns and not any(d.startswith(f"{key}:") for d in done):
            done.add(owner)
        return block
    if patterns and owner in done:
        block["ignore"] = patterns
    directives = {k: v for k, v in merged.directives if k in ("syntax", "escape", "check")}
    if directives.get("syntax") == DEFAULT_SYNTAX:
        del directives["syntax"]
    if directives:
        block["directives"] = directives
    block["steps"] = [f"ARG {line}" for line in merged.global_args]
    for stage in merged.stages:
        platform = f"--platform={stage['platform']} " if stage.get("platform") else ""
        block["steps"] += [f"FROM {platform}{stage['from']} AS {stage['name']}", *stage["steps"]]
    return block


def build_comments(merged: Any, path: tuple) -> dict[tuple, tuple[str, ...]]:
    """The original Dockerfiles' comments, where they sat in ``steps``: above the first item (the
    file's header), above each stage's ``FROM``, above each step (spec paths -> comment lines)."""
    out: dict[tuple, tuple[str, ...]] = {}
    at = len(merged.global_args)
    for stage in merged.stages:
        out[(*path, "steps", at)] = tuple(stage.get("comments") or ())
        for j, lines in stage.get("step_comments", {}).items():
            out[(*path, "steps", at + 1 + j)] = lines
        at += 1 + len(stage["steps"])
    if merged.comments:
        first = (*path, "steps", 0)
        out[first] = (*merged.comments, *out.get(first, ()))
    return {where: lines for where, lines in out.items() if lines}


def _stock_image(per_env: dict[str, dict[str, Any] | None]) -> str | None:
    """What a service dockergen does not build runs, as ``extend`` groups services: the
    image(s) of its environments (three brokers of one image, a web app and its workers on
    ``$APP_IMAGE``); None without one. Spelled with a space, which no service name has."""
    images = sorted({json.dumps(t.get("image")) for t in per_env.values() if t and t.get("image") is not None})
    return f"image {' '.join(images)}" if images else None


def _reincluded(merged: Any, parsed: dict[str, ParsedDockerfile], ignore: dict[str, list[str]]) -> list[str]:
    """``!`` patterns for COPY sources that dockergen's default ``.dockerignore`` would exclude."""
    key = posixpath.normpath(merged.context[2:] if merged.context.startswith("./") else merged.context)
    new = [*presets.DOCKERIGNORE_COMMON, *presets.DOCKERIGNORE_BY_FAMILY["generic"], *ignore.get(key, [])]
    out: list[str] = []
    for path, context in sorted(merged.contexts.items()):
        old_key = posixpath.normpath(context[2:] if context.startswith("./") else context)
        for source in newly_excluded(parsed[path], context, tuple(ignore.get(old_key, [])), merged.context, new):
            if f"!{source}" not in out:
                out.append(f"!{source}")
    return out


def _top_level(
    envs: list[EnvPlan], chains: dict[str, tuple[str, ...]], effective: dict[str, Merged], key: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The top-level ``key`` (networks, volumes ...): each name's most common declaration at
    the spec's top level, and per environment what differs from it (over its parents')."""
    declared: dict[str, dict[str, dict[str, Any]]] = {}  # name -> env -> config
    for env in envs:
        for name, config in (effective[env.name].top.get(key) or {}).items():
            if not (name == "default" and not config):
                declared.setdefault(name, {})[env.name] = config
    if "default" in declared:  # an overlay's `networks: {default: {name: x}}`: the others keep Compose's own
        for env in envs:
            declared["default"].setdefault(env.name, {})
    top: dict[str, Any] = {}
    for name, by_env in declared.items():
        spellings = [json.dumps(c, sort_keys=True) for c in by_env.values()]
        top[name] = json.loads(max(spellings, key=lambda s: (spellings.count(s), -spellings.index(s))))
    blocks: dict[str, dict[str, Any]] = {}
    for env in envs:
        for name, want in sorted((n, c[env.name]) for n, c in declared.items() if env.name in c):
            below = merge({name: top[name]}, *(blocks.get(e, {}) for e in chains[env.name][:-1])).get(name) or {}
            change = diff(below, want)
            if change:
                blocks.setdefault(env.name, {})[name] = change
            elif not want and below:
                blocks.setdefault(env.name, {})[name] = {k: None for k in below}
    written = {k: (v or None) for k, v in top.items() if v or key != "volumes"}
    return written, blocks


def _extension_layers(
    envs: list[EnvPlan], chains: dict[str, tuple[str, ...]], effective: dict[str, Merged]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Each top-level ``x-`` field's most common value (where most environments have one) at
    the spec's top level, and per environment the value it has where that differs from what it
    inherits along ``extends`` (``null``: it has none), as ``Environment.extensions`` reads them."""
    spelled = {e.name: {k: json.dumps(v, sort_keys=True) for k, v in effective[e.name].extensions.items()} for e in envs}
    top: dict[str, str] = {}
    for key in sorted({k for values in spelled.values() for k in values}):
        values = [spelled[e.name].get(key) for e in envs]
        best = sorted(set(values), key=lambda v: (-values.count(v), v is None, values.index(v)))[0]
        if best is not None:
            top[key] = best
    blocks: dict[str, dict[str, str | None]] = {}
    for env in envs:
        inherited: dict[str, str | None] = dict(top)
        for parent in chains[env.name][:-1]:
            inherited.update(blocks.get(parent, {}))
        inherited = {k: v for k, v in inherited.items() if v is not None}
        own = spelled[env.name]
        for key in sorted(set(own) | set(inherited)):
            if own.get(key) != inherited.get(key):
                blocks.setdefault(env.name, {})[key] = own.get(key)
    loaded = {name: {k: None if v is None else json.loads(v) for k, v in block.items()} for name, block in blocks.items()}
    return {k: json.loads(v) for k, v in top.items()}, loaded


def _written_projects(envs: list[EnvPlan], chains: dict[str, tuple[str, ...]], project: str) -> dict[str, str]:
    """Environment -> the `project` its block must write: where the spec, as written so far
    (parents first), would name the Compose project otherwise (``resolve.project_name``)."""
    kinds = {e.name: e.kind for e in envs}
    written: dict[str, str] = {}
    for env in sorted(envs, key=lambda e: len(chains[e.name])):
        chain = [(name, kinds[name], written.get(name)) for name in chains[env.name][:-1]]
        if env.project != project_name(project, [*chain, (env.name, env.kind, None)]):
            written[env.name] = env.project
    return written


def _written_at(spec: dict[str, Any], service: str, keys: list[str]) -> list[str]:
    """Where the spec sets ``keys`` for ``service`` now that shared values moved down into
    ``defaults`` and environment defaults: the layers that hold any of them."""
    entry = spec["services"][service]
    layers = [
        (f"services.{service}.environments.<env>", list((entry.get("environments") or {}).values())),
        ("environments.<env>.defaults", [e.get("defaults") for e in spec["environments"].values()]),
        (f"services.{service}", [entry]),
        *([(f"services.{entry['extends']}", [spec["services"].get(entry["extends"])])] if entry.get("extends") else []),
        ("defaults", [spec.get("defaults")]),
    ]
    return [name for name, blocks in layers if any(key in (block or {}) for block in blocks for key in keys)]


def _decisions(
    envs: list[EnvPlan],
    grouping: Grouping,
    builds: BuildPlan,
    spec: dict[str, Any],
    originals: dict[str, dict[str, list[str]]],
    targets: dict[str, dict[str, dict[str, Any] | None]],
    written_projects: dict[str, str],
) -> list[Decision]:
    out: list[Decision] = []
    projects: dict[str, list[str]] = {}
    for env_name, name in written_projects.items():
        projects.setdefault(name, []).append(env_name)
    for name, names in projects.items():
        out.append(Decision(KEPT, f"project name {name}", f"kept in {', '.join(names)}: volumes, networks and containers keep "
                            "their names (`environments.<env>.project`)", envs=tuple(names)))  # fmt: skip
    for service, names in originals.items():
        renamed = {n: e for n, e in names.items() if n != service}
        if renamed:
            detail = ", ".join(f"{n} ({', '.join(e)})" for n, e in renamed.items())
            why = grouping.why.get(service) or (
                "a spec's service names are lowercase letters, digits, '-' or '_', starting with a letter"
                if any(sanitize(n) != n for n in renamed) else "the same service under an environment prefix/suffix"
            )  # fmt: skip
            out.append(Decision(UNIFIED, f"service name {service}", f"was {detail}: one name in every environment ({why}); "
                                "the old name stays a network alias, so URLs and hostnames keep resolving", service=service,
                                envs=tuple(sorted({x for e in renamed.values() for x in e}))))  # fmt: skip
    for service, merged in builds.merged.items():
        variants = sorted({path for (path, _) in merged.stage_map})
        distinct = len(merged.stages)
        total = len(merged.stage_map)
        if len(variants) == 1:
            out.append(Decision(CARRIED, f"{service}: {variants[0]}", f"carried as the `steps` of {merged.dockerfile} "
                                f"({distinct} stage{'s' if distinct != 1 else ''}); instructions verbatim",
                                service=service))  # fmt: skip
            continue
        out.append(Decision(CARRIED, f"{service}: {len(variants)} Dockerfiles -> {merged.dockerfile}",
                            f"{', '.join(variants)} become the targets of one generic Dockerfile ({distinct} stages"
                            f"{f'; {total - distinct} identical ones written once' if total > distinct else ''}): "
                            + ", ".join(f"{p} -> {merged.stage_map[(p, max(i for (q, i) in merged.stage_map if q == p))]}" for p in variants)
                            + "; instructions verbatim", service=service))  # fmt: skip
        for note in merged.notes:
            out.append(Decision(UNIFIED, f"{service}: build context", f"{note}; the context's .dockerignore now applies", service=service))
    for dockerfile in builds.unbuilt:
        out.append(Decision(KEPT, dockerfile, "no Compose file builds it: left as it is, outside the spec (no environment runs "
                            "it; a `docker build` of it by hand or in CI keeps working); a service of its own, its instructions "
                            "as `build.steps`, would have dockergen render it"))  # fmt: skip
    for dockerfile, service in builds.unreferenced.items():
        label = builds.labels.get(dockerfile)
        if service in builds.merged:
            stage = builds.merged[service].stage_map.get((dockerfile, max(i for (p, i) in builds.merged[service].stage_map if p == dockerfile)))
            out.append(Decision(CARRIED, f"{dockerfile}", f"built by no Compose file: kept as target `{stage}` of "
                                f"{builds.merged[service].dockerfile} (label {label})", service=service))  # fmt: skip
    for service, why in builds.fallback.items():
        out.append(Decision(CARRIED, f"{service}: Dockerfiles kept as they are", "; ".join(why) + " - the environments build the original files (compose `build:` carried verbatim)", service=service))
    for service, per_env in targets.items():
        present = {e: t for e, t in per_env.items() if t is not None}
        keys = sorted({k for t in present.values() for k in t} - {"enabled", "compose"})
        varying = []
        for key in keys:
            values = {json.dumps(t.get(key), sort_keys=True) for t in present.values()}
            if len(values) > 1:
                varying.append(f"{key} ({len(values)} values)")
        if varying and len(present) > 1:
            places = _written_at(spec, service, [v.split(" (")[0] for v in varying])
            out.append(Decision(KEPT, f"{service}: differences between environments", ", ".join(varying) + " - written in "
                                + (", ".join(f"`{p}`" for p in places) or "dockergen's settings for each environment's kind"),
                                service=service))  # fmt: skip
        carried = sorted({_dotted(k, v) for t in present.values() for k, v in (t.get("compose") or {}).items()})
        if carried:
            out.append(Decision(CARRIED, f"{service}: compose: {', '.join(carried)}", _why_carried(service, present, builds)
                                + ": merged verbatim into the Compose service through the `compose:` escape hatch", service=service))  # fmt: skip
    for env in envs:
        if env.kind in KEPT_PRESETS:
            out.append(Decision(BAKED, f"log rotation in {env.name}", "services without a `logging` setting get json-file "
                                f"{presets.BY_KIND[env.kind]['logging']['options']['max-size']} x "
                                f"{presets.BY_KIND[env.kind]['logging']['options']['max-file']} (kind {env.kind})", envs=(env.name,)))  # fmt: skip
    return out
