"""Compose's ``${VAR}`` interpolation, for the values an import reasons about (never for output)."""

from __future__ import annotations

import re

VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's ``${VAR}`` rules with ``values`` (unset and empty as Compose treats them)."""

    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        value = values.get(name)
        if op == ":-":
            return value if value else interpolate(arg, values)
        if op == "-":
            return value if value is not None else interpolate(arg, values)
        if op == ":+":
            return interpolate(arg, values) if value else ""
        if op == "+":
            return interpolate(arg, values) if value is not None else ""
        return value or ""

    return VAR.sub(repl, text)


def interpolate_known(text: str, values: dict[str, str]) -> str:
    """``text`` with the variables ``values`` sets interpolated; every other ``$`` as written."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        return interpolate(m.group(0), values) if name in values else m.group(0)

    return VAR.sub(repl, text)
