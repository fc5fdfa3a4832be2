"""The spec as the text ``import`` writes: short where YAML allows it, with the originals'
comments where they belong.

* small collections on one line (``ports: [8000:8000]``, ``depends_on: [db]``,
  ``environment: {MODE: dev}``) when they fit, long lists and settings read as one (a
  command, a healthcheck, the policy switches, a service's block for an environment that
  two lines hold) over a few, a mapping only where each part fits the width; a
  Dockerfile's steps one per line;
* multi-line steps (heredocs) as literal blocks;
* the Dockerfiles' comments above the steps and stages they described.

Every scalar goes through ``render.yaml_out`` (the one YAML escaping). The text is read
back before it is returned; should it not give back exactly the spec, the plain block
emitter's text is used instead, without comments.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML

from dockergen.importer.plan import ImportPlan
from dockergen.render.comment import comment_lines
from dockergen.render.yaml_out import atom, dump_yaml, scalar
from dockergen.spec.load import read_plain
from dockergen.text import forbidden_character

WIDTH = 120  # the longest line a collection is put on (a common editor ruler)
# Top-level mappings that always stay in block style: the spec's structure reads better so.
BLOCK = {"services", "environments", "variables", "volumes", "networks", "secrets", "configs"}
# Mappings written as flow over several lines when one is too short: settings read as one
# thing (the policy switches, a healthcheck); `environment` keeps a variable per line.
WRAPPED = {"defaults", "healthcheck", "resources", "logging", "deploy", "ulimits"}
Comments = dict[tuple, tuple[str, ...]]


def spec_text(plan: ImportPlan, schema: str | None = None) -> str:
    """``schema``: what a first ``$schema=`` line points editors at (``import --schema``), as
    ``init`` writes it: none unless asked, since no schema is published at a fixed address
    and the one ``dockergen schema`` prints matches the installed version."""
    # Where it came from is in the report and in each environment's `was:` description.
    header = "\n".join(comment_lines(f"yaml-language-server: $schema={schema}")) if schema else ""
    comments = dict(plan.comments)
    lines: list[str] = []
    _mapping(plan.spec, (), 0, comments, lines)
    text = "".join(f"{line}\n" for line in [*([header] if header else []), *lines])
    if _reads_back(text, plan.spec):
        return text
    return dump_yaml(plan.spec, header).removeprefix("\n")  # (no header: no line for it)


def service_lines(level: dict[str, Any], blocks: dict[str, dict[str, Any]]) -> int:
    """How many lines a service's settings (``level``) and its ``environments`` blocks take
    as ``spec_text`` writes them (what a flow line holds is one)."""
    out: list[str] = []
    _mapping({"services": {"s": {**level, **({"environments": blocks} if blocks else {})}}}, (), 0, {}, out)
    return len(out) - 2  # not `services:` and the service's name


def spec_lines(spec: dict[str, Any]) -> int:
    """How many lines the whole spec takes as ``spec_text`` writes it (without comments)."""
    out: list[str] = []
    _mapping(spec, (), 0, {}, out)
    return len(out)


def _reads_back(text: str, data: dict[str, Any]) -> bool:
    """Whether ``text`` reads back as ``data`` (the C loader where it can, else ruamel's own)."""
    fast = read_plain(text)
    if fast is not None:
        return fast == data
    try:
        return YAML(typ="safe", pure=True).load(text) == data
    except Exception:  # noqa: BLE001 - whatever the reader says, the plain text is used
        return False


def _comment(path: tuple, indent: int, comments: Comments, out: list[str]) -> None:
    out.extend(" " * indent + line for text in comments.get(path, ()) for line in comment_lines(text))


def _mapping(data: dict[str, Any], path: tuple, indent: int, comments: Comments, out: list[str]) -> None:
    pad = " " * indent
    for key, value in data.items():
        here = (*path, key)
        _comment(here, indent, comments, out)
        head = f"{pad}{scalar(str(key))}:"
        if _is_scalar(value):
            _scalar_line(head, value, indent, out)
        elif not value:
            out.append(f"{head} {'{}' if isinstance(value, dict) else '[]'}")
        else:
            # A service's own `environments` may take one line; the spec's structure stays block.
            structural = _structural(path, key, value)
            flow = None if structural or _has_comments(here, comments) else _flow(value)
            wrapped = _wrapped(head, value, indent) if flow is not None and len(head) + 1 + len(flow) > WIDTH else []
            if flow is not None and not wrapped:
                out.append(f"{head} {flow}")
            elif wrapped and (isinstance(value, list) or key in WRAPPED or path == ("environments",) or _short_block(path, wrapped)) and (
                isinstance(value, list) or not _fits_as_block(value, here, indent, comments, wrapped)
            ):
                out.extend(wrapped)  # a command, a list of hosts, a healthcheck
            elif isinstance(value, dict):
                out.append(head)
                _mapping(value, here, indent + 2, comments, out)
            else:
                out.append(head)
                _sequence(value, here, indent + 2, comments, out)


def _sequence(items: list[Any], path: tuple, indent: int, comments: Comments, out: list[str]) -> None:
    pad = " " * indent
    for index, item in enumerate(items):
        here = (*path, index)
        _comment(here, indent, comments, out)
        if isinstance(item, dict) and item:
            nested: list[str] = []
            _mapping(item, here, indent + 2, comments, nested)
            first = next(i for i, line in enumerate(nested) if not line.lstrip().startswith("#"))
            out.extend(nested[:first])
            out.append(f"{pad}- {nested[first].lstrip()}")
            out.extend(nested[first + 1 :])
        elif isinstance(item, list) and item:
            flow = _flow(item)
            if flow is not None:
                out.append(f"{pad}- {flow}")
            else:
                out.append(f"{pad}-")
                _sequence(item, here, indent + 2, comments, out)
        elif _is_scalar(item):
            _scalar_line(f"{pad}-", item, indent, out)
        else:
            out.append(f"{pad}- {'{}' if isinstance(item, dict) else '[]'}")


def _scalar_line(head: str, value: Any, indent: int, out: list[str]) -> None:
    block = _literal(value)
    if block is None:
        out.append(f"{head} {atom(value)}")
        return
    out.append(f"{head} |-")
    out.extend(" " * (indent + 2) + line if line else "" for line in block)


def _literal(value: Any) -> list[str] | None:
    """A multi-line string's lines for a ``|-`` block, when the block gives it back exactly."""
    if not isinstance(value, str) or "\n" not in value or value.endswith("\n"):
        return None
    if forbidden_character(value, allowed="\t\n") or value[:1] in (" ", "\t") or any(line != line.rstrip() for line in value.split("\n")):
        return None
    return value.split("\n")


def _wrapped(head: str, value: dict[str, Any] | list[Any], indent: int) -> list[str]:
    """A flow collection over several lines (``command: [a, b,`` / ``  c]``); a mapping's
    part too long for a line of its own is itself wrapped, one level in."""
    if isinstance(value, dict):
        items, opening, closing = [(f"{atom(str(k), flow=True)}:", v) for k, v in value.items()], "{", "}"
    else:
        items, opening, closing = [(None, v) for v in value], "[", "]"
    pad = " " * (indent + 2)
    lines, line = [], f"{head} {opening}"
    for i, (key, item) in enumerate(items):
        tail = "," if i < len(items) - 1 else closing
        piece = f"{key} {_flow_item(item)}" if key is not None else str(_flow_item(item))
        if key is not None and isinstance(item, dict) and item and len(pad) + len(piece + tail) > WIDTH:
            if not line.endswith(opening):
                lines.append(line)
                line = pad
            nested = _wrapped(f"{line}{key}", item, indent + 2)
            lines.extend(nested[:-1])
            line = nested[-1] + tail
        elif len(line) + 1 + len(piece + tail) > WIDTH and not line.endswith(opening) and line != pad:
            lines.append(line)
            line = pad + piece + tail
        else:
            line = f"{line}{'' if line.endswith(opening) or line == pad else ' '}{piece}{tail}"
    lines.append(line)
    return lines


def _flow(value: Any) -> str | None:
    """``value`` as a flow collection, when every part of it can be one."""
    if isinstance(value, list):
        parts = [_flow_item(v) for v in value]
        return None if any(p is None for p in parts) else "[" + ", ".join(parts) + "]"  # type: ignore[arg-type]
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            item = _flow_item(v)
            if item is None:
                return None
            parts.append(f"{atom(str(k), flow=True)}: {item}")
        return "{" + ", ".join(parts) + "}"
    return None


def _flow_item(value: Any) -> str | None:
    if _is_scalar(value):
        return None if isinstance(value, str) and "\n" in value else atom(value, flow=True)
    if isinstance(value, (dict, list)) and not value:
        return "{}" if isinstance(value, dict) else "[]"
    return _flow(value)


def _structural(path: tuple, key: Any, value: Any) -> bool:
    """Whether the mapping at ``path + (key,)`` is part of the spec's structure, in block
    style: a top-level block (a spec's only environment may take one line, like any small
    collection), a service, its build, the build's steps or stages. Known by where it is, not
    by its name alone: an environment, volume or variable may be called `build` or `node`.
    Environments that say nothing but their names and parents (``{dev: {}, prod: {extends:
    dev}}``) read as one list of names, as a lone one does: they too may take one line."""
    if path == ():
        return key in BLOCK and not (key == "environments" and isinstance(value, dict) and (len(value) == 1 or _names_only(value)))
    if path[:1] != ("services",):
        return False
    return len(path) == 1 or (len(path) == 2 and key == "build") or (path[2:3] == ("build",) and key in ("stages", "steps"))


def _names_only(environments: dict[str, Any]) -> bool:
    return all(isinstance(block, dict) and set(block) <= {"extends"} for block in environments.values())


def _fits_as_block(value: dict[str, Any], path: tuple, indent: int, comments: Comments, wrapped: list[str]) -> bool:
    """Whether a mapping whose wrapped lines overrun the width fits it in block style (a
    part that no line holds, such as a long probe command, overruns either way)."""
    if all(len(line) <= WIDTH for line in wrapped):
        return False
    block: list[str] = []
    _mapping(value, path, indent + 2, comments, block)
    return all(len(line) <= WIDTH for line in block)


def _short_block(path: tuple, wrapped: list[str]) -> bool:
    """A service's block for one environment that two lines hold (as an environment's own
    entry): what that environment changes reads as one thing."""
    return len(wrapped) <= 2 and path[:1] == ("services",) and path[2:] == ("environments",)


def _has_comments(path: tuple, comments: Comments) -> bool:
    return any(key[: len(path)] == path and len(key) > len(path) for key in comments)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))
