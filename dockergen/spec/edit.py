"""Change values in a spec file while keeping its comments and layout (ruamel round-trip)."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from dockergen.errors import format_path

DELETE = object()
Edit = tuple[tuple[str, ...], Any]


class SharedEdit(ValueError):
    """An edit would go through a YAML anchor shared with places it is not meant for."""


def set_values(text: str, edits: list[Edit]) -> str:
    """Apply ``(path, value)`` edits; ``value`` None writes an explicit ``null`` (which
    removes the key in layering), ``DELETE`` removes the key from the file.

    A mapping written once under an anchor and used again through aliases (or ``<<:``
    merges) is one object: an edit inside it changes every place that uses it. That is
    done only when the edits ask for the same change at every one of those places;
    otherwise ``SharedEdit`` is raised and nothing is changed."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    doc = yaml.load(text)
    _check_shared(doc, edits)
    for path, value in edits:
        node = doc
        for key in path[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = CommentedMap()
                node[key] = child
            node = child
        if value is DELETE:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    out = io.StringIO()
    yaml.dump(doc, out)
    written = out.getvalue()
    # A spec checked out with CRLF line ends keeps them.
    return written.replace("\n", "\r\n") if "\r\n" in text and "\n" not in text.replace("\r\n", "") else written


def _check_shared(doc: Any, edits: list[Edit]) -> None:
    places = _places(doc)
    for path, value in edits:
        node = doc
        for depth in range(1, len(path)):
            node = node.get(path[depth - 1]) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                break  # created by the edit: not shared
            here = places.get(id(node), [])
            if len(here) < 2:
                continue
            missing = [p for p in here if not any(q == (*p, *path[depth:]) and v == value for q, v in edits)]
            if missing:
                raise SharedEdit(
                    f"{format_path(path[:depth])} is written once (a YAML anchor) and also used at "
                    + ", ".join(format_path(p) for p in here if p != path[:depth])
                    + f": changing {format_path(path)} there would change "
                    + ", ".join(format_path((*p, *path[depth:])) for p in missing)
                    + " too"
                )


def _places(doc: Any) -> dict[int, list[tuple[str, ...]]]:
    """Every path at which each mapping sits (an anchored one sits at several)."""
    found: dict[int, list[tuple[str, ...]]] = {}
    stack: list[tuple[Any, tuple[str, ...]]] = [(doc, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            found.setdefault(id(node), []).append(path)
            stack += [(value, (*path, str(key))) for key, value in node.items()]
        elif isinstance(node, list):
            stack += [(value, (*path, str(index))) for index, value in enumerate(node)]
    return found
