"""A generic build (`steps`, what `import` makes of a repository's Dockerfile) runs in
Kubernetes with the writable root filesystem it has under Compose: where such an image writes
is unknown (a Django app's media, a sqlite file), so a read-only root would break it in the
cluster only. The presets' images, which write only to /tmp and `build.writable`, stay read-only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

SPEC = """\
project: shop
output: {kubernetes: k8s}
services:
  web:
    build:
      dockerfile: web.Dockerfile
      steps:
        - FROM python:3.12-slim
        - WORKDIR /app
        - COPY . .
        - CMD ["python", "-m", "http.server", "8000"]
    ports: ["8000:8000"]
  api:
    build: {family: python, port: 8000, python: {app: "app.main:app"}}
  hardened:
    build:
      dockerfile: hardened.Dockerfile
      steps: ["FROM python:3.12-slim", "CMD [\\"python\\", \\"-V\\"]"]
    read_only: true
"""


def _container(root: Path, name: str) -> dict:
    doc = yaml.safe_load((root / "k8s" / "base" / f"{name}-deployment.yaml").read_text())
    return doc["spec"]["template"]["spec"]["containers"][0]


def test_only_the_presets_images_get_a_read_only_root_by_default(tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    (tmp_path / "requirements.txt").write_text("fastapi\nuvicorn\n")
    result = subprocess.run([sys.executable, "-m", "dockergen", "render", "-q"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    compose = yaml.safe_load((tmp_path / "compose.yaml").read_text())["services"]
    assert "read_only" not in compose["web"]  # Compose runs it writable ...
    assert _container(tmp_path, "web")["securityContext"]["readOnlyRootFilesystem"] is False  # ... and so does the cluster
    assert _container(tmp_path, "api")["securityContext"]["readOnlyRootFilesystem"] is True
    hardened = _container(tmp_path, "hardened")
    assert hardened["securityContext"]["readOnlyRootFilesystem"] is True and {"name": "tmp", "mountPath": "/tmp"} in hardened["volumeMounts"]
