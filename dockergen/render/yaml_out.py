"""Deterministic YAML output for generated Compose files."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.resolver import VersionedResolver

_RESOLVER = VersionedResolver(version=(1, 1))


def _str(representer: RoundTripRepresenter, value: str) -> Any:
    # Quote strings YAML 1.1 readers would take for something else (yes/no/on, 1e3, 08:00 ...).
    style = '"' if "\n" not in value and _ambiguous(value) else None
    return representer.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _ambiguous(value: str) -> bool:
    """True when a YAML 1.1 reader (older Compose, podman-compose) would not read a string."""
    return value == "" or _RESOLVER.resolve(ScalarNode, value, (True, False)) != "tag:yaml.org,2002:str"


def dump_yaml(data: dict[str, Any], header: str) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold long commands: a folded line is a different diff on every change
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(str, _str)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return header + "\n" + buffer.getvalue()
