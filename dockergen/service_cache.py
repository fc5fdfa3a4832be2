"""Each service's Compose entries and written lines from earlier renders, kept under a digest
of everything they depend on, so that a render after an edit builds and writes only the
entries of the services the edit reaches (one value of a 1,000-service spec: two services).

What a service's entries depend on (``digests``): dockergen's code (``code_signature``),
the spec without its services (defaults, environments, output, top-level volumes ...), and
the spec's blocks of every service connected to it: services are connected when one's block names the
other anywhere (``extends``, ``uses``, ``depends_on`` either way, which is how a test runner
knows it is waited for), and a service the spec's other parts name is part of every
digest. Last, which of those services carry ``build:`` in each environment: that is decided
over all services (``compose.image_builders``), so it is read from this render's resolve.
Resolve and the checks still run on every render; what is reused starts after them.

An entry holds, for one service (its test runners with it), its entry and named volumes per
environment and the lines it adds to the base file and to each overlay. A project's entries
(those of its last render) are one file, a pack of records under their digests, sealed
whole with keyed BLAKE2b (a MAC by design) under a key of this user's (created in the cache folder, readable by
the user alone): a file this dockergen did not write (copied in, restored from elsewhere,
corrupt, a record moved under another digest) is no pack, so a render never writes lines
it did not make itself. A record is its entry's ``marshal`` form (plain data read back
exactly, tuples and all, at C speed; ``marshal`` is no reader of untrusted bytes, so it reads
only records of a pack whose seal holds); a render with no entry for a service makes its own.

Packs live beside the render cache's entries (``render_cache.folder("services")``), one per
spec path, at most ``MAX_ENTRIES``, the oldest written go first; ``DOCKERGEN_NO_CACHE=1``
turns them off with the other caches. Only the console script's renders use them
(``pipeline.render(..., cache=True)``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import marshal
import os
from typing import TYPE_CHECKING, Any

from dockergen.fingerprint import sha256
from dockergen.render.compose import Entries, image_builders
from dockergen.render.overlay import MISSING, split_service
from dockergen.render.yaml_out import Written, mapping_text
from dockergen.render_cache import code_signature, folder
from dockergen.safe_read import read_regular

if TYPE_CHECKING:
    from dockergen.resolve import ResolvedProject

FORMAT = 1
MAX_ENTRIES = 64  # projects, as the render cache keeps
ENTRY_LIMIT = 256 * 1024 * 1024
_KEY_NAME = "key"


def digests(data: dict[str, Any], builders: dict[str, set[str]], owners: dict[str, dict[str, str]]) -> dict[str, str]:
    """Each service of the spec ``data`` -> the digest of what its entries depend on
    (module docstring); ``builders``: each environment's services that carry ``build:``,
    ``owners``: each environment's services -> the spec service it is (a test runner ->
    its service)."""
    services: dict[str, Any] = data["services"]
    rest = {key: value for key, value in data.items() if key != "services"}
    parent = {name: name for name in services}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for name, block in services.items():
        for other in _named(block, services):
            parent[root(other)] = root(name)
    everywhere = sorted(_named(rest, services))
    common = sha256(repr([FORMAT, code_signature(), rest, [(n, services[n]) for n in everywhere]]).encode("utf-8", "surrogatepass")).hexdigest()
    members: dict[str, list[str]] = {}
    for name in services:
        members.setdefault(root(name), []).append(name)
    built: dict[str, list[tuple[str, str]]] = {}
    for env, names in owners.items():
        for name, owner in names.items():
            if name in builders[env]:
                built.setdefault(root(owner), []).append((env, name))
    out = {}
    for group, names in members.items():
        digest = sha256(repr([common, [(n, services[n]) for n in names], built.get(group, [])]).encode("utf-8", "surrogatepass")).hexdigest()
        out.update(dict.fromkeys(names, digest))
    # Two services of one group share a digest; each service's own entry is told apart by its name.
    return {name: sha256(f"{digest}\0{name}".encode()).hexdigest() for name, digest in out.items()}


def _named(node: Any, services: dict[str, Any]) -> set[str]:
    """The service names ``node`` holds anywhere, as a key or a string."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(key, str) and key in services:
                    found.add(key)
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item in services:
            found.add(item)
    return found


class Reuse:
    """One render's use of the cache: ``start`` after resolve (the entries to take, a
    mapping for the ones made), ``each`` for ``overlay.split``, ``finish`` keeps what the
    render made."""

    __slots__ = ("_cache", "_envs", "_owner", "_digest", "_found", "_made", "_lines", "_unkept")

    def __init__(self) -> None:
        self._cache: ServiceCache | None = None
        self._envs: list[str] = []
        self._owner: dict[str, str] = {}  # every name in a document -> the spec service it is
        self._digest: dict[str, str] = {}
        self._found: dict[str, Any] = {}
        self._made: Entries = {}
        self._lines: dict[str, tuple[Any, list[Any]]] = {}
        self._unkept: set[str] = set()  # services with a share that is no non-empty mapping

    def start(self, spec_path: str | os.PathLike[str], data: dict[str, Any], project: ResolvedProject) -> tuple[Entries, Entries]:
        envs = project.environments
        self._envs = list(envs)
        owners = {env: {name: service.test_of or name for name, service in resolved.services.items()} for env, resolved in envs.items()}
        for names in owners.values():
            self._owner.update(names)
        self._digest = digests(data, {env: image_builders(resolved) for env, resolved in envs.items()}, owners)
        self._cache = ServiceCache.open(spec_path, self._digest)
        known: Entries = {}
        if self._cache is not None:
            owned: dict[str, dict[str, list[str]]] = {}  # service -> environment -> its names there
            for env, names in owners.items():
                for name, owner in names.items():
                    owned.setdefault(owner, {env: [] for env in envs})[env].append(name)
            for service, body in self._cache.found.items():
                own = owned.get(service, {env: [] for env in envs})
                entries = _entries(body, own)
                if entries is not None and _lines_shaped(body, own):
                    known.update(entries)
                    self._found[service] = body
        return known, self._made

    def each(self, name: str, entries: list[Any]) -> tuple[Any, list[Any]]:
        if name not in self._owner:  # not started: the render reuses nothing
            return split_service(name, entries)
        body = self._found.get(self._owner[name])
        if body is not None:
            return _written(body["base"][name]), [_written(body["overlays"][env].get(name)) if entry is not MISSING else MISSING for env, entry in zip(self._envs, entries)]
        base, overlays = split_service(name, entries)
        shares = [base, *overlays]
        if any(share is not MISSING and not (isinstance(share, dict) and share) for share in shares):
            self._unkept.add(self._owner[name])
            return base, overlays
        written = [MISSING if share is MISSING else Written(mapping_text(share, 4)) for share in shares]
        self._lines[name] = (written[0], written[1:])
        return written[0], written[1:]

    def finish(self) -> None:
        """Keep the entries of every service this render made."""
        if self._cache is None:
            return
        bodies: dict[str, dict[str, Any]] = {}
        for (env, name), (entry, mounted) in self._made.items():
            service = self._owner[name]
            body = bodies.setdefault(service, {"entries": {}, "base": {}, "overlays": {e: {} for e in self._envs}})
            body["entries"].setdefault(env, {})[name] = [entry, mounted]
        for service, body in bodies.items():
            if service in self._unkept:
                continue
            for name in dict.fromkeys(n for names in body["entries"].values() for n in names):
                if name not in self._lines:
                    break
                base, overlays = self._lines[name]
                body["base"][name] = _lines_of(base)
                for env, share in zip(self._envs, overlays):
                    if name in body["entries"].get(env, {}):
                        body["overlays"][env][name] = _lines_of(share)
            else:
                self._cache.keep(self._digest[service], body)
        self._cache.save({self._digest[service] for service in {*bodies, *self._found}})


def _written(text: str | None) -> Any:
    return MISSING if text is None else Written(text)


def _lines_of(share: Any) -> str | None:
    return None if share is MISSING else share.text


def _entries(body: dict[str, Any], owned: dict[str, list[str]]) -> Entries | None:
    """The entries in ``body`` when they are exactly those of a service's names in each
    environment (``owned``), of the shape ``compose.Entries``; else None."""
    out: Entries = {}
    stored = body.get("entries")
    if not isinstance(stored, dict):
        return None
    for env, own in owned.items():
        here = stored.get(env, {})
        if not isinstance(here, dict) or set(here) != set(own):
            return None
        for name in own:
            value = here[name]
            if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], dict) and _texts(value[1])):
                return None
            out[env, name] = (value[0], value[1])
    return out


def _lines_shaped(body: dict[str, Any], owned: dict[str, list[str]]) -> bool:
    base, overlays = body.get("base"), body.get("overlays")
    if not isinstance(base, dict) or not isinstance(overlays, dict):
        return False
    for env, own in owned.items():
        here = overlays.get(env)
        if not isinstance(here, dict) or set(here) != set(own):
            return False
        if not all(name in base and isinstance(base[name], str | None) and isinstance(here[name], str | None) for name in own):
            return False
    return True


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(type(item) is str for item in value)  # a few volume names


class ServiceCache:
    """The entries a project's last render kept (``found``, by service name, each with its
    record's bytes), and this render's (``keep``, written by ``save``: the records reused
    are copied as they are, not encoded again)."""

    __slots__ = ("_path", "_secret", "found", "_records", "_stored")

    def __init__(self, path: str, secret: bytes, found: dict[str, Any], records: dict[str, bytes], stored: set[str]) -> None:
        self._path, self._secret, self.found, self._records = path, secret, found, records
        self._stored = stored  # the digests the pack holds now

    @classmethod
    def open(cls, spec_path: str | os.PathLike[str], wanted: dict[str, str]) -> ServiceCache | None:
        """The entries of the services in ``wanted`` (name -> digest) that the last render
        of the spec at ``spec_path`` kept; None when caches are off or the folder is unusable."""
        where = folder("services")
        if where is None:
            return None
        try:
            secret = _secret(where)
        except OSError:
            return None
        path = os.path.join(where, sha256(json.dumps([FORMAT, os.path.abspath(spec_path)]).encode()).hexdigest()[:32] + ".pack")
        old = _records(path, secret)
        found, records = {}, {}
        for name, digest in wanted.items():
            record = old.get(digest)
            if record is None:
                continue
            try:  # sealed with this user's key: bytes a dockergen of this very code wrote
                body = marshal.loads(record)
            except (ValueError, EOFError, TypeError):
                continue
            if isinstance(body, dict):
                found[name], records[digest] = body, record
        return cls(path, secret, found, records, set(old))

    def keep(self, digest: str, body: dict[str, Any]) -> None:
        """Keep ``body`` under ``digest`` (plain data; anything else is not kept)."""
        try:
            self._records[digest] = marshal.dumps(body)
        except ValueError:
            pass

    def save(self, digests: set[str]) -> None:
        """Write the records of ``digests`` (this render's) as the project's entries (never
        fails the render); nothing to write when the pack holds them already."""
        digests = {digest for digest in digests if digest in self._records}
        if digests == self._stored:
            return
        parts = [b"%s %d\n%s\n" % (digest.encode(), len(self._records[digest]), self._records[digest]) for digest in sorted(digests)]
        body = b"".join(parts)
        try:
            _write(self._path, _mac(self._secret, body) + b"\n" + body)
            _prune(os.path.dirname(self._path))
        except OSError:
            pass


def _mac(secret: bytes, body: bytes) -> bytes:
    return hashlib.blake2b(b"%d\0" % FORMAT + body, key=secret, digest_size=32).hexdigest().encode()


def _records(path: str, secret: bytes) -> dict[str, bytes]:
    """The records of the pack at ``path`` (digest -> JSON bytes); none when it is missing,
    unreadable, or not sealed with ``secret``."""
    try:
        raw = read_regular(path, ENTRY_LIMIT)
    except OSError:
        return {}
    mac, _, body = raw.partition(b"\n")
    if not hmac.compare_digest(mac, _mac(secret, body)):
        return {}
    out = {}
    at = 0
    try:
        while at < len(body):
            end = body.index(b"\n", at)
            digest, size = body[at:end].split(b" ")
            start = end + 1
            out[digest.decode()] = body[start : start + int(size)]
            at = start + int(size) + 1
    except ValueError:
        return {}  # sealed by this key, so never: a pack of another format
    return out


def _secret(where: str) -> bytes:
    """This user's key for the packs of ``where``, created on first use (readable by the
    user alone; of two processes creating it, the one that links it first wins)."""
    path = os.path.join(where, _KEY_NAME)
    try:
        secret = read_regular(path, 1024)
    except FileNotFoundError:
        os.makedirs(where, mode=0o700, exist_ok=True)
        temp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            os.write(fd, os.urandom(32))
        finally:
            os.close(fd)
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
        secret = read_regular(path, 1024)
    if len(secret) != 32:
        raise OSError("the cache key is not one")
    return secret


def _write(path: str, data: bytes) -> None:
    temp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    os.replace(temp, path)


def _prune(where: str) -> None:
    entries = []
    for name in os.listdir(where):
        if name.endswith(".pack"):
            try:
                entries.append((os.stat(os.path.join(where, name)).st_mtime_ns, name))
            except OSError:
                continue  # another process pruned it
    for _, name in sorted(entries)[:-MAX_ENTRIES]:
        try:
            os.unlink(os.path.join(where, name))
        except OSError:
            pass
