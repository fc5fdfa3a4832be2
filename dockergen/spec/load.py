"""Read a spec file into plain Python data plus a map of where every value came from.

ruamel.yaml's round-trip loader keeps line/column for every mapping key and sequence
item; we copy those into ``SourceMap`` and hand the rest of the pipeline plain dicts,
lists and scalars, so nothing downstream depends on ruamel types.

The round-trip loader is pure Python and the largest cost of a big render (0.6 s for
1,000 services), while most runs never report a position. So a spec is first read with
ruamel's C loader (libyaml, when ``ruamel.yaml.clib`` is installed); positions are read
with the round-trip loader only when something asks for one (an error, a warning,
``explain``, ``lint``). Anything the fast read does not take as plain data -- a syntax
error, a duplicate key, a tag, a date, too many values -- goes the careful way, which
produces the data and the error messages exactly as before.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, merge_attrib
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from dockergen.errors import DockergenError, Location, Problem
from dockergen.spec.path import nearby_specs, parent_spec
from dockergen.safe_read import MAX_BYTES, MAX_DEPTH, MAX_NODES, Unreadable, read_regular
from dockergen.text import forbidden_character
from dockergen.yaml_read import INT_TAG, MAX_NUMBER_LENGTH, read_round_trip

MAX_SPEC_BYTES = MAX_BYTES

Path_ = tuple[str | int, ...]


_ABSENT = object()


@dataclass
class SourceMap:
    """Where each value of a loaded document sits in its file.

    Built either with its ``positions`` already read, or with the document's ``text``,
    from which they are read on first use.
    """

    file: str
    data: Any = None
    text: str | None = field(default=None, repr=False)
    _positions: dict[Path_, tuple[int, int]] | None = field(default=None, repr=False)

    @property
    def positions(self) -> dict[Path_, tuple[int, int]]:
        if self._positions is None:
            self._positions = _read_positions(self.text, self.file) if self.text is not None else {}
        return self._positions

    def has(self, path: Path_) -> bool:
        """Whether the document sets ``path`` (no positions needed)."""
        return self.get(path, _ABSENT) is not _ABSENT

    def get(self, path: Path_, absent: Any = None) -> Any:
        """The value the document sets at ``path``, or ``absent``."""
        node = self.data
        for part in path:
            if isinstance(node, dict) and isinstance(part, str) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                return absent
        return node

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
    problems: tuple[Problem, ...] = ()
    """Errors the read found that left the data usable (a foreign tag, a recursive alias):
    raised by ``load_spec`` unless the caller goes on to report every problem in one run."""


def load_spec(path: Path, *, keep_going: bool = False) -> LoadedSpec:
    """Read and parse ``path``; raise ``DockergenError`` for anything unreadable (and, unless
    ``keep_going``, for the problems of ``LoadedSpec.problems``)."""
    shown = str(path)
    bad = forbidden_character(path.name)
    if bad is not None:
        # The name is copied into the generated files' header comments, where a line
        # break (U+2028 included, for Compose) would start a new instruction or YAML line.
        raise DockergenError.single(
            f"the spec's file name contains {bad}: {path.name!r}",
            location=Location(shown.encode("unicode_escape").decode("ascii")),
            hint="rename it: every generated file's header comment names the spec, and no control character may end that line",
        )
    try:
        raw = read_regular(path, MAX_SPEC_BYTES)
    except FileNotFoundError:
        raise DockergenError.single("spec file not found", location=Location(shown), hint=_missing_spec_hint(path)) from None
    except Unreadable as exc:
        raise DockergenError.single(f"cannot read the spec: {exc}", location=Location(shown)) from None
    loaded = parse_spec(raw, shown, path)
    if loaded.problems and not keep_going:
        raise DockergenError(list(loaded.problems))
    return loaded


def _missing_spec_hint(path: Path) -> str:
    nearby = nearby_specs(str(path.parent))
    if nearby:
        return f"pass --spec {' or --spec '.join(nearby[:3])}"
    above = parent_spec(str(path.parent))
    if above is not None:
        return f"found {above} in a folder above: pass --spec {above}, or run dockergen from {Path(above).parent}"
    return "`dockergen init` writes one for your project, or pass --spec PATH"


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
    data = read_plain(text)
    if data is not None:
        return LoadedSpec(path=path or Path(shown), data=data, source=SourceMap(shown, data, text), raw=raw)
    source = SourceMap(shown, _positions={})
    source.data, problems = _careful_read(text, source)
    return LoadedSpec(path=path or Path(shown), data=source.data, source=source, raw=raw, problems=tuple(problems))


def _careful_read(text: str, source: SourceMap) -> tuple[dict[str, Any], list[Problem]]:
    """The document via the round-trip loader, recording positions into ``source``, and
    the problems that still let it be read (foreign tags, recursive aliases); raises
    ``DockergenError`` for every other problem, located."""
    shown = source.file
    doc, problems = read_round_trip(text, shown)
    if doc is None:
        raise DockergenError.single(
            "spec is empty",
            location=Location(shown, 1, 1),
            hint="declare at least `version`, `project` and `services`; `dockergen init` writes a starter, `dockergen schema --format markdown` lists every field",
        )
    if not isinstance(doc, CommentedMap):
        raise DockergenError.single(
            f"the spec must be a mapping at the top level, not {_kind(doc)}",
            location=Location(shown, 1, 1),
            hint="start with `version: 1`, `project: ...` and `services: ...`",
        )
    return _plain(doc, (), source, [0]), problems


def _read_positions(text: str, shown: str) -> dict[Path_, tuple[int, int]]:
    """Positions of a document the plain read took: from the C composer's nodes (as the
    round-trip loader records them: a key's start, a sequence item's start), or, should
    that fail, from the round-trip loader itself."""
    try:
        root = _c_yaml().compose(text)
    except Exception:  # noqa: BLE001 - the round-trip read below reports or tolerates it
        root = None
    if isinstance(root, MappingNode):
        positions: dict[Path_, tuple[int, int]] = {}
        _node_positions(root, (), positions)
        return positions
    source = SourceMap(shown, _positions={})
    try:
        _careful_read(text, source)  # its problems were reported by the read that made ``text``
    except DockergenError:
        # The fast read took this text; should the round-trip loader refuse it, positions
        # fall back to the file (locate's default) rather than failing the report.
        return {}
    return source.positions


def _node_positions(node: Node, path: Path_, out: dict[Path_, tuple[int, int]]) -> None:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            out[child] = (key.start_mark.line + 1, key.start_mark.column + 1)
            _node_positions(value, child, out)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            out[child] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _node_positions(item, child, out)


class _DocumentResolver(VersionedResolver):
    """Looks up the implicit-tag table once per document, not once per scalar (ruamel
    re-derives the YAML version on every call: a third of reading a large spec). A load
    reads one document, whose ``%YAML`` directive comes before its first scalar."""

    @functools.cached_property
    def versioned_resolver(self) -> Any:
        return super().versioned_resolver


def _c_yaml() -> YAML:
    """ruamel's safe loader on its C parser (where ruamel.yaml.clib is installed)."""
    yaml = YAML(typ="safe", pure=False)
    yaml.Resolver = _DocumentResolver
    yaml.allow_duplicate_keys = False
    return yaml


# A `<<` that may be a merge key (the nodes below refuse one anyway; this skips composing the
# document): not a heredoc's `RUN <<EOF`, which an imported spec's steps hold.
MERGE_KEY = re.compile(r"<<[ \t]*(?::|#|$)", re.MULTILINE)


def read_plain(text: str, rewrite: Callable[[Node], None] | None = None) -> dict[str, Any] | None:
    """The document as plain data via the C loader, or None: no C loader, or the
    document needs the careful read (any error, a non-string key, a value that is not a
    plain scalar, deeper than MAX_DEPTH or larger than MAX_NODES). ``rewrite`` may change
    the composed nodes first (a Compose file's scalars, read as Go reads them)."""
    if MERGE_KEY.search(text):
        return None  # merge keys: the safe loader orders merged keys differently
    try:
        yaml = _c_yaml()
        if getattr(yaml.Parser, "__name__", "") != "CParser":
            return None  # ruamel.yaml.clib is missing: its pure-Python fallback saves little
        root = yaml.compose(text)
        if not isinstance(root, MappingNode):
            return None
        if rewrite is not None:
            rewrite(root)
        return _from_node(root, yaml.constructor, 0, [0])
    except Exception:  # noqa: BLE001 - _NotPlain, or anything the careful read reports precisely
        return None


class _NotPlain(Exception):
    pass


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_KEYS = (_STR, "tag:yaml.org,2002:value")  # a plain `=` key: the safe loader reads it as a string
# Scalars of these tags are built by the safe loader's own constructors; any other tag
# (a date, binary, a foreign tag, a `=` value) goes the careful way.
_PLAIN_SCALARS = ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _from_node(node: Node, constructor: Any, depth: int, counter: list[int]) -> Any:
    """Plain data straight from the C composer's nodes: what the safe loader builds from
    them, without its per-node bookkeeping (half of reading a large spec), and a fresh
    copy per alias use, as the careful read gives."""
    counter[0] += 1
    if depth > MAX_DEPTH or counter[0] > MAX_NODES:
        raise _NotPlain
    tag = node.tag
    if isinstance(node, MappingNode):
        if tag != _MAP:
            raise _NotPlain
        out: dict[str, Any] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or key.tag not in _KEYS or key.value in out:
                raise _NotPlain  # a duplicate key is an error the careful read locates
            out[key.value] = _from_node(value, constructor, depth + 1, counter)
        return out
    if isinstance(node, SequenceNode):
        if tag != _SEQ:
            raise _NotPlain
        return [_from_node(item, constructor, depth + 1, counter) for item in node.value]
    if tag == _STR:
        return node.value
    if tag in _PLAIN_SCALARS and not (tag == INT_TAG and len(node.value) > MAX_NUMBER_LENGTH):  # the careful read refuses it
        return constructor.yaml_constructors[tag](constructor, node)
    raise _NotPlain


def _key_position(node: CommentedMap, key: Any) -> tuple[int, int]:
    """0-based line and column of ``key``; a key brought in by a ``<<`` merge is located
    in the mapping it came from."""
    if key in (node.lc.data or ()):
        return node.lc.key(key)
    for merged in getattr(node, merge_attrib, []):
        merged = merged[1] if isinstance(merged, tuple) else merged  # ruamel < 0.19: (index, map)
        if key in merged:
            return _key_position(merged, key)
    return node.lc.line, node.lc.col


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
            line, col = _key_position(node, key)
            if not isinstance(key, str):
                raise DockergenError(
                    [Problem(f"keys must be strings, got {key!r}", Location(source.file, line + 1, col + 1), path)]
                )
            source.positions[(*path, key)] = (line + 1, col + 1)
            out[key] = _plain(value, (*path, key), source, counter)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            # ruamel records no item positions in a sequence it read under a foreign tag
            line, col = node.lc.item(index) or (node.lc.line or 0, node.lc.col or 0)
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
