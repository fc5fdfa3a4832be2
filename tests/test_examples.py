"""Every example, every environment, judged by the real tools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml as pyyaml  # only to read back what the real tools print

from dockergen.pipeline import render
from dockergen.render.compose import environment_document
from tests.conftest import EXAMPLES
from tests.tools import canonical, compose, compose_config, hadolint, parse_dockerfile, validate_compose_schema

BUILD_TOOLCHAIN = {"gcc", "g++", "make", "build-essential", "build-base", "musl-dev", "cargo", "rustc", "clang"}


def rendered(example: Path):  # noqa: ANN201 - a Rendered
    return render(example / "dockergen.yaml")


def test_committed_output_is_exactly_what_the_spec_renders(example: Path) -> None:
    for f in rendered(example).files:
        path = example / f.path
        assert path.is_file(), f"{f.path} is not committed; run dockergen render"
        assert path.read_text() == f.content, f"{f.path} differs from a fresh render"


def test_rendering_twice_is_byte_identical(example: Path) -> None:
    first = [(f.path, f.content) for f in rendered(example).files]
    second = [(f.path, f.content) for f in rendered(example).files]
    assert first == second


def _env_names(example: Path) -> list[str]:
    return list(rendered(example).project.environments)


ENV_CASES = [(example, env) for example in EXAMPLES for env in _env_names(example)]


@pytest.mark.parametrize(("example", "env"), ENV_CASES, ids=[f"{e.name}-{n}" for e, n in ENV_CASES])
def test_compose_merge_of_base_and_overlay_is_exactly_the_environment(example: Path, env: str, tmp_path: Path) -> None:
    result = rendered(example)
    resolved = result.project.environments[env]
    overlay = example / resolved.info.compose_file
    base = example / result.spec.output.compose_file
    assert compose(example, [base, overlay], "config", "-q").returncode == 0

    full = tmp_path / "full.yaml"
    full.write_text(json.dumps(environment_document(result.project, resolved)))
    merged = compose_config(example, [base, overlay])
    expected = compose_config(example, [full])
    assert canonical(merged) == canonical(expected)


@pytest.mark.parametrize(("example", "env"), ENV_CASES, ids=[f"{e.name}-{n}" for e, n in ENV_CASES])
def test_compose_files_match_the_compose_spec_schema(example: Path, env: str) -> None:
    result = rendered(example)
    overlay = example / result.project.environments[env].info.compose_file
    base = example / result.spec.output.compose_file
    for path in (base, overlay):
        assert validate_compose_schema(pyyaml.safe_load(path.read_text()) or {}) == [], path
    merged = compose_config(example, [base, overlay])
    assert validate_compose_schema(merged) == []


def _dockerfiles(example: Path) -> list[Path]:
    return [example / f.path for f in rendered(example).files if f.kind == "dockerfile"]


def test_dockerfiles_pass_hadolint_with_no_finding(example: Path) -> None:
    for path in _dockerfiles(example):
        result = hadolint(path)
        assert result.returncode == 0, f"{path}:\n{result.stdout}{result.stderr}"


def test_dockerfiles_parse_with_buildkit_and_have_every_target_used(example: Path) -> None:
    result = rendered(example)
    for plan in result.project.images:
        commands = parse_dockerfile(example / plan.dockerfile)
        stages = [c.value[2].lower() for c in commands if c.cmd == "FROM" and len(c.value) == 3]
        targets = {
            s.target
            for env in result.project.environments.values()
            for s in env.services.values()
            if s.plan == plan
        }
        assert targets <= set(stages), (plan.dockerfile, targets, stages)
        assert commands[0].cmd == "FROM" or (example / plan.dockerfile).read_text().startswith("# syntax=")


def _stage_chain(commands, target: str) -> list:  # noqa: ANN001
    """Instructions that end up in ``target``: the stage and the stages it is FROM."""
    stages: dict[str, tuple[str, list]] = {}
    current = None
    for c in commands:
        if c.cmd == "FROM":
            name = c.value[2].lower() if len(c.value) == 3 else f"#{len(stages)}"
            current = name
            stages[name] = (c.value[0], [])
        elif current is not None:
            stages[current][1].append(c)
    chain = []
    name = target
    while name in stages:
        parent, instructions = stages[name]
        chain = instructions + chain
        name = parent.lower()
    return chain


def test_every_built_prod_service_is_hardened(example: Path) -> None:
    """Read the rendered files (not the templates) for what prod must have."""
    result = rendered(example)
    prod_envs = [e for e in result.project.environments.values() if e.info.kind == "prod"]
    assert prod_envs
    for env in prod_envs:
        merged = compose_config(example, [example / result.spec.output.compose_file, example / env.info.compose_file])
        for name, service in env.services.items():
            doc = merged["services"][name]
            assert doc.get("restart") in ("always", "unless-stopped"), (env.info.name, name)
            assert doc.get("logging", {}).get("options", {}).get("max-size"), (env.info.name, name)
            limits = doc.get("deploy", {}).get("resources", {}).get("limits", {})
            assert limits.get("memory") and limits.get("cpus"), (env.info.name, name)
            assert not any(v.get("type") == "bind" and v["source"].startswith(str(example)) and not v.get("read_only") for v in doc.get("volumes", [])), name
            if service.plan is None:
                continue
            hc = doc.get("healthcheck")
            if service.healthcheck is not None and service.healthcheck.disable and service.healthcheck.note:
                # a `uses` service whose program answers no probe (celery beat): said, not hidden
                assert hc == {"disable": True} and "no ping" in service.healthcheck.note, (env.info.name, name)
            else:
                assert hc and not hc.get("disable") and hc.get("test"), (env.info.name, name)
            commands = parse_dockerfile(example / service.plan.dockerfile)
            chain = _stage_chain(commands, service.target)
            users = [c.value[0] for c in chain if c.cmd == "USER"]
            assert users and users[-1].split(":")[0] not in ("root", "0"), (name, users)
            for c in chain:
                if c.cmd == "RUN":
                    words = set(" ".join(c.value).replace("\\", " ").split())
                    assert not words & BUILD_TOOLCHAIN, (name, c.original)
                    assert not any(w.endswith("-dev") for w in words), (name, c.original)
