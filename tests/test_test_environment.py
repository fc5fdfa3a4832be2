"""What the `test` environment is (issue 15, item 3): each built service's test suite runs
against its dependencies, and every service something waits on serves (it runs its
serving stage; its suite runs beside it as `<name>-test`). Judged by the real Compose CLI;
tests/e2e/test_test_environment_e2e.py runs every suite on podman."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from dockergen.pipeline import render
from tests.conftest import EXAMPLES
from tests.tools import compose_config


def _test_envs(example: Path) -> list[str]:
    return [name for name, env in render(example / "dockergen.yaml").project.environments.items() if env.info.kind == "test"]


def _config(directory: Path, env: str) -> dict:
    return compose_config(directory, [directory / "compose.yaml", directory / f"compose.{env}.yaml"])


def test_nothing_in_a_test_environment_waits_for_a_container_that_runs_tests(example: Path) -> None:
    for env in _test_envs(example):
        services = _config(example, env)["services"]
        for name, service in services.items():
            for dep, entry in (service.get("depends_on") or {}).items():
                target = (services[dep].get("build") or {}).get("target")
                if entry["condition"] != "service_completed_successfully":
                    assert target != "test", f"{env}: {name} waits for {dep}, which runs its test suite and exits"


def test_every_built_service_of_a_test_environment_has_its_suite_run(example: Path) -> None:
    spec = render(example / "dockergen.yaml")
    for env in _test_envs(example):
        services = _config(example, env)["services"]
        runners = {name for name, s in services.items() if (s.get("build") or {}).get("target") == "test"}
        for name, service in spec.project.environments[env].services.items():
            if spec.spec.services.get(name) is not None and spec.spec.services[name].build is not None:
                assert name in runners or f"{name}-test" in runners, f"{env}: nothing runs the tests of {name}"
        for runner in runners:
            assert not services[runner].get("ports"), f"{runner}: a test run publishes no host port"
            assert services[runner].get("healthcheck") == {"disable": True}, runner


def test_microservices_test_environment_serves_what_others_wait_for(tmp_path: Path) -> None:
    example = next(e for e in EXAMPLES if e.name == "microservices")
    services = _config(example, "test")["services"]
    assert services["inventory"]["build"]["target"] == "prod" and services["orders"]["build"]["target"] == "prod"
    assert services["notifier"]["build"]["target"] == "test"  # nothing waits for it: its suite runs under its name
    assert services["orders-test"]["build"]["target"] == "test"
    assert services["orders-test"]["depends_on"] == services["orders"]["depends_on"]
    assert services["orders-test"]["image"] != services["orders"]["image"]  # two stages, two names
    header = (example / "compose.test.yaml").read_text().splitlines()[:8]
    assert any("run --rm <suite>; suites: orders-test, inventory-test, notifier" in line for line in header), header


def test_a_test_runner_name_taken_by_a_service_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(textwrap.dedent("""\
        version: 1
        project: shop
        services:
          api:
            build: {family: python, port: 8000, python: {requirements: null, app: "app:app"}}
            healthcheck: {http: /health}
          api-test:
            image: busybox:1.36
          web:
            build: {family: python, context: web, python: {requirements: null, app: "web:app"}}
            depends_on: [api]
        """))
    result = subprocess.run([sys.executable, "-m", "dockergen", "render", "--spec", str(tmp_path / "dockergen.yaml")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "dockergen.yaml:7:3: error: services.api-test:" in result.stderr and "api's test suite" in result.stderr, result.stderr
    assert not (tmp_path / "compose.yaml").exists()


def test_a_service_given_its_own_command_in_test_runs_that_command_as_written(tmp_path: Path) -> None:
    """An integration server on the test image (as imported sprawls have it) is not a suite:
    it keeps its command, probe and port, and what waits for it waits for its health."""
    (tmp_path / "dockergen.yaml").write_text(textwrap.dedent("""\
        version: 1
        project: shop
        services:
          api:
            build: {family: python, context: api, port: 8000, python: {requirements: null, app: "app:app"}}
            healthcheck: {http: /health}
            environments:
              test: {command: [uvicorn, "app:app", --host, 0.0.0.0], ports: ["8001:8000"]}
          web:
            build: {family: python, context: web, port: 8000, python: {requirements: null, app: "web:app"}}
            depends_on: [api]
        """))
    result = subprocess.run([sys.executable, "-m", "dockergen", "render", "-q", "--spec", str(tmp_path / "dockergen.yaml")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    services = _config(tmp_path, "test")["services"]
    assert "api-test" not in services
    api = services["api"]
    assert api["build"]["target"] == "test" and api["command"][0] == "uvicorn"
    assert api["healthcheck"]["test"][:2] == ["CMD", "python"] and api["ports"][0]["published"] == "8001"
    assert services["web"]["depends_on"]["api"]["condition"] == "service_healthy"
    assert services["web"]["healthcheck"] == {"disable": True}  # web's own suite still runs
