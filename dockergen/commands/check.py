"""``dockergen check``: is the tree exactly what the spec renders?

The fast path (``fingerprint.fast_clean``) confirms a clean tree from the lock and the
file fingerprints without importing the renderer; anything else falls through to a full
render in memory, which is the authority on what drifted and why.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from dockergen.fingerprint import LOCK_NAME, fast_clean


def check(spec: Path, *, show_diff: bool, output_format: str, out: Path | None = None) -> int:
    out_dir = out if out is not None else spec.parent
    if not show_diff and fast_clean(spec, out_dir):
        return _report([], output_format, spec)
    from dockergen.drift import find_drift, unified_diff
    from dockergen.pipeline import render
    from dockergen.write import plan_changes

    rendered = render(spec)
    drift = find_drift(spec, out_dir, plan_changes(out_dir, rendered.files), rendered.spec.templates)
    code = _report(drift, output_format, spec)
    if show_diff and output_format == "text":
        for item in drift:
            click.echo(unified_diff(item.change), nl=False)
    return code


def _report(drift: list, output_format: str, spec: Path) -> int:  # list[Drift]
    if output_format == "json":
        from dockergen.drift import unified_diff

        click.echo(
            json.dumps(
                {
                    "spec": str(spec),
                    "clean": not drift,
                    "files": [
                        {"path": d.path, "cause": d.cause, "reason": d.reason, "diff": unified_diff(d.change)} for d in drift
                    ],
                },
                indent=2,
            )
        )
    elif drift:
        for item in drift:
            click.echo(f"{item.path}: {item.reason}")
        # No lock: render, which always writes one, never ran here.
        unrendered = any(d.path == LOCK_NAME and d.change.action == "create" for d in drift)
        what = f"{spec} is not rendered yet ({len(drift)} files missing)" if unrendered else f"{len(drift)} file(s) drifted from {spec}"
        click.echo(f"{what}; {_next_step(drift, spec)}", err=True)
    return 1 if drift else 0


def _next_step(drift: list, spec: Path) -> str:  # list[Drift]
    """What to run: `render` rewrites what it may; files it would refuse to touch (hand
    edits, foreign files) need `absorb`, or `render --force` to discard them."""
    spec_arg = "" if spec == Path("dockergen.yaml") else f" --spec {spec}"
    blocked = [d for d in drift if d.change.blocked]
    if not blocked:
        return f"run `dockergen render{spec_arg}` (see --diff)"
    from dockergen.write import NOT_OURS, SPEC_EDIT

    edits = [d for d in blocked if d.change.blocked != NOT_OURS]
    absorbable = ", ".join(d.path for d in edits if d.change.absorbable)
    other = ", ".join(d.path for d in edits if not d.change.absorbable)
    foreign_paths = [d.path for d in blocked if d.change.blocked == NOT_OURS]  # absorb has nothing of them to absorb
    foreign = ", ".join(foreign_paths)
    steps = [f"keep the edit of {absorbable} with `dockergen absorb{spec_arg}` (it turns a Compose edit into a spec change), "
             f"or discard it with `dockergen render{spec_arg} --force`"] if absorbable else []  # fmt: skip
    if other:
        steps.append(f"{other}: {SPEC_EDIT}, or discard it with `dockergen render{spec_arg} --force`")
    if foreign:
        it = "them" if len(foreign_paths) > 1 else "it"
        named = "" if len(foreign_paths) == len(blocked) else f"{foreign} "  # the list just said which
        steps.append(f"{named}not written by dockergen: move {it} away (or write dockergen's elsewhere: `output` names the paths), "
                     f"or replace {it} with `dockergen render{spec_arg} --force`")  # fmt: skip
    names = ", ".join(d.path for d in blocked)
    return f"`dockergen render` would refuse to overwrite {names}: {'; '.join(steps)} (see --diff)"
