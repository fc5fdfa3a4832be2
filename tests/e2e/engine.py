"""The container engine the e2e tests drive: podman/buildah for builds, the real Docker
Compose CLI talking to podman's Docker API socket for stacks.

Every call has a timeout, and every failure message carries what a person needs to see
(the command, its output, the containers' logs and health).
See tools/container-sandbox-setup.sh for the machine set-up and docs/podman-e2e.md for
what works on podman 4.3 / buildah 1.28 and why.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockergen.compose_tool import socket_answers

ROOT = Path(__file__).resolve().parents[2]
SETUP_SCRIPT = ROOT / "tools" / "container-sandbox-setup.sh"
SETUP_HINT = f"as root: SANDBOX_IMAGES=all bash {SETUP_SCRIPT.relative_to(ROOT)} services"
DEFAULT_SOCKET = "/run/podman/podman.sock"
TICKER_PID = Path("/run/container-sandbox/ticker.pid")
PROJECT_PREFIX = "dge2e-"
LOCK_FILE = Path("/tmp/dockergen-e2e.lock")

# Images no stand-in can provide here (no registry; nothing equivalent in Debian). Tests that
# need them are skipped with this reason; any *other* missing image is a set-up failure.
UNAVAILABLE_IMAGES: dict[str, str] = {
    r"^docker\.io/grafana/grafana:": "Grafana has no Debian package and no registry is reachable, so no stand-in image exists",
    r"^docker\.io/library/python:[^@]*-alpine": "no Alpine (musl) Python base image: no registry, and Debian has no musl Python",
    r"^docker\.io/library/node:[^@]*-alpine": "no Alpine (musl) Node base image: no registry, and Debian has no musl Node",
    r"^docker\.io/nginxinc/nginx-unprivileged:": "no nginx-unprivileged stand-in is built (no example serves static files with it)",
}


class EngineError(AssertionError):
    """A command against the engine failed; the message has everything to diagnose it."""


def unavailable_reason(image: str) -> str | None:
    for pattern, reason in UNAVAILABLE_IMAGES.items():
        if re.search(pattern, image):
            return f"{image}: {reason}"
    return None


def docker_reference(name: str) -> str:
    """Qualify an image name the way the Docker API does (``app:1`` -> ``docker.io/library/app:1``),
    so that an image built with ``podman build -t`` is the one Compose looks up."""
    first = name.split("/", 1)[0]
    if "/" in name and ("." in first or ":" in first or first == "localhost"):
        return name
    return f"docker.io/{name}" if "/" in name else f"docker.io/library/{name}"


def run(cmd: list[str], *, timeout: float, env: dict[str, str] | None = None, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise EngineError(f"timed out after {timeout:.0f} s: {' '.join(cmd)}\n{_tail(exc.stdout)}{_tail(exc.stderr)}") from None
    if check and result.returncode != 0:
        raise EngineError(f"exit {result.returncode}: {' '.join(cmd)}\n{_tail(result.stdout)}{_tail(result.stderr)}")
    return result


def _tail(text: str | bytes | None, lines: int = 40) -> str:
    if not text:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join(text.rstrip().splitlines()[-lines:]) + "\n"


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(["podman", *args], timeout=timeout, env={**os.environ, "DISABLE_HC_SYSTEMD": "true"}, check=check)


def image_exists(image: str) -> bool:
    return podman("image", "exists", image, check=False).returncode == 0


@dataclass(frozen=True)
class Engine:
    socket_path: str
    podman_version: str
    compose_version: str

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket_path}"

    def compose_env(self) -> dict[str, str]:
        """A fixed environment: interpolation must not depend on the machine."""
        return {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/root"),
            "DOCKER_HOST": self.docker_host,
            "DISABLE_HC_SYSTEMD": "true",
        }


def find_engine() -> tuple[Engine | None, str]:
    """The engine, or None and why it is not usable."""
    for tool in ("podman", "docker-compose"):
        if shutil.which(tool) is None:
            return None, f"{tool} is not installed"
    info = run(["podman", "info", "--format", "{{.Version.Version}}"], timeout=60, check=False)
    if info.returncode != 0:
        return None, f"`podman info` fails: {info.stderr.strip()[-300:]}"
    host = os.environ.get("DOCKER_HOST", "")
    path = host.removeprefix("unix://") if host.startswith("unix://") and "podman" in host else DEFAULT_SOCKET
    if not socket_answers(path):
        return None, f"podman's Docker API socket {path} does not answer (podman system service)"
    if not Path("/run/systemd/system").is_dir() and not _ticker_running():
        return None, "no systemd and no healthcheck ticker: podman 4.3 would never run a healthcheck"
    compose = run(["docker-compose", "version", "--short"], timeout=30, check=False).stdout.strip()
    return Engine(path, info.stdout.strip(), compose), ""


def _ticker_running() -> bool:
    try:
        os.kill(int(TICKER_PID.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


# ---- builds -------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildCase:
    """One Dockerfile target as some environment(s) of an example build it."""

    dockerfile: Path  # absolute
    context: Path  # absolute
    target: str
    args: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]  # Docker-qualified names Compose will look up
    environments: tuple[str, ...]


def base_images(dockerfile: Path) -> list[str]:
    """External images the Dockerfile starts from (not its own stages), with ARG defaults applied."""
    args: dict[str, str] = {}
    stages: set[str] = set()
    images: list[str] = []
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if not words:
            continue
        if words[0].upper() == "ARG" and len(words) > 1 and "=" in words[1] and not stages:
            key, value = words[1].split("=", 1)
            args[key] = value.strip('"')
        if words[0].upper() == "FROM":
            rest = [w for w in words[1:] if not w.startswith("--")]
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), rest[0])
            if image.lower() not in stages and image != "scratch":
                images.append(image)
            if len(rest) >= 3 and rest[1].upper() == "AS":
                stages.add(rest[2].lower())
        if words[0].upper() in ("COPY", "RUN"):
            for match in re.finditer(r"--(?:from)=([^\s,]+)", line):
                ref = match.group(1)
                if ref.lower() not in stages and not ref.isdigit() and ("/" in ref or ":" in ref):
                    images.append(ref)
    return images


def build(case: BuildCase, *, timeout: float = 900) -> float:
    """``podman build --format docker --pull=never``; returns the seconds it took."""
    cmd = ["podman", "build", "--format", "docker", "--pull=never", "--target", case.target, "-f", str(case.dockerfile)]
    for key, value in case.args:
        cmd += ["--build-arg", f"{key}={value}"]
    for tag in case.tags:
        cmd += ["-t", tag]
    start = time.monotonic()
    run([*cmd, str(case.context)], timeout=timeout, env={**os.environ, "BUILDAH_FORMAT": "docker"})
    return time.monotonic() - start


# ---- stacks -------------------------------------------------------------------------


class StackNotHealthy(EngineError):
    """``up --wait`` failed or a service is not healthy."""


@dataclass
class Stack:
    """One Compose project on the engine: base file + one overlay of a rendered example."""

    engine: Engine
    directory: Path
    files: list[str]
    project: str
    services: list[str] = field(default_factory=list)  # empty: all

    def compose(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = ["docker-compose", "--project-directory", str(self.directory), "-p", self.project]
        for f in self.files:
            cmd += ["-f", f]
        return run([*cmd, *args], timeout=timeout, env=self.engine.compose_env(), cwd=self.directory, check=check)

    def config(self) -> dict[str, Any]:
        return json.loads(self.compose("config", "--format", "json", timeout=60).stdout)

    def up(self, *, wait_timeout: int = 180) -> None:
        result = self.compose(
            "up", "--detach", "--wait", "--wait-timeout", str(wait_timeout), "--pull", "never", "--no-build",
            *self.services, timeout=wait_timeout + 60, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise StackNotHealthy(
                f"`docker-compose up --wait` failed (exit {result.returncode}) for {self.project}:\n"
                f"{_tail(result.stderr, 15)}\n{self.diagnostics()}"
            )

    def down(self) -> str:
        """Remove containers, networks and volumes; return what is left over (empty when clean)."""
        result = self.compose("down", "--volumes", "--remove-orphans", "--timeout", "1", timeout=180, check=False)
        left = self.leftovers()
        if result.returncode != 0 or left:
            return f"`down -v` exit {result.returncode}: {_tail(result.stderr, 10)}left over: {left}"
        return ""

    def leftovers(self) -> dict[str, list[str]]:
        label = f"label=com.docker.compose.project={self.project}"
        found = {
            "containers": podman("ps", "-a", "--filter", label, "--format", "{{.Names}}", check=False).stdout.split(),
            "volumes": podman("volume", "ls", "--filter", label, "--format", "{{.Name}}", check=False).stdout.split(),
            "networks": [n for n in podman("network", "ls", "--format", "{{.Name}}", check=False).stdout.split() if n.startswith(f"{self.project}_")],
        }
        return {k: v for k, v in found.items() if v}

    def containers(self) -> dict[str, str]:
        """service -> container name, for the running project."""
        out = podman(
            "ps", "-a", "--filter", f"label=com.docker.compose.project={self.project}",
            "--format", '{{index .Labels "com.docker.compose.service"}} {{.Names}}',
        ).stdout  # fmt: skip
        return dict(line.split(maxsplit=1) for line in out.splitlines() if line.strip())

    def inspect(self, service: str) -> dict[str, Any]:
        return json.loads(podman("inspect", self.containers()[service]).stdout)[0]

    def health(self, service: str) -> str:
        state = self.inspect(service)["State"]
        return (state.get("Health") or state.get("Healthcheck") or {}).get("Status", "") or "none"

    def ip(self, service: str) -> str:
        networks = self.inspect(service)["NetworkSettings"]["Networks"]
        for net in networks.values():
            if net.get("IPAddress"):
                return net["IPAddress"]
        raise EngineError(f"{service} has no IP address on any network: {networks}")

    def exec(self, service: str, *cmd: str) -> str:
        return podman("exec", self.containers()[service], *cmd, timeout=60).stdout

    def process_users(self, service: str) -> list[tuple[str, str]]:
        """(host user, command) of every process in the service's container (the images have
        no ps(1), so only podman's own descriptors work). Rootful podman without a user
        namespace: the host UID is the container UID."""
        out = podman("top", self.containers()[service], "huser", "pid", "args", timeout=60).stdout
        rows = [line.split(None, 2) for line in out.splitlines()[1:] if line.strip()]
        # `?`: the process ended while podman read it (a healthcheck's probe exiting), no user to judge.
        return [(row[0], row[2] if len(row) > 2 else "") for row in rows if row[0] != "?"]

    def logs(self, service: str, tail: int = 200) -> str:
        return podman("logs", "--tail", str(tail), self.containers()[service], check=False).stdout

    def diagnostics(self) -> str:
        parts = []
        try:
            names = self.containers()
        except EngineError as exc:
            return f"(no diagnostics: {exc})"
        for service, name in sorted(names.items()):
            state = podman("inspect", "--format", "{{.State.Status}} exit={{.State.ExitCode}}", name, check=False).stdout.strip()
            health = podman("inspect", "--format", "{{json .State.Health}}", name, check=False).stdout.strip()
            logs = podman("logs", "--tail", "15", name, check=False)
            parts.append(f"--- {service} ({name}): {state}\nhealth: {health[-600:]}\nlogs:\n{_tail(logs.stdout + logs.stderr, 15)}")
        return "\n".join(parts)


@contextlib.contextmanager
def exclusive(timeout: float = 1800):  # noqa: ANN201
    """One stack at a time on this machine: stacks publish fixed host ports and use fixed
    project names, so two test runs (two developers' sessions, or CI) must take turns."""
    LOCK_FILE.touch(exist_ok=True)
    with LOCK_FILE.open("r+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise EngineError(f"another e2e run held {LOCK_FILE} for {timeout:.0f} s") from None
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def running(stack: Stack, config: dict[str, Any], *, wait_timeout: int = 180):  # noqa: ANN201
    """Build (through Compose's ``build:`` sections), ``up --wait``, yield, and always tear
    down; a teardown that leaves containers, volumes or networks behind is a failure too."""
    services = stack.services or list(config["services"])
    with exclusive():
        stack.down()  # leftovers of an interrupted earlier run
        for name in services:
            for port in config["services"][name].get("ports") or []:
                published = int(port.get("published") or 0)
                if published and port_in_use(published):
                    raise EngineError(f"host port {published} ({name}) is already in use: stop what listens there")
        problem = ""
        try:
            images: dict[str, str] = {}
            for name in services:
                if config["services"][name].get("build"):
                    images.setdefault(config["services"][name].get("image", name), name)
            if images:  # one build per image (services sharing an image would build it twice)
                stack.compose("build", *images.values(), timeout=900)
            stack.up(wait_timeout=wait_timeout)
            yield stack
        finally:
            problem = stack.down()
        if problem:
            raise EngineError(f"teardown of {stack.project} incomplete: {problem}")


def http_get(url: str, *, timeout: float = 5, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise EngineError(f"GET {url}: {exc}") from None


def eventually(check, *, timeout: float, interval: float = 0.5, what: str = "condition"):  # noqa: ANN001, ANN201
    """Call ``check`` until it returns a truthy value (bounded in time)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except EngineError as exc:
            last = exc
        time.sleep(interval)
    raise EngineError(f"{what}: not met within {timeout:.0f} s{f' (last error: {last})' if last else ''}")


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0
