"""Run hadolint on the rendered Dockerfiles (the text the spec renders now, not what is on
disk) and return its findings as plain records; the engine turns them into findings.

hadolint runs in the spec's directory so that a project's ``.hadolint.yaml`` applies, and
reads each Dockerfile from stdin, so nothing is written.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 60
LEVELS = {"error": "error", "warning": "warning", "info": "note", "style": "note"}


@dataclass(frozen=True)
class HadolintFinding:
    code: str  # DL3008, SC2086
    severity: str  # error | warning | note
    message: str
    dockerfile: str  # the generated file's path, relative to the spec's directory
    line: int
    column: int


@dataclass(frozen=True)
class HadolintRun:
    executable: str | None  # None: not installed
    version: str | None
    findings: tuple[HadolintFinding, ...]
    failures: tuple[str, ...] = ()  # Dockerfiles hadolint could not check, with why


def find() -> str | None:
    return shutil.which("hadolint")


def help_uri(code: str) -> str:
    if code.startswith("SC"):
        return f"https://www.shellcheck.net/wiki/{code}"
    return f"https://github.com/hadolint/hadolint/wiki/{code}"


def run(dockerfiles: dict[str, str], cwd: Path) -> HadolintRun:
    """Lint ``{relative path: text}``; an absent hadolint gives an empty run."""
    executable = find()
    if executable is None:
        return HadolintRun(None, None, ())
    version = _version(executable)
    findings: list[HadolintFinding] = []
    failures: list[str] = []
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda item: _one(executable, item[0], item[1], cwd), sorted(dockerfiles.items()))
        for found, failure in results:
            findings += found
            if failure:
                failures.append(failure)
    return HadolintRun(executable, version, tuple(findings), tuple(failures))


def _version(executable: str) -> str | None:
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=TIMEOUT).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    words = out.split()
    return words[-1] if words else None


def _one(executable: str, path: str, text: str, cwd: Path) -> tuple[list[HadolintFinding], str | None]:
    try:
        result = subprocess.run(
            [executable, "--format", "json", "--no-fail", "--no-color", "-"],
            input=text, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd,
        )  # fmt: skip
        raw = json.loads(result.stdout or "[]")
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return [], f"{path}: hadolint failed: {exc}"
    if not isinstance(raw, list):
        return [], f"{path}: hadolint printed no findings list: {result.stderr.strip()[:200]}"
    out = []
    for item in raw:
        level = LEVELS.get(str(item.get("level")))
        if level is None:  # "ignore"
            continue
        out.append(
            HadolintFinding(
                str(item.get("code")), level, " ".join(str(item.get("message", "")).split()), path,
                int(item.get("line") or 1), int(item.get("column") or 1),
            )  # fmt: skip
        )
    return out, None
