"""The real Compose CLI, used for what only it does exactly: each ``-f`` set's effective config.

``DOCKERGEN_COMPOSE`` chooses the binary (a command line, or ``none`` to work without it); by
default Docker's Compose as ``compose_tool`` finds it. Calls run concurrently (a thread pool
around subprocesses) with a fixed, minimal environment so that the machine's variables
never leak into a comparison.
"""

from __future__ import annotations

import json
import os
import posixpath
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from dockergen.compose_tool import docker_compose

TIMEOUT = 120


@dataclass(frozen=True)
class ConfigRequest:
    project_dir: Path
    files: tuple[Path, ...]
    interpolate: bool = False
    all_profiles: bool = True
    project_name: str | None = None  # the -p a project's own command gives
    env_file: Path | None = None  # --env-file: a .env read from elsewhere than the project directory


@dataclass(frozen=True)
class ConfigResult:
    request: ConfigRequest
    config: dict[str, Any] | None
    error: str | None


@lru_cache(maxsize=1)
def compose_command() -> tuple[str, ...] | None:
    """The Compose CLI as an argv prefix, or None when there is none (or ``DOCKERGEN_COMPOSE``
    says ``none``): the one choice of Docker's Compose, ``compose_tool``'s."""
    chosen = os.environ.get("DOCKERGEN_COMPOSE")
    if chosen is not None and chosen.strip().lower() in ("", "none", "0", "false"):
        return None
    return tuple(chosen.split()) if chosen else docker_compose()


def minimal_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}


def project_dir(root: Path, files: tuple[str, ...]) -> Path:
    """Compose's project directory for a ``-f`` set: the first file's folder."""
    return (root / posixpath.dirname(files[0])).resolve() if files else root


def run_config(request: ConfigRequest) -> ConfigResult:
    command = compose_command()
    if command is None:
        return ConfigResult(request, None, "no Compose CLI")
    argv = [*command, "--project-directory", str(request.project_dir)]
    if request.project_name:
        argv += ["--project-name", request.project_name]
    if request.env_file:
        argv += ["--env-file", str(request.env_file)]
    for f in request.files:
        argv += ["-f", str(f)]
    if request.all_profiles:
        argv += ["--profile", "*"]
    argv += ["config", "--format", "json"]
    if not request.interpolate:
        argv.append("--no-interpolate")
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, env=minimal_env(), cwd=request.project_dir)
    except (OSError, subprocess.SubprocessError) as exc:
        return ConfigResult(request, None, f"{type(exc).__name__}: {exc}")
    if out.returncode != 0:
        lines = [line for line in out.stderr.splitlines() if "is obsolete" not in line]
        return ConfigResult(request, None, " ".join(lines).strip() or f"exit {out.returncode}")
    try:
        return ConfigResult(request, json.loads(out.stdout), None)
    except json.JSONDecodeError as exc:
        return ConfigResult(request, None, f"unreadable output: {exc}")


def run_configs(requests: list[ConfigRequest], memo: dict[ConfigRequest, ConfigResult] | None = None) -> list[ConfigResult]:
    """Run every request concurrently; results in the order of ``requests``. ``memo`` keeps
    the answers of one import (its later attempts ask the same again)."""
    memo = {} if memo is None else memo
    pending = sorted({r for r in requests if r not in memo}, key=requests.index)
    if pending:
        workers = min(len(pending), max(4, (os.cpu_count() or 2) * 2))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            memo.update(zip(pending, pool.map(run_config, pending)))
    return [memo[r] for r in requests]
