"""Where the built-in templates live: in the wheel (``dockergen/templates``, put there by
the build backend) or, in a source checkout, the repository's ``templates/``.

Plain ``os.path``: ``dockergen check``'s fast path imports this (no pathlib)."""

from __future__ import annotations

import os


def builtin_templates() -> str:
    package = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(package, "templates")
    return installed if os.path.isdir(installed) else os.path.join(os.path.dirname(package), "templates")
