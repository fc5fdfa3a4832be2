"""The plain values an import produces, step by step, and the plan that holds them all.

Every step of the pipeline reads and returns these values; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockergen.importer.discover import Inventory
from dockergen.importer.group.builds import BuildPlan
from dockergen.importer.group.services import Grouping
from dockergen.importer.read.compose import ComposeFile, Merged
from dockergen.importer.read.dockerfile import ParsedDockerfile
from dockergen.importer.records import Decision, FileProblem, Finding


@dataclass(frozen=True)
class EnvPlan:
    """One environment of the spec: the exact ``-f`` chain it was, and what it is."""

    name: str
    files: tuple[str, ...]
    parent: str | None
    kind: str
    engine: str
    project: str
    why: str
    project_flag: str | None = None  # the -p its own command gives (Compose is asked with it too)
    env_file: str | None = None  # the .env its interpolation reads, when not the root's (its project directory is elsewhere)

    @property
    def command(self) -> str:
        flag = f"-p {self.project_flag} " if self.project_flag else ""
        return f"docker compose {flag}" + " ".join(f"-f {f}" for f in self.files)

    @property
    def description(self) -> str:
        """What the environment was, as the spec records it (``was: <command>``)."""
        if not self.files:
            return "was: no Compose file, only the Dockerfiles"
        moved = f" (its .env: {self.env_file}; run the rendered files with --env-file {self.env_file})" if self.env_file else ""
        return f"was: {self.command}{moved}"


@dataclass(frozen=True)
class ImportOptions:
    compose_sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    use_cli: bool = True
    # (canonical service or "*", Compose key) -> why: what an earlier attempt's spec could not render
    carried: dict[tuple[str, str], str] = field(default_factory=dict)  # to the `compose:` escape hatch
    left_out: dict[tuple[str, str], str] = field(default_factory=dict)  # not even the escape hatch renders it


@dataclass(frozen=True)
class RepoFacts:
    """File contents the drift detectors read (gathered here, so that they stay pure)."""

    dotenv: dict[str, str] = field(default_factory=dict)  # the root .env (Compose's interpolation values)
    env_files: dict[str, dict[str, str]] = field(default_factory=dict)  # root-relative path -> its variables
    requirements: dict[str, str] = field(default_factory=dict)  # requirements*.txt -> text
    compose_files: dict[str, ComposeFile] = field(default_factory=dict)
    env_example: dict[str, str] | None = None
    env_example_path: str = ".env.example"
    interpolated: tuple[str, ...] = ()  # ${VAR}s the Compose files read
    dockerignores: frozenset[str] = frozenset()  # folders that have a .dockerignore
    ignore_patterns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # folder -> its .dockerignore patterns


@dataclass
class ImportPlan:
    root: Path
    inventory: Inventory
    environments: list[EnvPlan]
    effective: dict[str, Merged]
    dockerfiles: dict[str, ParsedDockerfile]
    builds: BuildPlan
    grouping: Grouping
    spec: dict[str, Any]
    targets: dict[tuple[str, str], dict[str, Any]]
    decisions: list[Decision]
    findings: list[Finding] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cli: str | None = None
    seconds: float = 0.0
    facts: RepoFacts = field(default_factory=RepoFacts)
    comments: dict[tuple, tuple[str, ...]] = field(default_factory=dict)  # spec path -> comment lines the spec text writes above it

    def renamed(self, env: str) -> dict[str, str]:
        """original service name -> canonical, for one environment."""
        return {orig: canon for (e, orig), canon in self.grouping.canonical.items() if e == env}
