"""The checks of validation that read the project's files, as plain predicates.

Validation judges more than the spec: a build context must be a folder, the manifests a
template copies by name must be there, a path must not leave the project through a
symbolic link, the test suite must stay in the test stage's context. Each of those
checks records what it looked at (a ``Check``, plain JSON values relative to the spec's
folder) and the render keeps the list in the lock; a render or validate confirmed from
the lock runs every one again (``failing``), so deleting a manifest after a render is
reported however the tree's generated files look. The list depends only on the spec,
never on what was found (a render proves they all pass), so adding code to a context
never changes the lock.

Kept free of heavy imports (no pathlib, pydantic): the launcher's fast path runs these.
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import stat
from collections.abc import Callable

from dockergen.containment import Resolver, outside_reason, resolved
from dockergen.safe_read import kind_of

Check = list  # [kind, *arguments], of the shapes in _SHAPES


def not_a_folder(path: str) -> str | None:
    """What ``path`` is when it exists and is no folder (None: a folder, or nothing yet)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return "a symbolic link loop" if exc.errno == errno.ELOOP else f"unreadable ({exc.strerror})"
    return None if stat.S_ISDIR(info.st_mode) else kind_of(info.st_mode) or "a file"


def has_code(context: str) -> bool:
    """The build context holds something besides what dockergen writes into it (a spec may
    be rendered before its code, into an empty folder)."""
    try:
        with os.scandir(context) as entries:
            return any(not (e.name == ".dockerignore" or e.name.startswith("Dockerfile")) for e in entries)
    except OSError:
        return False


def manifest_state(spec_dir: str, context: str, relative: str, scan_credential: bool) -> str | None:
    """Why a file a template copies by name (``relative`` in ``context``) fails the build:
    ``missing``, ``credential`` (an install file writing out a registry credential) or
    the kind of thing it is; None when it is fine or lies outside (reported as a path)."""
    from dockergen.sensitive import holds_credential

    if outside_reason(spec_dir, relative, base=context):
        return None
    found = os.path.join(spec_dir, context, relative)
    kind = not_a_folder(found)
    if kind and kind != "a file":
        return kind
    if not os.path.exists(found):
        return "missing"
    if scan_credential and holds_credential(found):
        return "credential"
    return None


_TEST_FILE = re.compile(r"test_\w*\.py|\w+_test\.py")
_NOT_SOURCE = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache", "build", "dist"}


def test_files(context: str, limit: int = 5000) -> list[str]:
    """Context-relative test modules pytest would collect, by its default file names (a bounded walk)."""
    out: list[str] = []
    stack = [""]
    while stack and len(out) < limit:
        relative = stack.pop()
        try:
            with os.scandir(os.path.join(context, relative) if relative else context) as found:
                entries = sorted(found, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            inner = posixpath.join(relative, entry.name) if relative else entry.name
            if entry.is_dir() and not entry.is_symlink() and entry.name not in _NOT_SOURCE and inner.count("/") < 5:
                stack.append(inner)
            elif entry.is_file() and _TEST_FILE.fullmatch(entry.name):
                out.append(inner)
    return sorted(out)


def tests_left_out(context: str, patterns: list[str]) -> list[str]:
    """The test modules ``patterns`` leave out of the context when they leave out every
    one of them (so the test stage has nothing to run), else []. A context that is not
    there yet counts as holding the usual ``tests/test_app.py``."""
    from dockergen.ignore_match import ignored

    found = test_files(context) if os.path.isdir(context) else ["tests/test_app.py"]
    left_out = [f for f in found if ignored(f, patterns)]
    return left_out if found and len(left_out) == len(found) else []


def failing(checks: list[Check], spec_dir: str) -> Check | None:
    """The first of ``checks`` (recorded by a render that passed them all) that fails now."""
    code: dict[str, bool] = {}
    resolve = Resolver()  # a large project's checks name ~1,500 paths in a few hundred folders
    for check in checks:
        kind, *args = check
        if kind in ("context", "folder", "manifest", "tests") and outside_reason(spec_dir, args[0], resolve=resolve):
            ok = False  # a render records only project paths here: a lock naming others is not trusted
        elif kind == "inside":
            ok = outside_reason(spec_dir, args[0], base=args[1], absolute_ok=args[2], resolve=resolve) is None
        elif kind == "context":
            ok = not_a_folder(os.path.join(spec_dir, args[0])) is None
        elif kind == "folder":
            ok = os.path.isdir(os.path.join(spec_dir, args[0]))
        elif kind == "manifest":
            context = os.path.join(spec_dir, args[0])
            if context not in code:
                code[context] = has_code(context)
            ok = not code[context] or manifest_state(spec_dir, *args) is None
        elif kind == "tests":
            ok = not tests_left_out(os.path.join(spec_dir, args[0]), args[1])
        elif kind == "distinct":
            ok = not distinct_clashes(spec_dir, args[0], args[1], resolve)
        else:
            ok = False  # a check this version does not know: the full path judges
        if not ok:
            return check
    return None


def distinct_clashes(spec_dir: str, outputs: list[str], inputs: list[str], resolve: Callable[[str], str] = resolved) -> dict[str, str]:
    """Outputs that are, through symbolic links, one of ``inputs``: {output: input}."""
    by_target = {target(spec_dir, path, resolve): path for path in inputs}
    return {path: by_target[found] for path in outputs if (found := target(spec_dir, path, resolve)) in by_target}


def target(spec_dir: str, relative: str, resolve: Callable[[str], str] = resolved) -> str:
    """What ``relative`` is once every symbolic link is followed (itself when that fails);
    ``resolve``: ``resolved``, or a ``containment.Resolver`` shared by many paths."""
    try:
        return resolve(os.path.join(spec_dir, relative))
    except (OSError, RuntimeError):
        return relative


_STR, _FLAG, _STRS = "str", "bool", "list[str]"
# ["inside", value, base, absolute_ok] | ["context", folder] | ["folder", folder]
# | ["manifest", context, relative, scan_credential] | ["tests", context, patterns] | ["distinct", outputs, inputs]
_SHAPES = {
    "inside": (_STR, _STR, _FLAG),
    "context": (_STR,),
    "folder": (_STR,),
    "manifest": (_STR, _STR, _FLAG),
    "tests": (_STR, _STRS),
    "distinct": (_STRS, _STRS),
}


def valid_checks(value: object) -> bool:
    """Whether ``value`` (read from a lock) is a list of checks of the shapes above; a kind
    this version does not know may hold any plain values (``failing`` sends it to the full path)."""

    def shape(item: object) -> str | None:
        if isinstance(item, bool):
            return _FLAG
        if isinstance(item, str):
            return _STR
        return _STRS if isinstance(item, list) and all(isinstance(i, str) for i in item) else None

    def valid(check: object) -> bool:
        if not (isinstance(check, list) and check and isinstance(check[0], str)):
            return False
        found = tuple(shape(a) for a in check[1:])
        expected = _SHAPES.get(check[0])
        return found == expected if expected is not None else None not in found

    return isinstance(value, list) and all(valid(c) for c in value)
