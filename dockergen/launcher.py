"""The ``dockergen`` console script.

``dockergen check`` runs on every commit and ``dockergen render`` after every pull, so a
clean tree is confirmed here, before the CLI framework is imported: only the fingerprints
and the lock are read (``fingerprint.clean_lock``). Anything else, including every drift,
goes through the full CLI, which reports it.
"""

from __future__ import annotations

import os
import sys


def _fast_path(argv: list[str]) -> bool:
    """True when ``argv`` is a plain ``check``, ``render`` or ``validate`` and the tree is
    exactly what the last render wrote from this very spec, templates and version: the
    render then proved the spec valid, and there is nothing to write (both say so). A
    render or validate of a spec rendered before on this machine is replayed from the
    render cache."""
    if not argv or argv[0] not in ("check", "render", "validate"):
        return False
    from dockergen.spec.path import SPEC_NAME, spec_file

    spec, out, quiet, rest = SPEC_NAME, None, False, argv[1:]
    while rest:
        option = rest.pop(0)
        name, _, value = option.partition("=")
        if name == "--out" and argv[0] == "validate":
            return False
        if name in ("--spec", "--out") and (value or rest):
            value = value or rest.pop(0)
            spec, out = (spec_file(value), out) if name == "--spec" else (spec, value)
        elif argv[0] == "render" and option in ("-q", "--quiet"):
            quiet = True
        else:
            return False  # --diff, --env, --force, --help ...: the full CLI handles them
    from dockergen.fingerprint import LOCK_NAME, clean_lock, nothing_to_change, replay_warnings

    lock = clean_lock(spec, out if out is not None else os.path.dirname(spec) or ".")
    if lock is None:
        return argv[0] != "check" and _from_cache(argv[0], spec, out, quiet)
    if argv[0] != "check":
        for warning in replay_warnings(lock, spec):
            print(warning, file=sys.stderr)
    if argv[0] == "render" and not quiet:
        print(nothing_to_change(len(lock.files), spec))
    elif argv[0] == "validate":
        print(f"{spec}: valid (unchanged since the last render, which checked it: {LOCK_NAME} and the files match)")
    return True


def _from_cache(command: str, spec: str, out: str | None, quiet: bool) -> bool:
    """A render or validate of a spec this machine rendered before, replayed from the
    render cache (``render_cache``): its files written as the full path writes them, the
    same lines printed. False (take the full path) on a miss or on anything the full path
    reports, such as a file edited by hand where a generated one goes."""
    from dockergen.render_cache import lookup

    if out is not None and command == "render":
        from dockergen.containment import write_target_reason

        if write_target_reason(out) is not None:
            return False  # the full path refuses it, and says why
    cached = lookup(spec)
    if cached is None:
        return False  # before the imports below: a miss (every run after an edit) needs none (dataclasses: ~6 ms)
    from pathlib import Path

    from dockergen.fingerprint import replay_warnings
    from dockergen.summary import summary, valid_line

    shown = Path(spec)  # as the full path shows it
    if command == "render":
        from dockergen.errors import DockergenError
        from dockergen.write import apply, plan_changes

        out_dir = Path(out) if out is not None else shown.parent
        try:
            changes = plan_changes(out_dir, cached.files)
            apply(out_dir, changes, force=False)
        except (DockergenError, OSError):
            return False
    for warning in replay_warnings(cached.lock, spec):
        print(warning, file=sys.stderr)
    if command == "validate":
        facts = cached.facts
        print(valid_line(shown, facts.services, facts.environments))
    elif not quiet:
        for note in replay_warnings(cached.lock, spec, cached.notes):
            print(note)
        print(summary(shown, out_dir, cached.facts, changes))
    return True


def main() -> None:
    argv = sys.argv[1:]
    if _fast_path(argv):
        os._exit(exit_status(0))
    if argv and argv[0] in SERVED and not os.environ.get("DOCKERGEN_NO_SERVER"):
        from dockergen.warm.client import run

        code = run(argv)
        if code is not None:
            os._exit(exit_status(code))
        from dockergen.warm.autostart import start_in_background

        start_in_background()  # for the next command; this one runs here, as without a server
    full_path()


# What the warm server (``dockergen server start``, or started by the first of these that
# finds none: ``warm.autostart``) runs for: a command that spends most of
# its time importing pydantic and building the models, reads no input from the terminal
# and starts no interactive program. `compose`, `init` (it prompts), `import`, `verify`,
# `absorb` and `doctor` (seconds of Compose, engines and validators) run here.
SERVED = frozenset({"render", "validate", "check", "lint", "explain", "diff", "schema"})


def prepare() -> None:
    """What the process needs before the CLI is imported (the warm server does it too)."""
    # A render allocates millions of small, long-lived objects and few cycles; with the
    # default thresholds the collector re-walks them ever more often and the run grows
    # faster than the spec (1,000 -> 2,000 services: 1.1 s -> 2.8 s), as mypy found. A
    # collection walks every object made since the last one (at 200,000, one 1,000-service
    # render paid 50-150 ms for one that found 602 cycles), so it comes only after a million:
    # most runs end first, and the garbage it lets wait is a few thousand objects.
    import gc

    gc.set_threshold(1_000_000, 30, 30)
    # pydantic looks for plugins among every installed distribution's entry points when the
    # first model is built (importlib.metadata and a scan of site-packages); dockergen has none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def exit_status(code: int) -> int:
    """The status the interpreter exits with after ``code``: the exit handlers run and the
    standard streams flushed (120 when they cannot be), as at its own exit. A fast-path or
    served command then leaves with ``os._exit``, skipping the interpreter's teardown of
    every module it loaded (~7 ms of CPU, a tenth of a served command's client); nothing
    of it is needed once the handlers ran and the streams are out."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = 120
    return code & 0xFF


def full_path() -> None:
    """The CLI on ``sys.argv`` (exits), in this process or in a child of the warm server."""
    prepare()
    from dockergen.cli import main as cli

    cli(obj={"render_cache": True})
