"""Where the spec is: ``--spec`` names the file, or the folder that holds ``dockergen.yaml``."""

from __future__ import annotations

import os

SPEC_NAME = "dockergen.yaml"
_SKIPPED = frozenset({"node_modules", "vendor", "venv", "__pycache__", "target", "dist", "build"})
_LOOKED_AT = 400  # folders, at most: a hint must not walk a home directory


def spec_file(path: str) -> str:
    """``path`` itself, or ``path/dockergen.yaml`` when ``path`` is a folder."""
    return os.path.join(path, SPEC_NAME) if os.path.isdir(path) else path


def nearby_specs(folder: str) -> list[str]:
    """Specs one or two folders below ``folder`` (hidden and dependency folders skipped),
    for the hint of a spec not found: run from the repository's root, the spec often sits
    in a subfolder."""
    found: list[str] = []
    level, looked = [folder], 0
    for _depth in range(2):
        below = []
        for parent in level:
            try:
                entries = sorted(os.scandir(parent), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if looked >= _LOOKED_AT:
                    return found
                if entry.name.startswith(".") or entry.name in _SKIPPED or not entry.is_dir(follow_symlinks=False):
                    continue
                looked += 1
                candidate = os.path.join(entry.path, SPEC_NAME)
                if os.path.isfile(candidate):
                    found.append(os.path.normpath(candidate))
                below.append(entry.path)
        level = below
    return found


def parent_spec(folder: str) -> str | None:
    """The spec of a folder above ``folder`` (the nearest; none past a repository's root),
    relative to the working directory, for the hint of a spec not found: run from a
    subfolder of the project, the spec is a few ``..`` away."""
    here = os.path.abspath(folder)
    while not os.path.isdir(os.path.join(here, ".git")):
        up = os.path.dirname(here)
        if up == here:
            return None
        here = up
        candidate = os.path.join(here, SPEC_NAME)
        if os.path.isfile(candidate):
            return os.path.relpath(candidate)
    return None
