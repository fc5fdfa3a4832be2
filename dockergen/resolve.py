"""Layer the spec into one fully resolved value per environment.

Layers, lowest first (each a plain dict, so the merge rule is one function):

1. built-in defaults (``presets``: per kind of environment, per known image)
2. the spec's ``defaults``
3. ``environments.<env>.defaults`` (the ``extends`` chain, parent first)
4. ``services.<svc>`` settings
5. ``services.<svc>.environments.<env>`` (the ``extends`` chain, parent first)

Merge rule (``merge``): mapping + mapping deep-merges, ``null`` removes the key, anything
else (lists included) replaces. Under ``networks`` and ``depends_on``, where Compose's
``name:`` is an entry with no options, a ``null`` with nothing below to remove is that entry. As in Compose, a ``logging`` that names another ``driver``
replaces the one below as a whole (the options of one driver mean nothing to another). The result is validated again and turned into plain
``ResolvedService`` values that the renderers read; nothing below this module looks at
layers.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deepmerge import Merger

from dockergen import durations, presets
from dockergen.command_probes import probe_for
from dockergen.errors import DockergenError, Problem
from dockergen.features import effective_engines, supported
from dockergen.spec import names
from dockergen.spec.load import SourceMap
from dockergen.spec.model import Build, BuildOptions, Defaults, Engines, Healthcheck, Service, ServiceSettings, Spec, WatchRule
from dockergen.unknown_names import suggestion
from dockergen.watch import watch_rules


# Settings whose mapping form takes ``name: null`` for an entry without options.
NULL_ENTRIES = frozenset({"networks", "depends_on"})


def _merge_mapping(merger: Merger, path: list, base: dict, nxt: dict) -> dict:
    out = dict(base)
    entries = len(path) == 1 and path[0] in NULL_ENTRIES
    for key, value in nxt.items():
        if value is None and entries and key not in out:
            out[key] = None
        elif value is None:
            out.pop(key, None)
        elif not path and replaces_whole(key, out.get(key), value):
            out[key] = _without_nulls(value)
        elif key in out:
            below = out[key]
            # Only two mappings merge; anything else is replaced, as the merger's "override" does.
            out[key] = merger.value_strategy(path + [key], below, value) if isinstance(below, dict) and isinstance(value, dict) else value
        elif not path and key in NULL_ENTRIES and isinstance(value, dict):
            out[key] = {k: _without_nulls(v) for k, v in value.items()}
        else:
            out[key] = _without_nulls(value)
    return out


def replaces_whole(key: str, below: Any, above: Any) -> bool:
    """Whether setting ``above`` over ``below`` replaces it instead of merging: a ``logging``
    naming another driver (one driver's options mean nothing to another)."""
    return (
        key == "logging" and isinstance(below, dict) and isinstance(above, dict)
        and above.get("driver") not in (None, below.get("driver"))
    )  # fmt: skip


def _without_nulls(value: Any) -> Any:
    """A mapping set where the layer below had none: its ``null``s have nothing to remove."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


_MERGER = Merger([(dict, [_merge_mapping])], ["override"], ["override"])


def merge(*layers: dict[str, Any]) -> dict[str, Any]:
    """Merge layers left to right by the rule in this module's docstring."""
    out: dict[str, Any] = {}
    for layer in layers:
        if layer:  # most of a service's layers are empty: merging one would only copy ``out``
            out = _MERGER.merge(out, layer)
    return out


def merge_over(document: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """``layer`` merged over a finished document by the same rule, the document's own ``null``s
    kept: in Compose, ``edge:`` under a service's ``networks`` is a network with no options."""
    return _MERGER.merge(dict(document), layer)


@dataclass(frozen=True)
class EnvironmentInfo:
    name: str
    kind: str
    engine: str
    flavour: str | None
    chain: tuple[str, ...]  # root ... self, along `extends`
    compose_file: str
    project: str  # Compose project name (``project_name``): every reader takes it from here
    registry: str | None = None  # prefix of built images without a registry
    image_names: str = "dockergen"  # the rule naming built images (``Spec.image_names``)
    env_file: str | None = None  # Compose's --env-file for this environment (relative to the spec)


@dataclass(frozen=True)
class ResolvedHealthcheck:
    """A healthcheck in Compose's terms; ``test`` is exec form (``CMD``/``CMD-SHELL``)."""

    test: tuple[str, ...] | None
    interval: str | None = None
    timeout: str | None = None
    start_period: str | None = None
    start_interval: str | None = None
    retries: int | str | None = None  # `${HC_RETRIES:-5}`: Compose interpolates it
    disable: bool = False
    note: str | None = None  # why dockergen chose this probe (or none) for a `uses` service
    http: tuple[int, str] | None = None  # (port, path) of a generated HTTP probe


@dataclass(frozen=True)
class ImagePlan:
    """One Dockerfile to render: a service's build in one flavour."""

    service: str
    flavour: str
    build: Build
    dockerfile: str  # relative to the spec's directory
    container_port: int | None
    healthcheck: ResolvedHealthcheck | None
    default_flavour: bool


@dataclass(frozen=True)
class ResolvedService:
    name: str
    settings: ServiceSettings
    image: str | None
    plan: ImagePlan | None  # the Dockerfile this service builds or reuses
    target: str | None
    healthcheck: ResolvedHealthcheck | None
    test_of: str | None = None  # a test runner split off the service of this name (``_test_runners``)
    watch: tuple[WatchRule, ...] = ()  # Compose `develop.watch` rules, in dev environments

    def build_options(self) -> dict[str, Any]:
        """The Compose ``build`` options this service builds with (``BuildOptions``, set ones
        only): its build block's, each replaced by the layers' ``build_options`` value."""
        if self.plan is None:
            return {}
        layered = self.settings.build_options
        out = {}
        for key in BuildOptions.model_fields:
            value = getattr(layered, key) if layered is not None and getattr(layered, key) is not None else getattr(self.plan.build, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class ResolvedEnvironment:
    info: EnvironmentInfo
    services: dict[str, ResolvedService]


@dataclass(frozen=True)
class ResolvedProject:
    spec: Spec
    engines: Engines
    environments: dict[str, ResolvedEnvironment]
    images: tuple[ImagePlan, ...]
    warnings: tuple[Problem, ...] = ()


def resolve(spec: Spec, source: SourceMap) -> ResolvedProject:
    """Resolve every environment of ``spec``; raise ``DockergenError`` with all problems."""
    problems: list[Problem] = []
    engines = effective_engines(spec.engines)
    envs = resolve_environments(spec, source)
    _check_references(spec, source, envs, problems)
    if problems:
        raise DockergenError(problems)
    plans: dict[tuple[str, str], ImagePlan] = {}
    resolved: dict[str, ResolvedEnvironment] = {}
    dump = DumpedOnce()
    for env in envs.values():
        services: dict[str, ResolvedService] = {}
        for name, service in spec.services.items():
            try:
                rs = _resolve_service(spec, engines, env, name, service, plans, source, dump)
            except DockergenError as exc:
                problems.extend(exc.problems)
                continue
            if rs is not None:
                services[name] = rs
        if env.kind == "test":
            try:
                services = _test_runners(spec, env, services, source, dump)
            except DockergenError as exc:
                problems.extend(exc.problems)
        resolved[env.name] = ResolvedEnvironment(env, services)
    _check_dependencies(resolved, spec, source, problems)
    if problems:
        raise DockergenError(_dedupe(problems))
    images = tuple(sorted(plans.values(), key=lambda p: (p.dockerfile, p.service)))
    return ResolvedProject(spec, engines, resolved, images)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: dict[str, Problem] = {}
    for problem in problems:
        seen.setdefault(problem.render(), problem)
    return list(seen.values())


def resolve_environments(spec: Spec, source: SourceMap) -> dict[str, EnvironmentInfo]:
    declared = (
        {name: env.model_dump(exclude_unset=True) for name, env in spec.environments.items()}
        if spec.environments is not None
        else presets.STANDARD_ENVIRONMENTS
    )
    override = _override_file(spec, source, declared)
    out: dict[str, EnvironmentInfo] = {}
    for name in declared:
        chain = [name]
        while (parent := declared[chain[-1]].get("extends")) is not None:
            if parent not in declared:
                raise DockergenError.single(
                    f"extends unknown environment {parent!r}",
                    location=source.locate(("environments", chain[-1], "extends")),
                    path=("environments", chain[-1], "extends"),
                    hint=f"declared: {', '.join(declared)}",
                )
            if parent in chain:
                raise DockergenError.single(
                    f"environments extend each other in a cycle: {' -> '.join([*chain, parent])}",
                    location=source.locate(("environments", chain[-1], "extends")),
                    path=("environments", chain[-1], "extends"),
                )
            chain.append(parent)
        chain.reverse()

        def pick(key: str, chain: list[str] = chain) -> Any:
            for env_name in reversed(chain):
                value = declared[env_name].get(key)
                if value is None and key == "kind":
                    value = presets.STANDARD_ENVIRONMENTS.get(env_name, {}).get("kind")
                if value is None and key == "engine":
                    value = presets.STANDARD_ENVIRONMENTS.get(env_name, {}).get("engine")
                if value is not None:
                    return value
            return None

        kind = pick("kind") or "prod"
        out[name] = EnvironmentInfo(
            name=name,
            kind=kind,
            engine=pick("engine") or "docker",
            flavour=pick("flavour"),
            chain=tuple(chain),
            compose_file=declared[name].get("compose_file")
            or (override if name == spec.output.override else spec.output.overlay.format(env=name)),
            project=project_name(
                spec.project, [(e, pick("kind", chain[: i + 1]) or "prod", declared[e].get("project")) for i, e in enumerate(chain)]
            ),
            registry=pick("registry") or spec.registry,
            image_names=pick("image_names") or spec.image_names,
            env_file=pick("env_file"),
        )
    return out


def project_name(project: str, chain: list[tuple[str, str, str | None]]) -> str:
    """The Compose project name of the last environment of ``chain``, ``(name, kind, its
    own `project` or None)`` from the root along ``extends``: the nearest one set, else the
    spec's ``project``, and ``<project>-<env>`` for a test environment, so that running its
    suites never recreates, stops or reuses the containers, networks and volumes of dev or
    prod. A test environment does not take over the name of a dev or prod one it extends."""
    name, kind, _ = chain[-1]
    for env, env_kind, declared in reversed(chain):
        if declared is not None:
            if kind == "test" and env != name and env_kind != "test":
                break
            return declared
    return f"{project}-{name}" if kind == "test" else project


# Compose reads `<base>.override.<ext>` next to these base files by itself.
OVERRIDABLE = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def _override_file(spec: Spec, source: SourceMap, declared: dict[str, Any]) -> str | None:
    """The override file's name for ``output.override``; raises when Compose would not read it."""
    if spec.output.override is None:
        return None
    path = ("output", "override")
    if spec.output.override not in declared:
        raise DockergenError.single(
            f"names no environment: {spec.output.override!r}", location=source.locate(path), path=path, hint=f"declared: {', '.join(declared)}"
        )
    name = override_name(spec.output.compose_file)
    if name is None:
        raise DockergenError.single(
            f"Compose reads an override file only next to {', '.join(OVERRIDABLE)}, not {spec.output.compose_file!r}",
            location=source.locate(path),
            path=path,
            hint="rename `output.compose_file`, or drop `output.override`",
        )
    return name


def override_name(compose_file: str) -> str | None:
    """``compose.yaml`` -> ``compose.override.yaml``: the file Compose reads with it by itself."""
    folder, base = posixpath.split(compose_file)
    if base not in OVERRIDABLE:
        return None
    stem, ext = base.rsplit(".", 1)
    return posixpath.join(folder, f"{stem}.override.{ext}")


def _check_references(spec: Spec, source: SourceMap, envs: dict[str, EnvironmentInfo], problems: list[Problem]) -> None:
    for name, service in spec.services.items():
        for env_name in service.environments or {}:
            if env_name not in envs:
                path = ("services", name, "environments", env_name)
                problems.append(
                    Problem(
                        f"unknown environment {env_name!r}",
                        source.locate(path),
                        path,
                        f"{suggestion(env_name, list(envs))}declared: {', '.join(envs)}",
                    )
                )
        if service.extends is not None:
            path = ("services", name, "extends")
            if service.extends not in spec.services:
                problems.append(Problem(f"extends unknown service {service.extends!r}", source.locate(path), path, f"services: {', '.join(spec.services)}"))
            elif name in [service.extends, *extended(spec, service.extends)]:
                problems.append(Problem(f"extends {service.extends!r}, which extends it back: a cycle", source.locate(path), path,
                                        "let one of them start from the other, not both"))  # fmt: skip
        if service.uses is not None:
            path = ("services", name, "uses")
            other = spec.services.get(service.uses)
            if other is None:
                problems.append(Problem(f"uses unknown service {service.uses!r}", source.locate(path), path))
            elif other.build is None:
                problems.append(
                    Problem(f"uses {service.uses!r}, which builds no image", source.locate(path), path, "give it a `build`")
                )
            elif service.build is not None:
                problems.append(Problem("a service cannot both `build` and `uses`", source.locate(path), path))
        if service.build is not None:
            for flavour in [service.build.flavour, *(service.build.flavours or {})]:
                if flavour is not None and flavour not in presets.FLAVOURS and service.build.family != "generic":
                    path = ("services", name, "build")
                    problems.append(
                        Problem(f"unknown flavour {flavour!r}", source.locate(path), path, f"one of: {', '.join(presets.FLAVOURS)}")
                    )
    # An environment's flavour picks the base image of every preset-built service in it.
    if any(s.build is not None and s.build.family != "generic" for s in spec.services.values()):
        for env_name, env in (spec.environments or {}).items():
            if env.flavour is not None and env.flavour not in presets.FLAVOURS:
                path = ("environments", env_name, "flavour")
                problems.append(
                    Problem(f"unknown flavour {env.flavour!r}", source.locate(path), path, f"one of: {', '.join(presets.FLAVOURS)}")
                )


_SETTINGS_FIELDS = frozenset(ServiceSettings.model_fields)  # a Service's own keys (build, uses ...) are not settings


def settings_dump(model: ServiceSettings | None) -> dict[str, Any]:
    if model is None:
        return {}
    return model.model_dump(include=_SETTINGS_FIELDS, exclude_unset=True, by_alias=True)


Dump = Callable[[ServiceSettings | None], dict[str, Any]]


class DumpedOnce:
    """``settings_dump`` that dumps each model once: a project's services x environments
    read the same few blocks (``defaults``, each environment's, each service's) over and
    over. The dumps are shared, so callers only read them (``merge`` builds new mappings).

    ``key`` names a layer by its content (a dump's is computed once), and ``settled`` holds
    the settings of each distinct stack of layers: services whose blocks are the same (a
    project's redis or postgres services) are merged and validated once per kind of
    environment, not once per service x environment; ``healthchecks`` and ``images`` keep
    what those services' probes and builders' image names resolved to, per environment."""

    __slots__ = ("_dumps", "_keys", "settled", "images", "healthchecks")

    def __init__(self) -> None:
        self._dumps: dict[int, tuple[ServiceSettings, dict[str, Any]]] = {}  # by id; the model kept so that its id stays its own
        self._keys: dict[int, str] = {}  # by id of a dump above (kept alive with it)
        self.settled: dict[tuple[Any, ...], ServiceSettings | None] = {}  # None: disabled
        self.images: dict[tuple[str, str], str | None] = {}  # (builder, environment) -> ``_declared_image``: its `uses` services ask again
        # (id of settled settings, builder of a `uses` service, id of the plan, engine) -> its probe: services sharing settings share it
        self.healthchecks: dict[tuple[int, str | None, int, str], ResolvedHealthcheck | None] = {}

    def __call__(self, model: ServiceSettings | None) -> dict[str, Any]:
        if model is None:
            return {}
        found = self._dumps.get(id(model))
        if found is None:
            found = self._dumps[id(model)] = (model, settings_dump(model))
            self._keys[id(found[1])] = repr(found[1])
        return found[1]

    def key(self, layer: dict[str, Any]) -> str:
        found = self._keys.get(id(layer))
        return repr(layer) if found is None else found


def image_repository(image: str) -> str:
    """``docker.io/library/postgres:16@sha256:...`` -> ``postgres``."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "library/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def qualify_image(image: str) -> str:
    """Fully qualify a Docker Hub short name; podman refuses short names without an alias,
    and the long form means the same thing to Docker. ``scratch`` is no image but the empty
    base, and stays as it is."""
    if "$" in image or image == "scratch" or has_registry(image):
        return image
    return f"docker.io/{image}" if "/" in image else f"docker.io/library/{image}"


Layer = tuple[str, "tuple[str, ...] | None", dict[str, Any]]  # (label, spec path or None, settings)
MISSING = object()


def spec_layers(spec: Spec, env: EnvironmentInfo, name: str, dump: Dump = settings_dump) -> list[Layer]:
    """Layers 2-5 for service ``name`` in ``env``, lowest first, labelled with where they sit;
    ``dump`` turns a block of settings into its layer (``settings_dump``, ``DumpedOnce``)."""
    extended_from = extended(spec, name)
    paths: list[tuple[str, ...]] = [("defaults",), *(("environments", e, "defaults") for e in env.chain), *(("services", base) for base in extended_from),
                                    ("services", name), *(("services", name, "environments", e) for e in env.chain)]  # fmt: skip
    labels = [".".join(path) + (" (extended)" if len(path) == 2 and path[1] in extended_from else "") for path in paths]
    return list(zip(labels, paths, layer_settings(spec, env, name, dump, extended_from)))


def layer_settings(spec: Spec, env: EnvironmentInfo, name: str, dump: Dump, extended_from: list[str] | None = None) -> list[dict[str, Any]]:
    """The settings of ``spec_layers``, in its order, without their labels (resolve asks for
    these once per service and environment); ``extended_from``: ``extended(spec, name)``."""
    service = spec.services[name]
    built = service.build is not None or service.uses is not None
    environments = spec.environments or {}

    def scoped(defaults: Defaults | None) -> dict[str, Any]:
        return dump(defaults) if defaults is not None and (built or defaults.scope == "all") else {}

    layers = [scoped(spec.defaults)]
    for env_name in env.chain:
        declared = environments.get(env_name)
        layers.append(scoped(declared.defaults if declared else None))
    for base in extended(spec, name) if extended_from is None else extended_from:
        layers.append(_inherited(dump(spec.services[base])))
    layers.append(dump(service))
    own = service.environments or {}
    for env_name in env.chain:
        layers.append(dump(own.get(env_name)))
    return layers


def extended(spec: Spec, name: str) -> list[str]:
    """The services ``name`` extends, the farthest first (a cycle, refused by validation, ends the walk)."""
    chain: list[str] = []
    current = spec.services[name].extends
    while current is not None and current in spec.services and current != name and current not in chain:
        chain.append(current)
        current = spec.services[current].extends
    return chain[::-1]


def _inherited(settings: dict[str, Any]) -> dict[str, Any]:
    """What a service's level gives one that extends it: everything but ``enabled``."""
    return {k: v for k, v in settings.items() if k != "enabled"} if "enabled" in settings else settings


def builtin_layer(kind: str, built: bool, layers: list[dict[str, Any]], uses: bool = False) -> dict[str, Any]:
    """Layer 1: the built-in policy for a kind of environment, a built image, a known image
    (the one the spec ``layers`` settle on: a scalar, so the last one set wins). ``uses``:
    the service runs another's image, so it serves in a test environment (no suite of its own)."""
    image = None
    for layer in layers:
        image = layer.get("image", image)
    repository = image_repository(image) if image and not built else None
    return dict(_builtin_layer(kind, built, repository if repository in presets.KNOWN_IMAGES else None, uses))


@functools.lru_cache(maxsize=None)
def _builtin_layer(kind: str, built: bool, known: str | None, uses: bool) -> dict[str, Any]:
    """Cached: a project asks the same few times for each of its services (callers get a copy)."""
    layer = merge(presets.BY_KIND[kind], presets.BUILT_BY_KIND[kind] if built else {})
    if known:
        layer = merge(layer, presets.KNOWN_IMAGES[known])
    if built:
        layer["target"] = presets.SERVING_TARGET if uses and kind == "test" else presets.TARGET_BY_KIND[kind]
    return layer


def _resolve_service(
    spec: Spec,
    engines: Engines,
    env: EnvironmentInfo,
    name: str,
    service: Service,
    plans: dict[tuple[str, str], ImagePlan],
    source: SourceMap,
    dump: DumpedOnce,
) -> ResolvedService | None:
    layers = layer_settings(spec, env, name, dump)
    prebuilt = next((layer["prebuilt"] for layer in reversed(layers) if "prebuilt" in layer), None) is True
    builder_name = None if prebuilt else service.uses or (name if service.build else None)
    # All the settings depend on; an empty layer adds nothing to them (podman's, under prod's).
    stack = (env.kind, builder_name is not None, service.uses is not None, *[dump.key(layer) for layer in layers if layer])
    if stack not in dump.settled:
        builtin = builtin_layer(env.kind, builder_name is not None, layers, uses=service.uses is not None)
        # One pass over all layers, so that a `null` anywhere also removes a built-in default.
        merged = _highest_probe(merge(builtin, *layers), [builtin, *layers])
        dump.settled[stack] = None if merged.get("enabled") is False else ServiceSettings.model_validate(merged)
    settings = dump.settled[stack]
    if settings is None:
        return None
    # After the memo (shared by services whose layers are alike): the names are this service's.
    named = names.expanded(settings.__dict__, placeholders(name, env))
    if named:
        settings = settings.model_copy(update=named)
    plan = None
    if prebuilt and service.uses is not None and settings.image is None:
        # A `uses` service runs its builder's image, published or built.
        settings = settings.model_copy(update={"image": _declared_image(spec, env, service.uses, dump)})
    if builder_name is not None:
        builder = spec.services[builder_name]
        assert builder.build is not None
        flavour = env.flavour or builder.build.flavour or "slim"
        plan = _plan(spec, engines, builder_name, builder, flavour, plans, source, dump)
    elif settings.image is None and (settings.compose or {}).get("image") is None:  # the escape hatch's image runs as it is
        path = ("services", name)
        raise DockergenError.single(
            f"has neither `image` nor `build` in environment {env.name!r}" + (" (`prebuilt` builds nothing there)" if prebuilt else ""),
            location=source.locate(path),
            path=path,
            hint="give it the image it runs there" if prebuilt else "give it an image, a build, or `uses: <service>`",
        )
    target = plan.build.stage_name(settings.target) if plan is not None and settings.target else None
    probed = (id(settings), service.uses, id(plan), env.engine, target)  # ``settings`` is kept alive by ``dump.settled``
    healthcheck = dump.healthchecks.get(probed, MISSING)
    if healthcheck is MISSING:  # a located error is raised for each service, never remembered
        probe = functools.partial(
            _healthcheck, plan=plan, engines=engines, engine=env.engine, path=("services", name), source=source, stage=target
        )
        healthcheck = dump.healthchecks[probed] = _uses_healthcheck(settings, service.uses, probe) if service.uses is not None else probe(settings)
    image = qualify_image(settings.image) if settings.image is not None else None
    if plan is not None and target not in (stages := stage_names(plan.build)):
        if not _builds_last_stage(plan.build, layers):
            path = setter_path(source, env, name, "target") or ("services", name)
            raise DockergenError.single(
                f"environment {env.name!r} builds target {target!r}, which the Dockerfile of {builder_name!r} does not have",
                location=source.locate(path),
                path=path,
                hint=f"stages: {', '.join(stages)}",
            )
        target = plan.build.last_stage()
    if plan is not None:
        assert builder_name is not None
        # A `uses` service runs its builder's image, under the builder's name, unless it
        # names its own (then it is a second image from the same Dockerfile).
        own = settings.image if service.uses is not None else None
        if service.uses is not None and own is None:
            _refuse_own_build_args(source, env, name, service.uses)
        declared = dump.images.get((builder_name, env.name), MISSING)
        if declared is MISSING:
            declared = dump.images[builder_name, env.name] = _declared_image(spec, env, builder_name, dump, layers if builder_name == name else None)
        image = built_image(spec.project, env, plan, target, own or declared)
    watch: tuple[WatchRule, ...] = ()
    if plan is not None and env.kind == "dev" and settings.watch and supported("develop_watch", engines):
        try:
            watch = watch_rules(settings.watch, plan.build)
        except ValueError as exc:
            where = setter_path(source, env, name, "watch") or ("services", name)
            raise DockergenError.single(str(exc), location=source.locate(where), path=where) from None
        settings = settings.model_copy(update={"source_mount": False})  # sync takes the bind mount's place
    return ResolvedService(name, settings, image, plan, target, healthcheck, watch=watch)


def _builds_last_stage(build: Build, layers: list[dict[str, Any]]) -> bool:
    """A generic Dockerfile without the stage named after the environment's kind, and no
    `target` set for it (or `target: null`): its last stage, as `docker build` builds
    without `--target`."""
    chosen = [layer["target"] for layer in layers if "target" in layer]
    return build.family == "generic" and (not chosen or chosen[-1] is None)


def built_image(project: str, env: EnvironmentInfo, plan: ImagePlan, target: str | None, exact: str | None) -> str:
    """The name of the image ``plan`` builds for ``target`` in ``env``: the one rule (see
    ``Build.image``) that Compose, podman, ``explain`` and every other output read through
    ``ResolvedService.image``. ``exact`` is the builder's own ``image`` setting, if any."""
    if exact is not None:
        name = exact
    else:
        repository, tag = split_tag(plan.build.image or f"{project}/{plan.service}")
        if env.registry and not has_registry(repository):
            repository = f"{env.registry.rstrip('/')}/{repository}"
        if tag is None:
            tag = f"${{TAG:-{env.name}}}"
            if target is not None and plan.build.builtin_stage(target) != presets.TARGET_BY_KIND[env.kind]:
                tag += f"-{target}"
        elif target is not None and plan.build.builtin_stage(target) != presets.TARGET_BY_KIND["prod"]:
            tag += f"-{target}"
        if not plan.default_flavour:
            tag += f"-{plan.flavour}"
        name = f"{repository}:{tag}"
    if env.engine == "podman" and not has_registry(name) and not name.startswith("$"):
        name = f"localhost/{name}"  # where podman keeps what it built
    return name


def split_tag(image: str) -> tuple[str, str | None]:
    """``ghcr.io:443/acme/api:1.0`` -> ``("ghcr.io:443/acme/api", "1.0")``."""
    head, _, last = image.rpartition("/")
    if ":" in last and not last.startswith("${"):
        last, _, tag = last.partition(":")
        return f"{head}/{last}" if head else last, tag
    return image, None


def has_registry(image: str) -> bool:
    """Whether the name starts with a registry host (``ghcr.io/...``, ``localhost:5000/...``)."""
    first, slash, _ = image.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def _declared_image(spec: Spec, env: EnvironmentInfo, builder: str, dump: Dump, layers: list[dict[str, Any]] | None = None) -> str | None:
    """The ``image`` the spec's layers give ``builder`` in ``env`` (``layers``: those, when
    at hand): a scalar, so the highest layer that sets it wins (as ``merge`` has it; a
    ``null`` there removes it). Under ``image_names: compose``, a build without
    ``build.image`` is named as Compose names it, and like any exact name from there on."""
    image = None
    for layer in layer_settings(spec, env, builder, dump) if layers is None else layers:
        image = layer.get("image", image)
    if image is not None:
        image = names.expand(image, placeholders(builder, env))
    build = spec.services[builder].build
    if image is None and env.image_names == "compose" and build is not None and build.image is None:
        image = f"{env.project}-{builder}"
    return image


def placeholders(service: str, env: EnvironmentInfo) -> dict[str, str]:
    """What ``{service}``, ``{env}`` and ``{project}`` stand for in a name (``spec.names``)."""
    return {"service": service, "env": env.name, "project": env.project}


def _refuse_own_build_args(source: SourceMap, env: EnvironmentInfo, name: str, builder: str) -> None:
    """Build args or options of its own would make the builder's image name stand for two images."""
    for key, what in (("build_args", "build args"), ("pass_build_args", "build args"), ("build_options", "build options")):
        path = setter_path(source, env, name, key)
        if path is not None and path[:2] == ("services", name):
            raise DockergenError.single(
                f"runs the image {builder!r} builds under its name, so it cannot have {what} of its own",
                location=source.locate(path),
                path=path,
                hint=f"set `{key}` on {builder!r}, or give this service an `image` name of its own",
            )


TEST_RUN = ResolvedHealthcheck(test=None, disable=True, note="a test run, not a server: it exits when the suite is done")


def _test_runners(
    spec: Spec, env: EnvironmentInfo, services: dict[str, ResolvedService], source: SourceMap, dump: Dump
) -> dict[str, ResolvedService]:
    """What a test environment is: each built service runs its test suite (its ``test``
    stage) against what it depends on, and exits. A service another one waits for must serve
    instead, so there it runs its serving stage and its suite runs beside it as
    ``<name>-test``, with the same settings and dependencies. A service given its own
    ``command`` or ``entrypoint`` there runs that, not the suite (an integration server on
    the test image, as imported sprawls have): it is left as the spec says."""
    waited_for = {
        dep
        for s in services.values()
        for dep, entry in (dict.fromkeys(s.settings.depends_on) if isinstance(s.settings.depends_on, list) else (s.settings.depends_on or {})).items()
        if entry is None or entry.condition != "service_completed_successfully"
    }
    out: dict[str, ResolvedService] = {}
    for name, service in services.items():
        suite = (
            service.plan is not None
            and service.plan.build.builtin_stage(service.target) == presets.TARGET_BY_KIND["test"]
            and spec.services[name].uses is None
            and service.settings.command is None
            and service.settings.entrypoint is None
        )
        if not suite:
            out[name] = service
            continue
        # A test run serves nothing: no probe, no published port.
        run = dataclasses.replace(service, healthcheck=TEST_RUN, settings=service.settings.model_copy(update={"ports": None}))
        if name not in waited_for:
            out[name] = run
            continue
        runner = f"{name}-test"
        if runner in spec.services:
            path = ("services", runner)
            raise DockergenError.single(
                f"is the name {name}'s test suite runs under in environment {env.name!r} (other services wait for {name}, so {name} serves there)",
                location=source.locate(path),
                path=path,
                hint="rename this service",
            )
        stages = stage_names(service.plan.build)
        serving = service.plan.build.stage_name(presets.SERVING_TARGET)
        serving = serving if serving in stages else service.plan.build.last_stage()
        exact = _declared_image(spec, env, name, dump)
        out[name] = dataclasses.replace(service, target=serving, image=built_image(spec.project, env, service.plan, serving, exact))
        image = run.image if exact is None else _suffixed(exact, "test")
        out[runner] = dataclasses.replace(run, name=runner, image=image, test_of=name)
    return out


def _suffixed(image: str, suffix: str) -> str:
    repository, tag = split_tag(image)
    return f"{repository}:{tag}-{suffix}" if tag else f"{repository}:{suffix}"


PROBES = ("test", "http", "tcp")


def _highest_probe(merged: dict[str, Any], layers: list[dict[str, Any]]) -> dict[str, Any]:
    """A healthcheck's probe (`test`, `http` or `tcp`) replaces a lower layer's, whichever
    kind either is: a service's `tcp: 5432` replaces the preset `test` of its image."""
    hc = merged.get("healthcheck")
    if not isinstance(hc, dict) or sum(key in hc for key in PROBES) < 2:
        return merged
    for layer in reversed(layers):
        chosen = [key for key in PROBES if key in (layer.get("healthcheck") or {})]
        if chosen:
            return {**merged, "healthcheck": {k: v for k, v in hc.items() if k not in PROBES or k in chosen}}
    return merged


def setter_path(source: SourceMap, env: EnvironmentInfo, name: str, key: str) -> tuple[str, ...] | None:
    """The spec path of the highest layer that sets ``key`` for ``name`` in ``env`` (an
    escape hatch's ``compose:`` first: it is merged over every field)."""
    layers = [("services", name, "environments", e) for e in reversed(env.chain)]
    layers.append(("services", name))
    base = source.get(("services", name, "extends"))
    while isinstance(base, str) and ("services", base) not in layers:  # what it extends, nearest first
        layers.append(("services", base))
        base = source.get(("services", base, "extends"))
    layers += [("environments", e, "defaults") for e in reversed(env.chain)]
    layers.append(("defaults",))
    blocks = [source.get(layer) for layer in layers]  # each layer's block looked up once, not per candidate
    for layer, block in zip(layers, blocks):
        compose = block.get("compose") if isinstance(block, dict) else None
        if isinstance(compose, dict) and key in compose:
            return (*layer, "compose", key)
    for layer, block in zip(layers, blocks):
        if isinstance(block, dict) and key in block:
            return (*layer, key)
    return None


def stage_names(build: Build) -> list[str]:
    return build.stage_list()


def _plan(
    spec: Spec,
    engines: Engines,
    name: str,
    service: Service,
    flavour: str,
    plans: dict[tuple[str, str], ImagePlan],
    source: SourceMap,
    dump: Dump,
) -> ImagePlan:
    if (name, flavour) in plans:
        return plans[(name, flavour)]
    assert service.build is not None
    raw = service.build.model_dump(exclude_unset=True, by_alias=True)
    overrides = (service.build.flavours or {}).get(flavour, {})
    raw.pop("flavours", None)
    path = ("services", name, "build", "flavours", flavour)
    try:
        # The flavour's overrides onto the build as written: its own `null`s (`requirements:
        # null`, no requirements at all) are values here, not removals from a layer below.
        build = Build.model_validate(_MERGER.merge(copy.deepcopy(raw), overrides) if overrides else raw, context={})
    except Exception as exc:  # pydantic.ValidationError, reported with the flavour's position
        raise DockergenError.single(f"invalid flavour override: {exc}", location=source.locate(path), path=path) from None
    default_flavour = flavour == (service.build.flavour or "slim")
    dockerfile = posixpath.normpath(build.dockerfile or posixpath.join(build.context, "Dockerfile"))
    if not default_flavour:
        dockerfile = f"{dockerfile}.{flavour}"
    port = build.port
    if build.family == "node" and build.node is not None and build.node.serve == "nginx":
        port = presets.NGINX_PORT
    neutral_layers = [builtin_layer("prod", True, []), dump(spec.defaults), dump(service)]
    neutral = ServiceSettings.model_validate(_highest_probe(merge(*neutral_layers), neutral_layers))
    plan_stub = ImagePlan(name, flavour, build, dockerfile, port, None, default_flavour)
    healthcheck = _healthcheck(neutral, plan_stub, engines, "docker", ("services", name), source)
    plan = ImagePlan(name, flavour, build, dockerfile, port, healthcheck, default_flavour)
    plans[(name, flavour)] = plan
    return plan


def _healthcheck(
    settings: ServiceSettings,
    plan: ImagePlan | None,
    engines: Engines,
    engine: str,
    path: tuple[str, ...],
    source: SourceMap,
    stage: str | None = None,
) -> ResolvedHealthcheck | None:
    """The service's healthcheck as Compose runs it in the built ``stage`` (None: the last)."""
    hc = settings.healthcheck
    if hc is None:
        return None
    if hc.disable:
        return ResolvedHealthcheck(test=None, disable=True)
    http = None
    timing = {**presets.HEALTHCHECK_TIMING, **hc.model_dump(exclude_none=True, exclude={"test", "http", "tcp", "port", "disable"})}
    if hc.test is not None:
        test = tuple(hc.test) if isinstance(hc.test, list) else ("CMD-SHELL", hc.test)
        if test[0] not in ("CMD", "CMD-SHELL", "NONE"):
            test = ("CMD", *test)
    elif hc.http is not None:
        port = hc.port or (plan.container_port if plan else None)
        test = _http_probe(hc.http, port, plan, path, source, timing["timeout"], stage)
        http = (port, hc.http) if port is not None else None
    elif hc.tcp is not None:
        test = _tcp_probe(hc.tcp, plan, path, source, timing["timeout"])
    else:
        return None
    if not (supported("start_interval", engines) and engine != "podman"):
        timing.pop("start_interval", None)
    return ResolvedHealthcheck(test=test, http=http, **timing)


def probe_timeout(timeout: str) -> float:
    """Seconds the generated probe waits for an answer: a second less than the engine's
    `timeout` (so that a slow app fails the probe, not the engine's kill), half of a short one."""
    limit = durations.seconds(timeout, durations.DOCKER_DEFAULTS["timeout"])
    return round(limit - 1 if limit >= 2 else limit / 2, 3)


def _uses_healthcheck(
    settings: ServiceSettings, builder: str, probe: Callable[[ServiceSettings], ResolvedHealthcheck | None]
) -> ResolvedHealthcheck:
    """A `uses` service never runs its builder's probe (the image's ``HEALTHCHECK``): it gets
    the one it declares, a preset for its command, or an explicit ``disable`` saying why.
    ``probe`` resolves a healthcheck setting for this service (``_healthcheck``)."""
    declared = settings.healthcheck or Healthcheck()
    if declared.disable or declared.test is not None or declared.http is not None or declared.tcp is not None:
        resolved = probe(settings)
        assert resolved is not None
        return resolved
    known = probe_for(settings.entrypoint, settings.command)
    if known is None:
        note = f"runs {builder}'s image, whose probe checks {builder}, not this service: declare `healthcheck`"
        return ResolvedHealthcheck(test=None, disable=True, note=note)
    if known.test is None and known.http is None:
        return ResolvedHealthcheck(test=None, disable=True, note=f"{known.note}; it runs without a probe")
    preset: dict[str, Any] = {"test": list(known.test)} if known.test else {"http": known.http[1], "port": known.http[0]}  # type: ignore[index]
    chosen = Healthcheck.model_validate({**preset, **known.timing, **declared.model_dump(exclude_none=True)})
    resolved = probe(settings.model_copy(update={"healthcheck": chosen}))
    assert resolved is not None
    return dataclasses.replace(resolved, note=f"preset for `{known.program}`: {known.note}")


def _tcp_probe(port: int, plan: ImagePlan | None, path: tuple[str, ...], source: SourceMap, timeout: str) -> tuple[str, ...]:
    """A connect to ``port`` with the image's own interpreter; no spaces (podman 4.3, see below)."""
    if plan is None or plan.build.family == "generic" or (plan.build.node is not None and plan.build.node.serve == "nginx"):
        hc_path = (*path, "healthcheck", "tcp")
        raise DockergenError.single(
            "a TCP healthcheck is generated only for python builds and node builds served by node",
            location=source.locate(hc_path),
            path=hc_path,
            hint="give `healthcheck.test` with a command your image has",
        )
    wait = probe_timeout(timeout)
    if plan.build.family == "python":
        return ("CMD", "python", "-c", f"__import__('socket').create_connection(('127.0.0.1',{port}),{wait:g}).close()")
    return (
        "CMD", "node", "-e",
        f"require('net').connect({port},'127.0.0.1').setTimeout({int(wait * 1000)},()=>process.exit(1))"
        ".on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))",
    )  # fmt: skip


def _http_probe(
    http_path: str, port: int | None, plan: ImagePlan | None, path: tuple[str, ...], source: SourceMap, timeout: str, stage: str | None = None
) -> tuple[str, ...]:
    hc_path = (*path, "healthcheck", "http")
    if plan is None or plan.build.family == "generic":
        raise DockergenError.single(
            "an HTTP healthcheck is generated only for python and node builds",
            location=source.locate(hc_path),
            path=hc_path,
            hint="give `healthcheck.test` with a command your image has",
        )
    if port is None:
        raise DockergenError.single(
            "an HTTP healthcheck needs a port", location=source.locate(hc_path), path=hc_path, hint="set `build.port`"
        )
    url = f"http://127.0.0.1:{port}{http_path}"
    if "'" in url or " " in url:
        raise DockergenError.single("the health path may not contain quotes or spaces", location=source.locate(hc_path), path=hc_path)
    # Probes use what the image already has (no curl/wget) and contain no spaces, because
    # podman 4.3 splits exec-form healthcheck arguments on whitespace (containers/podman#26519).
    wait = probe_timeout(timeout)
    if plan.build.family == "python":
        return ("CMD", "python", "-c", f"__import__('urllib.request').request.urlopen('{url}',timeout={wait:g})")
    # Only the prod stage of a static build is nginx's image; dev and test run the node one, which has no wget.
    if plan.build.node is not None and plan.build.node.serve == "nginx" and stage in (None, plan.build.stage_name("prod")):
        return ("CMD", "wget", "-q", "--spider", "-T", f"{max(1, int(wait))}", url)  # busybox wget: whole seconds
    return (
        "CMD", "node", "-e",
        f"fetch('{url}',{{signal:AbortSignal.timeout({int(wait * 1000)})}}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))",
    )  # fmt: skip


def _check_dependencies(envs: dict[str, ResolvedEnvironment], spec: Spec, source: SourceMap, problems: list[Problem]) -> None:
    """One problem per missing dependency, listing the environments it is missing in."""
    missing: dict[tuple[str, str], list[ResolvedEnvironment]] = {}
    for env in envs.values():
        for name, service in env.services.items():
            deps = service.settings.depends_on
            for dep in deps if isinstance(deps, list) else list((deps or {}).keys()):
                if dep not in env.services:
                    missing.setdefault((name, dep), []).append(env)
    for (name, dep), where in missing.items():
        why = "is not enabled in" if dep in spec.services else "does not exist in"
        names = ", ".join(e.info.name for e in where)
        path = setter_path(source, where[0].info, name, "depends_on") or ("services", name)
        item = _item_path(source, path, dep, spec)
        hint = None if dep in spec.services else f"services: {', '.join(spec.services)}"
        problems.append(Problem(f"depends on {dep!r}, which {why} environment(s) {names}", source.locate(item), item, hint))


def _item_path(source: SourceMap, path: tuple[str | int, ...], dep: str, spec: Spec) -> tuple[str | int, ...]:
    """The list item or mapping key naming ``dep`` under ``path``, when the spec has one."""
    if source.has((*path, dep)):
        return (*path, dep)
    node: Any = spec.model_dump(by_alias=True, exclude_unset=True)
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, list) and dep in node:
        return (*path, node.index(dep))
    return path
