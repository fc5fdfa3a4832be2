"""Which service owns which Dockerfiles, and each owner's one merged Dockerfile.

A Dockerfile belongs to the canonical service that builds it in most environments; one
that no Compose file builds goes to the service its name starts with (``backend.debug.
Dockerfile`` -> ``backend``), as another target of its image; failing that it is no part of
any environment (a build by hand or by CI, a draft): it stays out of the spec, as it is, and
the report says so. A service for it would add to what the team's Compose runs. A service
that only ever builds another service's Dockerfile runs that image (``uses``).
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from dockergen.importer.read.dockerfile import ParsedDockerfile
from dockergen.importer.environments.infer import ENV_WORDS
from dockergen.importer.group.services import sanitize
from dockergen.importer.group.stages import DEFAULT_LABEL, MergedBuild, Variant, common_context, merge_variants, variant_label


@dataclass(frozen=True)
class BuildUse:
    env: str
    service: str  # canonical
    dockerfile: str  # root-relative
    context: str  # root-relative ("." or "./x")
    target: str | None
    args: tuple[tuple[str, str], ...]
    image: str | None = None  # the `image:` the build is tagged with


@dataclass
class BuildPlan:
    owner: dict[str, str] = field(default_factory=dict)  # Dockerfile -> owning service
    merged: dict[str, MergedBuild] = field(default_factory=dict)  # service -> its merged Dockerfile
    fallback: dict[str, list[str]] = field(default_factory=dict)  # service -> why its Dockerfiles stay as they are
    uses: dict[str, str] = field(default_factory=dict)  # service -> the service whose image it runs
    unreferenced: dict[str, str] = field(default_factory=dict)  # Dockerfile -> service (built by no Compose file)
    unbuilt: list[str] = field(default_factory=list)  # Dockerfiles of no service's image, left as they are
    labels: dict[str, str] = field(default_factory=dict)  # Dockerfile -> variant label
    notes: list[str] = field(default_factory=list)


VARIANT_WORDS = ENV_WORDS | {"debug", "optimized", "optimised", "build", "base", "runtime", "arm64", "amd64", "gpu", "cuda",
                              "minimal", "distroless", "musl", "bookworm", "bullseye", "jammy", "ubi", "rootless"}  # fmt: skip


SOURCE_FOLDERS = {"", ".", "docker", "dockerfiles", "containers", "build", "src", "source"}


def stem_of(path: str) -> str:
    """The image a Dockerfile is for: ``docker/backend.alpine.Dockerfile`` -> ``backend``;
    ``api/Dockerfile.dev`` -> ``api``; ``docker/Dockerfile-worker`` -> ``worker`` (a suffix that
    is not a variant word names the image, as in ``Dockerfile-api``, ``Dockerfile.worker``)."""
    name = posixpath.basename(path)
    lower = name.lower()
    match = re.match(r"^(docker|container)file[._-]?(.*)$", lower)
    if match:
        rest = match.group(2)
        if rest and re.split(r"[._-]", rest)[0] not in VARIANT_WORDS:
            return re.split(r"[.]", rest, maxsplit=1)[0]
        # the nearest folder that names something: src/cartservice/src/Dockerfile is cartservice's
        folders = posixpath.dirname(path).split("/")
        return next((f for f in reversed(folders) if f not in SOURCE_FOLDERS), "")
    return re.split(r"[.]", name, maxsplit=1)[0] if "." in name else name


def image_repository(image: str) -> str:
    """The last path part of an image name, without tag or digest: ``ghcr.io/acme/web:1.2`` -> ``web``."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[0].lower()


def family_of(path: str) -> tuple[str, str]:
    """Dockerfiles of one image: same folder, same stem (``web/Dockerfile``, ``web/Dockerfile.prod``;
    ``docker/api.Dockerfile``, ``docker/api.alpine.Dockerfile``)."""
    return posixpath.dirname(path), stem_of(path).lower()


def plan_builds(
    root: Path,
    uses: list[BuildUse],
    parsed: dict[str, ParsedDockerfile],
    unparsed: dict[str, str],
    as_is: dict[str, str] | None = None,
    serving_in_test: frozenset[str] = frozenset(),
) -> BuildPlan:
    """``as_is``: services whose Dockerfiles stay as they are (service -> why);
    ``serving_in_test``: Dockerfiles a test environment builds for a service that serves
    there (published ports, a probe, others waiting for it)."""
    as_is = as_is or {}
    plan = BuildPlan()
    families: dict[tuple[str, str], set[str]] = {}
    for path in [*parsed, *unparsed, *(u.dockerfile for u in uses)]:
        families.setdefault(family_of(path), set()).add(path)
    builders: dict[tuple[str, str], Counter[str]] = {}
    for use in uses:
        builders.setdefault(family_of(use.dockerfile), Counter())[use.service] += 1
    tagged = {use.service: image_repository(use.image) for use in uses if use.image}
    family_owner: dict[tuple[str, str], str] = {}
    for family, counts in builders.items():
        stem = family[1]
        # Most builds wins; on a tie, the service the files are named after, then the one the
        # image is named after (`shop/web:1` built by web, celery and beat: web builds it).
        family_owner[family] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] != stem, kv[0] != tagged.get(kv[0]), kv[0]))[0][0]
    # A Dockerfile no Compose file builds joins a service that builds its own, never one whose
    # build stays as written (a variable picks its Dockerfile): that build takes no target.
    building = {use.service for use in uses if use.dockerfile not in unparsed}
    for family, paths in sorted(families.items()):
        owner = family_owner.get(family)
        if owner is None:
            stem = family[1]
            name = sanitize(stem) if stem else sanitize(root.resolve().name)
            by_stem = next((o for f, o in family_owner.items() if f[1] == stem and stem and o in building), None)
            owner = by_stem or (name if name in building else None)
            if owner is None:
                plan.unbuilt.extend(sorted(paths))
                continue
        for path in paths:
            plan.owner[path] = owner
            if not any(u.dockerfile == path for u in uses):
                plan.unreferenced[path] = owner
    # A service that owns nothing but builds another's Dockerfiles runs that image.
    built_by: dict[str, set[str]] = {}
    for use in uses:
        built_by.setdefault(use.service, set()).add(plan.owner[use.dockerfile])
    for service, owners in built_by.items():
        owns = any(owner == service for owner in plan.owner.values())
        if not owns and len(owners) == 1:
            plan.uses[service] = next(iter(owners))
    by_owner: dict[str, list[str]] = {}
    for dockerfile, service in plan.owner.items():
        by_owner.setdefault(service, []).append(dockerfile)
    plan.unbuilt.sort()
    taken = set(plan.unbuilt)  # the files left as they are: no rendered Dockerfile takes their place
    for service, dockerfiles in sorted(by_owner.items()):
        if service in as_is:
            plan.fallback[service] = [as_is[service]]
            continue
        _merge_service(root, plan, service, sorted(dockerfiles), uses, parsed, unparsed, taken, serving_in_test)
    # Running another service's image needs that image rendered; otherwise the builds are carried verbatim.
    plan.uses = {service: owner for service, owner in plan.uses.items() if owner in plan.merged}
    return plan


def _merge_service(
    root: Path,
    plan: BuildPlan,
    service: str,
    dockerfiles: list[str],
    uses: list[BuildUse],
    parsed: dict[str, ParsedDockerfile],
    unparsed: dict[str, str],
    taken: set[str],
    serving_in_test: frozenset[str],
) -> None:
    broken = [f"{d}: {unparsed.get(d, 'missing')}" for d in dockerfiles if d in unparsed or d not in parsed]
    readable = [d for d in dockerfiles if d in parsed and d not in unparsed]
    if not readable:
        plan.fallback[service] = [*broken]
        return
    if broken:  # only the environments that build those build them as written
        plan.notes.append(f"{service}: {'; '.join(broken)}: built as written where an environment builds it")
    dockerfiles = readable
    stem = Counter(stem_of(d) for d in dockerfiles).most_common(1)[0][0]
    variants = []
    labels: set[str] = set()
    for dockerfile in dockerfiles:
        mine = [u for u in uses if u.dockerfile == dockerfile]
        contexts = Counter(u.context for u in mine)
        context = contexts.most_common(1)[0][0] if contexts else guess_context(root, dockerfile, parsed[dockerfile])
        if len(contexts) > 1:
            plan.notes.append(f"{dockerfile}: built from several contexts ({', '.join(sorted(contexts))}); using {context}")
        label = variant_label(dockerfile, stem)
        if label in labels:  # two files with one label (api/Dockerfile, worker/Dockerfile): their folder tells them apart
            folder = variant_label(posixpath.basename(posixpath.dirname(dockerfile)) or "root", "")
            label = f"{folder}-{label}" if label != DEFAULT_LABEL else folder
        base, n = label, 2
        while label in labels:
            label, n = f"{base}-{n}", n + 1
        labels.add(label)
        plan.labels[dockerfile] = label
        args = tuple(sorted({u.args for u in mine if u.args}))
        variants.append(Variant(dockerfile, parsed[dockerfile], label, context, args, dockerfile in serving_in_test))
    use_count = Counter(u.dockerfile for u in uses)
    variants.sort(key=lambda v: (v.label != DEFAULT_LABEL, -use_count[v.path], v.path))
    contexts = [v.context for v in variants]
    context = Counter(contexts).most_common(1)[0][0]
    if len(set(contexts)) > 1:
        context = common_context(contexts)
    primary = variants[0]
    single = len(variants) == 1
    dockerfile = primary.path if primary.label == DEFAULT_LABEL or single else _plain_name(primary.path, primary.label)
    if dockerfile in taken:
        dockerfile = posixpath.join(posixpath.dirname(dockerfile), f"{service}.Dockerfile")
    taken.add(dockerfile)
    merged = merge_variants(service, variants, dockerfile, context)
    if merged.obstacles:
        plan.fallback[service] = list(merged.obstacles)
        return
    plan.merged[service] = merged


def _plain_name(path: str, label: str) -> str:
    folder, name = posixpath.split(path)
    plain = re.sub(rf"[._-]{re.escape(label)}(?=[._-]|$)", "", name, count=1, flags=re.IGNORECASE)
    return posixpath.join(folder, plain or "Dockerfile")


def guess_context(root: Path, dockerfile: str, parsed: ParsedDockerfile) -> str:
    """The folder under which this Dockerfile's ``COPY`` sources exist: the root, or its own."""
    sources = [
        src
        for stage in parsed.stages
        for ins in stage.instructions
        if ins.cmd in ("COPY", "ADD") and not any(f.startswith("--from=") for f in ins.flags)
        for src in ins.value[:-1]
        if "$" not in src and "*" not in src and "://" not in src
    ]
    folder = posixpath.dirname(dockerfile)
    candidates = ["."] + ([f"./{folder}"] if folder else [])
    for candidate in candidates:
        if all((root / candidate / src.lstrip("/")).exists() for src in sources):
            return candidate
    return "."
