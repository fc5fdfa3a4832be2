"""Build args take effect (every one is an `ARG` of the stages that need it), the generated
probe gives up before the engine's healthcheck timeout, and prod ships neither the test
suite nor the dev/test manifests, with its code owned by root. Read back with BuildKit's
parser, Compose `config` and hadolint; tests/e2e builds them on podman."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockergen.errors import DockergenError
from dockergen.resolve import probe_timeout
from tests.python_specs import APP_FILES, python_spec, render_python, render_spec
from tests.tools import compose_config, dockerfile_stages, hadolint

PYTHON_STAGES = ["base", "builder", "dev", "test", "source", "prod"]
NODE_STAGES = ["base", "deps", "dev", "test", "builder", "prod"]


def args_of(instructions: list[Any]) -> dict[str, str | None]:
    """The ARGs of a stage, less the OCI annotations' own (tests/test_build_metadata.py)."""
    out: dict[str, str | None] = {}
    for c in instructions:
        if c.cmd == "ARG" and not c.value[0].startswith("OCI_"):
            name, _, default = c.value[0].partition("=")
            out[name] = (default[1:-1] if default.startswith('"') else default) if "=" in c.value[0] else None
    return out


def node_spec(node: dict[str, Any] | None = None, build: dict[str, Any] | None = None, **service: Any) -> dict[str, Any]:
    spec = python_spec(build=build, **service)
    spec["services"]["api"]["build"].update({"family": "node", "port": 3000, "node": node or {}})
    spec["services"]["api"]["build"].pop("python")
    return spec


NODE_FILES = {"package.json": '{"name": "web"}', "package-lock.json": "{}", "server.js": ""}


# ---- build args -------------------------------------------------------------------


def test_every_build_arg_of_every_environment_is_declared_in_every_stage(tmp_path: Path) -> None:
    path, result = render_python(
        tmp_path, build_args={"APP_VERSION": "1.2"},
        environments={"test": {"build_args": {"PIP_INDEX_URL": "https://pypi.example/simple"}}},
    )  # fmt: skip
    stages = dockerfile_stages(path)
    assert list(stages) == PYTHON_STAGES
    for name, (_, instructions) in stages.items():
        assert args_of(instructions) == {"APP_VERSION": None, "PIP_INDEX_URL": None}, name
        # Declared right after FROM: every RUN of the stage sees it.
        assert instructions[0].cmd == "ARG"
    config = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.test.yaml"])
    assert config["services"]["api"]["build"]["args"] == {"APP_VERSION": "1.2", "PIP_INDEX_URL": "https://pypi.example/simple"}
    assert config["services"]["api"]["build"]["target"] == "test" and "ARG APP_VERSION" in path.read_text()
    assert hadolint(path).returncode == 0, hadolint(path).stdout


def test_each_dockerfile_declares_the_build_args_of_exactly_the_services_built_from_it(tmp_path: Path) -> None:
    # Two built services, each in two flavours (prod picks alpine), build args set in
    # different layers and environments, and a `uses` service with an image of its own
    # whose args go to its builder's Dockerfile: each of the four Dockerfiles declares
    # the args of the services and environments built from it, and no other.
    spec = python_spec(build_args={"SHARED": "1"}, environments={"dev": {"build_args": {"DEV_ONLY": "1"}}, "prod": {"build_args": {"PROD_ONLY": "1"}}})
    spec["environments"]["prod"] = {"flavour": "alpine"}
    spec["services"]["worker"] = {**python_spec()["services"]["api"], "build": {**spec["services"]["api"]["build"], "context": "worker"}}
    spec["services"]["worker"]["environments"] = {"test": {"build_args": {"TEST_ONLY": "1"}}}
    spec["services"]["beat"] = {"uses": "api", "image": "shop/beat", "command": ["python", "-m", "beat"], "environments": {"dev": {"build_args": {"BEAT": "1"}}}}
    for relative, text in APP_FILES.items():
        (tmp_path / "worker" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "worker" / relative).write_text(text)
    render_spec(tmp_path, spec)
    expected = {
        "api/Dockerfile": {"SHARED", "DEV_ONLY", "BEAT"},  # dev and test
        "api/Dockerfile.alpine": {"SHARED", "PROD_ONLY"},
        "worker/Dockerfile": {"TEST_ONLY"},
        "worker/Dockerfile.alpine": set(),
    }
    for dockerfile, names in expected.items():
        stages = dockerfile_stages(tmp_path / dockerfile)
        for stage, (_, instructions) in stages.items():
            assert set(args_of(instructions)) == names, (dockerfile, stage)


def test_build_args_reach_the_node_build_script_and_install(tmp_path: Path) -> None:
    render_spec(tmp_path, node_spec(build_args={"VITE_API_URL": "https://api.example", "npm_config_registry": "https://npm.example"}), NODE_FILES)
    stages = dockerfile_stages(tmp_path / "api" / "Dockerfile")
    assert list(stages) == NODE_STAGES
    for name in NODE_STAGES:
        assert set(args_of(stages[name][1])) == {"VITE_API_URL", "npm_config_registry"}, name
    builder = stages["builder"][1]
    assert [c.cmd for c in builder].index("ARG") < [c.value for c in builder].index(("npm run build",))


def test_declared_args_have_their_defaults_and_stages_and_quote_safely(tmp_path: Path) -> None:
    args = {"GIT_SHA": {"stages": ["prod"]}, "INDEX": 'https://x.example/"$HOME"', "EMPTY": {}}
    path, _ = render_python(tmp_path, build={"args": args})
    stages = dockerfile_stages(path)
    assert args_of(stages["prod"][1]) == {"EMPTY": None, "GIT_SHA": None, "INDEX": 'https://x.example/\\"\\$HOME\\"'}
    assert args_of(stages["builder"][1]) == {"EMPTY": None, "INDEX": 'https://x.example/\\"\\$HOME\\"'}
    assert 'ARG INDEX="https://x.example/\\"\\$HOME\\""' in path.read_text()
    assert hadolint(path).returncode == 0


def test_proxy_args_are_passed_but_never_declared(tmp_path: Path) -> None:
    path, _ = render_python(tmp_path, build_args={"HTTPS_PROXY": "http://user:pw@proxy:3128", "no_proxy": "localhost"})
    assert [line for line in path.read_text().splitlines() if line.startswith("ARG") and "OCI_" not in line] == ["ARG PYTHON_VERSION=3.12.16"]
    with pytest.raises(DockergenError, match="HTTP_PROXY is predefined"):
        render_python(tmp_path / "b", build={"args": {"HTTP_PROXY": None}})


@pytest.mark.parametrize("key", ["APP-VERSION", "1ST", "A B", "X\nRUN id"])
def test_a_build_arg_that_cannot_be_an_arg_is_a_located_error(key: str, tmp_path: Path) -> None:
    with pytest.raises(DockergenError) as caught:
        render_python(tmp_path, build_args={key: "1"})
    (problem,) = [p for p in caught.value.problems if "cannot be declared" in p.message]
    assert problem.location.line and problem.path[:3] == ("services", "api", "build_args")
    assert not (tmp_path / "api" / "Dockerfile").exists()


def test_arg_stages_must_exist(tmp_path: Path) -> None:
    with pytest.raises(DockergenError, match="names no stage of the python template: release"):
        render_python(tmp_path, build={"args": {"GIT_SHA": {"stages": ["release"]}}})


# ---- probe timeout ----------------------------------------------------------------


def healthchecks(tmp_path: Path) -> tuple[list[str], str]:
    config = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.prod.yaml"])
    return config["services"]["api"]["healthcheck"]["test"], (tmp_path / "api" / "Dockerfile").read_text()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(timeout=st.sampled_from(["1s", "2s", "3s", "5s", "10s", "1m", "1m30s", "500ms", "2.5s"]))
def test_the_python_probe_gives_up_before_the_engine_timeout(timeout: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("p")
    render_python(directory, healthcheck={"http": "/health", "timeout": timeout})
    test, dockerfile = healthchecks(directory)
    wait = float(re.search(r"timeout=([\d.]+)\)", test[-1])[1])
    limit = probe_timeout(timeout)
    assert wait == limit and 0 < wait < _seconds(timeout)
    assert f"--timeout={timeout} " in dockerfile and f"timeout={limit:g})" in dockerfile


def _seconds(text: str) -> float:
    return sum(float(n) * {"ms": 0.001, "s": 1, "m": 60}[u] for n, u in re.findall(r"([\d.]+)(ms|s|m)", text))


def test_the_node_probe_aborts_its_fetch_before_the_engine_timeout(tmp_path: Path) -> None:
    render_spec(tmp_path, node_spec(healthcheck={"http": "/health", "timeout": "8s"}), NODE_FILES)
    test, _ = healthchecks(tmp_path)
    assert "{signal:AbortSignal.timeout(7000)}" in test[-1] and " " not in test[-1]


def test_the_nginx_probe_gives_wget_a_timeout(tmp_path: Path) -> None:
    render_spec(tmp_path, node_spec({"serve": "nginx"}, healthcheck={"http": "/", "timeout": "3s"}), NODE_FILES)
    test, _ = healthchecks(tmp_path)
    assert test[:6] == ["CMD", "wget", "-q", "--spider", "-T", "2"]


def test_without_a_timeout_the_probe_follows_the_built_in_one(tmp_path: Path) -> None:
    render_python(tmp_path)
    test, _ = healthchecks(tmp_path)
    assert test[-1].endswith(",timeout=4)")  # the built-in timeout is 5s


# ---- what prod ships, and who owns it ---------------------------------------------


def test_prod_copies_the_code_from_a_stage_that_dropped_the_tests_and_dev_manifests(tmp_path: Path) -> None:
    files = {**APP_FILES, "requirements-dev.txt": "", "requirements-test.txt": ""}
    path, _ = render_python(tmp_path, {"dev_requirements": "requirements-dev.txt", "test_requirements": "requirements-test.txt"}, files=files)
    stages = dockerfile_stages(path)
    source = stages["source"][1]
    assert [c.cmd for c in source] == ["COPY", "RUN"]
    assert source[1].value == ("rm -rf -- tests test conftest.py requirements-dev.txt requirements-test.txt",)
    prod = stages["prod"][1]
    copies = [c for c in prod if c.cmd == "COPY"]
    assert [c.flags for c in copies] == [("--from=builder",), ("--from=source",)]  # no --chown: root owns the code
    assert [c.value for c in copies] == [("/opt/venv", "/opt/venv"), ("/app", "/app")]
    assert [c.value for c in prod if c.cmd == "USER"] == [("10001:10001",)]


def test_prod_exclude_replaces_the_default(tmp_path: Path) -> None:
    path, _ = render_python(tmp_path, build={"prod_exclude": ["docs", "notebooks/scratch.ipynb", "tests"]})
    assert dockerfile_stages(path)["source"][1][1].value == ("rm -rf -- docs notebooks/scratch.ipynb tests",)
    path, _ = render_python(tmp_path / "all", build={"prod_exclude": []})
    assert [c.cmd for c in dockerfile_stages(path)["source"][1]] == ["COPY"]


@pytest.mark.parametrize("bad", ["../x", "/etc", ".", "a b", "-rf", "*.md", "$(id)"])
def test_prod_exclude_stays_inside_the_context(bad: str, tmp_path: Path) -> None:
    with pytest.raises(DockergenError) as caught:
        render_python(tmp_path, build={"prod_exclude": [bad]})
    assert caught.value.problems[0].path[:5] == ("services", "api", "build", "prod_exclude", 0)


def test_node_prod_drops_the_tests_after_the_build_and_owns_nothing(tmp_path: Path) -> None:
    render_spec(tmp_path, node_spec(), NODE_FILES)
    stages = dockerfile_stages(tmp_path / "api" / "Dockerfile")
    assert ("rm -rf -- tests test __tests__",) in [c.value for c in stages["builder"][1] if c.cmd == "RUN"]
    (copy,) = [c for c in stages["prod"][1] if c.cmd == "COPY"]
    assert copy.flags == ("--from=builder",)


def test_dev_and_test_stages_still_give_the_user_the_source(tmp_path: Path) -> None:
    path, _ = render_python(tmp_path)
    for name in ("dev", "test"):
        (copy,) = [c for c in dockerfile_stages(path)[name][1] if c.cmd == "COPY" and c.value == (".", ".")]
        assert copy.flags == ("--chown=10001:10001",)


def test_every_variant_passes_hadolint(tmp_path: Path) -> None:
    build = {"args": {"A": "1", "B": {"stages": ["prod"]}}, "writable": ["var/log", "/data"], "prod_exclude": ["tests", "notebooks"]}
    path, _ = render_python(tmp_path, {"dev_requirements": "requirements-dev.txt"}, build=build, build_args={"C": "x"}, files={**APP_FILES, "requirements-dev.txt": ""})
    assert hadolint(path).returncode == 0, hadolint(path).stdout
    render_spec(tmp_path / "n", node_spec(build=build), NODE_FILES)
    node = tmp_path / "n" / "api" / "Dockerfile"
    assert hadolint(node).returncode == 0, hadolint(node).stdout
