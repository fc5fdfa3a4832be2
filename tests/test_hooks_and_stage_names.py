"""Hook points of the built-in templates (system setup, before/after the dependency install,
after the source copy, the end of any stage), writable directories owned by the app user,
and stage names of the team's choice, without copying a template. Read back with
BuildKit's parser, hadolint and Compose `config`; hook steps are validated like generic
steps (exactly one instruction each)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from dockergen.errors import DockergenError
from tests.python_specs import python_spec, render_python, render_spec
from tests.tools import compose_config, dockerfile_stages, hadolint

HOOKS = {
    "system": ["COPY certs/company-ca.crt /usr/local/share/ca-certificates/", "RUN update-ca-certificates"],
    "before_install": ["RUN pip config set global.timeout 60"],
    "after_install": ["RUN python -c 'import sys; print(sys.prefix)'"],
    "after_source": ["RUN python -m compileall -q app"],
    "stages": {"prod": ['LABEL com.example.team="payments"'], "builder": ["RUN pip list"]},
}
FILES = {"requirements.txt": "flask\npytest\n", "app/main.py": "", "certs/company-ca.crt": "", "requirements-dev.txt": "pytest\n"}
NODE_FILES = {"package.json": "{}", "package-lock.json": "{}"}


def originals(instructions: list[Any]) -> list[str]:
    return [c.original for c in instructions]


def position(instructions: list[Any], text: str) -> int:
    return next(i for i, c in enumerate(instructions) if c.original == text)


def test_python_hooks_run_at_their_points(tmp_path: Path) -> None:
    path, _ = render_python(tmp_path, {"dev_requirements": "requirements-dev.txt"}, build={"hooks": HOOKS}, files=FILES)
    stages = dockerfile_stages(path)
    base, builder = stages["base"][1], stages["builder"][1]
    # system: after the app user exists, before WORKDIR (still root, OS level)
    assert position(base, "RUN update-ca-certificates") > position(base, HOOKS["system"][0]) > next(i for i, c in enumerate(base) if "useradd" in c.original)
    install = next(i for i, c in enumerate(builder) if c.original.endswith("pip install -r requirements.txt"))
    assert position(builder, HOOKS["before_install"][0]) < install < position(builder, HOOKS["after_install"][0]) < position(builder, "RUN pip list")
    for name in ("dev", "test", "prod"):
        instructions = stages[name][1]
        source = next(i for i, c in enumerate(instructions) if c.cmd == "COPY" and c.value[-1] in (".", "/app") and "requirements" not in c.original)
        user = [c.cmd for c in instructions].index("USER")
        assert source < position(instructions, HOOKS["after_source"][0]) < user, name
    assert position(stages["prod"][1], HOOKS["stages"]["prod"][0]) < [c.cmd for c in stages["prod"][1]].index("USER")
    assert 'LABEL com.example.team="payments"' not in originals(stages["dev"][1])
    assert hadolint(path).returncode == 0, hadolint(path).stdout


def test_node_hooks_run_at_their_points(tmp_path: Path) -> None:
    spec = python_spec()
    spec["services"]["api"]["build"] = {
        "family": "node", "context": "api", "port": 3000,
        "hooks": {"after_install": ["RUN npx prisma generate"], "after_source": ["RUN node scripts/codegen.js"], "stages": {"prod": ["ENV TZ=UTC"]}},
    }  # fmt: skip
    render_spec(tmp_path, spec, NODE_FILES)
    stages = dockerfile_stages(tmp_path / "api" / "Dockerfile")
    deps = stages["deps"][1]
    assert position(deps, "RUN npx prisma generate") == len(deps) - 1
    builder = stages["builder"][1]
    assert position(builder, "RUN node scripts/codegen.js") < next(i for i, c in enumerate(builder) if c.original == "RUN npm run build")
    assert "ENV TZ=UTC" in originals(stages["prod"][1])


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("RUN echo a \\", "swallow the next instruction"),
        ("RUN <<EOF\necho hi", "unterminated heredoc"),
        ("RUN a\nRUN b", "a step is one instruction"),
        ("FROM alpine", "may not be FROM"),
        ("# only a comment", "not only a comment"),
    ],
)
def test_a_hook_step_is_exactly_one_instruction(step: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(DockergenError) as caught:
        render_python(tmp_path, build={"hooks": {"after_source": ["RUN true", step]}})
    (problem,) = caught.value.problems
    assert message in problem.message and problem.path[-2:] == ("after_source", 1) and problem.location.line
    assert not (tmp_path / "api" / "Dockerfile").exists()


def test_a_closed_heredoc_is_one_instruction(tmp_path: Path) -> None:
    path, _ = render_python(tmp_path, build={"hooks": {"stages": {"prod": ["RUN <<EOF\necho hi\nEOF"]}}}, files=FILES)
    assert "RUN <<EOF" in [c.original.splitlines()[0] for c in dockerfile_stages(path)["prod"][1]]


def test_hooks_stages_must_name_a_stage(tmp_path: Path) -> None:
    with pytest.raises(DockergenError, match="`hooks.stages` names no stage of the python template: release"):
        render_python(tmp_path, build={"hooks": {"stages": {"release": ["RUN true"]}}})


def test_hooks_are_for_the_built_in_templates(tmp_path: Path) -> None:
    spec = python_spec()
    spec["services"]["api"]["build"] = {"family": "generic", "context": "api", "stages": [{"name": "prod", "from": "alpine:3.20"}], "hooks": {"system": ["RUN true"]}}
    with pytest.raises(DockergenError, match="`hooks` is for the built-in python and node templates"):
        render_spec(tmp_path, spec, FILES)


# ---- writable directories -----------------------------------------------------------


def test_writable_directories_belong_to_the_app_user_and_nothing_else_does(tmp_path: Path) -> None:
    path, _ = render_python(tmp_path, build={"writable": ["var/log", "/data/uploads"]}, files=FILES)
    for name in ("dev", "test", "prod"):
        instructions = dockerfile_stages(path)[name][1]
        (run,) = [c for c in instructions if c.cmd == "RUN" and "mkdir" in c.original]
        assert " ".join(run.value[0].split()) == "mkdir -p -- var/log /data/uploads && chown 10001:10001 var/log /data/uploads"
        assert [c.cmd for c in instructions].index("RUN") < [c.cmd for c in instructions].index("USER")
    prod = dockerfile_stages(path)["prod"][1]
    assert not any("--chown" in flag for c in prod if c.cmd == "COPY" for flag in c.flags)


@pytest.mark.parametrize("bad", ["/", ".", "../logs", "/var/../etc", "logs/*", "a b", "-x", "/etc", "/usr/local/bin", "/opt/venv", "/var"])
def test_a_writable_path_must_be_a_directory_the_image_owns(bad: str, tmp_path: Path) -> None:
    with pytest.raises(DockergenError) as caught:
        render_python(tmp_path, build={"writable": [bad]})
    assert caught.value.problems[0].path[:5] == ("services", "api", "build", "writable", 0)


# ---- stage names --------------------------------------------------------------------


def test_stages_can_be_renamed_and_environments_build_the_renamed_ones(tmp_path: Path) -> None:
    build = {"stage_names": {"prod": "production", "dev": "development"}, "hooks": {"stages": {"production": ["ENV A=1"]}},
             "args": {"GIT_SHA": {"stages": ["production"]}}}  # fmt: skip
    path, result = render_python(tmp_path, build=build, files=FILES, environments={"prod": {"target": "prod"}})
    stages = dockerfile_stages(path)
    assert list(stages) == ["base", "builder", "development", "test", "source", "production"]
    assert "ENV A=1" in originals(stages["production"][1]) and "ARG GIT_SHA" in originals(stages["production"][1])
    targets = {name: env.services["api"].target for name, env in result.project.environments.items()}
    assert targets == {"dev": "development", "test": "test", "prod": "production"}
    config = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.prod.yaml"])
    assert config["services"]["api"]["build"]["target"] == "production"
    assert hadolint(path).returncode == 0


def test_dev_settings_still_follow_a_renamed_dev_stage(tmp_path: Path) -> None:
    _, result = render_python(tmp_path, {"debug_port": 5678}, build={"stage_names": {"dev": "development"}}, files=FILES)
    dev = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.dev.yaml"])["services"]["api"]
    assert any(p.get("target") == 5678 for p in dev["ports"])


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"prod": "dev"}, "gives two stages one name"),
        ({"deps": "x"}, "has no stage deps"),
        ({"prod": "Prod"}, "stage_names.prod: must be lowercase letters"),
    ],
)
def test_stage_names_must_be_unique_names_of_template_stages(names: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(DockergenError) as caught:
        render_python(tmp_path, build={"stage_names": names})
    assert re.search(message, "\n".join(p.render() for p in caught.value.problems))
