"""The `develop.watch` rules of a built service (``docker compose watch``).

``watch: true`` derives them from the build: the context is synced into the image's
workdir (the dev server reloads), and a change to a dependency manifest rebuilds the
image, since the install layer must run again. Compose already leaves out what the
context's ``.dockerignore`` does.
"""

from __future__ import annotations

import posixpath

from dockergen.manifests import copied
from dockergen.spec.model import Build, WatchRule


def watch_rules(watch: bool | list[WatchRule] | None, build: Build) -> tuple[WatchRule, ...]:
    """The rules to render; raises ``ValueError`` for ``watch: true`` on a generic build."""
    if not watch:
        return ()
    if watch is not True:
        return tuple(watch)
    if build.family == "generic":
        raise ValueError("a generic build has no known source layout: give the rules (`watch: [{action: sync, path: ..., target: ...}]`)")
    context = posixpath.normpath(build.context)
    root = "." if context == "." else f"./{context}"
    # What the template copies by name before installing (requirements files, pyproject.toml
    # and its lockfile, package.json and node's): a change there needs the install again.
    manifests = [m.relative for m in copied(build, "")]
    rebuild = [WatchRule(action="rebuild", path=posixpath.join(root, m)) for m in manifests]
    ignore = [*manifests, *(["node_modules"] if build.family == "node" else [])]
    return (*rebuild, WatchRule(action="sync", path=root, target=build.workdir, ignore=ignore or None))
