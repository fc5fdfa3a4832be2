"""Why the tree differs from what the spec renders: one ``Drift`` per file."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from dockergen import __version__
from dockergen.fingerprint import GITATTRIBUTES, LOCK_NAME, current_inputs
from dockergen.text import visible
from dockergen.write import Change, lock_state


@dataclass(frozen=True)
class Drift:
    path: str
    cause: str  # missing | edited | outdated | stale | foreign | untrusted-lock | gitattributes
    reason: str
    change: Change


def find_drift(spec_path: Path, out_dir: Path, changes: list[Change], templates_dir: str | None) -> list[Drift]:
    outdated_reason = _outdated_reason(spec_path, out_dir, templates_dir)
    _, why = lock_state(out_dir)
    untrusted = None
    if why is not None:
        untrusted = f"cannot be trusted: {why}" if why.startswith("edited by hand") else f"cannot be read: {why}"
    drift = []
    for change in changes:
        if not change.changes:
            continue
        if change.path == GITATTRIBUTES:
            state = "missing: the spec produces it" if change.action == "create" else "out of date"
            drift.append(Drift(change.path, "gitattributes", f"{state} (the linguist-generated block)", change))
        elif change.action == "create":
            drift.append(Drift(change.path, "missing", "missing: the spec produces it", change))
        elif change.action == "delete":
            why = "stale: the spec no longer produces it"
            if change.blocked:
                why += f" (and it was {change.blocked})"
            drift.append(Drift(change.path, "stale", why, change))
        elif change.path == LOCK_NAME and untrusted:
            drift.append(Drift(change.path, "untrusted-lock", f"{untrusted}; `dockergen render` rewrites it", change))
        elif change.path == LOCK_NAME:
            drift.append(Drift(change.path, "outdated", outdated_reason, change))
        elif change.blocked == "not written by dockergen":
            drift.append(Drift(change.path, "foreign", "a file not written by dockergen is where the spec writes one", change))
        elif change.blocked:
            drift.append(Drift(change.path, "edited", "edited by hand since it was generated", change))
        else:
            drift.append(Drift(change.path, "outdated", outdated_reason, change))
    return drift


def _outdated_reason(spec_path: Path, out_dir: Path, templates_dir: str | None) -> str:
    lock, why = lock_state(out_dir)
    if lock is None:
        return f"out of date ({LOCK_NAME} " + ("is missing)" if why is None else f"cannot be used: {why})")
    if lock.version != __version__:
        return f"out of date: rendered by dockergen {lock.version}, this is {__version__}"
    spec_digest, templates_digest = current_inputs(spec_path, templates_dir)
    if lock.spec != spec_digest:
        return "out of date: the spec changed since the last render"
    if lock.templates != templates_digest:
        return "out of date: the templates changed since the last render"
    return "out of date"


def unified_diff(change: Change) -> str:
    # For reading only: the bytes on disk are never rewritten from this text.
    label_a = f"a/{change.path}" if change.current is not None else "/dev/null"
    label_b = f"b/{change.path}" if change.new is not None else "/dev/null"
    return text_diff((change.current or b"").decode("utf-8", "replace"), (change.new or b"").decode("utf-8", "replace"), label_a, label_b)


def text_diff(before: str, after: str, label_a: str, label_b: str) -> str:
    """A unified diff for a terminal. Lines end at ``\n`` alone, as git and the files' readers
    split them, and every control, bidi or line-separator character is shown as an escape:
    a hand edit (a file from someone else's branch) can neither drive the terminal nor make
    one line look like two."""
    return "".join(difflib.unified_diff(_shown_lines(before), _shown_lines(after), visible(label_a), visible(label_b)))


def _shown_lines(text: str) -> list[str]:
    lines = text.split("\n")
    shown = [visible(line) + "\n" for line in lines[:-1]]
    return shown + ([visible(lines[-1])] if lines[-1] else [])
