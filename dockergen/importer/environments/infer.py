"""Which ``-f`` combination of Compose files forms which environment.

Inferred from names and contents, the way people lay these files out:

* ``docker-compose.yml`` / ``compose.yaml`` (+ ``*.override.*``, which Compose loads by
  itself) is the local development environment, ``dev``;
* a file that is complete on its own (every service names an image, a build or an
  ``extends``) is an environment named after its label (``docker-compose.staging.yml`` ->
  ``staging``; ``deploy/prod/compose.yaml`` -> ``prod``), unless it is named as a shared
  base (``base``, ``common``, ``shared``) or only ever included/extended;
* a file with services that name neither (an overlay) goes on top of the complete file
  whose services it completes; ties go to the file whose name shares most words with it,
  and, when a Compose CLI is installed, to the first combination it accepts.

``--compose-set ENV=FILE[,FILE...]`` replaces or adds an environment (``ENV=`` drops one).
Kinds (dev/test/staging/prod) and the podman engine come from the name's words.
"""

from __future__ import annotations

import posixpath
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from dockergen.importer.read.compose import ComposeFile

BASE_WORDS = {"base", "common", "shared", "core"}
KIND_WORDS = {
    "dev": {"dev", "develop", "development", "local", "debug", "override", "devcontainer", "hot", "reload"},
    "test": {"test", "tests", "testing", "ci", "e2e", "pytest", "integration", "unit", "qa-test", "it"},
    "staging": {"staging", "stage", "stg", "preprod", "qa", "uat", "acceptance"},
    "prod": {"prod", "production", "live", "release", "deploy", "prd"},
}
ENV_WORDS = set().union(*KIND_WORDS.values()) | {"podman", "docker", "alpine", "slim"}
DEFAULT_STEMS = {"", "docker-compose", "compose"}


@dataclass(frozen=True)
class EnvironmentSet:
    name: str
    files: tuple[str, ...]
    parent: str | None  # the environment whose files this one extends (an overlay's base)
    kind: str | None  # None: decide from contents
    engine: str
    given: bool
    why: str


def label(path: str) -> str:
    """``docker-compose.dev-optimized.yml`` -> ``dev-optimized``; ``compose.yaml`` -> ``""``."""
    stem = re.sub(r"\.ya?ml$", "", posixpath.basename(path), flags=re.IGNORECASE).lower()
    stem = re.sub(r"^(docker[-_.]?)?compose([-_.]|$)", "", stem)
    stem = re.sub(r"([-_.]|^)(docker[-_.]?)?compose$", "", stem)
    return stem.strip("-_.")


def tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", text.lower()) if t]


def env_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    name = re.sub(r"^[^a-z]+", "", name)
    return name[:63] or "env"


def kind_of(name: str) -> str | None:
    words = tokens(name)
    for kind in ("test", "staging", "prod", "dev"):  # "dev-test" is a test environment
        if any(w in KIND_WORDS[kind] for w in words):
            return kind
    return None


def infer(
    files: list[ComposeFile], accepts: Callable[[tuple[str, ...]], bool] | None = None
) -> tuple[list[EnvironmentSet], list[str]]:
    """Environments from ``files`` (loaded, readable ones) and notes on what was decided."""
    notes: list[str] = []
    referenced = {p for f in files for p in (*f.includes, *f.extends_files)}
    included = {p for f in files for p in f.includes}
    labels = {f.path: label(f.path) for f in files}
    defaults = {posixpath.dirname(f.path): f for f in files if labels[f.path] == "" and f.complete}
    overlays = [f for f in files if not f.complete or labels[f.path] == "override" or _completes(f, defaults, labels)]
    complete = [f for f in files if f.complete and labels[f.path] != "override" and f.path not in included]
    default_files = [f for f in complete if labels[f.path] == "" and posixpath.basename(f.path).lower().split(".")[0] in DEFAULT_STEMS]

    envs: list[EnvironmentSet] = []
    base_of: dict[str, str] = {}
    # Each overlay may ask the Compose CLI about several candidate bases: overlays are
    # judged side by side (the answers, and so the result, do not depend on the order).
    with ThreadPoolExecutor(max_workers=max(1, min(len(overlays), 4))) as pool:
        bases = list(pool.map(lambda overlay: _base_for(overlay, complete, labels, accepts, default_files), overlays))
    for overlay, base in zip(overlays, bases):
        if base is None:
            notes.append(f"{overlay.path}: an overlay, but no complete file has all its services; not an environment")
            continue
        base_of[overlay.path] = base.path

    # A default file with an override or a dev overlay is their base, not an environment alone.
    has_override = {
        base_of[o.path] for o in overlays
        if o.path in base_of and labels[o.path] in ("override", "dev", "development", "develop", "local")
        and labels[base_of[o.path]] == ""
    }  # fmt: skip
    names: dict[str, str] = {}  # file -> env name (for complete files that are environments)
    for f in complete:
        lab = labels[f.path]
        folder = posixpath.basename(posixpath.dirname(f.path))
        if lab == "" and folder:
            lab = folder
        if f.path in has_override:
            notes.append(f"{f.path}: the base of a development overlay, not an environment alone "
                         f"(add one with --compose-set NAME={f.path} if it is one)")
            continue
        if set(tokens(lab)) & BASE_WORDS and (f.path in base_of.values() or f.path in referenced):
            notes.append(f"{f.path}: a shared base (named so, and used as one), not an environment of its own")
            continue
        if lab == "":
            lab = "dev"
        names[f.path] = lab
    envs_by_file: dict[str, str] = {}
    taken: set[str] = set()
    for f in complete:
        if f.path not in names:
            continue
        name = _unique(env_name(names[f.path]), taken)
        envs_by_file[f.path] = name
        envs.append(EnvironmentSet(name, (f.path,), None, kind_of(name), _engine(name, None), False, "complete on its own"))
    for overlay in overlays:
        base = base_of.get(overlay.path)
        if base is None:
            continue
        lab = labels[overlay.path]
        name = _unique(env_name("dev" if lab in ("override", "") else lab), taken)
        parent = envs_by_file.get(base)
        parent_env = next((e for e in envs if e.name == parent), None)
        kind = kind_of(name) or (parent_env.kind if parent_env else None)
        engine = _engine(name, parent_env.engine if parent_env else None)
        why = f"overlay on {base}"
        envs.append(EnvironmentSet(name, (base, overlay.path), parent, kind, engine, False, why))
    return envs, notes


def _completes(f: ComposeFile, defaults: dict[str, ComposeFile], labels: dict[str, str]) -> bool:
    """A named file next to the default one, with some of its services and no project name
    of its own: an overlay even when its services look complete (``web: {image: x:1.2}``)."""
    base = defaults.get(posixpath.dirname(f.path))
    if base is None or base.path == f.path or f.name or labels[f.path] == "":
        return False
    return set(f.services) < set(base.services)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


def _engine(name: str, parent: str | None) -> str:
    return "podman" if "podman" in tokens(name) else (parent or "docker")


def _base_for(
    overlay: ComposeFile,
    complete: list[ComposeFile],
    labels: dict[str, str],
    accepts: Callable[[tuple[str, ...]], bool] | None,
    default_files: list[ComposeFile],
) -> ComposeFile | None:
    folder = posixpath.dirname(overlay.path)
    if labels[overlay.path] == "override":
        same_dir = [f for f in default_files if posixpath.dirname(f.path) == folder]
        if same_dir:
            return same_dir[0]
    needed = set(overlay.partial_services)
    own_words = set(tokens(labels[overlay.path])) - {"docker", "compose"}
    ranked = []
    for candidate in complete:
        if candidate.path == overlay.path:
            continue
        names = set(candidate.services)
        if not needed <= names:
            continue
        coverage = len(set(overlay.services) & names)
        words = set(tokens(labels[candidate.path])) - {"docker", "compose"}
        shared = len(own_words & words) / max(1, len(own_words | words))
        is_default = candidate in default_files
        same_folder = posixpath.dirname(candidate.path) == folder
        ranked.append((-coverage, -shared, not same_folder, not is_default, candidate.path, candidate))
    ranked.sort(key=lambda r: r[:5])
    if accepts is not None:
        for *_, candidate in ranked:
            if accepts((candidate.path, overlay.path)):
                return candidate
    return ranked[0][-1] if ranked else None


def apply_given(envs: list[EnvironmentSet], given: dict[str, tuple[str, ...]]) -> list[EnvironmentSet]:
    """``--compose-set`` wins: same name or same files replace the inferred one; empty drops it."""
    out = [e for e in envs if e.name not in given and e.files not in given.values()]
    for name, files in given.items():
        if not files:
            continue
        parent = next((e.name for e in out if len(e.files) < len(files) and files[: len(e.files)] == e.files), None)
        engine = _engine(name, next((e.engine for e in out if e.name == parent), None))
        out.append(EnvironmentSet(env_name(name), files, parent, kind_of(name), engine, True, "given with --compose-set"))
    return out
