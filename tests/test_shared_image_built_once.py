"""An image several services run is built once (issue 15, item 13): in every environment
Compose sees one `build:` per image name, and the services sharing it run what it built."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dockergen.pipeline import render
from tests.tools import compose_config

ENVS = ("dev", "test", "staging", "prod", "podman")


def _builds_per_image(config: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, service in config["services"].items():
        if service.get("build"):
            out.setdefault(service.get("image", name), []).append(name)
    return out


def _check(spec: Path, env: str) -> dict:
    directory = spec.parent
    config = compose_config(directory, [directory / "compose.yaml", directory / f"compose.{env}.yaml"])
    builds = _builds_per_image(config)
    assert all(len(names) == 1 for names in builds.values()), f"{env}: one image built by several services: {builds}"
    for name, service in render(spec).project.environments[env].services.items():
        if service.plan is not None:
            image = config["services"][name]["image"]
            assert image in builds, f"{env}: {name} runs {image}, which no service builds"
    return config


@pytest.mark.parametrize("env", ENVS)
def test_every_example_builds_each_image_once(example: Path, env: str) -> None:
    _check(example / "dockergen.yaml", env)


def test_the_builder_keeps_the_build_and_a_lone_uses_service_takes_it_over(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("celery\n")
    (tmp_path / "dockergen.yaml").write_text(textwrap.dedent("""\
        version: 1
        project: shop
        services:
          api:
            build: {family: python, port: 8000, python: {app: "app.main:app"}}
            healthcheck: {http: /health}
            environments: {staging: {enabled: false}}
          worker:
            uses: api
            command: [celery, -A, proj, worker]
          beat:
            uses: api
            command: [celery, -A, proj, beat]
        """))
    result = subprocess.run([sys.executable, "-m", "dockergen", "render", "-q", "--spec", str(tmp_path / "dockergen.yaml")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    prod = _check(tmp_path / "dockergen.yaml", "prod")
    assert "build" in prod["services"]["api"]
    assert "build" not in prod["services"]["worker"] and "build" not in prod["services"]["beat"]
    assert prod["services"]["worker"]["image"] == prod["services"]["api"]["image"]
    staging = _check(tmp_path / "dockergen.yaml", "staging")  # api is not there: the worker builds
    assert staging["services"]["worker"]["build"]["target"] == "prod"
    assert "build" not in staging["services"]["beat"]


def test_a_builder_behind_a_profile_leaves_the_build_to_a_service_that_always_starts(tmp_path: Path) -> None:
    # An abstract `base` the others extend, gated by a profile nobody enables: `up` starts only web and jobs.
    (tmp_path / "dockergen.yaml").write_text(textwrap.dedent("""\
        version: 1
        project: forum
        services:
          base:
            build: {steps: ["FROM alpine:3.20", 'CMD ["true"]']}
            profiles: [abstract]
          web:
            uses: base
          jobs:
            uses: base
            profiles: [jobs]
        """))
    result = subprocess.run([sys.executable, "-m", "dockergen", "render", "-q", "--spec", str(tmp_path / "dockergen.yaml")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for env in ("dev", "prod"):
        started = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / f"compose.{env}.yaml"])["services"]  # no profile given
        assert set(started) == {"web"} and "build" in started["web"], env
    every = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.prod.yaml"], env={"COMPOSE_PROFILES": "abstract,jobs"})
    assert _builds_per_image(every) == {every["services"]["web"]["image"]: ["web"]}  # still built once


def test_a_uses_service_with_build_args_of_its_own_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(textwrap.dedent("""\
        version: 1
        project: shop
        services:
          api:
            build: {family: python, python: {requirements: null, app: "app:app"}}
          worker:
            uses: api
            environments:
              prod: {build_args: {EXTRA: "1"}}
        """))
    result = subprocess.run([sys.executable, "-m", "dockergen", "render", "--spec", str(tmp_path / "dockergen.yaml")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "dockergen.yaml:9:14: error: services.worker.environments.prod.build_args: runs the image 'api' builds under its name" in result.stderr, result.stderr
