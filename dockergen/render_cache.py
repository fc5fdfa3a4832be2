"""A per-user cache of finished renders, so that a render or validate of a spec this machine
already rendered skips loading the models, resolving and rendering (most of its time is
importing pydantic, Jinja2 and ruamel and building the models, ~5x Compose's `config -q`).

An entry is keyed by everything a render reads besides the project's files: the spec's
bytes and file name, dockergen's version and a signature of its code and of the installed
distributions, the Python version. What it read from the project's files is checked again
on every use, as a render confirmed from the lock does: the templates' digest and every
check of ``disk_checks`` the render passed. An entry holds exactly the files the render
produced (the lock among them), its warnings and notes and the few facts its summary
prints, so the output is the same bytes.

Entries live under ``$XDG_CACHE_HOME/dockergen`` (default ``~/.cache/dockergen``), never in
the project; at most ``MAX_ENTRIES``, the least recently used go first;
``DOCKERGEN_NO_CACHE=1`` turns the cache off. A cache that cannot
be read or written is no cache: the render takes the full path. Only the console script
uses it (``launcher``), so a render inside another program (or a test that patches
dockergen) never stores or replays anything.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from dockergen import __version__
from dockergen.disk_checks import failing
from dockergen.fingerprint import LOCK_NAME, Lock, TemplateUnreadable, sha256, spec_digest, templates_digest
from dockergen.safe_read import read_regular

if TYPE_CHECKING:
    from dockergen.render.rendered_file import RenderedFile
    from dockergen.summary import RenderFacts

FORMAT = 2
MAX_ENTRIES = 64
ENTRY_LIMIT = 256 * 1024 * 1024  # a 10,000-service render is ~60 MB of files


def folder(kind: str = "renders") -> str | None:
    """Where the entries of ``kind`` live (the XDG base directory rule: a relative
    XDG_CACHE_HOME is ignored); None when ``DOCKERGEN_NO_CACHE`` is set to anything but empty."""
    if os.environ.get("DOCKERGEN_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dockergen", kind)


@functools.cache
def code_signature() -> str:
    """Changes whenever dockergen's code (an editable checkout too) or an installed
    distribution changes: every module's size and modification time, every dist-info name
    on the path. Taken once per process (the code it runs is what it loaded): a render's
    lookup, its Dockerfile store and its entry each asked, each walking the package."""
    h = sha256()
    package = os.path.dirname(os.path.abspath(__file__))
    for where, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        folder = os.path.relpath(where, package)  # once a folder: asked before every served command
        for name in sorted(names):
            if name.endswith(".py"):
                info = os.stat(os.path.join(where, name))
                h.update(f"{folder}/{name}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    for entry in sys.path:
        if entry.endswith("-packages") and os.path.isdir(entry):
            h.update("\0".join(sorted(n for n in os.listdir(entry) if n.endswith((".dist-info", ".egg-info", ".pth")))).encode())
    h.update(sys.version.encode())
    return h.hexdigest()


def _entry_path(spec_path: str, raw: bytes) -> str:
    where = folder()
    if where is None:
        raise FileNotFoundError("the render cache is off (DOCKERGEN_NO_CACHE)")
    h = sha256(json.dumps([FORMAT, __version__, code_signature(), os.path.basename(spec_path)]).encode() + b"\0" + raw)
    return os.path.join(where, h.hexdigest()[:32] + ".json")


class Cached:
    """A render replayed from the cache: ``files`` (RenderedFile, the lock among them),
    ``lock``, the summary's ``facts`` and the ``notes`` (like the lock's warnings)."""

    __slots__ = ("files", "lock", "facts", "notes")

    def __init__(self, files: list[RenderedFile], lock: Lock, facts: RenderFacts, notes: list[dict[str, str]]) -> None:
        self.files, self.lock, self.facts, self.notes = files, lock, facts, notes


def store(spec_path: str | os.PathLike[str], raw: bytes, files: list[RenderedFile], facts: RenderFacts, notes: list[dict[str, str]]) -> None:
    """Keep a finished render (never fails the command: a cache that cannot be written is none)."""
    body = {
        "format": FORMAT,
        "files": [[f.path, f.content, f.kind, f.env] for f in files],
        "facts": {"services": facts.services, "environments": list(facts.environments), "env_example": facts.env_example, "required": list(facts.required),
                  "dotenv": facts.dotenv},
        "notes": notes,
    }
    try:
        write_entry(_entry_path(os.fspath(spec_path), raw), body)
    except (OSError, ValueError):
        pass


def write_entry(path: str, body: Any) -> None:
    """Write ``body`` as the JSON entry at ``path`` whole (another process reads it or
    nothing), then drop the oldest entries of its folder beyond ``MAX_ENTRIES``; raises
    OSError (or ValueError, from ``json``)."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(body, handle, separators=(",", ":"))
    os.replace(temp, path)
    _prune(os.path.dirname(path))


def _prune(where: str) -> None:
    entries = []
    for name in os.listdir(where):
        try:
            entries.append((os.stat(os.path.join(where, name)).st_mtime_ns, name))
        except OSError:
            continue  # another process pruned it
    for _, name in sorted(entries)[:-MAX_ENTRIES]:
        try:
            os.unlink(os.path.join(where, name))
        except OSError:
            pass


def lookup(spec_path: str) -> Cached | None:
    """The cached render of the spec at ``spec_path`` when it still holds: the same inputs,
    the same templates, and every check of the project's files passing. Else None."""
    try:
        raw = read_regular(spec_path)
        path = _entry_path(spec_path, raw)
        body = json.loads(read_regular(path, ENTRY_LIMIT))
        cached = _parse(body)
        lock = cached.lock
        if lock.version != __version__ or lock.spec != spec_digest(raw) or lock.checks is None:
            return None
        override = os.path.join(os.path.dirname(spec_path), lock.templates_dir) if lock.templates_dir else None
        if lock.templates != templates_digest(override) or failing(lock.checks, os.path.dirname(spec_path) or ".") is not None:
            return None
        os.utime(path)  # recently used: pruned last
        return cached
    except (OSError, ValueError, TypeError, KeyError, TemplateUnreadable, RecursionError):
        return None


def _parse(body: Any) -> Cached:
    """The entry in ``body``; raises ValueError (or TypeError, KeyError) when it is not one."""
    from dockergen.render.rendered_file import RenderedFile
    from dockergen.summary import RenderFacts

    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ValueError("not an entry of this format")
    files = []
    for path, content, kind, env in body["files"]:
        if not all(isinstance(v, str) for v in (path, content, kind)) or not isinstance(env, str | None):
            raise ValueError("a file of the wrong shape")
        files.append(RenderedFile(path, content, kind, env))
    lock = next((Lock.from_text(f.content) for f in files if f.path == LOCK_NAME), None)
    facts = body["facts"]
    notes = body["notes"]
    if lock is None or not isinstance(notes, list) or not all(isinstance(n, dict) and isinstance(n.get("at"), str) and isinstance(n.get("text"), str) for n in notes):
        raise ValueError("no lock, or notes of the wrong shape")
    names = facts["environments"], facts["required"]
    if not isinstance(facts["services"], int) or not all(isinstance(facts[k], str) for k in ("env_example", "dotenv")) or not all(isinstance(n, list) and all(isinstance(v, str) for v in n) for n in names):
        raise ValueError("facts of the wrong shape")
    return Cached(files, lock, RenderFacts(facts["services"], tuple(names[0]), facts["env_example"], tuple(names[1]), facts["dotenv"]), notes)
