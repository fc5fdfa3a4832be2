"""Render one python-family service from a spec written here, with its build context's files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dockergen.pipeline import Rendered, render
from dockergen.write import write_files

# pytest among the runtime requirements only so that the test stage validates; tests of that check bring their own files.
APP_FILES = {"requirements.txt": "fastapi\nuvicorn\npytest\n", "app/__init__.py": "", "app/main.py": "app = object()\n"}


def python_spec(python: dict[str, Any] | None = None, build: dict[str, Any] | None = None, **service: Any) -> dict[str, Any]:
    """A spec whose one service ``api`` builds the context ``api`` with the python family."""
    return {
        "version": 1,
        "project": "shop",
        "environments": {"dev": {}, "test": {}, "prod": {}},
        "services": {
            "api": {
                "build": {"family": "python", "context": "api", "port": 8000, "python": {"app": "app.main:app", **(python or {})}, **(build or {})},
                "healthcheck": {"http": "/health"},
                **service,
            }
        },
    }


def render_spec(directory: Path, spec: dict[str, Any], files: dict[str, str] | None = APP_FILES, write: bool = True) -> Rendered:
    """Write ``files`` into the context ``api`` (None: no context at all) and the spec, render
    it (and write the output when ``write``)."""
    directory.mkdir(parents=True, exist_ok=True)
    for relative, text in (files or {}).items():
        (directory / "api" / relative).parent.mkdir(parents=True, exist_ok=True)
        (directory / "api" / relative).write_text(text)
    (directory / "dockergen.yaml").write_text(json.dumps(spec, indent=2))
    result = render(directory / "dockergen.yaml")
    if write:
        write_files(directory, result.files)
    return result


def render_python(directory: Path, python: dict[str, Any] | None = None, build: dict[str, Any] | None = None, files: dict[str, str] | None = APP_FILES, **service: Any) -> tuple[Path, Rendered]:
    """The Dockerfile's path and the render result."""
    result = render_spec(directory, python_spec(python, build, **service), files)
    return directory / "api" / "Dockerfile", result
