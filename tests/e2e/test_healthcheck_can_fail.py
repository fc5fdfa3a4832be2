"""The e2e harness can fail: a service whose generated healthcheck probes a path the app
does not serve must make `up --wait` (and so the stack test) fail, while the same
service with the right path passes. Without this, a harness that always passed would
prove nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e import engine as eng
from tests.e2e.conftest import not_available

SERVER = '''\
"""Serves /health (200) and nothing else (404)."""
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b"ok\\n" if self.path == "/health" else b"not found\\n")


ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
'''

SPEC = """\
version: 1
project: dge2e-probe
environments: {{prod: {{}}}}
services:
  web:
    build:
      family: python
      context: web
      port: 8000
      python: {{requirements: null, prod_command: [python, server.py]}}
    init: true
    healthcheck: {{http: {path}, interval: 2s, timeout: 2s, start_period: 1s, retries: 2}}
"""


def _project(tmp_path: Path, health_path: str) -> Path:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "server.py").write_text(SERVER)
    (tmp_path / "dockergen.yaml").write_text(SPEC.format(path=health_path))
    result = subprocess.run(
        [sys.executable, "-m", "dockergen", "render", "-q", "--spec", str(tmp_path / "dockergen.yaml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return tmp_path


@pytest.mark.parametrize(("health_path", "healthy"), [("/wrong-path", False), ("/health", True)], ids=["broken", "control"])
def test_up_wait_fails_when_the_healthcheck_fails(health_path: str, healthy: bool, engine: eng.Engine, tmp_path: Path) -> None:
    if not eng.image_exists("docker.io/library/python:3.12-slim"):
        not_available("image docker.io/library/python:3.12-slim is not present locally")
    workdir = _project(tmp_path, health_path)
    stack = eng.Stack(engine, workdir, ["compose.yaml", "compose.prod.yaml"], f"{eng.PROJECT_PREFIX}probe-{'ok' if healthy else 'broken'}")
    config = stack.config()
    if healthy:
        with eng.running(stack, config, wait_timeout=60):
            assert stack.health("web") == "healthy"
        return
    with pytest.raises(eng.StackNotHealthy) as failure:
        with eng.running(stack, config, wait_timeout=60):
            pytest.fail("up --wait returned although the healthcheck probes a path that answers 404")
    assert "unhealthy" in str(failure.value), str(failure.value)[:2000]
    assert not stack.leftovers(), "a failed stack must still be torn down"
