"""`prebuilt: true`: an environment runs a built service's published image instead of
building it (a stack that builds from source in development and pulls its releases
elsewhere); judged by the real Compose CLI on the rendered files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.tools import compose_config

SPEC = """\
project: relay
environments:
  dev: {}
  prod: {}
services:
  relay:
    image: ghcr.io/example/relay:${TAG:-1.0}
    build:
      steps:
        - FROM alpine:3.20
        - CMD ["sleep", "infinity"]
    environments:
      prod: {prebuilt: true}
  fanout:
    uses: relay
    command: [fanout]
    environments:
      prod: {prebuilt: %s}
"""


def render(tmp_path: Path, fanout_prebuilt: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "dockergen.yaml").write_text(textwrap.dedent(SPEC % fanout_prebuilt))
    argv = [sys.executable, "-m", "dockergen", "render", "-q", "--spec", str(tmp_path / "dockergen.yaml")]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def config(tmp_path: Path, env: str) -> dict:
    return compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / f"compose.{env}.yaml"])["services"]


def test_a_prebuilt_environment_pulls_the_image_and_the_others_build_it(tmp_path: Path) -> None:
    result = render(tmp_path, "true")
    assert result.returncode == 0, result.stderr
    dev, prod = config(tmp_path, "dev"), config(tmp_path, "prod")
    assert "build" in dev["relay"]
    assert "build" not in prod["relay"] and "build" not in prod["fanout"]
    assert prod["relay"]["image"] == prod["fanout"]["image"] == "ghcr.io/example/relay:1.0"


def test_a_uses_service_that_is_not_prebuilt_still_builds_its_builders_image(tmp_path: Path) -> None:
    result = render(tmp_path, "false")
    assert result.returncode == 0, result.stderr
    prod = config(tmp_path, "prod")
    assert "build" not in prod["relay"] and "build" in prod["fanout"]
