"""A generic build's ``steps`` read as a Dockerfile: which items start stages, and their names.

``steps`` is the Dockerfile itself, one instruction per item: ``ARG`` items before the first
``FROM`` are the global arguments, and each ``FROM`` starts a stage, named by its ``AS``.
Everything downstream (targets, image names, lint's spec paths) reads the stages from here,
so the items are the only place a stage is written.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from dockergen.render import quote

# What a `target` may name (the spec's `Name`): BuildKit would also take `.` and upper case
# (which it folds), but the name also ends image tags (`-<stage>`) and Compose targets.
STAGE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")


@dataclass(frozen=True)
class StageHead:
    """A stage of ``steps``: the index of the item that starts it (its ``FROM``) and its name."""

    item: int
    name: str | None


@dataclass(frozen=True)
class ReadSteps:
    """``steps`` as a Dockerfile: its stages, and what is wrong with it, ``(item or None for
    the whole list, message)``."""

    stages: tuple[StageHead, ...]
    problems: tuple[tuple[int | None, str], ...]


@functools.lru_cache(maxsize=256)
def read_steps(steps: tuple[str, ...], escape: str = "\\") -> ReadSteps:
    """Each item parsed by BuildKit under ``escape``; pure (cached: validation and every
    reader of the stages ask with the same items)."""
    stages: list[StageHead] = []
    problems: list[tuple[int | None, str]] = []
    named: dict[str, int] = {}
    for index, step in enumerate(steps):
        try:
            command = quote.parsed_instruction(step, escape)
        except quote.UnsafeValue as exc:
            problems.append((index, str(exc)))
            continue
        keyword = command.cmd.upper()
        if keyword != "FROM":
            if not stages and keyword != "ARG":
                problems.append((index, f"only ARG may come before the first FROM (the build's global arguments), not {keyword}: start a stage with `FROM <image>` above it"))
            continue
        name, problem = _stage_name(command)
        if problem is None and name is not None and name in named:
            problem = f"stage name {name!r} is already the name of the stage at item {named[name]} (BuildKit refuses two stages of one name)"
        if problem is not None:
            problems.append((index, problem))
            continue
        if name is not None:
            named[name] = index
        stages.append(StageHead(index, name))
    if not stages and not problems:
        problems.append((None, "a Dockerfile needs a FROM: start the first stage with `FROM <image>` (`FROM golang:1.22 AS build`)"))
    return ReadSteps(tuple(stages), tuple(problems))


def _stage_name(command: object) -> tuple[str | None, str | None]:
    """``(name, None)`` of a well-formed ``FROM``, else ``(None, what is wrong)``."""
    value, flags = list(command.value), list(command.flags)  # type: ignore[attr-defined]
    usage = "FROM takes an image and an optional `AS <name>`: `FROM [--platform=<platform>] <image> [AS <name>]`"
    other = [flag for flag in flags if not re.fullmatch(r"--platform=\S+", flag)]
    if other:
        return None, f"{usage}; {' '.join(other)} is not a FROM option"
    if len(value) == 1:
        return None, None
    if len(value) != 3 or value[1].lower() != "as":
        return None, usage
    if not STAGE_NAME.fullmatch(value[2]):
        return None, (f"stage name {value[2]!r}: a `target` names it, so it is lowercase letters, digits, '-' or '_', "
                      "starting with a letter (at most 63)")  # fmt: skip
    return value[2], None
