"""Environments a project names itself: ``COMPOSE_FILE`` in ``.env`` (the set a bare
``docker compose up`` uses)."""

from __future__ import annotations

import posixpath
from pathlib import Path

from dockergen.importer.environments.infer import env_name, label
from dockergen.importer.read.envfile import read_env_file


def compose_file_variable(root: Path, notes: list[str]) -> dict[str, tuple[str, ...]]:
    """``COMPOSE_FILE`` in ``.env`` is the -f set a bare ``docker compose up`` uses: an environment."""
    dotenv = read_env_file(root / ".env")
    value = dotenv.get("COMPOSE_FILE")
    if not value:
        return {}
    separator = dotenv.get("COMPOSE_PATH_SEPARATOR") or (";" if ";" in value else ":")
    files = tuple(posixpath.normpath(f.strip()) for f in value.split(separator) if f.strip())
    name = env_name(label(files[-1])) if files and label(files[-1]) else "dev"
    notes.append(f".env sets COMPOSE_FILE={value}: environment {name} is that set")
    return {name: files}
