"""One generated file, rendered in memory: what the writer, the drift check and the render
cache take (kept apart from the renderers, so that those need not be imported to write)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedFile:
    path: str  # posix, relative to the output directory
    content: str
    kind: str  # dockerfile | compose | overlay | snapshot | dockerignore | env-example | bake | lock
    env: str | None = None  # the environment an overlay or snapshot is for
