"""``.dockerignore`` semantics, for the one question an import must answer: which ``COPY``
sources would a new ``.dockerignore`` leave out of the build context that the old one kept?"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache

from dockergen.importer.read.dockerfile import ParsedDockerfile


def ignored(path: str, patterns: list[str] | tuple[str, ...]) -> bool:
    """Whether ``patterns`` leave ``path`` (context-relative) out of the context: the last
    matching pattern wins, ``!`` re-includes, a folder's exclusion covers its content."""
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
        if any(regex.fullmatch(p) for p in (prefixes if not negate else [path])):
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


def _key(context: str) -> str:
    return posixpath.normpath(context[2:] if context.startswith("./") else context) if context not in (".", "./") else "."


def newly_excluded(
    parsed: ParsedDockerfile, old_context: str, old: tuple[str, ...] | list[str], new_context: str, new: list[str]
) -> list[str]:
    """``COPY``/``ADD`` sources of ``parsed`` (as paths relative to ``new_context``) that ``new``
    patterns exclude and ``old`` ones (at ``old_context``) did not."""
    old_key, new_key = _key(old_context), _key(new_context)
    out: list[str] = []
    for stage in parsed.stages:
        for ins in stage.instructions:
            if ins.cmd not in ("COPY", "ADD") or any(f.startswith("--from=") for f in ins.flags):
                continue
            for src in ins.value[:-1]:
                if any(c in src for c in "*?[$") or "://" in src:
                    continue
                repo = posixpath.normpath(posixpath.join(old_key, src.lstrip("/")))
                before = posixpath.relpath(repo, old_key) if old_key != "." else repo
                after = posixpath.relpath(repo, new_key) if new_key != "." else repo
                if ignored(after, new) and not ignored(before, old) and after not in out:
                    out.append(after)
    return out
