"""The files that go with the Dockerfiles and Compose files: ``.dockerignore`` per build
context and ``.env.example`` for the variables the Compose files read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dockergen import presets
from dockergen.render import dotenv
from dockergen.render.comment import comment_lines
from dockergen.resolve import ImagePlan
from dockergen.sensitive import looks_secret
from dockergen.spec.model import Spec
from dockergen.text import forbidden_character

# How deep `${A:-${B:-${C}}}` may nest: Compose takes any depth, a regular expression a
# fixed one, so `interpolation_error` refuses deeper (no reader of the pattern misses a variable).
MAX_NESTING = 4


def _braces(depth: int) -> str:
    return r"\{[^{}]*\}" if depth == 0 else r"\{(?:[^{}]|" + _braces(depth - 1) + r")*\}"


# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, $VAR; $$ is a literal $.
INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|" + _braces(MAX_NESTING - 1) + r")*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATOR = re.compile(r":?[-+?]")


def interpolation_error(text: str) -> str | None:
    """Why Compose would refuse to interpolate ``text`` (a ``${`` that is not
    ``${NAME}``, ``${NAME:-default}``, ``-``, ``:?``, ``?``, ``:+``, ``+``), or None.
    Stricter than Compose in one place: a default holds braces only as ``${...}``."""
    at = 0
    while (at := text.find("$", at)) != -1:
        if text.startswith("$$", at) or not text.startswith("${", at):
            at += 2 if text.startswith("$$", at) else 1
            continue
        at, error = _braced(text, at)
        if error:
            return error
    return None


def _braced(text: str, start: int, depth: int = 0) -> tuple[int, str | None]:
    name = _VARIABLE.match(text, start + 2)
    if name is None:
        return start, f"`${{` at character {start + 1} does not start a variable name"
    if depth > MAX_NESTING:
        return start, f"`${{{name[0]}` is nested more than {MAX_NESTING} deep in other `${{...}}` defaults (dockergen reads no deeper)"
    at = name.end()
    if text.startswith("}", at):
        return at + 1, None
    operator = _OPERATOR.match(text, at)
    if at == len(text):
        return start, f"`${{{name[0]}` is not closed with `}}`"
    if operator is None:
        return start, f"`${{{name[0]}` is followed by neither `}}` nor one of :- - :? ? :+ +"
    at = operator.end()
    while at < len(text):
        if text[at] == "}":
            return at + 1, None
        if text.startswith("${", at):
            at, error = _braced(text, at, depth + 1)
            if error:
                return at, error
        elif text[at] == "{":
            return at, f"the default of `${{{name[0]}` holds a `{{` that does not start `${{`"
        else:
            at += 2 if text.startswith("$$", at) else 1
    return start, f"`${{{name[0]}` is not closed with `}}`"


def ignore_line(path: str) -> str | None:
    """The .dockerignore line matching exactly ``path`` (a file or ``folder/``), or None when
    none can: Docker's pattern reader takes ``\\`` as an escape, ``*?[`` as globs, a leading
    ``#`` as a comment and ``!`` as an exception, and trims spaces (a leading ``/`` it drops)."""
    if path != path.strip() or forbidden_character(path) is not None:
        return None
    escaped = re.sub(r"([\\*?\[])", r"\\\1", path)
    return "/" + escaped if escaped.startswith(("#", "!")) else escaped


def dockerignore(plans: list[ImagePlan], own_files: list[str]) -> str:
    """Patterns for one build context shared by ``plans``: defaults, dockergen's own files in
    the context (``own_files``, relative to it: the spec, the lock, generated files whose
    names no default covers), then the spec's own patterns."""
    patterns = list(presets.DOCKERIGNORE_COMMON)
    patterns += [line for path in own_files if (line := ignore_line(path)) and line not in patterns]
    for plan in plans:
        build = plan.build
        manager = build.node.package_manager if build.family == "node" and build.node else "npm"
        own = presets.DOCKERIGNORE_BY_FAMILY[build.family] + presets.DOCKERIGNORE_BY_PACKAGE_MANAGER[manager]
        for pattern in own + list(build.ignore or []):
            if pattern not in patterns:
                patterns.append(pattern)
    return "\n".join(patterns) + "\n"


@dataclass
class VariableUse:
    name: str
    defaults: set[str] = field(default_factory=set)
    required: bool = False
    environments: set[str] = field(default_factory=set)


def interpolated(node: Any) -> list[str]:
    """Every string under ``node`` that holds a ``$``: the values Compose interpolates (never
    keys), depth first."""
    found: list[str] = []
    _dollar_strings(node, found)
    return found


def _dollar_strings(node: Any, found: list[str]) -> None:
    # Exact type tests first: a 1,000-service project's documents hold ~100,000 values.
    if isinstance(node, dict):
        values: Any = node.values()
    elif isinstance(node, list):
        values = node
    else:
        if isinstance(node, str) and "$" in node:
            found.append(node)
        return
    for value in values:
        kind = type(value)
        if kind is str:
            if "$" in value:
                found.append(value)
        elif kind is not int and kind is not bool and value is not None:
            _dollar_strings(value, found)


def interpolated_texts(documents: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """``interpolated`` of each environment's document: the checks and ``collect_variables``
    both read them, and a 1,000-service project's documents hold ~40,000 values to walk."""
    return {env: interpolated(doc) for env, doc in documents.items()}


def references(value: str) -> list[tuple[str, str | None, str | None]]:
    """The (name, operator, argument) of every variable Compose reads in ``value``, those in
    a default or an alternative (`${B:-${A}}`) too: Compose interpolates them as well."""
    found = []
    for match in INTERPOLATION.finditer(value):
        name, op, arg = match.group(1) or match.group(4), match.group(2), match.group(3)
        if name:
            found.append((name, op, arg))
            if arg and "$" in arg:
                found += references(arg)
    return found


def collect_variables(documents: dict[str, dict[str, Any]], texts: dict[str, list[str]] | None = None) -> dict[str, VariableUse]:
    """Every ``${VAR}`` that Compose will interpolate, per environment document; ``texts``:
    their ``interpolated_texts``, when already walked."""
    texts = interpolated_texts(documents) if texts is None else texts
    found: dict[str, VariableUse] = {}
    parsed: dict[str, list[tuple[str, str | None, str | None]]] = {}  # text -> its (name, operator, argument)s: values repeat
    for env, doc in documents.items():
        for value in texts[env]:
            uses = parsed.get(value)
            if uses is None:
                uses = parsed[value] = references(value)
            for name, op, arg in uses:
                use = found.setdefault(name, VariableUse(name))
                use.environments.add(env)
                if op in (":-", "-") and arg is not None:
                    use.defaults.add(arg)
                elif op in (":?", "?"):
                    use.required = True
        for service in (doc.get("services") or {}).values():
            for name, value in (service.get("environment") or {}).items() if isinstance(service.get("environment"), dict) else ():
                if value is None:  # `pass_env`: read from the shell or .env like an interpolation
                    found.setdefault(name, VariableUse(name)).environments.add(env)
    return found


def is_literal(value: Any) -> bool:
    """A non-empty string Compose will not interpolate (``$$`` is a literal ``$``)."""
    return isinstance(value, str) and value != "" and not any(m.group(1) or m.group(4) for m in INTERPOLATION.finditer(value))


def env_example(spec: Spec, uses: dict[str, VariableUse], header: str, all_envs: list[str]) -> str:
    """``uses``: the variables the Compose documents read (``collect_variables``)."""
    documented = spec.variables or {}
    lines = [header, *comment_lines("Copy to .env and adjust. Compose reads .env from this directory for ${VAR} interpolation."), ""]
    for name in sorted(set(uses) | set(documented)):
        use = uses.get(name, VariableUse(name))
        doc = documented.get(name)
        secret = (doc.secret if doc else False) or looks_secret(name)
        required = use.required or (doc.required if doc else False)
        where = sorted(use.environments)
        scope = "all environments" if where == sorted(all_envs) else ", ".join(where) or "not used by any compose file"
        if doc and doc.description:
            lines += comment_lines(doc.description)
        notes = ["required" if required else "optional", f"used in: {scope}"]
        if secret:
            notes.append("secret: never commit a real value")
        default = doc.default if doc and doc.default is not None else (sorted(use.defaults)[0] if len(use.defaults) == 1 else "")
        if len(use.defaults) > 1:
            notes.append("defaults differ: " + " / ".join(sorted(use.defaults)))
        try:
            assignment = dotenv.assignment(name, "" if secret else default)
        except dotenv.Unwritable as exc:
            notes.append(f"default left out: {exc}")
            assignment = dotenv.assignment(name, "")
        lines += comment_lines(f"{name}: " + "; ".join(notes))
        lines.append(assignment)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
