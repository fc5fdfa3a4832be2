"""The spec reference in Markdown, generated from the models' JSON Schema (docs/spec-reference.md)."""

from __future__ import annotations

import json
from typing import Any

from dockergen.spec.schema import spec_json_schema


def _type(node: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in node:
        return f"[{node['$ref'].rsplit('/', 1)[-1]}](#{node['$ref'].rsplit('/', 1)[-1].lower()})"
    if "anyOf" in node:
        return " or ".join(_type(n, defs) for n in node["anyOf"] if n.get("type") != "null") or "null"
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    kind = node.get("type", "any")
    if kind == "array":
        return f"list of {_type(node.get('items', {}), defs)}"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"mapping of name to {_type(node['additionalProperties'], defs)}"
    if kind == "object" and node.get("patternProperties"):
        (pattern, value), *_ = node["patternProperties"].items()
        return f"mapping of name (`{pattern}`) to {_type(value, defs)}"
    return str(kind)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _section(name: str, model: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    lines = [f"## {name}", ""]
    if model.get("description"):
        lines += [_cell(model["description"]), ""]
    required = set(model.get("required", []))
    lines += ["| field | type | default | description |", "|---|---|---|---|"]
    for field, node in model.get("properties", {}).items():
        default = node.get("default", "required" if field in required else "")
        default_text = f"`{json.dumps(default)}`" if default not in ("", "required") else default
        lines.append(f"| `{field}` | {_cell(_type(node, defs))} | {_cell(default_text)} | {_cell(node.get('description', ''))} |")
    return [*lines, ""]


def reference_markdown() -> str:
    schema = spec_json_schema()
    defs = schema.get("$defs", {})
    lines = [
        "# dockergen spec reference",
        "",
        "Generated from the spec's models by `dockergen schema --format markdown`; do not edit.",
        "An annotated example using every field: `specs/reference.yaml` in the repository.",
        "",
    ]
    lines += _section("Spec", schema, defs)
    for name in sorted(defs):
        lines += _section(name, defs[name], defs)
    return "\n".join(lines).rstrip() + "\n"
