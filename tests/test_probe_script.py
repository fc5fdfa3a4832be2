"""dockergen-probe, the liveness probe the Kubernetes manifests run, as the Dockerfiles ship
it: taken out of a rendered Dockerfile and run against real HTTP servers. It waits as long
as the manifest tells it (the healthcheck's timeout, less a second, as the Compose probe),
so one image serves environments with different timeouts."""

from __future__ import annotations

import http.server
import re
import shlex
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCKERFILES = {"python": ROOT / "examples" / "fastapi-celery" / "api" / "Dockerfile", "node": ROOT / "examples" / "platform" / "frontend" / "Dockerfile"}
INTERPRETERS = {"python": "python3", "node": "node"}
SLOW = 4.5  # seconds /slow takes to answer: longer than any fixed wait the probe ever had (4 s)


def probe_script(dockerfile: Path) -> str:
    """The lines the Dockerfile's `printf '%s\\n' ...` writes to /usr/local/bin/dockergen-probe."""
    line = next(line for line in dockerfile.read_text().splitlines() if line.startswith("RUN printf '%s\\n' '#!/usr/bin/env"))
    words = shlex.split(line.removeprefix("RUN ").removesuffix("\\"))
    assert words[:2] == ["printf", "%s\\n"]
    return "\n".join(words[2:]) + "\n"


@pytest.fixture(params=sorted(DOCKERFILES))
def probe(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    family = request.param
    assert "dockergen-probe" in DOCKERFILES[family].read_text(), f"{DOCKERFILES[family]} no longer ships the probe"
    script = tmp_path / "dockergen-probe"
    script.write_text(probe_script(DOCKERFILES[family]))
    return [INTERPRETERS[family], str(script)]


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        if self.path == "/slow":
            time.sleep(SLOW)
            self.path = "/health"
        self.send_response(200 if self.path == "/health" else 500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def silent() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def run(probe: list[str], url: str, seconds: str) -> subprocess.CompletedProcess[str]:
    # The timeout only guards against a hang; the probe's own wait is what is tested.
    return subprocess.run([*probe, url, seconds], capture_output=True, text=True, timeout=60)


def test_a_healthy_answer_passes(probe: list[str], server: int) -> None:
    result = run(probe, f"http://127.0.0.1:{server}/health", "4")
    assert result.returncode == 0, result.stderr


def test_an_error_status_fails(probe: list[str], server: int) -> None:
    assert run(probe, f"http://127.0.0.1:{server}/broken", "4").returncode != 0


def test_nothing_listening_fails(probe: list[str]) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert run(probe, f"http://127.0.0.1:{port}/health", "4").returncode != 0


def test_it_waits_as_long_as_it_is_told(probe: list[str], server: int) -> None:
    result = run(probe, f"http://127.0.0.1:{server}/slow", f"{SLOW * 3:g}")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("seconds", ["0.25", "1"])
def test_it_gives_up_after_the_seconds_it_is_given(probe: list[str], silent: int, seconds: str) -> None:
    result = run(probe, f"http://127.0.0.1:{silent}/health", seconds)
    assert result.returncode != 0
    assert "unhealthy" in result.stderr and re.search(r"timed out|TimeoutError|aborted", result.stderr), result.stderr
