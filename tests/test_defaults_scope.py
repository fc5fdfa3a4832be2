"""`defaults` with a scope, and no made-up limits on stock images (issue 15, item 6): app
settings stay out of postgres and redis when asked, lint says when they reach one, and
only the images dockergen builds get its built-in prod limits. Judged by Compose."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.tools import compose_config

SPEC = """\
version: 1
project: shop
defaults:
  {scope}
  environment:
    DATABASE_URL: postgresql://app:${{DB_PASSWORD}}@db/app
    TZ: UTC
environments:
  dev: {{}}
  prod:
    defaults:
      {scope}
      environment: {{SENTRY_DSN: "https://key@sentry.example.com/1"}}
services:
  api:
    build: {{family: python, port: 8000, python: {{requirements: null, app: "app:app"}}}}
    healthcheck: {{http: /health}}
  worker:
    uses: api
    command: [celery, -A, app, worker]
  db:
    image: postgres:16-alpine
  cache:
    image: redis:7-alpine
    environments:
      prod: {{resources: {{limits: {{cpus: 0.5, memory: 256M}}}}}}
"""


def render(tmp_path: Path, scope: str) -> Path:
    spec = tmp_path / "dockergen.yaml"
    spec.write_text(SPEC.format(scope=scope))
    result = subprocess.run([sys.executable, "-m", "dockergen", "render", "-q", "--spec", str(spec)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return spec


def services(tmp_path: Path, env: str) -> dict:
    return compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / f"compose.{env}.yaml"])["services"]


def test_scope_built_keeps_app_settings_out_of_stock_images(tmp_path: Path) -> None:
    render(tmp_path, "scope: built")
    prod = services(tmp_path, "prod")
    for name in ("api", "worker"):
        assert set(prod[name]["environment"]) == {"DATABASE_URL", "TZ", "SENTRY_DSN"}, name
    for name in ("db", "cache"):
        assert not {"DATABASE_URL", "SENTRY_DSN", "TZ"} & set(prod[name].get("environment") or {}), name


def test_scope_all_reaches_every_service_and_lint_names_the_defaults_line(tmp_path: Path) -> None:
    spec = render(tmp_path, "scope: all")
    assert "DATABASE_URL" in services(tmp_path, "prod")["db"]["environment"]
    result = subprocess.run([sys.executable, "-m", "dockergen", "lint", "--no-hadolint", "--spec", str(spec)], capture_output=True, text=True, timeout=60)
    found = [line for line in result.stdout.splitlines() if "DG025" in line]
    assert any("dockergen.yaml:6:5:" in line and "DATABASE_URL" in line and "db:" in line for line in found), found
    assert any("dockergen.yaml:13:21:" in line and "SENTRY_DSN" in line and "cache:" in line for line in found), found
    assert not any("TZ" in line for line in found), found  # not a credential, not a URL


def test_stock_images_get_no_made_up_limits_and_lint_asks_to_size_them(tmp_path: Path) -> None:
    spec = render(tmp_path, "scope: all")
    prod = services(tmp_path, "prod")
    assert prod["api"]["deploy"]["resources"]["limits"] == {"cpus": 1.0, "memory": "536870912"}
    assert prod["worker"]["deploy"]["resources"]["limits"] == {"cpus": 1.0, "memory": "536870912"}
    assert "deploy" not in prod["db"]
    assert prod["cache"]["deploy"]["resources"]["limits"] == {"cpus": 0.5, "memory": "268435456"}
    result = subprocess.run([sys.executable, "-m", "dockergen", "lint", "--no-hadolint", "--spec", str(spec)], capture_output=True, text=True, timeout=60)
    dg001 = [line for line in result.stdout.splitlines() if "DG001" in line]
    assert len(dg001) == 1 and "db:" in dg001[0] and "size this one" in dg001[0], dg001


@pytest.mark.parametrize("bad", ["scope: stock", "scope: [built]"])
def test_an_unknown_scope_is_a_located_error(tmp_path: Path, bad: str) -> None:
    spec = tmp_path / "dockergen.yaml"
    spec.write_text(SPEC.format(scope=bad))
    result = subprocess.run([sys.executable, "-m", "dockergen", "validate", "--spec", str(spec)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "dockergen.yaml:4:3: error: defaults.scope" in result.stderr, result.stderr
