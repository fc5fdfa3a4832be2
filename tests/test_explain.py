"""dockergen explain and diff: values, the layer that set them, and where."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SPEC = """\
version: 1
project: shop
defaults:
  environment:
    TZ: UTC
    LOG_LEVEL: info
environments:
  dev: {}
  prod:
    defaults:
      restart: unless-stopped
  podman:
    extends: prod
    engine: podman
    defaults:
      environment:
        LOG_LEVEL: warning
services:
  api:
    build: {family: python, context: api, port: 8000, python: {app: "app:app"}}
    environment:
      FEATURE: "on"
    environments:
      prod:
        environment:
          TZ: null
        resources:
          limits: {memory: 1G}
"""


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)


def explained(tmp_path: Path, env: str) -> dict[str, dict]:
    result = run(tmp_path, "explain", "api", "--env", env, "--format", "json")
    assert result.returncode == 0, result.stderr
    return {v["key"]: v for v in json.loads(result.stdout)["values"]}


def test_each_value_names_its_layer_and_position(tmp_path: Path) -> None:
    values = explained(tmp_path, "podman")
    assert values["environment.LOG_LEVEL"]["value"] == "warning"
    assert values["environment.LOG_LEVEL"]["layer"] == "environments.podman.defaults"
    assert values["environment.LOG_LEVEL"]["location"] == "dockergen.yaml:17:9"
    assert values["restart"]["layer"] == "environments.prod.defaults"  # inherited along extends
    assert values["resources.limits.memory"] == {
        "key": "resources.limits.memory",
        "value": "1G",
        "layer": "services.api.environments.prod",
        "location": "dockergen.yaml:28:20",
    }
    assert values["resources.limits.cpus"]["layer"].startswith("built-in")
    assert values["resources.limits.cpus"]["location"] is None
    assert values["environment.FEATURE"]["layer"] == "services.api"
    assert "environment.TZ" not in values  # removed by `TZ: null` in the prod block


def test_dev_keeps_what_prod_removes(tmp_path: Path) -> None:
    values = explained(tmp_path, "dev")
    assert values["environment.TZ"]["layer"] == "defaults"
    assert values["source_mount"]["layer"].startswith("built-in (dev")


def test_key_filter_and_text_output(tmp_path: Path) -> None:
    result = run(tmp_path, "explain", "api", "environment", "--env", "prod")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("api in prod")
    assert all(line.strip().startswith("environment.") for line in lines[1:])


def test_unknown_service_or_environment_is_bad_input(tmp_path: Path) -> None:
    assert run(tmp_path, "explain", "nope").returncode == 2
    assert run(tmp_path, "explain", "api", "--env", "nope").returncode == 2


def test_diff_lists_only_what_differs(tmp_path: Path) -> None:
    result = run(tmp_path, "diff", "prod", "podman", "--format", "json")
    assert result.returncode == 0
    rows = {(r["service"], r["key"]): (r["prod"], r["podman"]) for r in json.loads(result.stdout)}
    assert rows[("api", "environment.LOG_LEVEL")] == ("info", "warning")
    assert rows[("api", "image")] == ("shop/api:${TAG:-prod}", "localhost/shop/api:${TAG:-podman}")
    assert ("api", "restart") not in rows
    same = run(tmp_path, "diff", "prod", "prod")
    assert same.returncode == 0 and "the same" in same.stdout
