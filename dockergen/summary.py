"""What ``render`` prints when it is done: what was written and where, then the command to
run next. From plain facts about the project (``RenderFacts``), so that a render replayed
from the render cache prints the same lines without loading the models."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from dockergen.fingerprint import GITATTRIBUTES, LOCK_NAME, nothing_to_change

if TYPE_CHECKING:
    from dockergen.write import Change

VERBS = {"create": "created", "update": "updated", "delete": "deleted"}


@dataclass(frozen=True)
class RenderFacts:
    services: int
    environments: tuple[str, ...]
    env_example: str  # output.env_example
    required: tuple[str, ...]  # variables the spec declares required or Compose requires (`${X:?}`)
    dotenv: str = ".env"  # what `next_environment` reads variables from (its `env_file`, else .env)


def project_shape(services: int, environments: tuple[str, ...] | list[str]) -> str:
    """``3 services; environments: dev, prod``, as `render` and `validate` end."""
    return f"{services} service{'' if services == 1 else 's'}; environments: {', '.join(environments)}"


def valid_line(spec: str | Path, services: int, environments: tuple[str, ...] | list[str]) -> str:
    """What `validate` prints for a valid spec (from the models or from the render cache)."""
    return f"{spec}: valid ({project_shape(services, environments)})"


def summary(spec: Path, out_dir: Path, facts: RenderFacts, changes: list[Change]) -> str:
    """What was written and where, then the command to run next."""
    from dockergen import terminal

    generated = [c for c in changes if c.path not in (LOCK_NAME, GITATTRIBUTES) and c.action != "delete"]
    written = [c for c in changes if c.changes]
    if not written:
        return nothing_to_change(len(generated), str(spec))
    lines = [f"{terminal.word(f'{VERBS[c.action]:<9}')} {c.path}" for c in written]
    where = os.path.normpath(out_dir)
    lines.append(
        f"{len(written)} of {len(changes)} files written in {where if where != '.' else 'this directory'} "
        f"({project_shape(facts.services, facts.environments)})"
    )
    if out_dir != spec.parent:
        return "\n".join(lines)  # a tree for review: its build contexts hold no source to run
    spec_arg = "" if spec == Path("dockergen.yaml") else f" --spec {shlex.quote(str(spec))}"
    env = next_environment(facts.environments)
    todo = required_unset(facts, out_dir)
    if todo:
        example, dotenv = (shlex.quote(str(out_dir / name)) for name in (facts.env_example, facts.dotenv))
        lines.append(f"next: cp {example} {dotenv} and set {', '.join(todo)} in it (see the comments)")
        lines.append(f"      dockergen compose{spec_arg} {env} up")
    else:
        lines.append(f"next: dockergen compose{spec_arg} {env} up")
    lines.append("commit the spec, dockergen.lock and the generated files (`dockergen check` in CI keeps them in step)")
    return "\n".join(lines)


def next_environment(environments: tuple[str, ...]) -> str:
    """The environment the summary tells a newcomer to start."""
    return "dev" if "dev" in environments else environments[0]


def required_unset(facts: RenderFacts, out_dir: Path) -> list[str]:
    """Required variables a new checkout has no value for (no .env, not in the shell)."""
    if (out_dir / facts.dotenv).exists():
        return []
    return sorted(set(facts.required) - set(os.environ))
