"""Two spec behaviours the importer relies on: `null` removes a built-in default, and an
environment can keep its own Compose project name."""

from __future__ import annotations

from pathlib import Path

from dockergen.pipeline import render
from dockergen.render.compose import environment_document

SPEC = """\
version: 1
project: shop
defaults:
  restart: null
  resources: null
services:
  db:
    image: postgres:16-alpine
    healthcheck: null
    data_dir: null
    environments:
      prod:
        logging: null
environments:
  dev: {}
  prod: {project: shop-prod}
  podman: {extends: prod, engine: podman}
"""


def _documents(tmp_path: Path) -> dict:
    spec = tmp_path / "dockergen.yaml"
    spec.write_text(SPEC)
    rendered = render(spec)
    return {name: environment_document(rendered.project, env) for name, env in rendered.project.environments.items()}


def test_null_in_any_layer_removes_a_builtin_default(tmp_path: Path) -> None:
    prod = _documents(tmp_path)["prod"]["services"]["db"]
    for key in ("restart", "deploy", "healthcheck", "volumes", "logging"):
        assert key not in prod, key


def test_environment_project_name_is_used_and_inherited(tmp_path: Path) -> None:
    docs = _documents(tmp_path)
    assert docs["dev"]["name"] == "shop"
    assert docs["prod"]["name"] == "shop-prod"
    assert docs["podman"]["name"] == "shop-prod"
