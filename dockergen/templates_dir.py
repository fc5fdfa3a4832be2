"""Where the built-in templates live: in the wheel (``dockergen/templates``, put there by
the build backend) or, in a source checkout, the repository's ``templates/``."""

from __future__ import annotations

from pathlib import Path


def builtin_templates() -> Path:
    package = Path(__file__).resolve().parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"
