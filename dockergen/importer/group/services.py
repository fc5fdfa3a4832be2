"""One canonical service per logical service, across environments.

Sprawls name one service differently per stack (``dev-postgres``, ``test-postgres``,
``alpine-test-postgres``, ``postgres``). A service's canonical name is its name without
the words of its environment (the environment's name, its files' labels and the synonyms
of its kind) at either end, when a service of another name becomes that name too; two
names are also one service when they build the same Dockerfile and never run in the same
environment. A name that would collide with another
service of the same environment is kept as it is.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from dockergen.importer.environments.infer import KIND_WORDS, tokens
from dockergen.spec.model import is_valid_name


@dataclass(frozen=True)
class EnvServices:
    env: str
    words: tuple[frozenset[str], frozenset[str]]  # (the environment's own words, its kind's synonyms)
    services: tuple[str, ...]  # original names
    dockerfiles: dict[str, str]  # original name -> Dockerfile it builds (root-relative)


@dataclass(frozen=True)
class Grouping:
    canonical: dict[tuple[str, str], str]  # (env, original name) -> canonical name
    order: tuple[str, ...]  # canonical names, first seen first
    why: dict[str, str]  # canonical name -> how its names were unified (if they were)

    def renamed(self) -> dict[tuple[str, str], str]:
        return {k: v for k, v in self.canonical.items() if k[1] != v}


def env_words(env_name: str, file_labels: list[str], kind: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """What a service name may carry to say "this environment": the environment's own words
    (its name, its files' labels), and, weaker, the usual synonyms of its kind."""
    own = set(tokens(env_name))
    for lab in file_labels:
        own |= set(tokens(lab))
    own -= {"docker", "compose"}
    weak = set(KIND_WORDS.get(kind or "", set())) & {"dev", "development", "local", "test", "testing", "staging", "stage", "prod", "production"}
    return frozenset(own), frozenset(weak - own)


def strip_words(name: str, words: frozenset[str]) -> str:
    """``alpine-test-postgres`` without {alpine, test} -> ``postgres`` (never empty)."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"[^-_.]+", name)]
    first, last = 0, len(spans) - 1
    while first < last:
        if name[spans[first][0] : spans[first][1]].lower() in words:
            first += 1
        elif name[spans[last][0] : spans[last][1]].lower() in words:
            last -= 1
        else:
            break
    return name[spans[first][0] : spans[last][1]] if spans else name


def sanitize(name: str) -> str:
    out = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
    if not out or not out[0].isalpha():
        out = f"s-{out}" if out else "service"
    return out[:63]


def _distinct(names: dict[str, str]) -> dict[str, str]:
    """``names`` (original -> spec name) with no spec name taken twice: ``db`` and ``DB``, or
    ``web.app`` and ``web-app``, are two services of one environment however they sanitize;
    an original already so spelled keeps its name, the others get ``-2``, ``-3`` ..."""
    taken = Counter(names.values())
    out: dict[str, str] = {}
    for original in sorted(names, key=lambda o: (names[o] != o, o)):  # a name already right keeps it
        name = names[original]
        if name in out.values():
            n = 2
            while (candidate := f"{name[: 63 - len(str(n)) - 1]}-{n}") in taken or candidate in out.values():
                n += 1
            name = candidate
        out[original] = name
    return {original: out[original] for original in names}


def group(envs: list[EnvServices]) -> Grouping:
    canonical: dict[tuple[str, str], str] = {}
    why: dict[str, str] = {}
    for env in envs:
        own, weak = env.words
        strong = {name: sanitize(strip_words(name, own)) for name in env.services}
        counts = Counter(strong.values())
        chosen = _distinct({n: (c if counts[c] == 1 else sanitize(n)) for n, c in strong.items()})
        weaker = {n: sanitize(strip_words(c, weak)) for n, c in chosen.items()}
        counts = Counter(chosen.values()) + Counter(w for n, w in weaker.items() if w != chosen[n])
        for name in env.services:
            candidate = weaker[name]
            canonical[(env.env, name)] = candidate if candidate == chosen[name] or counts[candidate] == 1 else chosen[name]
    # Stripping is for unifying names: where every service it would rename has the one same
    # name, that name stays (`fleet-server` of the `fleet` add-on's chains is not `server`).
    names_of: dict[str, set[str]] = {}
    for (_, name), c in canonical.items():
        names_of.setdefault(c, set()).add(name)
    used = {(env_name, c) for (env_name, _), c in canonical.items()}  # not a name another service of the environment has
    for (env_name, name), c in canonical.items():
        if c != sanitize(name) and names_of[c] == {name} and (env_name, sanitize(name)) not in used:
            canonical[(env_name, name)] = sanitize(name)
    # Names that build the same Dockerfile and never share an environment are one service.
    present: dict[str, set[str]] = {}
    builds: dict[str, set[str]] = {}
    for env in envs:
        for name in env.services:
            c = canonical[(env.env, name)]
            present.setdefault(c, set()).add(env.env)
            if name in env.dockerfiles:
                builds.setdefault(env.dockerfiles[name], set()).add(c)
    alias: dict[str, str] = {}

    def find(c: str) -> str:
        while c in alias:
            c = alias[c]
        return c

    for dockerfile, names in sorted(builds.items()):
        roots = sorted({find(c) for c in names}, key=lambda c: (-len(present[c]), len(c), c))
        keep = roots[0]
        for other in roots[1:]:
            if present[keep] & present[other]:
                continue
            alias[other] = keep
            present[keep] |= present.pop(other)
            why[keep] = why.get(keep, "") + f"{other} builds the same {dockerfile} in other environments; "
    order: list[str] = []
    for env in envs:
        for name in sorted(env.services):
            c = find(canonical[(env.env, name)])
            canonical[(env.env, name)] = c
            if c not in order:
                order.append(c)
    for (env_name, original), c in canonical.items():
        if original != c:
            why.setdefault(c, "")
    assert all(is_valid_name(c) for c in order)
    return Grouping(canonical, tuple(order), {k: v.strip("; ") for k, v in why.items()})
