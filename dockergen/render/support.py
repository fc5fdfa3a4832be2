"""The files that go with the Dockerfiles and Compose files: ``.dockerignore`` per build
context and ``.env.example`` for the variables the Compose files read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dockergen import presets
from dockergen.resolve import ImagePlan
from dockergen.sensitive import looks_secret
from dockergen.spec.model import Spec

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, $VAR; $$ is a literal $.
INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def dockerignore(plans: list[ImagePlan], own_files: list[str]) -> str:
    """Patterns for one build context shared by ``plans``: defaults, dockergen's own files in
    the context (``own_files``, relative to it: the spec, the lock, generated files whose
    names no default covers), then the spec's own patterns."""
    patterns = list(presets.DOCKERIGNORE_COMMON)
    patterns += [path for path in own_files if path not in patterns]
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


def collect_variables(documents: dict[str, dict[str, Any]]) -> dict[str, VariableUse]:
    """Every ``${VAR}`` that Compose will interpolate, per environment document."""
    found: dict[str, VariableUse] = {}

    def visit(value: Any, env: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                visit(k, env)
                visit(v, env)
        elif isinstance(value, list):
            for item in value:
                visit(item, env)
        elif isinstance(value, str) and "$" in value:
            for match in INTERPOLATION.finditer(value):
                name = match.group(1) or match.group(4)
                if not name:
                    continue
                use = found.setdefault(name, VariableUse(name))
                use.environments.add(env)
                op, arg = match.group(2), match.group(3)
                if op in (":-", "-") and arg is not None:
                    use.defaults.add(arg)
                elif op in (":?", "?"):
                    use.required = True

    for env, doc in documents.items():
        visit(doc, env)
    return found


def is_literal(value: Any) -> bool:
    """A non-empty string Compose will not interpolate (``$$`` is a literal ``$``)."""
    return isinstance(value, str) and value != "" and not any(m.group(1) or m.group(4) for m in INTERPOLATION.finditer(value))


def env_example(spec: Spec, documents: dict[str, dict[str, Any]], header: str, all_envs: list[str]) -> str:
    uses = collect_variables(documents)
    documented = spec.variables or {}
    lines = [header, "# Copy to .env and adjust. Compose reads .env from this directory for ${VAR} interpolation.", ""]
    for name in sorted(set(uses) | set(documented)):
        use = uses.get(name, VariableUse(name))
        doc = documented.get(name)
        secret = (doc.secret if doc else False) or looks_secret(name)
        required = use.required or (doc.required if doc else False)
        where = sorted(use.environments)
        scope = "all environments" if where == sorted(all_envs) else ", ".join(where) or "not used by any compose file"
        if doc and doc.description:
            lines.append(f"# {doc.description}")
        notes = ["required" if required else "optional", f"used in: {scope}"]
        if secret:
            notes.append("secret: never commit a real value")
        default = doc.default if doc and doc.default is not None else (sorted(use.defaults)[0] if len(use.defaults) == 1 else "")
        if len(use.defaults) > 1:
            notes.append("defaults differ: " + " / ".join(sorted(use.defaults)))
        lines.append(f"# {name}: " + "; ".join(notes))
        lines.append(f"{name}={'' if secret else default}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
