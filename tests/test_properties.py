"""Property: no spec string adds a line, an instruction, a key or a service to any
generated file.

Every string place of the spec is found from the model itself (a field typed ``str``, a
``list[str]`` item, a ``dict[str, ...]`` key or value, anything under an ``Any``), so a
new field is covered the day it is added. Hypothesis puts hostile text there (line breaks
of every kind, NUL and control characters, non-ASCII digits, quotes, ``$``, ``\\``, ``#``,
``: ``, ``<<EOF``, a leading ``-``) and the render must either fail with located errors
(never a traceback) or write files that mean what the same spec with a harmless value
in that place means: the same Dockerfile instructions for BuildKit's parser, the same
keys and services for YAML 1.1 and 1.2 readers and, in one batch at the end, for
``docker-compose config``, the same keys and list items of the Bake file for python-hcl2,
the same ``.env.example`` assignments for Compose's dotenv reader, and ``.gitattributes`` lines that git reads as marking exactly the generated files.

Every place gets a few classic attacks (``CLASSIC``), then hypothesis searches places and
texts at random. Deterministic (derandomized, fixed example count) so that CI runs the same
cases each time; ``DOCKERGEN_PROPERTY_EXAMPLES=5000`` runs a longer search.
"""

from __future__ import annotations

import concurrent.futures
import copy
import functools
import json
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dockerfile
import hcl2
import pytest
import yaml as pyyaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from dockergen.errors import DockergenError
from dockergen.fingerprint import gitattributes_block
from dockergen.pipeline import Rendered, render
from dockergen.render import dotenv, support
from dockergen.render.comment import comment_lines
from dockergen.spec import model
from dockergen.spec.validate import alternatives
from dockergen.text import forbidden_character
from tests.tools import compose

EXAMPLES = int(os.environ.get("DOCKERGEN_PROPERTY_EXAMPLES", "300"))
PROFILE = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Every render's folder goes here; the test makes it and removes it.
WORK = os.path.join(tempfile.gettempdir(), f"dockergen-property-{os.getpid()}")

# A spec holding every model of the spec at least once (test_the_base_spec_holds_every_model),
# with values that render: each string place below it starts from a valid value.
BASE: dict[str, Any] = {
    "version": 1,
    "project": "demo",
    "engines": {"compose": "2.20", "docker": "24.0", "podman": "4.9", "buildah": "1.33"},
    "output": {"compose_file": "compose.yaml", "overlay": "compose.{env}.yaml", "env_example": ".env.example", "snapshots": "snapshots", "kubernetes": "k8s", "bake": "docker-bake.hcl"},
    "oci": {
        "source": "https://example.com/demo", "version": "1.0", "url": "https://example.com", "documentation": "https://example.com/docs",
        "vendor": "Example", "licenses": "MIT", "authors": "Team <team@example.com>",
    },
    "defaults": {"logging": {"driver": "json-file", "options": {"max-size": "10m"}}, "build_options": {"no_cache": False}},
    "environments": {
        "dev": {"description": "local", "defaults": {"labels": {"tier": "dev"}}},
        "prod": {"compose_file": "compose.production.yaml", "project": "demo-prod", "flavour": "slim", "kubernetes": {"namespace": "demo"},
                 "defaults": {"build_options": {"cache_to": ["type=registry,ref=example.com/demo/cache,mode=max"]}}},
    },
    "services": {
        "api": {
            "description": "the API",
            "build": {
                "family": "python",
                "context": "api",
                "image": "demo/api:${TAG:-latest}",
                "port": 8000,
                "workdir": "/app",
                "flavour": "slim",
                "base_image": "python:3.12-slim",
                "env": {"APP_MODE": "on"},
                "labels": {"org.example.team": "core"},
                "secrets": ["token"],
                "ignore": ["*.log"],
                "packages": {"build": ["gcc"], "runtime": ["libpq5"]},
                "user": {"name": "app"},
                "python": {
                    "version": "3.12",
                    "requirements": "requirements.txt",
                    "dev_requirements": "requirements-dev.txt",
                    "test_requirements": "requirements-test.txt",
                    "app": "app.main:app",
                    "dev_command": ["python", "-m", "app"],
                    "test_command": ["pytest"],
                    "prod_command": ["app"],
                },
                "flavours": {"alpine": {"packages": {"runtime": ["libpq"]}}},
                "args": {"PIP_INDEX_URL": "https://pypi.org/simple", "GIT_SHA": {"default": "none", "stages": ["prod"]}},
                "hooks": {
                    "system": ["RUN true"], "before_install": ["RUN true"], "after_install": ["RUN true"], "after_source": ["RUN true"],
                    "stages": {"production": ["RUN true"]},
                },
                "stage_names": {"prod": "production"},
                "prod_exclude": ["tests"],
                "writable": ["/var/log/api"],
                "platforms": ["linux/amd64"],
                "cache_from": ["type=registry,ref=example.com/demo/api:cache"],
                "cache_to": ["type=inline"],
                "ssh": ["default", "keys=~/.ssh/id_ed25519"],
                "tags": ["example.com/demo/api:latest"],
                "network": "host",
                "shm_size": "256m",
                "extra_hosts": ["proxy.internal=10.0.0.5"],
                "pull": True,
                "no_cache": False,
                "privileged": False,
                "isolation": "default",
            },
            "build_options": {"ssh": {"default": "${SSH_AUTH_SOCK}"}, "extra_hosts": {"mirror.internal": ["10.0.0.6"]}, "cache_to": ["type=inline"]},
            "command": ["app", "--serve"],
            "entrypoint": ["tini", "--"],
            "environment": {"MODE": "x", "DSN": "${DSN:-postgres://db/app}"},
            "env_file": ["api.env", {"path": "more.env", "required": False, "format": "raw"}],
            "configs": ["conf", {"source": "conf", "target": "/etc/app.conf", "uid": "1000", "gid": "1000", "mode": 0o440}],
            "watch": [{"action": "sync", "path": "api/app", "target": "/app/app", "ignore": ["*.pyc"]}, {"action": "rebuild", "path": "api/requirements.txt"}],
            "ports": [{"target": 8000, "published": "8000", "host_ip": "127.0.0.1"}],
            "expose": ["9000"],
            "volumes": ["cache:/cache"],
            "data_dir": "/data",
            "depends_on": {"db": {"condition": "service_started"}},
            "healthcheck": {"test": ["CMD", "true"], "interval": "30s", "timeout": "5s", "start_period": "5s", "start_interval": "1s"},
            "resources": {"limits": {"cpus": 1, "memory": "512m"}, "reservations": {"memory": "256m", "devices": [{"capabilities": ["gpu"], "driver": "nvidia", "device_ids": ["0"], "options": {"mode": "x"}}]}},
            "restart": "no",
            "networks": ["back"],
            "profiles": ["app"],
            "labels": {"com.example.role": "api"},
            "user": "10001",
            "tmpfs": ["/tmp"],
            "cap_add": ["NET_BIND_SERVICE"],
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"],
            "stop_grace_period": "10s",
            "stop_signal": "SIGTERM",
            "working_dir": "/app",
            "secrets": ["token"],
            "extra_hosts": ["host.docker.internal:host-gateway"],
            "ulimits": {"nofile": {"soft": 1024, "hard": 2048}},
            "platform": "linux/amd64",
            "userns_mode": "host",
            "compose": {"x-note": "kept"},
            "kubernetes": {"replicas": 2, "storage": "10Gi", "storage_class": "standard", "ingress": {"host": "api.example.com", "path": "/", "class_name": "nginx", "tls_secret": "api-tls"}},
            "environments": {"dev": {"environment": {"DEBUG": "1"}, "build_options": {"ssh": ["default"], "network": "none"}}},
        },
        "web": {
            "build": {
                "family": "node",
                "context": "web",
                "port": 3000,
                "node": {
                    "version": "20",
                    "build_script": "build",
                    "output": "dist",
                    "start": ["node", "server.js"],
                    "dev_command": ["npm", "run", "dev"],
                    "test_command": ["npm", "test"],
                    "nginx_version": "1.27",
                    "install_files": [".npmrc"],
                },
            },
        },
        "worker": {
            "build": {"family": "python", "context": "worker", "port": 8001, "python": {"package_manager": "uv", "app": "app.main:app", "tuning": {"timeout": 30, "keep_alive": 5}}},
        },
        "job": {
            "target": "run",
            "build": {"family": "generic", "context": "job", "stages": [{"name": "run", "from": "alpine:3.20", "steps": ["RUN true"]}]},
        },
        "task": {"build": {"context": "task", "steps": ["ARG BASE=alpine:3.20", "FROM ${BASE} AS run", "RUN true"]}},
        "db": {
            "image": "example/db:1",
            "environment": {"DB_PASSWORD": "${DB_PASSWORD}"},
            "gpus": [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"], "options": {"mode": "x"}}],
            "blkio_config": {"weight": 300, "weight_device": [{"path": "/dev/sda", "weight": 400}], "device_read_bps": [{"path": "/dev/sda", "rate": "12mb"}]},
            "post_start": [{"command": ["touch", "/tmp/up"], "user": "root", "working_dir": "/", "environment": {"PHASE": "start"}}],
            "pre_stop": [{"command": "sync"}],
        },
    },
    "volumes": {"cache": None},
    "networks": {"back": None},
    "secrets": {"token": {"file": "token.txt"}},
    "configs": {"conf": {"file": "conf.txt"}},
    "variables": {"DB_PASSWORD": {"description": "the database password", "default": "", "secret": True}},
    "lint": {"rules": {"DG001": {"severity": "warning", "exclude": ["db"]}}},
}

# Text that some consumer reads as syntax, mixed with arbitrary characters.
FRAGMENTS = [
    "\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\v", "\f", "\x00", "\x1b", "\x7f", "\t", "\ufeff", "\u202e",
    "\ud800", "３", "²", "٣", '"', "'", "`", "$", "$$", "${", "${X}", "${X:-", "}", "{", "{env}", "\\", "#", " #",
    ": ", ":", "- ", "-", "--x", "<<EOF", "EOF", "RUN touch /pwned", "\nRUN touch /pwned", "\nevil: 1", "\n  evil: 1",
    "=", "!", "*", "?", "[", "]", "&a", "*a", "|", ">", "%", "@", ",", ";", "..", "/", "~", " ", "x", "yes", "null",
    "0x1", "1e3", "<<", "é", "\x1c",
]  # fmt: skip
HOSTILE = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.characters(codec="utf-8"), st.characters(max_codepoint=0x7F)),
    max_size=8,
).map("".join)


# ---- string places, from the model ------------------------------------------------------


def _takes_text(annotation: Any) -> bool:
    return any(alt is str or alt is Any for alt in alternatives(annotation))


def _is_model(alt: Any) -> bool:
    return isinstance(alt, type) and issubclass(alt, BaseModel)


@dataclass(frozen=True)
class Place:
    """Where a string goes: ``path`` into the spec data and how (``value``: the string
    itself, ``item``: a one-item list, ``key``: a one-entry mapping's key, ``entry``:
    a one-entry mapping's value, ``entry-item``: the one item of its list, ``last-item``: the
    last item of the list, after the ones BASE has before it, ``filler``)."""

    path: tuple[str | int, ...]
    how: str
    filler: Any = field(default=None, compare=False)  # the value next to a key (a dict is no hash key)
    key: str = "k"  # the key next to a value

    def apply(self, spec: dict[str, Any], text: str) -> dict[str, Any]:
        spec = copy.deepcopy(spec)
        node = spec
        for part in self.path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
        value = {"value": text, "item": [text], "key": {text: self.filler}, "entry": {self.key: text}, "entry-item": {self.key: [text]},
                 "last-item": [*(self.filler or ()), text]}[self.how]  # fmt: skip
        node[self.path[-1]] = value
        return spec

    def __str__(self) -> str:
        return ".".join(map(str, self.path)) + (f" ({self.how} of {self.key})" if self.how.startswith("entry") else f" ({self.how})")

    def as_name(self, text: str) -> str | None:
        """``text`` when the files may carry it as a name (a key, a list item that becomes
        one such as a network, a flavour), else None."""
        return text if self.how in ("key", "item") or self.path[-1] == "flavour" else None


def _filler(annotation: Any) -> Any:
    alts = alternatives(annotation)
    if str in alts:
        return "v"
    if any(_is_model(alt) for alt in alts):
        return {}
    return None


def _places_of_field(path: tuple[str | int, ...], annotation: Any, present: Any) -> list[Place]:
    """``present``: the field's value in BASE (a mapping's own key is the one it has, a
    stage's hooks are keyed by a stage that exists)."""
    places = []
    alts = alternatives(annotation)
    if _takes_text(annotation):
        places.append(Place(path, "value"))
    for alt in alts:
        origin, args = typing.get_origin(alt), typing.get_args(alt)
        if origin is list and _takes_text(args[0]) and path[-2:-1] == ("build",) and path[-1] == "steps":
            # A build's `steps` is a whole Dockerfile: a step after BASE's FROM (only where BASE has them: any other build refuses them).
            places += [Place(path, "last-item", tuple(present[:-1]))] if isinstance(present, list) else []
        elif origin is list and _takes_text(args[0]):
            places.append(Place(path, "item"))
        elif origin is dict:
            if _takes_text(args[0]):
                places.append(Place(path, "key", _filler(args[1])))
            names = typing.get_args(args[0]) if typing.get_origin(args[0]) is typing.Literal else (next(iter(present), "k") if isinstance(present, dict) else "k",)
            if _takes_text(args[1]):
                places += [Place(path, "entry", key=name) for name in names]  # every key a Literal allows
            if any(typing.get_origin(a) is list and _takes_text(typing.get_args(a)[0]) for a in alternatives(args[1])):
                places += [Place(path, "entry-item", key=name) for name in names]
    return places


def _instances(data: Any, annotation: Any, path: tuple[str | int, ...] = ()) -> list[tuple[type[BaseModel], tuple[str | int, ...]]]:
    """Every model instance in ``data`` (typed ``annotation``) with its path."""
    found = []
    for alt in alternatives(annotation):
        origin, args = typing.get_origin(alt), typing.get_args(alt)
        if _is_model(alt) and isinstance(data, dict):
            found.append((alt, path))
            for name, info in alt.model_fields.items():
                key = info.alias or name
                if key in data:
                    found += _instances(data[key], info.annotation, (*path, key))
            break
        if origin is dict and isinstance(data, dict):
            for key, value in data.items():
                found += _instances(value, args[1], (*path, key))
            break
        if origin is list and isinstance(data, list):
            for index, value in enumerate(data):
                found += _instances(value, args[0], (*path, index))
            break
    return found


@functools.lru_cache(maxsize=1)
def places() -> tuple[Place, ...]:
    found: dict[str, Place] = {}
    for cls, path in _instances(BASE, model.Spec):
        data: Any = BASE
        for part in path:
            data = data[part]
        for name, info in cls.model_fields.items():
            key = info.alias or name
            for place in _places_of_field((*path, key), info.annotation, data.get(key)):
                found.setdefault(str(place), place)
    return tuple(found.values())


def test_the_base_spec_renders(tmp_path: Path) -> None:
    """Else every hostile render fails too, and the property holds of nothing."""
    rendered = render_in(tmp_path, BASE)
    assert isinstance(rendered, Rendered), [p.render() for p in rendered.problems]
    assert {f.kind for f in rendered.files} >= {"dockerfile", "compose", "overlay", "snapshot", "dockerignore", "env-example", "bake", "kubernetes"}


def test_the_base_spec_holds_every_model() -> None:
    """So that every field of every model is a string place the property reaches."""
    # `Model` and the private bases (`_DeviceRequest`) only lend fields to the models a spec holds.
    declared = {value for value in vars(model).values() if _is_model(value) and value.__module__ == model.__name__
                and value is not model.Model and not value.__name__.startswith("_")}  # fmt: skip
    held = {cls for cls, _ in _instances(BASE, model.Spec)}
    assert declared - held == set(), "add an instance of these models to BASE"
    assert len(places()) > 150


# ---- rendering and what the files say ----------------------------------------------------


@dataclass(frozen=True)
class Meaning:
    """What a render's files say, with the place's own text (a key, a file or environment
    name) shown as ``PLACEHOLDER`` wherever it is a whole name."""

    dockerfiles: dict[str, tuple[str, ...]]  # dockerfile/<service>/<flavour> -> instruction names
    yaml_keys: dict[str, frozenset[str]]  # <kind>/<env> -> every key path
    files: tuple[str, ...]  # <kind>/<env or service/flavour> of every file
    bake: frozenset[str] = frozenset()  # every key and list item of the Bake file, as python-hcl2 reads it
    # Kubernetes manifests (path in the folder -> every key path): compared apart, since many
    # of their keys are made from values (a numeric user, an os/arch platform, a network name).
    manifests: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)


PLACEHOLDER = "<the value>"


# The files BASE's builds copy by name (a context that holds them must hold them all).
CONTEXT_FILES = (
    "api/requirements.txt", "api/requirements-dev.txt", "api/requirements-test.txt", "api/tests/test_app.py",
    "web/package.json", "web/package-lock.json", "web/.npmrc", "worker/pyproject.toml", "worker/uv.lock", "job/.keep",
)  # fmt: skip


def render_in(directory: Path, spec: dict[str, Any]) -> Rendered | DockergenError:
    for name in CONTEXT_FILES:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text("")
    (directory / "dockergen.yaml").write_text(as_yaml(spec))
    try:
        return render(directory / "dockergen.yaml")
    except DockergenError as exc:
        return exc


def as_yaml(spec: dict[str, Any]) -> str:
    """JSON (which is YAML: its escapes keep every character as written), but a character
    beyond U+FFFF as YAML's one ``\\U`` escape: JSON's surrogate pair would be two lone
    surrogates to a YAML reader."""
    return _PAIR.sub(lambda m: m[1] + f"\\U{0x10000 + (int(m[2], 16) - 0xD800) * 0x400 + int(m[3], 16) - 0xDC00:08x}", json.dumps(spec))


_PAIR = re.compile(r"(?<!\\)((?:\\\\)*)\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})")


def meaning(rendered: Rendered, text: str | None, names: frozenset[str] = frozenset()) -> Meaning:
    """``text`` (a key, an environment or flavour name) is shown as PLACEHOLDER where it is
    a whole name that is not one of ``names``, the names the spec has anyway."""

    def shown(name: Any) -> str:
        return PLACEHOLDER if text is not None and name == text and name not in names else str(name)

    by_path = {plan.dockerfile: f"{plan.service}/{shown(plan.flavour)}" for plan in rendered.project.images}
    targets = {f"{service}-{env}": f"{shown(service)}-{shown(env)}" for env, resolved in rendered.project.environments.items() for service in resolved.services}
    dockerfiles, yaml_keys, manifests, env_names, files, referenced, bake = {}, {}, {}, [], [], set(), frozenset()
    for f in rendered.files:
        f.content.encode("utf-8")  # the writer will have to
        label = f"{f.kind}/{shown(f.env) if f.env else by_path.get(f.path, '')}"
        if f.kind == "kubernetes":
            if f.path.endswith(".yaml"):
                manifests[f.path.split("/", 1)[-1]] = frozenset(_key_paths(pyyaml.load(f.content, Loader=pyyaml.CSafeLoader), shown))
            continue
        files.append(label)
        if f.kind == "dockerfile":
            dockerfiles[label] = tuple(c.cmd.upper() for c in dockerfile.parse_string(f.content))
        elif f.kind in ("compose", "overlay", "snapshot"):
            data = pyyaml.load(f.content, Loader=pyyaml.CSafeLoader)  # (YAML 1.1 and 1.2 agreement: test_yaml_out)
            yaml_keys[label] = frozenset(_key_paths(data, shown))
            referenced |= _interpolated(data)
        elif f.kind == "env-example":
            env_names = _dotenv_names(f.content)
        elif f.kind == "bake":
            bake = frozenset(_hcl_paths(hcl2.loads(f.content), lambda label: targets.get(label) or shown(label)))
    documented = set((rendered.spec.variables or {}).keys())
    assert sorted(env_names) == sorted(referenced | documented), ".env.example sets exactly what Compose reads, once each"
    return Meaning(dockerfiles, yaml_keys, tuple(sorted(files)), bake, manifests)


def _hcl_paths(node: Any, shown: Any, prefix: str = "") -> list[str]:
    """Key paths of python-hcl2's reading, list items included (a string that ended its
    quotes would add one). python-hcl2 keeps a quoted key or label as written, quotes and
    escapes and all; the `variable` blocks are the Compose variables the values read (the
    property compares them with `.env.example`), so their labels are left out."""
    if isinstance(node, dict):
        paths = []
        for key, value in node.items():
            if key == "__is_block__":
                continue
            name = json.loads(key) if key.startswith('"') else key
            if prefix == "/variable[]":
                name = "<variable>"
            here = f"{prefix}/{shown(name)}"
            paths += [here, *_hcl_paths(value, shown, here)]
        return paths
    if isinstance(node, list):
        if prefix == "/variable":
            return [path for item in node for path in _hcl_paths(item, shown, "/variable[]")]
        return [f"{prefix}[{index}]" for index in range(len(node))] + [p for index, item in enumerate(node) for p in _hcl_paths(item, shown, f"{prefix}[{index}]")]
    return []


# What compose-go interpolates in a value: `$$` is a `$`, else `$NAME` or `${NAME...`.
_REFERENCE = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


def _interpolated(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_interpolated(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_interpolated(v) for v in node))
    if isinstance(node, str):
        return {a or b for a, b in _REFERENCE.findall(node) if a or b}
    return set()


def _key_paths(node: Any, shown: Any, prefix: str = "") -> list[str]:
    paths = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{prefix}/{shown(key)}"
            paths += [here, *_key_paths(value, shown, here)]
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths += _key_paths(value, shown, f"{prefix}[{index}]")
    return paths


def _dotenv_names(text: str) -> list[str]:
    names = []
    for line in text.split("\n"):
        if line == "" or line.startswith("#"):
            continue
        name, equals, _ = line.partition("=")
        assert equals and name.isidentifier() and name.isascii(), f"not a .env line: {line!r}"
        names.append(name)
    return names


def _located(error: DockergenError) -> None:
    assert error.problems
    for problem in error.problems:
        text = problem.render()
        assert problem.location is not None and forbidden_character(text) is None, text


@functools.lru_cache(maxsize=1)
def base_names() -> frozenset[str]:
    """Every key, environment and flavour name of the base spec's files."""
    with tempfile.TemporaryDirectory() as tmp:
        rendered = render_in(Path(tmp), BASE)
    assert isinstance(rendered, Rendered), rendered
    found = meaning(rendered, None)
    names = {part.split("[")[0] for keys in found.yaml_keys.values() for path in keys for part in path.split("/")}
    return frozenset((names | {part for label in found.files for part in label.split("/")}) - {""})


@dataclass(frozen=True)
class Written:
    """A render on disk, for the real tools."""

    place: Place
    text: str
    directory: Path
    compose_files: tuple[str, ...]  # the base and the dev overlay
    env_example: str
    generated: tuple[str, ...]


def written(place: Place, text: str, directory: Path, rendered: Rendered) -> Written:
    for f in rendered.files:
        (directory / f.path).parent.mkdir(parents=True, exist_ok=True)
        (directory / f.path).write_text(f.content, encoding="utf-8")
    kinds = {(f.kind, f.env): f.path for f in rendered.files}
    return Written(
        place, text, directory, (kinds[("compose", None)], kinds[("overlay", "dev")]), kinds[("env-example", None)], tuple(f.path for f in rendered.files)
    )


@functools.lru_cache(maxsize=None)
def harmless(place: Place) -> tuple[str, Meaning, Written]:
    """The place's value in BASE (or a plain one) and what the files then say."""
    node: Any = BASE
    for part in place.path:
        node = node.get(part) if isinstance(node, dict) else None
    candidates = [node] if place.how == "value" and isinstance(node, str) else []
    candidates += ["x", "a.b", "/x", "1", "30s", "512m", "3.12", "DG001", "no", "x.yaml", "compose.{env}.yaml", "sha256:" + "0" * 64, "RUN true"]
    for candidate in candidates:
        directory = Path(tempfile.mkdtemp(dir=WORK))
        rendered = render_in(directory, place.apply(BASE, candidate))
        if isinstance(rendered, Rendered):
            return candidate, meaning(rendered, place.as_name(candidate), base_names()), written(place, candidate, directory, rendered)
        _located(rendered)
    pytest.fail(f"no harmless value renders at {place}")


def expected(place: Place, text: str) -> Meaning:
    """What the files must say with ``text`` at ``place``: what they say with the harmless
    value, but for what the value itself decides."""
    _, want, _ = harmless(place)
    dockerfiles, yaml_keys = dict(want.dockerfiles), dict(want.yaml_keys)
    where = ".".join(map(str, place.path))
    if _is_instruction(place):  # the step is one instruction of its own, where the harmless one is
        cmd = dockerfile.parse_string(text)[0].cmd.upper()
        for label, positions in _step_positions(place).items():
            dockerfiles[label] = tuple(cmd if i in positions else c for i, c in enumerate(dockerfiles[label]))
    if where.endswith(".healthcheck.test") and "$" in text:  # Compose interpolates it: not baked into the image
        dockerfiles = {k: tuple(c for c in v if c != "HEALTHCHECK") for k, v in dockerfiles.items()}
    return Meaning(dockerfiles, _comparable_keys(place, yaml_keys), want.files, want.bake)


def _is_instruction(place: Place) -> bool:
    return place.how != "key" and (place.path[-1] == "steps" or "hooks" in place.path)


@functools.lru_cache(maxsize=None)
def _step_positions(place: Place) -> dict[str, frozenset[int]]:
    """Dockerfile -> the positions of the instructions a step place writes: where the
    harmless step and another instruction in its place render differently."""
    value, want, _ = harmless(place)
    assert value == "RUN true", (str(place), value)
    other = render_in(Path(tempfile.mkdtemp(dir=WORK)), place.apply(BASE, "STOPSIGNAL SIGKILL"))
    assert isinstance(other, Rendered), (str(place), other)
    them = meaning(other, None).dockerfiles
    return {label: frozenset(i for i, (a, b) in enumerate(zip(names, them[label])) if a != b) for label, names in want.dockerfiles.items()}


def _comparable(place: Place, got: Meaning) -> Meaning:
    return Meaning(got.dockerfiles, _comparable_keys(place, got.yaml_keys), got.files, got.bake)


def _injected_manifest_keys(got: Meaning, want: Meaning, text: str) -> list[str]:
    """Manifest keys the harmless render does not have that are made of the text itself: a
    key a value could only add by injection (a key a value decides, such as `runAsUser`, is
    dockergen's own word)."""
    new = [path for name, keys in got.manifests.items() for path in keys - want.manifests.get(name, frozenset())]
    return [path for path in new if any(part and part in text for part in path.replace("[", "/").split("/"))]


def _comparable_keys(place: Place, yaml_keys: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Leave out the keys the value itself decides: a mount's named volume is declared at the
    top; a logging driver that rotates (json-file, local) gets rotation options, others none;
    a platform names a node selector."""
    where = ".".join(map(str, place.path))
    if where.endswith(".volumes") and place.how != "key":
        return {k: frozenset(p for p in v if not re.match(r"/volumes(/|$)", p)) for k, v in yaml_keys.items()}
    if where.endswith(".logging.driver"):
        return {k: frozenset(p for p in v if not re.search(r"/logging(/|$)", p)) for k, v in yaml_keys.items()}
    if where.endswith(".platform"):  # `os/arch` becomes a Kubernetes node selector
        return {k: frozenset(p for p in v if "/nodeSelector" not in p) for k, v in yaml_keys.items()}
    return yaml_keys


SEEN: list[Written] = []  # successful hostile renders, judged by the real tools at the end


def check_place(place: Place, text: str) -> None:
    """A render with ``text`` at ``place`` fails with located errors or says what the
    harmless render says (successful ones are kept for the real tools)."""
    directory = Path(tempfile.mkdtemp(dir=WORK))
    rendered = render_in(directory, place.apply(BASE, text))
    if isinstance(rendered, DockergenError):
        _located(rendered)
        return
    got, want = _comparable(place, meaning(rendered, place.as_name(text), base_names())), expected(place, text)
    if text.strip() == "":  # an empty value may leave a key out (Compose and Kubernetes read it as unset)
        got = Meaning(got.dockerfiles, {k: v | want.yaml_keys.get(k, frozenset()) for k, v in got.yaml_keys.items()}, got.files, got.bake | want.bake)
    assert got == want, (str(place), text)
    assert not _injected_manifest_keys(got, want, text), (str(place), text)
    SEEN.append(written(place, text, directory, rendered))


@given(place=st.sampled_from(sorted(places(), key=str)), text=HOSTILE)
@PROFILE
def _search_places(place: Place, text: str) -> None:
    check_place(place, text)


def _search() -> None:
    _search_places()
    assert len(SEEN) > EXAMPLES // 10, f"only {len(SEEN)} of {EXAMPLES} hostile renders succeeded: is BASE still valid?"


# Every place gets these (the search above samples places): a line break that would start an
# instruction and a key, and the characters every quoting rule must handle on one line.
CLASSIC = ["x\nRUN touch /pwned\n  evil: 1", "a\"b'c\\ #d: e ${X} $$ `f` <<EOF", "３\u2028x"]


def _sweep() -> None:
    problems = []
    for place in sorted(places(), key=str):
        for text in CLASSIC:
            try:
                check_place(place, text)
            except AssertionError as exc:
                problems.append(f"{place} {text!r}: {exc}")
    assert not problems, "\n".join(problems)
    # Most places take the quotes and `$` of the second (escaped); a sweep where nothing
    # renders would prove nothing.
    assert len({case.place for case in SEEN}) > len(places()) // 2, len(SEEN)


# The build options (a build's, and every layer's `build_options`) reach the Compose base,
# the overlays and the Bake file: each of their places also gets what YAML, HCL and Compose's
# interpolation read as syntax (`-k build-options`).
BUILD_OPTION_TEXTS = [
    *CLASSIC, "a\rb", "a\x85b", "a\u2029b", "\u202ex", "x #y", "'x", '"x', "- x", "x\x00", "${X:-a\nb}", "$${x}", "a\\\nb",
    "%{ if 1 }x%{ endif }", "a]b", "a}b", "=x", "x" * 300,
]  # fmt: skip


def _build_options_sweep() -> None:
    fields = set(model.BuildOptions.model_fields)
    chosen = [p for p in sorted(places(), key=str) if "build_options" in p.path or (p.path[-2:-1] == ("build",) and p.path[-1] in fields)]
    assert len({p.path[:-1] for p in chosen}) >= 5, chosen  # a build's options and four layers'
    problems = []
    for place in chosen:
        for text in BUILD_OPTION_TEXTS:
            try:
                check_place(place, text)
            except AssertionError as exc:
                problems.append(f"{place} {text!r}: {exc}")
    assert not problems, "\n".join(problems)
    assert len({case.place for case in SEEN}) > len(chosen) // 2, len(SEEN)


@pytest.mark.parametrize("explore", [_sweep, _search, _build_options_sweep], ids=["every-place", "search", "build-options"])
def test_no_spec_string_changes_what_the_files_say(explore: Any) -> None:
    SEEN.clear()
    os.makedirs(WORK, exist_ok=True)
    try:
        explore()
        judged = SEEN[:: max(1, len(SEEN) // 60)]  # the real tools on a spread of them: ~1 s each
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            problems = [p for p in pool.map(_judge_with_real_tools, judged) if p]
    finally:
        harmless.cache_clear()
        _step_positions.cache_clear()
        shutil.rmtree(WORK, ignore_errors=True)
    assert not problems, "\n".join(problems)


# docker-compose could not read a file at all (as opposed to refusing a value it read, which
# is Compose's judgement of the value, not a file that says something else).
_UNREADABLE = re.compile(r"yaml: (line|construct|unmarshal|control)|failed to read|unexpected character|did not find expected")


def _compose_keys(case: Written) -> frozenset[str] | str:
    files = [case.directory / f for f in case.compose_files]
    # Every profile on: which services a profile name activates is Compose's reading of a value.
    result = compose(case.directory, files, "--env-file", str(case.directory / case.env_example), "--profile", "*", "config", "--format", "json")
    if result.returncode != 0:
        return result.stderr.strip()
    text = case.place.as_name(case.text)

    def shown(name: Any) -> str:
        name = str(name).replace("$$", "$")  # config prints a `$` as `$$`, keys included
        return PLACEHOLDER if text is not None and name == text and name not in base_names() else name

    return frozenset(_key_paths(json.loads(result.stdout), shown))


def _judge_with_real_tools(case: Written) -> str | None:
    got, want = _compose_keys(case), _compose_keys(harmless(case.place)[2])
    if isinstance(got, str) and _UNREADABLE.search(got):
        return f"{case.place} {case.text!r}: docker-compose cannot read the files: {got[:300]}"
    if isinstance(got, frozenset) and isinstance(want, frozenset) and not _same_keys(case, got, want):
        return f"{case.place} {case.text!r}: docker-compose reads other keys: {sorted(got ^ want)[:6]}"
    subprocess.run(["git", "init", "-q", str(case.directory)], check=True)
    (case.directory / ".gitattributes").write_text(gitattributes_block([*case.generated]), encoding="utf-8")
    check = subprocess.run(
        ["git", "-C", str(case.directory), "check-attr", "-z", "--stdin", "linguist-generated"],
        input="\0".join([*case.generated, "not-generated.txt"]) + "\0", capture_output=True, text=True, timeout=60,
    )
    fields = check.stdout.split("\0")
    marked = {fields[i]: fields[i + 2] for i in range(0, len(fields) - 2, 3)}
    if marked != {**{p: "true" for p in case.generated}, "not-generated.txt": "unspecified"}:
        return f"{case.place} {case.text!r}: git reads the .gitattributes block as {marked}"
    return None


def _same_keys(case: Written, got: frozenset[str], want: frozenset[str]) -> bool:
    if ".".join(map(str, case.place.path)).endswith(".volumes"):  # Compose reads a mount string into its own keys
        got, want = (frozenset(p for p in keys if "/volumes" not in p) for keys in (got, want))
    if case.text.strip() == "":  # Compose leaves out a key whose value is empty
        return got <= want
    return got == want


# ---- each writer on its own, judged by its reader ------------------------------------------


@given(values=st.lists(HOSTILE, min_size=20, max_size=40), comment=HOSTILE)
@settings(max_examples=8, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
def test_compose_reads_back_every_env_example_line_as_written(values: list[str], comment: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """One .env of hostile values and comments, one ``docker-compose config``: each
    variable has exactly its value (in Compose's syntax: ``$$`` is ``$``), and nothing else is set."""
    directory = tmp_path_factory.mktemp("dotenv")
    lines, expected = [], {}
    for index, value in enumerate(values):
        name = f"V{index}"
        try:
            line = dotenv.assignment(name, value)
        except dotenv.Unwritable:
            assert forbidden_character(value, allowed="\t\n\r") is not None
            continue
        if support.interpolation_error(value) or support.INTERPOLATION.search(value.replace("$$", "")):
            continue  # Compose would expand (or refuse) it: not a literal to compare
        lines += [*comment_lines(comment), line, ""]
        expected[name] = value
    (directory / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    services = {"s": {"image": "x", "environment": {name: "${" + name + "}" for name in expected}}}
    (directory / "compose.yaml").write_text(json.dumps({"services": services}))
    result = compose(directory, [directory / "compose.yaml"], "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)["services"]["s"].get("environment", {})
    assert {name: text.replace("$$", "$") for name, text in read.items()} == {name: v.replace("$$", "$") for name, v in expected.items()}


@given(texts=st.lists(HOSTILE, min_size=1, max_size=20))
@PROFILE
def test_a_comment_line_stays_a_comment_for_every_reader(texts: list[str]) -> None:
    """BuildKit, YAML 1.1 and 1.2 and git read the comment lines as nothing at all."""
    comments = "\n".join(line for text in texts for line in comment_lines(text))
    assert all(line.startswith("#") for line in comments.split("\n"))
    assert [c.cmd for c in dockerfile.parse_string(f"{comments}\nFROM scratch\n")] == ["FROM"]
    assert pyyaml.safe_load(f"{comments}\na: 1\n") == {"a": 1}
    assert pyyaml.load(f"{comments}\na: 1\n", Loader=pyyaml.CSafeLoader) == {"a": 1}


@given(paths=st.lists(HOSTILE.filter(lambda p: p.strip("./") != ""), min_size=1, max_size=30, unique=True))
@settings(max_examples=6, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
def test_git_reads_the_gitattributes_block_as_marking_exactly_the_generated_files(paths: list[str], tmp_path_factory: pytest.TempPathFactory) -> None:
    # What dockergen writes: normalized paths below the folder, of characters a line can hold.
    writable = [p for p in paths if forbidden_character(p, allowed="\t") is None and posixpath.normpath(p) == p and not p.startswith(("/", ".."))]
    if not writable:
        return
    directory = tmp_path_factory.mktemp("attributes")
    subprocess.run(["git", "init", "-q", str(directory)], check=True)
    (directory / ".gitattributes").write_text(gitattributes_block(writable), encoding="utf-8")
    probes = [*writable, *(p + "x" for p in writable), "other"]
    check = subprocess.run(
        ["git", "-C", str(directory), "check-attr", "-z", "--stdin", "linguist-generated"],
        input="\0".join(probes) + "\0", capture_output=True, text=True, timeout=60,
    )
    fields = check.stdout.split("\0")
    marked = {fields[i]: fields[i + 2] for i in range(0, len(fields) - 2, 3)}
    for probe in probes:
        generated = probe in writable or any(probe.startswith(p.rstrip("/") + "/") for p in writable)
        assert marked[probe] == ("true" if generated else "unspecified"), (probe, marked[probe])


MARKDOWN_FRAGMENTS = st.sampled_from([*FRAGMENTS, "<!--", "-->", "<b>", "<", "# ", "\n# x", "\n- x", "\n| a |", "\n```", "---", "[a](javascript:alert(1))", "![i](x.png)", "[r]", "\n[r]: javascript:x", "](", "\\"])
MARKDOWN_TEXT = st.lists(st.one_of(MARKDOWN_FRAGMENTS, st.characters(codec="utf-8")), max_size=8).map("".join)


@given(
    title=MARKDOWN_TEXT,
    summary=st.lists(MARKDOWN_TEXT, min_size=1, max_size=4),
    rows=st.lists(st.tuples(MARKDOWN_TEXT, MARKDOWN_TEXT), min_size=1, max_size=4),
    notes=st.lists(MARKDOWN_TEXT, min_size=1, max_size=4),
    note=MARKDOWN_TEXT,
)
@PROFILE
def test_no_value_adds_a_line_heading_or_html_to_the_import_report(title: str, summary: list[str], rows: list[tuple[str, str]], notes: list[str], note: str) -> None:
    """The migration report holds paths and values from the files imported: whatever they
    are, CommonMark (markdown-it) reads exactly the report's own headings, list items and
    table rows, and no HTML (a ``<!--`` would hide the rest of the report) and no link
    (``[docs](javascript:...)`` in a file name)."""
    from markdown_it import MarkdownIt

    from dockergen.importer.report import Report, Section, markdown

    report = Report(title, tuple(summary), (Section("Table", ("a", "b"), tuple(rows), note), Section("Review", ("",), tuple((n,) for n in notes))))
    text = markdown(report)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    kinds = [t.type for t in tokens]
    assert text.count("\n") == 2 + len(summary) + 3 + (2 if note else 0) + 2 + len(rows) + 3 + len(notes)
    assert not {"html_block", "html_inline"} & set(kinds) and not any(c.type.startswith("html") for t in tokens for c in t.children or ())
    assert not any(c.type in ("link_open", "image") for t in tokens for c in t.children or ())  # no link or image of a value's
    assert kinds.count("heading_open") == 3
    assert kinds.count("list_item_open") == len(summary) + len(notes)
    assert kinds.count("tr_open") == 1 + len(rows)
