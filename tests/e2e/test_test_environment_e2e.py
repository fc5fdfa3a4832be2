"""Every example's test environment on a real engine (issue 15, item 3): for each test
suite the environment runs, `docker compose run --rm <runner>` starts what it depends on
(healthy first, each in its serving stage), runs the suite and exits 0; then the project
is torn down completely."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from dockergen.pipeline import render
from tests.conftest import EXAMPLES
from tests.e2e import engine as eng
from tests.e2e.conftest import merged_config, rendered_copy, require_images


@dataclass(frozen=True)
class SuiteCase:
    example: Path
    env: str
    files: tuple[str, str]
    runners: tuple[str, ...]  # services that run a test suite

    @property
    def id(self) -> str:
        return f"{self.example.name}-{self.env}"


def _cases() -> list[SuiteCase]:
    out = []
    for example in EXAMPLES:
        result = render(example / "dockergen.yaml")
        for name, env in result.project.environments.items():
            runners = tuple(n for n, s in env.services.items() if s.plan is not None and s.target == "test")
            if env.info.kind == "test" and runners:
                out.append(SuiteCase(example, name, (result.spec.output.compose_file, env.info.compose_file), runners))
    return out


CASES = _cases()


def _closure(config: dict, name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += list(config["services"][current].get("depends_on") or {})
    return seen


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_test_suite_runs_green_against_its_dependencies(case: SuiteCase, engine: eng.Engine, workspace: Path) -> None:
    workdir = rendered_copy(case.example, workspace)
    stack = eng.Stack(engine, workdir, list(case.files), f"{eng.PROJECT_PREFIX}{case.id}")
    config = merged_config(stack)
    needed = set().union(*(_closure(config, runner) for runner in case.runners))
    require_images([eng.docker_reference(config["services"][s]["image"]) for s in needed if not config["services"][s].get("build")])
    built = sorted(s for s in needed if config["services"][s].get("build"))
    with eng.exclusive():
        stack.down()
        failures = []
        try:
            stack.compose("build", *built, timeout=900)
            for runner in case.runners:
                result = stack.compose("run", "--rm", runner, timeout=600, check=False)
                if result.returncode != 0:
                    failures.append(f"`run --rm {runner}` exit {result.returncode}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}\n{stack.diagnostics()}")
        finally:
            left = stack.down()
    assert not failures, "\n".join(failures)
    assert not left, f"teardown of {stack.project} incomplete: {left}"
