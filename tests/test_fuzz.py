"""Mutated specs never crash: every bundled spec, mutated in its data (wrong types,
removed keys, values moved elsewhere) and in its text (YAML punctuation inserted, lines
cut and repeated), either renders or fails with a located ``DockergenError``. Seeds are
fixed, so a failure here reproduces. A longer run of the same mutators (10,000 data and
3,000 text mutants) found one crash, an environment naming an unknown flavour, now
reported as an error (tests/test_errors.py)."""

from __future__ import annotations

import copy
import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from dockergen.errors import DockergenError
from dockergen.pipeline import render

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted([*ROOT.glob("examples/*/dockergen.yaml"), ROOT / "specs" / "reference.yaml"])
MUTANTS = 80

ODD_VALUES: list[Any] = [
    0, -1, 65536, 10**20, 1.5, True, False, None, "", " ", "a b", "${", "${X:?}", "$$", "../../etc", "/abs",
    "x\ny", "\t", "é", "-", "--flag", "*", "1G", "30s", [], {}, [None], [1, "a"], {"a": None}, {"": 1},
    "python", "node", "generic", "alpine", "service_healthy", "dev", "prod", "podman",
]  # fmt: skip
YAML_BITS = [":", "-", " ", "\n", "\t", "&a", "*a", "<<: *a", "!!str", "!tag", "'", '"', "{", "}", "[", "]", "#", "|", ">", "---\n", "? ", "\\", "~", "0x", "1e9"]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found += _paths(value, (*prefix, key))
    return found


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def mutate_data(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        paths = _paths(data)
        path = rng.choice(paths)
        parent, key = _at(data, path[:-1]), path[-1]
        roll = rng.random()
        if roll < 0.35:
            parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif roll < 0.55:
            del parent[key]
        elif roll < 0.8:
            parent[key] = copy.deepcopy(_at(data, rng.choice(paths)))  # a value from elsewhere
        elif isinstance(parent, dict):
            parent[rng.choice(["dev", "prod", "test", f"x{key}"])] = copy.deepcopy(_at(data, rng.choice(paths)))
    return data


def mutate_text(text: str, rng: random.Random, bits: list[str] = YAML_BITS) -> str:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(text))
        roll = rng.random()
        if roll < 0.4:
            text = text[:at] + rng.choice(bits) + text[at:]
        elif roll < 0.7:
            text = text[:at] + text[at + rng.randint(1, 20) :]
        else:
            start = rng.randrange(len(text))
            text = text[:at] + text[start : start + rng.randint(1, 200)] + text[at:]
    return text


@pytest.fixture(params=SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The spec in a copy of its folder (so build contexts resolve)."""
    spec: Path = request.param
    copied = tmp_path / spec.relative_to(ROOT)
    shutil.copytree(spec.parent, copied.parent)
    return copied


def _renders_or_reports(spec: Path, text: str) -> None:
    spec.write_text(text, encoding="utf-8")
    try:
        render(spec)
    except DockergenError as exc:
        assert exc.problems and all(p.location is not None for p in exc.problems)


def test_mutated_data_renders_or_is_reported(project: Path) -> None:
    from ruamel.yaml import YAML

    original = YAML(typ="safe").load(project.read_text(encoding="utf-8"))
    for seed in range(MUTANTS):
        mutant = mutate_data(original, random.Random(f"{project.parent.name}/{project.name}/{seed}"))
        _renders_or_reports(project, json.dumps(mutant))


def test_mutated_text_renders_or_is_reported(project: Path) -> None:
    original = project.read_text(encoding="utf-8")
    for seed in range(MUTANTS):
        _renders_or_reports(project, mutate_text(original, random.Random(f"{project.parent.name}/{project.name}/{seed}")))


# ---- import and absorb inputs ---------------------------------------------------------

IMPORT_MUTANTS = 60
# Mutants that still find a bug (exit 3), each a strict expectation: when the bug is fixed
# the test fails until the entry is removed. (Seed 31, a `ports: CMD` carried into a spec
# that did not render, now goes to the escape hatch, then out: tests/test_import_never_exit_3.py.)
IMPORT_KNOWN_BUGS: dict[int, str] = {}
ABSORB_MUTANTS = 40
DOCKERFILE_BITS = ["\\\n", "\n", "RUN ", "FROM ", " AS ", "<<EOF\n", "EOF\n", "$", "${X:-", "#", '"', "'", "[", "]",
                   "ARG ", "COPY --from=", "\t", "\r\n", "\0", "é", "ONBUILD ", "# syntax=docker/dockerfile:1\n"]  # fmt: skip
SPRAWL = {
    "docker-compose.yml": (
        "services:\n  web:\n    build: {context: ., dockerfile: Dockerfile}\n    image: shop/web:${TAG:-dev}\n"
        "    ports: ['8000:8000']\n    environment: {DATABASE_URL: 'postgres://app@db/app', LOG_LEVEL: info}\n"
        "    env_file: [.env]\n    depends_on: [db]\n  db:\n    image: postgres:16-alpine\n"
        "    volumes: ['db-data:/var/lib/postgresql/data']\n    healthcheck: {test: [CMD, pg_isready], interval: 10s}\n"
        "volumes:\n  db-data: {}\n"
    ),
    "docker-compose.override.yml": "services:\n  web:\n    volumes: ['.:/app']\n    environment: {LOG_LEVEL: debug}\n",
    "docker-compose.prod.yml": "services:\n  web:\n    restart: always\n    deploy: {resources: {limits: {memory: 512M}}}\n",
    "Dockerfile": (
        "FROM python:3.12-slim AS base\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
        "FROM base AS prod\nCOPY . .\nUSER 10001\nEXPOSE 8000\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]\n"
    ),
    ".env": "TAG=1\nPOSTGRES_PASSWORD=x\n",
    "requirements.txt": "flask\ngunicorn\n",
}


class Hang(Exception):
    pass


@pytest.fixture
def deadline() -> Any:
    """Turns a hang into a failure: each call gets ``seconds`` before SIGALRM fires."""
    import signal

    def expire(signum: int, frame: object) -> None:
        raise Hang

    previous = signal.signal(signal.SIGALRM, expire)

    def arm(seconds: int) -> None:
        signal.alarm(seconds)

    yield arm
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _mutated_data(data: Any, rng: random.Random) -> Any:
    try:
        return mutate_data(data, rng)
    except IndexError:  # every value was deleted along the way
        return {}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_mutated_import_inputs_import_or_are_reported(tmp_path: Path, deadline: Any) -> None:
    """Each mutant changes one file of a small sprawl (a Compose file's text or data, the
    Dockerfile, the .env); ``import`` then writes a spec and a report or reports a located
    problem and writes nothing. No crash, no hang."""
    from ruamel.yaml import YAML

    from dockergen.commands.import_ import import_

    for seed in range(IMPORT_MUTANTS):
        rng = random.Random(f"import/{seed}")
        root = tmp_path / f"sprawl-{seed}"
        root.mkdir()
        for name, text in SPRAWL.items():
            (root / name).write_text(text, encoding="utf-8")
        target = rng.choice(sorted(SPRAWL))
        if target == "Dockerfile" or target == ".env":
            mutant = mutate_text(SPRAWL[target], rng, DOCKERFILE_BITS)
        elif rng.random() < 0.5:
            mutant = mutate_text(SPRAWL[target], rng)
        else:
            mutant = json.dumps(_mutated_data(YAML(typ="safe").load(SPRAWL[target]), rng))
        (root / target).write_text(mutant, encoding="utf-8", errors="surrogateescape")
        before = _files(root)
        deadline(60)
        try:
            code = import_(root, compose_sets=[], out=None, report=root / "MIGRATION.md", run_verify=False, force=False, use_cli=False, verbose=False)
        except DockergenError as exc:
            assert exc.problems and all(p.location is not None for p in exc.problems), (target, mutant)
            assert _files(root) == before, f"a failed import wrote files ({target}: {mutant!r})"
        except Hang:
            pytest.fail(f"import hung on a mutated {target}: {mutant!r}")
        else:
            if seed in IMPORT_KNOWN_BUGS:
                assert code == 3, f"seed {seed} is fixed: remove it from IMPORT_KNOWN_BUGS"
                assert _files(root) == before, "exit 3 wrote files"
                continue
            assert code in (0, 1) and (root / "dockergen.yaml").is_file(), (target, mutant, code)
        finally:
            deadline(0)


def test_mutated_absorb_inputs_are_absorbed_or_reported_and_nothing_is_half_written(tmp_path: Path, deadline: Any) -> None:
    """Each mutant edits one generated Compose file of a rendered example (its text or
    its data); ``absorb`` either takes the edit into the spec (exit 0) or refuses it with
    exit 1 or a located problem, and then leaves every file exactly as it was."""
    from ruamel.yaml import YAML

    from dockergen.commands.absorb import absorb
    from dockergen.write import write_files

    rendered_tree = tmp_path / "rendered"
    shutil.copytree(ROOT / "examples" / "fastapi-celery", rendered_tree)
    write_files(rendered_tree, render(rendered_tree / "dockergen.yaml").files)
    composes = sorted(p.name for p in rendered_tree.glob("compose*.yaml"))
    for seed in range(ABSORB_MUTANTS):
        rng = random.Random(f"absorb/{seed}")
        root = tmp_path / f"absorb-{seed}"
        shutil.copytree(rendered_tree, root)
        target = rng.choice(composes)
        text = (root / target).read_text(encoding="utf-8")
        if rng.random() < 0.5:
            mutant = mutate_text(text, rng)
        else:
            data = YAML(typ="safe").load(text) or {}
            mutant = "\n".join(text.split("\n")[:2]) + "\n" + json.dumps(_mutated_data(data, rng))
        (root / target).write_text(mutant, encoding="utf-8")
        before = _files(root)
        deadline(60)
        try:
            code = absorb(root / "dockergen.yaml", [target], dry_run=False)
        except DockergenError as exc:
            assert exc.problems and all(p.location is not None for p in exc.problems), (target, mutant)
            code = 2
        except Hang:
            pytest.fail(f"absorb hung on a mutated {target}: {mutant!r}")
        finally:
            deadline(0)
        if code != 0:
            assert _files(root) == before, f"absorb exit {code} changed files ({target}: {mutant!r})"
        shutil.rmtree(root)
