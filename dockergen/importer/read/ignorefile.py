"""``.dockerignore`` semantics, for the one question an import must answer: which ``COPY``
sources would a new ``.dockerignore`` leave out of the build context that the old one kept?"""

from __future__ import annotations

import posixpath

from dockergen.ignore_match import ignored
from dockergen.importer.read.dockerfile import ParsedDockerfile


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
