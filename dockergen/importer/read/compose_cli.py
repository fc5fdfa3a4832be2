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
import re
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dockergen.compose_tool import docker_compose
from dockergen.containment import outside_reason
from dockergen.safe_read import read_regular

TIMEOUT = 120


@dataclass(frozen=True)
class ConfigRequest:
    project_dir: Path
    files: tuple[Path, ...]
    interpolate: bool = False
    all_profiles: bool = True
    project_name: str | None = None  # the -p a project's own command gives
    env_file: Path | None = None  # --env-file: a .env read from elsewhere than the project directory
    env: tuple[tuple[str, str], ...] = ()  # variables set on top of the minimal environment (placeholders)


@dataclass(frozen=True)
class ConfigResult:
    request: ConfigRequest
    config: dict[str, Any] | None
    error: str | None
    unset: tuple[str, ...] = ()  # the variables Compose warned are not set (blank)


@lru_cache(maxsize=1)
def compose_command() -> tuple[str, ...] | None:
    """The Compose CLI as an argv prefix, or None when there is none (or ``DOCKERGEN_COMPOSE``
    says ``none``): the one choice of Docker's Compose, ``compose_tool``'s."""
    chosen = os.environ.get("DOCKERGEN_COMPOSE")
    if chosen is not None and chosen.strip().lower() in ("", "none", "0", "false"):
        return None
    return tuple(chosen.split()) if chosen else docker_compose()


def finding_compose() -> Future[tuple[str, ...] | None]:
    """``compose_command`` in a thread of its own: finding the CLI runs a process (``docker
    compose version``), which the caller overlaps with its own work."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(compose_command)
    finally:
        pool.shutdown(wait=False)


def minimal_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}


# Go's garbage collector told to run a quarter as often: a short `config` call then takes ~40%
# less CPU (0.12 -> 0.07 s on the sprawl's largest chain) for ~8 MB more memory. Compose would
# interpolate the variable like any other, so it is not set where the files name it.
GO_COLLECTOR = {"GOGC": "400"}


def _compose_env(request: ConfigRequest) -> dict[str, str]:
    """The environment of a Compose call on ``request``: the minimal one, its placeholders, and
    ``GO_COLLECTOR`` where neither its files nor the ``.env`` it reads mention the name."""
    env = {**minimal_env(), **dict(request.env)}
    read = [*request.files, request.env_file or request.project_dir / ".env"]
    if not any(name in env or _mentions(path, name) for name in GO_COLLECTOR for path in read):
        env.update(GO_COLLECTOR)
    return env


def _mentions(path: Path, name: str) -> bool:
    try:
        return name.encode() in read_regular(path)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # not a regular file, too large...: no guess (and no read that could hang)


def project_dir(root: Path, files: tuple[str, ...]) -> Path:
    """Compose's project directory for a ``-f`` set: the first file's folder."""
    return (root / posixpath.dirname(files[0])).resolve() if files else root


def dotenv_for(root: Path, folder: Path, chosen: Path | None = None) -> Path | None:
    """The ``--env-file`` of a Compose call run in ``folder``: ``chosen``; else an empty file
    where the ``.env`` Compose would read there leads out of the project ``root`` (a link):
    the import does not read it, so neither may Compose, whose config would bring its values
    into the report."""
    if chosen is not None:
        return chosen
    try:
        base = folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        base = "."
    if (folder / ".env").exists() and outside_reason(root, ".env", base=base):
        return Path(os.devnull)
    return None


def run_config(request: ConfigRequest) -> ConfigResult:
    command = compose_command()
    if command is None:
        return ConfigResult(request, None, "no Compose CLI")
    profiles = ("*",) if request.all_profiles else ()
    config, error, unset = _config(command, request, profiles)
    if config is None and request.all_profiles and error and CONTAINER_NAME_CLASH in error:
        config, error = _config_per_profile(command, request)
    return ConfigResult(request, config, error, unset)


# Services of different profiles (`ollama-cpu`, `ollama-gpu`) may share a container name: no
# run starts both, but `--profile *` refuses them together.
CONTAINER_NAME_CLASH = "is already in use by service"


def _config_per_profile(command: tuple[str, ...], request: ConfigRequest) -> tuple[dict[str, Any] | None, str | None]:
    """The config of every profile, one run each, as one project: what `--profile *` would
    give without the clash."""
    names, error, _ = _run(command, request, (), ("config", "--profiles"))
    if names is None:
        return None, error
    merged: dict[str, Any] | None = None
    for profile in ["", *names.split()]:
        config, error, _ = _config(command, request, (profile,) if profile else ())
        if config is None:
            return None, error
        if merged is None:
            merged = config
            continue
        for key, value in config.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**value, **merged[key]}
            else:
                merged.setdefault(key, value)
    return merged, None


def _config(
    command: tuple[str, ...], request: ConfigRequest, profiles: tuple[str, ...]
) -> tuple[dict[str, Any] | None, str | None, tuple[str, ...]]:
    tail = ["config", "--format", "json", *([] if request.interpolate else ["--no-interpolate"])]
    text, error, unset = _run(command, request, profiles, tail)
    if text is None and error and JSON_BUG in error:
        return _yaml_config(command, request, profiles, tail[3:])
    if text is None:
        return None, error, unset
    try:
        return json.loads(text), None, unset
    except json.JSONDecodeError as exc:
        return None, f"unreadable output: {exc}", unset


# Compose cannot write some values it reads as JSON (a build `ssh: [default=/path]` in
# v2.3x-v5: "json: error calling MarshalJSON for type types.SSHKey"); its YAML output works.
JSON_BUG = "error calling MarshalJSON"


def _yaml_config(
    command: tuple[str, ...], request: ConfigRequest, profiles: tuple[str, ...], flags: list[str]
) -> tuple[dict[str, Any] | None, str | None, tuple[str, ...]]:
    text, error, unset = _run(command, request, profiles, ["config", *flags])
    if text is None:
        return None, error, unset
    try:
        config = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        return None, f"unreadable output: {exc}", unset
    return (config, None, unset) if isinstance(config, dict) else (None, "unreadable output: not a mapping", unset)


# Compose's warning for a variable it interpolates as blank (logfmt quotes it as \"NAME\").
UNSET_WARNING = re.compile(r'The \\?"([A-Za-z_][A-Za-z0-9_]*)\\?" variable is not set')


def _run(
    command: tuple[str, ...], request: ConfigRequest, profiles: tuple[str, ...], tail: Any
) -> tuple[str | None, str | None, tuple[str, ...]]:
    """Stdout of one Compose CLI call on ``request``'s files, or (None, why it failed); with
    the variables Compose warned are unset."""
    argv = [*command, "--project-directory", str(request.project_dir)]
    if request.project_name:
        argv += ["--project-name", request.project_name]
    if request.env_file:
        argv += ["--env-file", str(request.env_file)]
    for f in request.files:
        argv += ["-f", str(f)]
    for profile in profiles:
        argv += ["--profile", profile]
    argv += list(tail)
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, env=_compose_env(request), cwd=request.project_dir)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"{type(exc).__name__}: {exc}", ()
    unset = tuple(dict.fromkeys(UNSET_WARNING.findall(out.stderr)))
    if out.returncode != 0:
        lines = [line for line in out.stderr.splitlines() if "is obsolete" not in line and not UNSET_WARNING.search(line)]
        return None, " ".join(lines).strip() or f"exit {out.returncode}", unset
    return out.stdout, None, unset


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


# The forms a placeholder takes, tried in turn while Compose names it in an error: a blank
# variable is invalid where a host path, a port or a duration is due.
PLACEHOLDER_FORMS = ("/dockergen-unset/{n}", "{n}", "{n}s")


def with_placeholders(result: ConfigResult) -> ConfigResult:
    """``result`` again, a placeholder set for each variable Compose warned is unset, when that
    blank is what made the files invalid (``${SSH_AUTH_SOCK}:/agent`` in a checkout without the
    user's shell): Compose itself only warns. Each placeholder is a number of its own, so an
    error that quotes one tells which variable needs another form."""
    names = result.unset
    if result.config is not None or not names:
        return result
    forms = dict.fromkeys(names, 0)
    while True:
        values = {name: PLACEHOLDER_FORMS[forms[name]].format(n=10001 + i) for i, name in enumerate(names)}
        retry = run_config(replace(result.request, env=tuple(sorted(values.items()))))
        if retry.config is not None:
            return retry
        blamed = [name for i, name in enumerate(names) if str(10001 + i) in (retry.error or "")]
        if not blamed or any(forms[name] + 1 == len(PLACEHOLDER_FORMS) for name in blamed):
            return result
        for name in blamed:
            forms[name] += 1
