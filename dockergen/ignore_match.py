"""``.dockerignore`` matching: which context paths a list of patterns leaves out (read by
import, which compares two ignore files, and by validation, which keeps the test suite in
the test stage's context)."""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache


def ignored(path: str, patterns: list[str] | tuple[str, ...]) -> bool:
    """Whether ``patterns`` leave ``path`` (context-relative) out of the context: the last
    matching pattern wins, ``!`` re-includes, a folder's pattern covers its content."""
    path = posixpath.normpath(path.lstrip("/"))
    if path in (".", ""):
        return False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    out = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = posixpath.normpath((raw[1:] if negate else raw).strip()).lstrip("/")
        regex = _regex(pattern)
        # Like BuildKit, a pattern that matches a parent folder matches what is inside, for `!` too.
        if any(regex.fullmatch(p) for p in prefixes):
            out = not negate
    return out


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)
