"""With the default environments, `podman` is prod on podman (issue 15, item 5): a
service's `environments.prod` block, its limits and ports carry over, as Compose reads it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.tools import compose_config

SPEC = """\
version: 1
project: shop
services:
  api:
    build: {family: python, port: 8000, python: {requirements: null, app: "app:app"}}
    healthcheck: {http: /health}
    environments:
      prod:
        ports: ["80:8000"]
        environment: {WORKERS: "8"}
        resources: {limits: {cpus: 2.0, memory: 4G}}
  db:
    image: postgres:16-alpine
    environments:
      prod: {resources: {limits: {memory: 2G}}}
"""


def test_podman_has_everything_prod_says_plus_its_own_engine_rules(tmp_path: Path) -> None:
    spec = tmp_path / "dockergen.yaml"
    spec.write_text(textwrap.dedent(SPEC))
    result = subprocess.run([sys.executable, "-m", "dockergen", "render", "-q", "--spec", str(spec)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    prod = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.prod.yaml"])["services"]
    podman = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.podman.yaml"])["services"]
    for name in ("api", "db"):
        assert podman[name]["deploy"] == prod[name]["deploy"], name
    assert podman["api"]["deploy"]["resources"]["limits"] == {"cpus": 2.0, "memory": "4294967296"}
    assert podman["api"]["environment"] == {"WORKERS": "8"}
    assert [p["published"] for p in podman["api"]["ports"]] == ["8080"]  # prod's port 80, shifted for rootless podman
    explained = json.loads(
        subprocess.run(
            [sys.executable, "-m", "dockergen", "explain", "api", "--env", "podman", "--format", "json", "--spec", str(spec)],
            capture_output=True, text=True, timeout=60,
        ).stdout
    )  # fmt: skip
    layers = {row["key"]: row["layer"] for row in explained["values"]}
    assert layers["resources.limits.memory"] == "services.api.environments.prod"
