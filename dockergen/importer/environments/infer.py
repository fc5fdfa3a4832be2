"""Which chain of Compose files is which environment.

The chains a project runs itself come first (``sources``: ``COMPOSE_FILE`` in ``.env``,
Makefiles, scripts, ``devcontainer.json``). The rest is inferred from names and contents,
the way people lay these files out:

* a bare ``docker compose up`` is an environment: ``COMPOSE_FILE``, else the default file
  (``compose.yaml`` / ``docker-compose.yml``) with ``compose.override.yaml``, which Compose
  loads by itself; the default file alone is one more when nothing but the override
  builds on it (it is how the stack runs without the development overlay);
* a file complete on its own (every service names an image, a build or an ``extends``)
  is an environment named after its label (``docker-compose.staging.yml`` -> ``staging``;
  ``deploy/prod/compose.yaml`` -> ``prod``), unless it is a shared base (named so and
  used as one), or only included/extended;
* an overlay (services that name neither, a named file next to the default one with
  some of its services, or one whose services need the default file's: ``depends_on``,
  ``links``) goes on top of the complete file whose services it completes;
  ties go to the file whose name shares most words with it, and, with a Compose CLI, to
  the first combination it accepts;
* an overlay that only overrides what another overlay of the same base sets (and sets
  something only that one sets) extends that overlay's chain, at any length
  (``compose.yaml`` + ``compose.prod.yaml`` + ``compose.staging.yaml``);
* an add-on (an overlay that adds services of its own and names no kind of environment,
  such as ``compose.monitoring.yaml``) is offered on top of every chain of its base,
  never alone.

``--compose-set ENV=FILE[,FILE...]`` replaces or adds an environment (``ENV=`` drops one).
Kinds (dev/test/staging/prod) and the podman engine come from the name's words.
"""

from __future__ import annotations

import posixpath
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from dockergen.importer.environments.sources import DeclaredChain
from dockergen.importer.read.compose import ComposeFile

BASE_WORDS = {"base", "common", "shared", "core"}
KIND_WORDS = {
    "dev": {"dev", "develop", "development", "local", "debug", "override", "devcontainer", "hot", "reload"},
    "test": {"test", "tests", "testing", "ci", "e2e", "pytest", "integration", "unit", "qa-test", "it"},
    "staging": {"staging", "stage", "stg", "preprod", "qa", "uat", "acceptance"},
    "prod": {"prod", "production", "live", "release", "deploy", "prd"},
}
NEGATIONS = {"non", "no", "not", "without"}
ENV_WORDS = set().union(*KIND_WORDS.values()) | {"podman", "docker", "alpine", "slim"}
DEFAULT_STEMS = {"", "docker-compose", "compose"}
DEV_LABELS = {"dev", "development", "develop", "local"}
CONTAINER_FOLDERS = {"deploy", "deployment", "deployments", "docker", "compose", "containers", "container", "infra",
                     "infrastructure", "ops", "devops", "build", "config", "etc"}  # fmt: skip
ACTION_WORDS = {"up", "down", "start", "stop", "restart", "run", "launch", "serve", "boot", "compose", "docker",
                "stack", "all", "main", "default", "script", "sh", "do", "build", "rebuild", "pull", "push"}  # fmt: skip

Accepts = Callable[[tuple[str, ...]], bool]


@dataclass(frozen=True)
class EnvironmentSet:
    name: str
    files: tuple[str, ...]
    parent: str | None  # the environment whose files this one extends (a prefix of its chain)
    kind: str | None  # None: decide from contents
    engine: str
    given: bool
    why: str
    project: str | None = None  # -p / --project-name the project's own command gives


def label(path: str) -> str:
    """``docker-compose.dev-optimized.yml`` -> ``dev-optimized``; ``compose.yaml`` -> ``""``."""
    stem = re.sub(r"\.ya?ml$", "", posixpath.basename(path), flags=re.IGNORECASE).lower()
    stem = re.sub(r"^(docker[-_.]?)?compose([-_.]|$)", "", stem)
    stem = re.sub(r"([-_.]|^)(docker[-_.]?)?compose$", "", stem)
    return stem.strip("-_.")


def folder_name(path: str) -> str:
    """The folder a Compose file sits in, as an environment's name: ``deploy/prod/compose.yaml``
    -> ``prod``; a folder that only holds the container files (``deploy/``, ``docker/``) names none."""
    folder = posixpath.basename(posixpath.dirname(path))
    return "" if folder.lower().strip(".") in CONTAINER_FOLDERS else folder


def tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", text.lower()) if t]


def env_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    name = re.sub(r"^[^a-z]+", "", name)
    return name[:63] or "env"


def kind_of(name: str) -> str | None:
    all_words = tokens(name)
    # `non-dev`, `no-debug`: the word a negation goes with names no kind
    words = [w for i, w in enumerate(all_words) if w not in NEGATIONS and (i == 0 or all_words[i - 1] not in NEGATIONS)]
    for kind in ("test", "staging", "prod", "dev"):  # "dev-test" is a test environment
        if any(w in KIND_WORDS[kind] for w in words):
            return kind
    return None


def is_default(path: str) -> bool:
    return label(path) == "" and posixpath.basename(path).lower().split(".")[0] in DEFAULT_STEMS


@dataclass
class _Chain:
    files: tuple[str, ...]
    name: str
    why: str
    project: str | None = None
    given: bool = False


def infer(
    files: list[ComposeFile],
    declared: list[DeclaredChain] = (),  # type: ignore[assignment]
    bare: DeclaredChain | None = None,
    accepts: Accepts | None = None,
) -> tuple[list[EnvironmentSet], list[str]]:
    """Environments from ``files`` (loaded, readable ones), the chains the project runs
    itself (``declared``; ``bare``: its ``COMPOSE_FILE``), and notes on what was decided."""
    notes: list[str] = []
    by_path = {f.path: f for f in files}
    labels = {f.path: label(f.path) for f in files}
    referenced = {p for f in files for p in (*f.includes, *f.extends_files)}
    included = {p for f in files for p in f.includes}
    extended = {p for f in files for p in f.extends_files}
    defaults = {posixpath.dirname(f.path): f for f in files if is_default(f.path) and f.complete}
    # A file services extend from (docker-compose.base.yml) is read through them, not on top.
    overlays = [f for f in files if f.path not in included and f.path not in extended
                and (not f.complete or labels[f.path] == "override" or _completes(f, defaults, labels) or _needs(f, defaults, files))]  # fmt: skip
    overlay_paths = {f.path for f in overlays}
    roots = [f for f in files if f.complete and f.path not in overlay_paths and f.path not in included]
    chains: list[_Chain] = []

    def add(chain: _Chain) -> None:
        if all(c.files != chain.files for c in chains):
            chains.append(chain)

    for d in ([bare] if bare else []) + list(declared):
        if all(f in by_path for f in d.files):
            add(_Chain(d.files, _declared_name(d, labels), f"run by {d.source}", d.project, given=True))
        else:
            notes.append(f"{d.source} runs {' + '.join(d.files)}, which are not all Compose files dockergen can read")
    in_declared = {f for c in chains for f in c.files[1:]}
    first_of_declared = {c.files[0] for c in chains}

    default = defaults.get("")
    override = next((o for o in overlays if labels[o.path] == "override" and posixpath.dirname(o.path) == ""), None)
    base_of: dict[str, ComposeFile] = {}
    pending = [o for o in overlays if o.path not in in_declared and not (o is override and bare is None)]
    with ThreadPoolExecutor(max_workers=max(1, min(len(pending), 4))) as pool:
        bases = list(pool.map(lambda o: _base_for(o, roots, labels, accepts, defaults), pending))
    for overlay, base in zip(pending, bases):
        if base is None:
            notes.append(f"{overlay.path}: an overlay, but no complete file has all its services; not an environment")
        else:
            base_of[overlay.path] = base

    # A bare `docker compose up`: the default file of the root folder, with its override.
    if bare is None and default is not None:
        files_up = (default.path, override.path) if override else (default.path,)
        # With a development overlay of its own (compose.dev.yaml, dev/docker-compose.dev.yml),
        # the default file is the other way it runs.
        dev_overlay = any(labels[o] in DEV_LABELS and b is default for o, b in base_of.items())
        name = "prod" if dev_overlay and not override else "dev"
        add(_Chain(files_up, name, "a bare `docker compose up`" + (" (the override is loaded by itself)" if override else "")))
    addons = {o.path for o in pending if o.path in base_of and _is_addon(o, base_of[o.path], labels)}
    plain = [o for o in pending if o.path in base_of and o.path not in addons]
    extends = _overlay_parents(plain, base_of)
    overlay_chain: dict[str, tuple[str, ...]] = {}
    for level in _by_depth([o.path for o in plain], extends):
        # A level's chains extend only shallower ones': the Compose CLI is asked about them all at once.
        accepted = _ask(accepts, [(*overlay_chain[extends[p]], p) for p in level if p in extends])
        for path in level:
            parent = extends.get(path)
            if parent and not accepted.get((*overlay_chain[parent], path), True):
                notes.append(f"{path}: refines {parent}, but the Compose CLI does not accept the two together")
                parent = None
            head = overlay_chain[parent] if parent else (base_of[path].path,)
            overlay_chain[path] = (*head, path)
            why = f"overlay on {' + '.join(head)}" + (f" (it only refines what {parent} sets)" if parent else "")
            name = "dev" if labels[path] in ("override", "") else labels[path]
            add(_Chain(overlay_chain[path], name, why))

    # Roots alone.
    built_on = {base_of[o].path for o in base_of} | first_of_declared
    for f in roots:
        lab = labels[f.path] or folder_name(f.path)
        if f.path in in_declared:
            continue  # a later file of a chain the project runs
        if f is default and bare is None:
            continue  # the bare `docker compose up` above
        if f is default and bare is not None:
            notes.append(f"{f.path}: .env's COMPOSE_FILE says what a bare `docker compose up` runs")
            continue
        if set(tokens(lab)) & BASE_WORDS and (f.path in built_on or f.path in referenced):
            notes.append(f"{f.path}: a shared base (named so, and used as one), not an environment of its own")
            continue
        if f.path in referenced:
            notes.append(f"{f.path}: included or extended by another file, not an environment of its own")
            continue
        if is_default(f.path) and f.path in first_of_declared and all(c.files != (f.path,) for c in chains):
            # (A file named for what it is, docker-compose.test.yml, stays one: it says what it runs.)
            notes.append(f"{f.path}: the project's own commands run it only under overlays, not an environment of its own")
            continue
        add(_Chain((f.path,), lab or "dev", "complete on its own"))
    if default is not None and override is not None and bare is None and default.path not in built_on:
        add(_Chain((default.path,), "prod", "the default file without its override: how the stack runs outside development"))

    # Add-ons, on every chain of their base that has the services they need; one that needs
    # another add-on's services (fleet's agent on fleet) goes on that one's chains instead.
    needs = {path: _missing(by_path[path]) for path in addons}
    for path in _providers_first(sorted(addons), needs, by_path):
        base = base_of[path].path
        providers = {a for a in addons if a != path and set(by_path[a].services) & needs[path]}
        targets = [c for c in list(chains) if c.files[0] == base and set(c.files) & addons <= providers
                   and needs[path] <= {n for f in c.files for n in by_path[f].services}
                   and not _negates(c.name, labels[path])]  # fmt: skip
        on = [(chain, (*chain.files, path)) for chain in targets or [_Chain((base,), "", "")]]
        accepted = _ask(accepts, [files_on for _, files_on in on])
        for chain, files_on in on:
            if not accepted.get(files_on, True):
                notes.append(f"{path}: the Compose CLI does not accept it on {' + '.join(chain.files)}")
                continue
            clash = _port_clash([by_path[f] for f in chain.files], by_path[path])
            if clash:
                notes.append(f"{path}: not offered on {' + '.join(chain.files)}: {clash} (the two cannot run together)")
                continue
            name = labels[path] if len(chain.files) == 1 else f"{chain.name}-{labels[path]}"
            add(_Chain(files_on, name, f"add-on {path} on {' + '.join(chain.files)}"))
    return _sets(chains), notes


def _port_clash(chain: list[ComposeFile], addon: ComposeFile) -> str | None:
    """A service of ``addon`` publishing a literal host port that another service of the chain
    publishes (``noproxy``'s frontend and an ``https`` add-on's proxy both on 80): ``up`` would
    fail, so no team runs them together. Services behind a profile start only when asked."""
    profiled = {n for f in (*chain, addon) for n, s in f.services.items() if isinstance(s, dict) and s.get("profiles")}

    def published(f: ComposeFile) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for name, service in f.services.items():
            ports = service.get("ports") if isinstance(service, dict) and name not in profiled else None
            for port in ports if isinstance(ports, list) else ():
                key = _host_port(port)
                if key:
                    out.setdefault(key, set()).add(name)
        return out

    before: dict[str, set[str]] = {}
    for f in chain:
        for key, names in published(f).items():
            before.setdefault(key, set()).update(names)
    for key, names in sorted(published(addon).items()):
        others = before.get(key, set()) - names
        if others:
            return f"{sorted(names)[0]} and {sorted(others)[0]} both publish host port {key}"
    return None


def _host_port(port: Any) -> str | None:
    """``[ip:]host:container[/proto]`` -> ``ip:host/proto`` when the host port is a literal number."""
    if isinstance(port, dict):
        host, ip, proto = port.get("published"), port.get("host_ip") or "", port.get("protocol") or "tcp"
    else:
        text, _, proto = str(port).partition("/")
        parts = text.rsplit(":", 2)
        if len(parts) < 2 or "$" in text or text.startswith("["):
            return None
        ip, host = (parts[0], parts[1]) if len(parts) == 3 else ("", parts[0])
        proto = proto or "tcp"
    return f"{ip + ':' if ip else ''}{host}/{proto}" if str(host or "").isdigit() else None


def _negates(name: str, addon: str) -> bool:
    """``without-nginx`` is the chain an ``nginx`` add-on does not go on."""
    words, wanted = tokens(name), tokens(addon)
    return any(w in NEGATIONS and words[i + 1 : i + 1 + len(wanted)] == wanted for i, w in enumerate(words))


def _declared_name(chain: DeclaredChain, labels: dict[str, str]) -> str:
    last = labels.get(chain.files[-1], "")
    if last not in ("", "override") and kind_of(last):
        return last
    # `make prod-up` names prod; `up.sh`, `make start` name an action, not an environment.
    # A chain nothing names (`COMPOSE_FILE` in .env) is named by its files below.
    name = chain.name or ""
    words = [w for w in tokens(name) if w not in ACTION_WORDS]
    if words and not name.startswith("."):
        return name if len(words) == len(tokens(name)) else "-".join(words)
    folder = folder_name(chain.files[-1])
    return last if last not in ("", "override") else (folder or "dev")


def _sets(chains: list[_Chain]) -> list[EnvironmentSet]:
    """Names in the order the chains were found (the project's own first), parents (the
    longest chain that is a prefix) shortest chains first."""
    out: list[EnvironmentSet] = []
    taken: set[str] = set()
    names = {c.files: _unique(env_name(c.name), taken) for c in chains}
    by_files: dict[tuple[str, ...], EnvironmentSet] = {}
    for chain in sorted(chains, key=lambda c: len(c.files)):
        name = names[chain.files]
        parent = next((by_files[chain.files[:n]] for n in range(len(chain.files) - 1, 0, -1) if chain.files[:n] in by_files), None)
        kind = kind_of(name) or (parent.kind if parent else None)
        engine = _engine(name, parent.engine if parent else None)
        env = EnvironmentSet(name, chain.files, parent.name if parent else None, kind, engine, chain.given, chain.why, chain.project)
        by_files[chain.files] = env
        out.append(env)
    order = {c.files: i for i, c in enumerate(chains)}
    return sorted(out, key=lambda e: order[e.files])


def _completes(f: ComposeFile, defaults: dict[str, ComposeFile], labels: dict[str, str]) -> bool:
    """A file named as a variant of the default one next to it (``compose.ci.yaml``), with some
    or all of its services and no project name of its own: an overlay even when its services
    look complete (``web: {image: x:1.2}``)."""
    base = defaults.get(posixpath.dirname(f.path))
    if base is None or base.path == f.path or f.name or labels[f.path] == "":
        return False
    stem = posixpath.basename(base.path).lower().split(".")[0]
    if not re.match(rf"{re.escape(stem)}[._-]", posixpath.basename(f.path).lower()):
        return False  # podman-compose.yml is a file of its own, compose.ci.yaml a variant of compose.yaml
    return set(f.services) <= set(base.services) and not _restates(f, base)


def _restates(f: ComposeFile, base: ComposeFile) -> bool:
    """A complete file that repeats much of what it sets with the default file's own values
    (``docker-compose-non-dev.yml``: the same services, container names, users, restart
    policies, with a build for the image) is a copy run on its own (``-f`` it alone), not an
    overlay: an overlay only writes what it changes (a few repeats are habit)."""
    if not f.complete:
        return False
    mine = _leaf_values(f.services)
    theirs = _leaf_values(base.services)
    same = sum(1 for path, value in mine.items() if theirs.get(path, mine) == value)
    return same >= 8 and same * 3 >= len(mine)


def _leaf_values(data: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if isinstance(data, dict) and data:
        out: dict[tuple[str, ...], Any] = {}
        for key, value in data.items():
            out.update(_leaf_values(value, (*prefix, str(key))))
        return out
    return {prefix: repr(data)}


def _needs(f: ComposeFile, defaults: dict[str, ComposeFile], files: list[ComposeFile]) -> bool:
    """Services that need services the default file next to it (or, from a folder without
    one such as ``overrides/``, the root's) defines (``depends_on``, ``links``, ``volumes_from``,
    ``network_mode: service:``), the rest coming from other files run with it: it is run on
    top of that file."""
    base = defaults.get(posixpath.dirname(f.path)) or defaults.get("")
    if base is None or base.path == f.path:
        return False
    missing = _missing(f)
    if missing:
        others = {name for g in files if g.path != f.path for name in g.services}
        return bool(missing & set(base.services)) and missing <= set(base.services) | others
    undeclared = _undeclared(f)  # networks and volumes its services use that only the default file declares
    return bool(undeclared) and all(name in (base.data.get(key) or {}) for key, name in undeclared)


def _undeclared(f: ComposeFile) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for service in f.services.values():
        if not isinstance(service, dict):
            continue
        networks = service.get("networks")
        for name in networks if isinstance(networks, (list, dict)) else ():
            out.add(("networks", str(name)))
        for volume in service.get("volumes") or [] if isinstance(service.get("volumes"), list) else ():
            source = volume.get("source") if isinstance(volume, dict) and volume.get("type", "volume") == "volume" else (
                volume.split(":", 1)[0] if isinstance(volume, str) and ":" in volume else None)
            if isinstance(source, str) and source and not source.startswith((".", "/", "~", "$")):
                out.add(("volumes", source))
    return {(key, name) for key, name in out if name != "default" and name not in (f.data.get(key) or {})}


def _missing(f: ComposeFile) -> set[str]:
    """The services ``f``'s services need that ``f`` does not define."""
    return {name for service in f.services.values() for name in _references(service)} - set(f.services)


def _providers_first(paths: list[str], needs: dict[str, set[str]], by_path: dict[str, ComposeFile]) -> list[str]:
    """Add-ons ordered so that one providing services another needs comes before it (the
    chains it makes are there to put the other on); a cycle keeps the given order."""
    out: list[str] = []
    visiting: set[str] = set()

    def visit(path: str) -> None:
        if path in out or path in visiting:
            return
        visiting.add(path)
        for other in paths:
            if other != path and set(by_path[other].services) & needs[path]:
                visit(other)
        visiting.discard(path)
        out.append(path)

    for path in paths:
        visit(path)
    return out


def _references(service: Any) -> set[str]:
    if not isinstance(service, dict):
        return set()
    depends = service.get("depends_on")
    out = {str(d) for d in depends} if isinstance(depends, (list, dict)) else set()
    for key in ("links", "volumes_from"):
        items = service.get(key)
        out |= {str(i).split(":")[0] for i in items if not str(i).startswith("container:")} if isinstance(items, list) else set()
    mode = service.get("network_mode")
    if isinstance(mode, str) and mode.startswith("service:"):
        out.add(mode[8:])
    return out


def _is_addon(overlay: ComposeFile, base: ComposeFile, labels: dict[str, str]) -> bool:
    """Services of its own, and a name that is no kind of environment (``monitoring``)."""
    own = set(overlay.services) - set(base.services) - set(overlay.partial_services)
    return bool(own) and kind_of(labels[overlay.path]) is None and "podman" not in tokens(labels[overlay.path])


def _leaves(data: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    if isinstance(data, dict) and data:
        out: set[tuple[str, ...]] = set()
        for key, value in data.items():
            out |= _leaves(value, (*prefix, str(key)))
        return out
    return {prefix}


def _overlay_parents(overlays: list[ComposeFile], base_of: dict[str, ComposeFile]) -> dict[str, str]:
    """overlay -> the overlay whose chain it extends: it sets nothing its base and that one
    do not, and something only that one sets (and not the other way round). Compose loads an
    override only when no ``-f`` is given: a chain named with ``-f`` never goes through it."""
    leaves = {o.path: _leaves(o.services) for o in overlays}
    base_leaves = {b.path: _leaves(b.services) for b in base_of.values()}
    out: dict[str, str] = {}
    for o in overlays:
        base = base_of[o.path].path
        best = None
        for p in overlays:
            if p is o or base_of[p.path].path != base or label(p.path) == "override":
                continue
            mine, theirs, under = leaves[o.path], leaves[p.path], base_leaves[base]
            refines = mine <= theirs | under and mine & (theirs - under)
            mutual = theirs <= mine | under
            if refines and not mutual:
                score = len(mine & (theirs - under))
                if best is None or score > best[0]:
                    best = (score, p.path)
        if best is not None:
            out[o.path] = best[1]
    # Cycles cannot be chains: keep only parents that lead back to the base.
    for path in list(out):
        seen = {path}
        node = out.get(path)
        while node is not None and node not in seen:
            seen.add(node)
            node = out.get(node)
        if node is not None:
            out.pop(path, None)
    return out


def _by_depth(paths: list[str], parents: dict[str, str]) -> list[list[str]]:
    """``paths`` by how many parents each has, shallowest first, in their order within a level."""

    def depth(path: str) -> int:
        n = 0
        while path in parents:
            path, n = parents[path], n + 1
        return n

    levels: dict[int, list[str]] = {}
    for path in paths:
        levels.setdefault(depth(path), []).append(path)
    return [levels[d] for d in sorted(levels)]


def _ask(accepts: Accepts | None, chains: list[tuple[str, ...]]) -> dict[tuple[str, ...], bool]:
    """Whether ``accepts`` each chain, asked concurrently (each is a Compose CLI call); empty
    without ``accepts``. The callers read the answers in their own order."""
    if accepts is None or not chains:
        return {}
    with ThreadPoolExecutor(max_workers=min(len(chains), 4)) as pool:
        return dict(zip(chains, pool.map(accepts, chains)))


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
    roots: list[ComposeFile],
    labels: dict[str, str],
    accepts: Accepts | None,
    defaults: dict[str, ComposeFile],
) -> ComposeFile | None:
    folder = posixpath.dirname(overlay.path)
    if labels[overlay.path] == "override" and folder in defaults:
        return defaults[folder]
    needed = set(overlay.partial_services)
    own_words = set(tokens(labels[overlay.path])) - {"docker", "compose"}
    ranked = []
    for candidate in roots:
        if candidate.path == overlay.path:
            continue
        names = set(candidate.services)
        if not needed <= names:
            continue
        coverage = len(set(overlay.services) & names)
        words = set(tokens(labels[candidate.path])) - {"docker", "compose"}
        shared = len(own_words & words) / max(1, len(own_words | words))
        same_folder = posixpath.dirname(candidate.path) == folder
        ranked.append((-coverage, -shared, not same_folder, not is_default(candidate.path), candidate.path, candidate))
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
