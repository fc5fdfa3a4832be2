"""Compose project names per environment: a test environment is a project of its own
(`<project>-<env>`), so `dockergen compose test run` never recreates, stops or reuses the
dev containers or their volumes; a declared `project` wins. Judged by the real Compose CLI:
`dockergen compose ENV --print` (the `-p` it passes), `dockergen compose ENV config` and
`docker-compose -f compose.yaml -f compose.ENV.yaml config` without `-p` (the `name:` in the
files) must all name the same project."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.tools import compose_config

SPEC = """\
version: 1
project: shop
{environments}
services:
  api:
    build: {{family: python, port: 8000, python: {{requirements: null, app: "app:app"}}}}
    healthcheck: {{http: /health}}
    depends_on: [db]
  db:
    image: postgres:16-alpine
"""


def dockergen(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    from tests.tools import _tool

    env = {**os.environ, "DOCKERGEN_COMPOSE": _tool("docker-compose")}
    return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=directory, capture_output=True, text=True, env=env, timeout=120)


def rendered(directory: Path, environments: str = "") -> Path:
    (directory / "dockergen.yaml").write_text(SPEC.format(environments=environments))
    result = dockergen(directory, "render", "-q")
    assert result.returncode == 0, result.stderr
    return directory


def names(directory: Path, env: str, overlay: str | None = None) -> tuple[str, str, str, set[str]]:
    """(-p of `dockergen compose --print`, name of `dockergen compose ENV config`, name of the
    pair read by Compose itself, the pair's volume names as the engine would create them)."""
    printed = dockergen(directory, "compose", "--print", env, "up")
    assert printed.returncode == 0, printed.stderr
    words = shlex.split(printed.stdout)
    flag = words[words.index("-p") + 1]
    ours = dockergen(directory, "compose", env, "config", "--format", "json")
    assert ours.returncode == 0, ours.stderr
    pair = compose_config(directory, [directory / "compose.yaml", directory / (overlay or f"compose.{env}.yaml")])
    return flag, json.loads(ours.stdout)["name"], pair["name"], {v["name"] for v in (pair.get("volumes") or {}).values()}


def test_test_is_a_project_of_its_own_and_dev_and_prod_keep_the_spec_name(tmp_path: Path) -> None:
    d = rendered(tmp_path)
    assert names(d, "dev") == ("shop", "shop", "shop", {"shop_db-data"})
    assert names(d, "prod") == ("shop", "shop", "shop", {"shop_db-data"})
    assert names(d, "podman")[:3] == ("shop", "shop", "shop")
    flag, ours, pair, volumes = names(d, "test")
    assert flag == ours == pair == "shop-test"
    assert not volumes & {"shop_db-data"}, volumes  # its data never lands in dev's volume


def test_a_declared_project_wins_and_any_test_kind_environment_gets_its_own(tmp_path: Path) -> None:
    d = rendered(tmp_path, textwrap.dedent("""\
        environments:
          dev: {project: shop-dev}
          test: {extends: dev}
          ci: {kind: test, project: shop-ci}
          nightly: {extends: ci}
          e2e: {kind: test}
          prod: {}
          edge: {extends: prod}
        """))
    assert names(d, "dev")[:3] == ("shop-dev",) * 3
    # test extends dev but does not take over dev's project (it would reuse dev's containers).
    assert names(d, "test")[:3] == ("shop-test",) * 3
    assert names(d, "ci")[:3] == ("shop-ci",) * 3
    assert names(d, "nightly")[:3] == ("shop-ci",) * 3  # inherited from a test environment
    assert names(d, "e2e")[:3] == ("shop-e2e",) * 3
    assert names(d, "prod")[:3] == ("shop",) * 3
    assert names(d, "edge")[:3] == ("shop",) * 3


def test_the_override_file_carries_the_dev_name(tmp_path: Path) -> None:
    d = tmp_path
    (d / "dockergen.yaml").write_text(SPEC.format(environments="output: {override: dev}"))
    assert dockergen(d, "render", "-q").returncode == 0
    assert names(d, "dev", "compose.override.yaml")[:3] == ("shop",) * 3
    assert names(d, "test")[:3] == ("shop-test",) * 3


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_no_example_runs_its_tests_in_the_project_of_another_environment(example: Path) -> None:
    from dockergen.pipeline import render

    envs = render(example / "dockergen.yaml").project.environments
    for name, env in envs.items():
        pair = compose_config(example, [example / "compose.yaml", example / env.info.compose_file])
        assert pair["name"] == env.info.project, name  # the files say what the model says
        if env.info.kind == "test":
            others = {e.info.project for n, e in envs.items() if n != name}
            assert env.info.project not in others, f"{example.name}: {name} shares project {env.info.project}"


def test_import_keeps_a_test_environment_in_the_project_it_was(tmp_path: Path) -> None:
    """A sprawl whose test files run in the same Compose project as dev (Compose's default:
    the folder's name) imports to a spec that says so (`environments.test.project`), since
    the spec's default for a test environment is now a project of its own."""
    from dockergen.importer.analyze import analyze
    from dockergen.importer.plan import ImportOptions
    from dockergen.importer.spec.text import spec_text
    from dockergen.importer.verify.run import verify
    from dockergen.pipeline import render

    root = tmp_path / "shop"
    root.mkdir()
    (root / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n")
    (root / "compose.test.yaml").write_text("services:\n  web:\n    environment: {MODE: test}\n")
    plan = analyze(root, ImportOptions(compose_sets={"dev": ("compose.yaml",), "test": ("compose.yaml", "compose.test.yaml")}))
    (root / "dockergen.yaml").write_text(spec_text(plan))
    rendered = render(root / "dockergen.yaml")
    assert verify(plan, rendered).unexplained == []
    assert {n: e.info.project for n, e in rendered.project.environments.items()} == {"dev": "shop", "test": "shop"}
    assert rendered.spec.environments["test"].project == "shop"
