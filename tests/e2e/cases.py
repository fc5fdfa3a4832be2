"""What the e2e suite builds and runs, derived from the examples' specs at collection time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dockergen import presets
from dockergen.pipeline import render
from tests.conftest import EXAMPLES
from tests.e2e.engine import docker_reference, unavailable_reason


@dataclass(frozen=True)
class TargetCase:
    example: Path
    dockerfile: str  # relative to the spec's directory
    target: str
    environments: tuple[tuple[str, tuple[str, str]], ...]  # (env, (base file, overlay)) that build it

    @property
    def id(self) -> str:
        return f"{self.example.name}:{self.dockerfile}:{self.target}"


@dataclass(frozen=True)
class StackCase:
    example: Path
    env: str
    compose_files: tuple[str, str]
    built: dict[str, int]  # built service -> the UID its image runs as
    left_out: dict[str, str]  # service -> why it cannot run here (no stand-in image)

    @property
    def id(self) -> str:
        return f"{self.example.name}-{self.env}"


def _expected_uid(plan, target: str | None) -> int:  # noqa: ANN001 - an ImagePlan
    node = plan.build.node
    if node is not None and node.serve == "nginx" and target == "prod":
        return presets.NGINX_UID
    return plan.build.user.uid


def target_cases() -> list[TargetCase]:
    cases: dict[tuple[Path, str, str], list[tuple[str, tuple[str, str]]]] = {}
    for example in EXAMPLES:
        result = render(example / "dockergen.yaml")
        for env_name, env in result.project.environments.items():
            files = (result.spec.output.compose_file, env.info.compose_file)
            for service in env.services.values():
                if service.plan is not None and service.target is not None:
                    envs = cases.setdefault((example, service.plan.dockerfile, service.target), [])
                    if (env_name, files) not in envs:
                        envs.append((env_name, files))
    return [TargetCase(ex, df, target, tuple(envs)) for (ex, df, target), envs in cases.items()]


def stack_cases() -> list[StackCase]:
    """Every environment of kind prod (the standard `prod` and `podman` ones) of every example."""
    out = []
    for example in EXAMPLES:
        result = render(example / "dockergen.yaml")
        for env_name, env in result.project.environments.items():
            if env.info.kind != "prod":
                continue
            built = {name: _expected_uid(s.plan, s.target) for name, s in env.services.items() if s.plan is not None}
            left_out = {
                name: reason
                for name, s in env.services.items()
                if s.plan is None and s.image and (reason := unavailable_reason(docker_reference(s.image)))
            }
            files = (result.spec.output.compose_file, env.info.compose_file)
            out.append(StackCase(example, env_name, files, built, left_out))
    return out


TARGET_CASES = target_cases()
STACK_CASES = stack_cases()
