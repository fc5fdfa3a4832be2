"""Run the real tools that judge generated files: Docker Compose, hadolint, BuildKit's
Dockerfile parser and the compose-spec JSON Schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import dockerfile
import jsonschema

from dockergen.render.overlay import is_appended


def compose_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A fixed environment so interpolation does not depend on the machine."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(extra or {})
    return env


def compose(project_dir: Path, files: list[Path | str], *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [_tool("docker-compose"), "--project-directory", str(project_dir)]
    for f in files:
        cmd += ["-f", str(f)]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=compose_env(env), timeout=120)


def compose_config(project_dir: Path, files: list[Path | str], env: dict[str, str] | None = None) -> dict[str, Any]:
    result = compose(project_dir, files, "config", "--format", "json", env=env)
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    return json.loads(result.stdout)


def canonical(doc: Any, path: tuple[str, ...] = ()) -> Any:
    """Order-free form for sequences Compose merges by appending (their order means nothing)."""
    if isinstance(doc, dict):
        return {k: canonical(v, (*path, k)) for k, v in doc.items()}
    if isinstance(doc, list):
        items = [canonical(v, path) for v in doc]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True)) if is_appended(path) else items
    return doc


def hadolint(dockerfile_path: Path) -> subprocess.CompletedProcess[str]:
    # Threshold "style": any error, warning, info or style finding fails.
    return subprocess.run(
        [_tool("hadolint"), "--no-color", "--failure-threshold", "style", str(dockerfile_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def parse_dockerfile(path: Path) -> tuple[Any, ...]:
    """BuildKit's own parser (PyPI `dockerfile` wraps moby/buildkit's Go parser)."""
    return dockerfile.parse_file(str(path))


def dockerfile_stages(path: Path) -> dict[str, tuple[str, list[Any]]]:
    """Stage name -> (what it is FROM, its instructions), as BuildKit reads the file."""
    out: dict[str, tuple[str, list[Any]]] = {}
    for c in parse_dockerfile(path):
        if c.cmd == "FROM":
            out[c.value[2].lower()] = (c.value[0], [])
        elif out:
            out[next(reversed(out))][1].append(c)
    return out


@lru_cache(maxsize=1)
def compose_schema() -> dict[str, Any]:
    import check_jsonschema

    path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(path.read_text())


def validate_compose_schema(doc: dict[str, Any]) -> list[str]:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is not installed (pip install -e '.[test]')"
    return found
