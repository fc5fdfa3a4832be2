"""Every example's test environment on a real engine (issue 15, item 3): for each test
suite the environment runs, `docker compose run --rm <suite>` starts what the suite depends
on (each in its serving stage, running and healthy before the suite starts), runs the
suite and exits with its exit code; then the project is torn down completely.

Before the fix, examples/microservices' suites waited forever for `inventory` and `orders`,
which ran their test stage (pytest, then exit) instead of serving."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from dockergen.pipeline import render
from dockergen.resolve import TEST_RUN
from tests.conftest import EXAMPLES
from tests.e2e import engine as eng
from tests.e2e.conftest import merged_config, rendered_copy, require_images


@dataclass(frozen=True)
class SuiteCase:
    example: Path
    env: str
    files: tuple[str, str]
    suites: tuple[str, ...]  # services that run a test suite and exit

    @property
    def id(self) -> str:
        return f"{self.example.name}-{self.env}"


def _cases() -> list[SuiteCase]:
    out = []
    for example in EXAMPLES:
        result = render(example / "dockergen.yaml")
        for name, env in result.project.environments.items():
            suites = tuple(n for n, s in env.services.items() if s.healthcheck == TEST_RUN)
            if env.info.kind == "test" and suites:
                out.append(SuiteCase(example, name, (result.spec.output.compose_file, env.info.compose_file), suites))
    return out


CASES = _cases()


def test_the_examples_that_failed_have_suites_with_dependencies() -> None:
    """The cases below include the two the issue names, with suites that wait on a service."""
    by_example = {c.example.name: c for c in CASES}
    assert {"microservices", "uv-fastapi-celery"} <= set(by_example), sorted(by_example)
    assert set(by_example["microservices"].suites) == {"orders-test", "inventory-test", "notifier"}
    assert by_example["uv-fastapi-celery"].suites == ("api",)


def _dependencies(config: dict, name: str) -> set[str]:
    """Everything ``name`` waits for, directly or through another service (not itself)."""
    seen: set[str] = set()
    todo = list(config["services"][name].get("depends_on") or {})
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += list(config["services"][current].get("depends_on") or {})
    return seen


def _assert_serving(stack: eng.Stack, config: dict, suite: str, names: set[str]) -> None:
    running = stack.containers()
    for name in sorted(names):
        service = config["services"][name]
        assert (service.get("build") or {}).get("target") != "test", f"{suite} waits for {name}, which runs a test stage"
        assert name in running, f"{suite}: its dependency {name} was not started\n{stack.diagnostics()}"
        state = stack.inspect(name)["State"]
        assert state["Status"] == "running", f"{suite}: {name} is {state['Status']}\n{stack.diagnostics()}"
        if (service.get("healthcheck") or {}).get("test"):
            assert stack.health(name) == "healthy", f"{suite}: {name} is {stack.health(name)}\n{stack.diagnostics()}"


def _run(stack: eng.Stack, *args: str) -> tuple[int, str]:
    """``docker compose run`` one suite, its exit code and its output. Compose's own exit code
    is no judge here: against podman 4.3's API, ``run`` exits 0 whatever the container did
    (docs/podman-e2e.md), so the suite runs detached and podman says how it ended."""
    started = stack.compose("run", "--detach", *args, timeout=600, check=False)
    if started.returncode != 0:
        return started.returncode, f"{started.stdout[-2000:]}{started.stderr[-2000:]}"
    container = started.stdout.strip().splitlines()[-1]
    try:
        code = int(eng.podman("wait", container, timeout=600).stdout.strip())
        logs = eng.podman("logs", container, check=False)
        return code, f"{logs.stdout[-3000:]}{logs.stderr[-2000:]}"
    finally:
        eng.podman("rm", "--force", container, check=False)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_test_suite_runs_green_against_serving_dependencies(case: SuiteCase, engine: eng.Engine, workspace: Path) -> None:
    workdir = rendered_copy(case.example, workspace)
    stack = eng.Stack(engine, workdir, list(case.files), f"{eng.PROJECT_PREFIX}{case.id}")
    config = merged_config(stack)
    needed = set(case.suites).union(*(_dependencies(config, suite) for suite in case.suites))
    require_images([eng.docker_reference(config["services"][s]["image"]) for s in needed if not config["services"][s].get("build")])
    images: dict[str, str] = {}  # one build per image
    for name in sorted(needed):
        if config["services"][name].get("build"):
            images.setdefault(config["services"][name]["image"], name)
    failures: list[str] = []
    with eng.exclusive():
        stack.down()
        try:
            stack.compose("build", *images.values(), timeout=900)
            for suite in case.suites:
                # `run` starts the dependencies and waits for their conditions (healthy) first.
                code, output = _run(stack, suite)
                if code != 0:
                    failures.append(f"`run {suite}` exit {code}:\n{output}\n{stack.diagnostics()}")
                    continue
                _assert_serving(stack, config, suite, _dependencies(config, suite))
            # The harness can fail: a suite that fails is reported with its exit code.
            code, output = _run(stack, "--no-deps", case.suites[0], "sh", "-c", "exit 3")
            assert code == 3, f"a failing command exits {code}:\n{output}"
        finally:
            left = stack.down()
    assert not failures, "\n".join(failures)
    assert not left, f"teardown of {stack.project} incomplete: {left}"
