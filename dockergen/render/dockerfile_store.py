"""Dockerfiles rendered by an earlier run of the same project, reused when their template's
whole input is the same.

A value edit (a variable, a limit, one service's port in one environment) changes the
Compose files and seldom a Dockerfile, yet every full render ran every template again:
importing Jinja and running the sandboxed templates was a tenth of a small project's full
path and a sixth of a 1,000-service one. So each Dockerfile is kept under the digest of
its template's name and input (the context ``render.dockerfile`` builds: plain values,
tuples, dicts and frozen models and dataclasses, whose ``repr`` shows every field); the
entry of a project is keyed by dockergen's version and code signature, the Python version
and the installed distributions (``render_cache.code_signature``) and the spec's absolute
path, and each key also by the templates' digest. An input with a default ``repr`` (an
address) only never matches.

One entry per project in ``$XDG_CACHE_HOME/dockergen/dockerfiles``, holding the
Dockerfiles of its last render only; pruned with the render cache's rule. Only the console
script's render and validate use it (``pipeline.render(..., cache=True)``); an entry that
cannot be read or written is none.
"""

from __future__ import annotations

import json
import os
from typing import Any

from dockergen import __version__
from dockergen.fingerprint import sha256
from dockergen.render_cache import ENTRY_LIMIT, code_signature, folder, write_entry
from dockergen.safe_read import read_regular

FORMAT = 1


class DockerfileStore:
    """The Dockerfiles of a project's last render (``get``), and this render's (``put``,
    written by ``save``)."""

    __slots__ = ("_path", "_salt", "_old", "_new")

    def __init__(self, path: str, salt: str, old: dict[str, str]) -> None:
        self._path, self._salt, self._old, self._new = path, salt, old, {}

    @classmethod
    def open(cls, spec_path: str | os.PathLike[str], templates: str) -> DockerfileStore | None:
        """The store of the spec at ``spec_path``, whose templates have the digest
        ``templates`` (``fingerprint.templates_digest``); None when caches are off."""
        where = folder("dockerfiles")
        if where is None:
            return None
        name = json.dumps([FORMAT, __version__, code_signature(), os.path.abspath(spec_path)])
        path = os.path.join(where, sha256(name.encode()).hexdigest()[:32] + ".json")
        try:
            body = json.loads(read_regular(path, ENTRY_LIMIT))
            old = body["dockerfiles"] if isinstance(body, dict) and body.get("format") == FORMAT else {}
            if not isinstance(old, dict) or not all(isinstance(v, str) for v in old.values()):
                old = {}
        except (OSError, ValueError, RecursionError):
            old = {}
        return cls(path, templates, old)

    def key(self, template: str, context: dict[str, Any]) -> str:
        return sha256(f"{self._salt}\0{template}\0{context!r}".encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, key: str) -> str | None:
        text = self._old.get(key)
        if text is not None:
            self._new[key] = text
        return text

    def put(self, key: str, text: str) -> None:
        self._new[key] = text

    def save(self) -> None:
        """Keep this render's Dockerfiles (never fails the render); nothing to write when
        every one came from the store."""
        if self._new == self._old:
            return
        try:
            write_entry(self._path, {"format": FORMAT, "dockerfiles": self._new})
        except (OSError, ValueError):
            pass
