"""Validation errors say what a value must look like, in words taken from the model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dockergen.errors import DockergenError
from dockergen.pipeline import load_and_resolve
from dockergen.spec.schema import spec_json_schema

BASE = """\
version: 1
project: shop
services:
  api:
    image: nginx:1.27
"""


def patterns_without_words(node: Any, where: str = "", message: str | None = None) -> list[str]:
    """Every schema location with a ``pattern`` but no ``patternErrorMessage`` on it or on
    the optional field around it."""
    missing: list[str] = []
    if isinstance(node, dict):
        message = node.get("patternErrorMessage", message)
        if "pattern" in node and not message:
            missing.append(where or "(root)")
        for key, value in node.items():
            inherited = message if key in ("anyOf", "oneOf", "allOf") else None
            missing += patterns_without_words(value, f"{where}.{key}" if where else key, inherited)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            missing += patterns_without_words(value, f"{where}[{index}]", message)
    return missing


def test_every_pattern_of_the_spec_says_what_it_accepts() -> None:
    missing = patterns_without_words(spec_json_schema())
    assert not missing, "give these fields `matching(pattern, 'what it accepts')` in spec/model.py:\n" + "\n".join(missing)


def messages(tmp_path: Path, text: str) -> list[str]:
    spec = tmp_path / "dockergen.yaml"
    spec.write_text(text)
    with pytest.raises(DockergenError) as caught:
        load_and_resolve(spec)
    return [p.render() for p in caught.value.problems]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("project: shop", "project: Shop"), "project: must be lowercase letters, digits, '-' or '_', starting with a letter (got 'Shop')"),
        (("image: nginx:1.27", "image: nginx:1.27\n    healthcheck: {http: health}"), "healthcheck.http: must be a path starting with / (e.g. /health) (got 'health')"),
        (("image: nginx:1.27", "image: nginx:1.27\n    healthcheck: {test: [CMD, 'true'], interval: 5 s}"), "healthcheck.interval: must be a duration such as 30s, 1m30s or 500ms, or a variable (${HC_INTERVAL:-10s}, $HC_INTERVAL) (got '5 s')"),
        (("image: nginx:1.27", "image: nginx:1.27\n    restart: sometimes"), "restart: must be one of no, always, unless-stopped, on-failure or on-failure:N, or ${VARIABLE[:-policy]} (got 'sometimes')"),
        (("image: nginx:1.27", "image: nginx:1.27\n    resources: {limits: {memory: 512 MB}}"), "memory: must be a size such as 512m"),
        (("services:", "engines: {docker: latest}\nservices:"), "engines.docker: must be a version such as 2.20 or 24.0.7"),
        (("services:", "environments: {dev: {engine: dockr}}\nservices:"), "environments.dev.engine: must be one of: docker, podman (got 'dockr'); did you mean 'docker'?"),
        (("services:", "environments: {dev: {kind: production}}\nservices:"), "environments.dev.kind: must be one of: dev, test, staging, prod (got 'production')"),
        (("version: 1", "version: 2"), "version: must be 1 (got 2)"),
        (("version: 1", "version: '1.0'"), "version: must be 1 (got '1.0')"),
        (("services:", "environments: {Dev: {}}\nservices:"), "must be lowercase letters, digits, '-' or '_', starting with a letter (got 'Dev')"),
        (("services:", "output: {overlay: compose.yaml}\nservices:"), "output.overlay: must be a file name containing {env}"),
        (("image: nginx:1.27", "image: nginx:1.27\n    user: 1000"), "user: must be a string, and YAML read an unquoted number (1000): write the value in quotes"),
        (("image: nginx:1.27", "build: {family: python, context: ., python: {version: 3.10}}"), "python.version: must be a string, and YAML read an unquoted number (3.1): write the value in quotes as you mean it (unquoted 3.10 is the number 3.1)"),
        (("image: nginx:1.27", "image: nginx:1.27\n    description: true"), "description: must be a string, and YAML read an unquoted true as a boolean: write the value in quotes"),
        # Compose's spellings of a field get the spec's, built from what was written
        (("image: nginx:1.27", "image: nginx:1.27\n    environment: [KEY=value, 'A=x: y', BARE]"),
         "environment: must be a mapping (got a list) (write Compose's `- KEY=value` list as a mapping: `environment: {KEY: value, A: \"x: y\", BARE: \"\"}`)"),
        (("image: nginx:1.27", "build: ./api"), "build: must be a mapping (got the text './api') (write `build: {family: python, context: ./api}`"),
        (("image: nginx:1.27", "image: nginx:1.27\n    ports: 8000"), "ports: must be a list or a mapping (got the number 8000) (write a list: `ports: [\"8000:8000\"]`)"),
        (("image: nginx:1.27", "image: nginx:1.27\n    depends_on: db"), "depends_on: must be a list or a mapping (got the text 'db') (write a list: `depends_on: [db]`)"),
        (("image: nginx:1.27", "image: nginx:1.27\n    read_only: maybe"), "read_only: must be true or false (got the text 'maybe')"),
        (("  api:\n    image: nginx:1.27", "  api: nginx:1.27"), "services.api: must be a mapping (got the text 'nginx:1.27') (a service is a mapping of its settings, e.g. `api: {image: \"nginx:1.27\"}`)"),
    ],
)
def test_the_message_names_the_expected_format(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    found = messages(tmp_path, BASE.replace(*change, 1))
    assert any(expected in line for line in found), found
    assert not any("does not match the expected format" in line or "Input should be" in line for line in found), found
