"""Change values in a spec file while keeping its comments and layout (ruamel round-trip)."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

DELETE = object()


def set_values(text: str, edits: list[tuple[tuple[str, ...], Any]]) -> str:
    """Apply ``(path, value)`` edits; ``value`` None writes an explicit ``null`` (which
    removes the key in layering), ``DELETE`` removes the key from the file."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    doc = yaml.load(text)
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
    return out.getvalue()
