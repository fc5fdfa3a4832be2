"""Env files (``.env``, ``.env.example`` ...): their variables, read the way Compose reads them."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from dockergen.importer.discover import Inventory
from dockergen.safe_read import read_text
from dockergen.sensitive import looks_secret

ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def documented_variables(root: Path, inventory: Inventory) -> dict[str, dict[str, Any]]:
    """Documented variables from ``.env.example`` (or ``.env.sample``/``.env.template``)."""
    candidates = [p for p in inventory.env_files if posixpath.basename(p) in (".env.example", ".env.sample", ".env.template", ".env.dist")]
    out: dict[str, dict[str, Any]] = {}
    for rel in candidates[:1]:
        try:
            lines = read_text(root / rel).splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        comment: list[str] = []
        for line in lines:
            stripped = line.strip()
            if stripped.startswith("#"):
                text = stripped.lstrip("#").strip()
                if text and not re.match(r"^[-=]+", text):
                    comment.append(text)
                continue
            match = ENV_LINE.match(line)
            if not match:
                comment = []
                continue
            name, value = match.group(1), match.group(2).strip().strip("'\"")
            entry: dict[str, Any] = {}
            if comment:
                entry["description"] = " ".join(comment)
            if value and not looks_secret(name):
                entry["default"] = value
            if looks_secret(name):
                entry["secret"] = True
            out[name] = entry or {}
            comment = []
    return out


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines the way Compose reads an env file (quotes stripped, comments skipped)."""
    out: dict[str, str] = {}
    try:
        lines = read_text(path).splitlines()
    except (OSError, UnicodeDecodeError):
        return out
    for line in lines:
        match = ENV_LINE.match(line)
        if match and not line.lstrip().startswith("#"):
            value = match.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            out[match.group(1)] = value
    return out
