"""Read a spec file into plain Python data plus a map of where every value came from.

ruamel.yaml's round-trip loader keeps line/column for every mapping key and sequence
item; we copy those into ``SourceMap`` and hand the rest of the pipeline plain dicts,
lists and scalars, so nothing downstream depends on ruamel types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from dockergen.errors import DockergenError, Location, Problem

MAX_SPEC_BYTES = 5 * 1024 * 1024
# Bounds the expansion of YAML aliases ("billion laughs") when copying to plain data.
MAX_NODES = 500_000

Path_ = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Where each value of a loaded document sits in its file."""

    file: str
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path_) -> Location:
        """The position of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.positions:
                line, col = self.positions[path]
                return Location(self.file, line, col)
            path = path[:-1]
        return Location(self.file, 1, 1)


@dataclass
class LoadedSpec:
    path: Path
    data: dict[str, Any]
    source: SourceMap
    raw: bytes


def load_spec(path: Path) -> LoadedSpec:
    """Read and parse ``path``; raise ``DockergenError`` for anything unreadable."""
    shown = str(path)
    if any(ord(c) < 32 or ord(c) == 127 for c in path.name):
        # The name is copied into the generated files' header comments, where a line
        # break would start a new Dockerfile instruction or YAML line.
        raise DockergenError.single(
            f"the spec's file name contains a control character: {path.name!r}",
            location=Location(shown.encode("unicode_escape").decode("ascii")),
        )
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DockergenError.single(
            "spec file not found",
            location=Location(shown),
            hint="create one, or pass --spec PATH",
        ) from None
    except OSError as exc:
        raise DockergenError.single(f"cannot read spec: {exc.strerror}", location=Location(shown)) from None
    return parse_spec(raw, shown, path)


def parse_spec(raw: bytes, shown: str, path: Path | None = None) -> LoadedSpec:
    if len(raw) > MAX_SPEC_BYTES:
        raise DockergenError.single(
            f"spec is {len(raw)} bytes; the limit is {MAX_SPEC_BYTES}", location=Location(shown)
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DockergenError.single(
            "spec is not valid UTF-8", location=Location(shown, line, col), hint="save it as UTF-8"
        ) from None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(shown, mark.line + 1, mark.column + 1) if mark else Location(shown)
        message = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        hint = "indent with spaces, not tabs" if "\\t" in repr(exc) or "tab" in message else None
        if "duplicate key" in message:
            hint = "each key may appear once per mapping"
        raise DockergenError.single(f"YAML syntax: {message}", location=loc, hint=hint) from None
    except YAMLError as exc:
        raise DockergenError.single(f"YAML error: {exc}", location=Location(shown)) from None
    except RecursionError:
        raise DockergenError.single(
            "values are nested too deeply to read", location=Location(shown), hint="no spec field nests that deep"
        ) from None
    if doc is None:
        raise DockergenError.single(
            "spec is empty",
            location=Location(shown, 1, 1),
            hint="declare at least `version`, `project` and `services`; see specs/reference.yaml",
        )
    if not isinstance(doc, CommentedMap):
        raise DockergenError.single(
            f"the spec must be a mapping at the top level, not {_kind(doc)}",
            location=Location(shown, 1, 1),
            hint="start with `version: 1`, `project: ...` and `services: ...`",
        )
    source = SourceMap(shown)
    counter = [0]
    data = _plain(doc, (), source, counter)
    return LoadedSpec(path=path or Path(shown), data=data, source=source, raw=raw)


def _kind(node: Any) -> str:
    """What a YAML value is, in YAML's words (not ruamel's class names)."""
    if isinstance(node, CommentedSeq | list):
        return "a list"
    if isinstance(node, bool):
        return "a boolean"
    if isinstance(node, int | float):
        return "a number"
    if isinstance(node, str):
        return "a string"
    return f"a {type(node).__name__} value"


MAX_DEPTH = 64


def _plain(node: Any, path: Path_, source: SourceMap, counter: list[int]) -> Any:
    counter[0] += 1
    if len(path) > MAX_DEPTH:
        raise DockergenError.single(
            f"values are nested more than {MAX_DEPTH} levels deep", location=source.locate(path), hint="no spec field nests that deep"
        )
    if counter[0] > MAX_NODES:
        raise DockergenError.single(
            f"spec expands to more than {MAX_NODES} values (YAML aliases?)",
            location=Location(source.file),
        )
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if not isinstance(key, str):
                line, col = node.lc.key(key)
                raise DockergenError(
                    [Problem(f"keys must be strings, got {key!r}", Location(source.file, line + 1, col + 1), path)]
                )
            line, col = node.lc.key(key)
            source.positions[(*path, key)] = (line + 1, col + 1)
            out[key] = _plain(value, (*path, key), source, counter)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            line, col = node.lc.item(index)
            source.positions[(*path, index)] = (line + 1, col + 1)
            items.append(_plain(value, (*path, index), source, counter))
        return items
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)
