"""Quoting of spec values for the Dockerfile context: the only place it is done.

Every value from the spec reaches a Dockerfile through one of these functions (they are
the Jinja filters the templates use), so no value can end a line, start an
instruction, or be expanded by the builder.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dockergen.text import forbidden_character

SAFE_WORD = re.compile(r"[A-Za-z0-9._+/@:=~%,-]+")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


class UnsafeValue(ValueError):
    """A spec value that cannot be written into a Dockerfile safely."""


def exec_form(argv: list[str] | tuple[str, ...]) -> str:
    """A JSON array for exec-form CMD/ENTRYPOINT/HEALTHCHECK: escapes keep it on one line."""
    return json.dumps(list(argv), ensure_ascii=True)


def double_quoted(value: object, escape: str = "\\") -> str:
    """A double-quoted ENV/LABEL/ARG value that Docker reads back literally (no ``$`` expansion),
    under the Dockerfile's ``escape`` character: inside double quotes BuildKit escapes ``"``,
    ``$`` and the escape character itself with it, and only with it (under ``# escape=```
    a ``\\"`` is a backslash and the closing quote)."""
    text = str(value)
    bad = forbidden_character(text, allowed="\t")
    if bad is not None:
        # Double quotes have no escape for these: a line break would end the instruction.
        kind = "line breaks are" if bad.startswith("a line break") else f"{bad} is"
        raise UnsafeValue(f"{kind} not allowed in Dockerfile values: {text!r}")
    escaped = text.replace(escape, escape * 2).replace('"', escape + '"').replace("$", escape + "$")
    return f'"{escaped}"'


def word(value: object) -> str:
    """A bare word (package name, path, key): only characters with no meaning to the builder."""
    text = str(value)
    if not SAFE_WORD.fullmatch(text):
        raise UnsafeValue(f"not allowed here (letters, digits and ._+/@:=~%,- only): {text!r}")
    if text.startswith("-"):
        raise UnsafeValue(f"may not start with `-` (a command would read it as an option): {text!r}")
    return text


def command(argv: list[str] | tuple[str, ...]) -> str:
    """A shell-form command line of dockergen's own making: bare words, and unlike ``word``
    options are meant (``--frozen-lockfile``)."""
    unsafe = [arg for arg in argv if not SAFE_WORD.fullmatch(arg)]
    if unsafe or not argv:
        raise UnsafeValue(f"not a command of bare words: {list(argv)!r}")
    return " ".join(argv)


# A word with build-argument references: `${NODE_VERSION}`, `$TARGETPLATFORM`, `${TAG:-latest}`.
_ARG_WORD = re.compile(r"(?:[A-Za-z0-9._+/@:=~%,-]|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-+][A-Za-z0-9._+/@:=~%,-]*)?\})+")


def arg_word(value: object) -> str:
    """A bare word that may name build arguments (``FROM node:${NODE_VERSION}-alpine``,
    ``--platform=$BUILDPLATFORM``): the characters of ``word`` plus whole ``$NAME`` /
    ``${NAME}`` / ``${NAME:-default}`` references, which BuildKit expands and nothing else."""
    text = str(value)
    if not _ARG_WORD.fullmatch(text) or text.startswith("-"):
        raise UnsafeValue(f"not allowed here (letters, digits, ._+/@:=~%,- and ${{ARG}} references only): {text!r}")
    return text


_DIRECTIVES = {"syntax": re.compile(r"[A-Za-z0-9._+/@:=~%,-]+"), "escape": re.compile(r"[\\`]"), "check": re.compile(r"[A-Za-z0-9_;=,.-]+")}


def directive(name: str, value: object) -> str:
    """A parser directive line (``# syntax=...``, ``# escape=```, ``# check=skip=...``)."""
    text = str(value)
    rule = _DIRECTIVES.get(name)
    if rule is None or not rule.fullmatch(text):
        raise UnsafeValue(f"not a parser directive dockergen writes: {name}={text!r}")
    return f"# {name}={text}"


def key(value: object) -> str:
    text = str(value)
    if not _KEY.fullmatch(text):
        raise UnsafeValue(f"not a valid ENV/LABEL key: {text!r}")
    return text


def arg_reference(name: object) -> str:
    """A double-quoted ENV/LABEL value that BuildKit fills with the build argument ``name``."""
    return '"${' + key(name) + '}"'


# Instructions a stage's steps may contain; FROM is not one of them (a stage's `from` writes it).
STEP_INSTRUCTIONS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL STOPSIGNAL USER VOLUME WORKDIR".split()
)
# Written after a step when BuildKit's parser checks it: a step that opens a heredoc or a
# `\` continuation swallows it, one that holds two instructions puts one before it.
_SENTINEL = "LABEL dockergen.end-of-step=1"


def instruction(step: str, escape: str = "\\") -> str:
    """``step`` as written into a Dockerfile when it is exactly one instruction, as BuildKit's
    own parser reads it with another instruction after it, under the Dockerfile's ``escape``
    character (a trailing ``\\`` continues a line only where it is the escape); trailing line
    breaks dropped.

    A step may span lines only when they are one instruction: a closed heredoc
    (``RUN <<EOF`` ... ``EOF``) or an internal continuation."""
    if parsed_instruction(step, escape).cmd.upper() == "FROM":
        raise UnsafeValue("a step may not be FROM: each stage's `from` writes its FROM (start another stage instead)")
    return step.rstrip("\n")


def build_step(step: str, escape: str = "\\") -> str:
    """An item of a generic build's ``steps``: one instruction as ``instruction`` checks it,
    ``FROM`` included (it starts a stage)."""
    parsed_instruction(step, escape)
    return step.rstrip("\n")


def parsed_instruction(step: str, escape: str = "\\") -> Any:
    """BuildKit's parse of ``step`` (its ``Command``: ``cmd``, ``flags``, ``value``) when it is
    exactly one instruction, ``FROM`` included; else ``UnsafeValue``."""
    import dockerfile  # BuildKit's parser (Go); only specs with generic stages need it

    text = step.rstrip("\n")
    bad = forbidden_character(text, allowed="\t\n")
    if bad:
        raise UnsafeValue(f"a step may not contain {bad}: {step!r}")
    if not text.strip():
        raise UnsafeValue("a step may not be empty")
    head = "" if escape == "\\" else directive("escape", escape) + "\n"
    first_line = 1 + head.count("\n")
    lines = text.count("\n") + 1
    try:
        parsed = dockerfile.parse_string(f"{head}{text}\n{_SENTINEL}\n")
    except dockerfile.GoParseError as exc:
        raise UnsafeValue(f"BuildKit cannot parse the step ({exc}): {step!r}") from None
    if not parsed or parsed[-1].original != _SENTINEL or parsed[-1].start_line != first_line + lines:
        raise UnsafeValue(f"the step would swallow the next instruction (an open heredoc or a trailing `{escape}`): {step!r}")
    if len(parsed) == 1:
        raise UnsafeValue(f"a step must be a Dockerfile instruction, not only a comment: {step!r}")
    if len(parsed) > 2:
        raise UnsafeValue(f"a step is one instruction, this is {len(parsed) - 1} (give each its own item): {step!r}")
    first = parsed[0]
    if first.start_line != first_line:
        raise UnsafeValue(f"a step starts with its instruction, not a comment or blank line: {step!r}")
    name, sub = first.cmd.upper(), (first.sub_cmd or "").upper()
    if name not in STEP_INSTRUCTIONS and name != "FROM":
        raise UnsafeValue(f"{first.cmd!r} is not a Dockerfile instruction: {step!r}")
    if not first.value and not (first.json and name in ("CMD", "ENTRYPOINT")):  # `ENTRYPOINT []` resets the base image's
        raise UnsafeValue(f"{name} needs arguments: {step!r}")
    if name == "ONBUILD" and sub in ("FROM", "ONBUILD", "MAINTAINER"):
        raise UnsafeValue(f"ONBUILD cannot trigger {sub}: {step!r}")
    return first
