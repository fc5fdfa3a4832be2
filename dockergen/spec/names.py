"""Placeholders in the names a spec gives a service's containers and images.

``image``, ``container_name``, ``hostname`` and the ``aliases`` of a network a service joins
may say ``{service}``, ``{env}`` or ``{project}`` (the environment's Compose project), so
that one line in ``defaults`` names every service alike: ``container_name:
"shop-{env}-{service}"``. None of those names can hold a brace in Compose or Docker, so no
value meant otherwise changes meaning; ``${VAR}`` and ``$$`` stay Compose's own (a
placeholder may sit in a variable's default: ``${TAG:-{env}}``). The values put in are spec
names (lowercase letters, digits, ``-`` and ``_``): they add no character that needs quoting
anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from dockergen.text import forbidden_character

PLACEHOLDERS = ("service", "env", "project")
# Compose's `${VAR}`, `${VAR:-default}` ... (a default may hold one level of braces: `{env}`).
INTERPOLATED = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?+](?:[^{}]|\{[^{}]*\})*)?\}")
FIELDS = ("image", "container_name", "hostname")  # with `networks.<name>.aliases`
_SAY = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)


def _parts(text: str) -> Iterator[tuple[bool, str]]:
    """``(is_placeholder, text)`` pieces of ``text``, ``{{`` and ``}}`` read as one brace;
    raises ValueError for a ``{`` that is neither Compose's ``${...}`` nor a known
    placeholder (one may sit in a variable's default: ``${TAG:-{env}}``)."""
    i, start, variables = 0, 0, 0
    while i < len(text):
        char, pair = text[i], text[i : i + 2]
        if char == "$" and pair in ("$$", "${"):
            variables += pair == "${"
            i += 2
        elif char == "}" and variables:  # Compose's, closing its `${`
            variables -= 1
            i += 1
        elif pair in ("{{", "}}"):
            yield False, text[start:i] + char
            i = start = i + 2
        elif char == "{":
            end = text.find("}", i)
            name = text[i + 1 : end] if end != -1 else None
            if name not in PLACEHOLDERS:
                what = f"unknown placeholder {{{name}}}" if name is not None else "an unclosed `{`"
                raise ValueError(f"{what} in {text!r}: a name may say {_SAY}, `{{{{` for a brace (`${{VAR}}` for a variable)")
            if i > start:
                yield False, text[start:i]
            yield True, name
            i = start = end + 1
        else:
            i += 1
    if start < len(text):
        yield False, text[start:]


def literal(text: str) -> str:
    """``text`` as a name that says it as it is: its braces doubled, but those of Compose's
    ``${...}`` (``import`` writes an original's name so)."""
    out, variables, i = [], 0, 0
    while i < len(text):
        char, pair = text[i], text[i : i + 2]
        if char == "$" and pair in ("$$", "${"):
            variables += pair == "${"
            out.append(pair)
            i += 2
            continue
        if char == "}" and variables:
            variables -= 1
        elif char in "{}":
            char *= 2
        out.append(char)
        i += 1
    return "".join(out)


def check(text: str) -> str:
    """``text`` when every placeholder in it is a known one and it holds no character that no
    image, container or host name can (a pydantic validator): Compose would quote a line break
    or a space faithfully into a name the engine refuses only at `up`."""
    if (found := forbidden_character(text)) is not None:
        raise ValueError(f"{text!r} holds {found}, which no image, container or host name can: remove it")
    if any(char.isspace() for char in INTERPOLATED.sub("", text)):  # `${IMAGE:?set IMAGE first}` is fine
        raise ValueError(f"{text!r} holds a space, which no image, container or host name can: remove it")
    if "{" in text or "}}" in text:
        for _ in _parts(text):
            pass
    return text


def check_networks(networks: Any) -> Any:
    """``networks`` of a service when its ``aliases`` name only known placeholders."""
    if isinstance(networks, Mapping):
        for options in networks.values():
            aliases = options.get("aliases") if isinstance(options, Mapping) else None
            for alias in aliases if isinstance(aliases, list) else ():
                if isinstance(alias, str):
                    check(alias)
    return networks


def expand(text: str, values: Mapping[str, str]) -> str:
    if "{" not in text and "}}" not in text:
        return text
    return "".join(values[piece] if placeholder else piece for placeholder, piece in _parts(text))


def expanded(settings: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """The named fields of ``settings`` that placeholders change, with ``values``
    (``service``, ``env``, ``project``) put in; empty when none says one."""
    out: dict[str, Any] = {}
    for key in FIELDS:
        value = settings.get(key)
        if isinstance(value, str) and (named := expand(value, values)) != value:
            out[key] = named
    networks = settings.get("networks")
    if isinstance(networks, Mapping) and any(_has_placeholder(options) for options in networks.values()):
        out["networks"] = {
            name: {**options, "aliases": [expand(a, values) if isinstance(a, str) else a for a in options["aliases"]]}
            if _has_placeholder(options) else options
            for name, options in networks.items()
        }  # fmt: skip
    return out


def _has_placeholder(options: Any) -> bool:
    aliases = options.get("aliases") if isinstance(options, Mapping) else None
    return isinstance(aliases, list) and any(isinstance(a, str) and ("{" in a.replace("${", "") or "}}" in a) for a in aliases)
