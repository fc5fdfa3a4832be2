"""Templates: a project can override a built-in one, and the wheel ships them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from dockergen.pipeline import render
from tests.conftest import ROOT

SPEC = """\
version: 1
project: demo
templates: tpl
environments: {prod: {}}
services:
  api:
    build: {family: python, context: api, port: 8000, python: {app: "app:app"}}
"""


def test_a_project_template_replaces_the_built_in_one(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "python.Dockerfile.j2").write_text(
        "# syntax=docker/dockerfile:1\n{{ header }}\nFROM {{ base_image|word }} AS prod\nLABEL team=\"payments\"\n"
    )
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    dockerfile = next(f for f in render(tmp_path / "dockergen.yaml").files if f.kind == "dockerfile")
    assert 'LABEL team="payments"' in dockerfile.content
    assert "FROM docker.io/library/python:3.12.16-slim AS prod" in dockerfile.content  # `base_image`: the pinned patch release


def test_without_an_override_the_built_in_template_is_used(tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(SPEC.replace("templates: tpl\n", ""))
    dockerfile = next(f for f in render(tmp_path / "dockergen.yaml").files if f.kind == "dockerfile")
    assert "FROM base AS prod" in dockerfile.content


def test_the_wheel_ships_the_templates(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("dockergen_cli-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for template in (ROOT / "templates").glob("*.j2"):
        assert f"dockergen/templates/{template.name}" in names
