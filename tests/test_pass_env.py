"""`pass_env`: variables the container takes from where Compose runs (Compose's
`environment: [NAME]`), judged by the real Compose CLI; and `KEY: null`, which in the spec
removes a value and so is not a pass-through, warned about where it removes nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tools import compose, compose_config

NAMES = st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True)
# What Compose passes through and its dotenv reader sets, beyond what `${...}` can name (Spring's relaxed binding).
ENV_NAMES = NAMES | st.from_regex(r"[a-z_][a-z0-9_.-]{0,8}", fullmatch=True)


def dockergen(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockergen", *args], capture_output=True, text=True, cwd=folder, timeout=120)


def write(folder: Path, service: dict[str, Any], **top: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"version": 1, "project": "pt", "environments": {"dev": {}, "prod": {}}, "services": {"app": {"image": "nginx:1.27", **service}}, **top}
    (folder / "dockergen.yaml").write_text(json.dumps(spec))
    return folder


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_passed_variable_has_the_hosts_value_where_set_and_is_absent_where_not(tmp_path_factory: Any, data: st.DataObject) -> None:
    names = data.draw(st.lists(ENV_NAMES, min_size=1, max_size=4, unique=True))
    valued = data.draw(st.dictionaries(NAMES.filter(lambda n: n not in names), st.text("abc xyz", max_size=5), max_size=2))
    host = {n: f"from-host-{n}" for n in data.draw(st.lists(st.sampled_from(names), unique=True))}
    folder = write(tmp_path_factory.mktemp("p"), {"environment": valued, "pass_env": names})
    result = dockergen(folder, "render")
    assert result.returncode == 0, result.stderr
    for overlay in ("compose.dev.yaml", "compose.prod.yaml"):
        env = compose_config(folder, [folder / "compose.yaml", folder / overlay], env=host)["services"]["app"].get("environment", {})
        assert {k: v for k, v in env.items() if v is not None} == {**valued, **host}


def test_a_name_both_set_and_passed_is_a_located_error_and_a_bad_name_is_refused(tmp_path: Path) -> None:
    both = dockergen(write(tmp_path / "both", {"environment": {"CI": "1"}, "environments": {"prod": {"pass_env": ["CI"]}}}), "render")
    assert both.returncode == 2 and "dockergen.yaml:1:" in both.stderr
    assert "CI is set in `environment` and passed through in `pass_env`" in both.stderr
    assert not (tmp_path / "both" / "compose.yaml").exists()
    for i, name in enumerate(["A\nB: x", "1A", "a=b", "-x", ".x", "a b", "a#b"]):
        bad = dockergen(write(tmp_path / f"bad{i}", {"pass_env": ["OK", name]}), "render")
        assert bad.returncode == 2 and "services.app.pass_env[1]: must be an environment variable name" in bad.stderr, name


def test_a_dotted_name_is_passed_through_and_set_by_the_env_example_compose_reads_back(tmp_path: Path) -> None:
    folder = write(tmp_path, {"environment": {"logging.level.root": "INFO"}, "pass_env": ["server.port", "my-var"]})
    assert dockergen(folder, "render").returncode == 0
    example = (folder / ".env.example").read_text()
    assert "\nserver.port=\n" in example and "\nmy-var=\n" in example
    (folder / ".env").write_text(example.replace("server.port=", "server.port=8081").replace("my-var=", "my-var=x"))
    env = compose_config(folder, [folder / "compose.yaml", folder / "compose.prod.yaml"])["services"]["app"]["environment"]
    assert env == {"logging.level.root": "INFO", "server.port": "8081", "my-var": "x"}


def test_null_that_removes_nothing_says_how_to_pass_a_variable_through(tmp_path: Path) -> None:
    folder = write(tmp_path, {"environment": {"AWS_PROFILE": None, "LOG": "debug"}, "environments": {"prod": {"environment": {"LOG": None}}}})
    result = dockergen(folder, "render")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "services.app.environment.AWS_PROFILE" in warnings[0] and "pass_env: [AWS_PROFILE]" in warnings[0]
    assert "AWS_PROFILE" not in (folder / "compose.yaml").read_text()  # null removes: nothing passed silently


def test_kubernetes_leaves_passed_variables_out_and_says_so(tmp_path: Path) -> None:
    folder = write(tmp_path, {"environment": {"A": "1"}, "pass_env": ["AWS_PROFILE"]}, output={"kubernetes": "k8s"})
    result = dockergen(folder, "render")
    assert result.returncode == 0, result.stderr
    assert "services.app.pass_env: left out of Kubernetes: a pod has no host environment" in result.stdout
    assert not any("AWS_PROFILE" in p.read_text() for p in (folder / "k8s").rglob("*.yaml"))


# A Compose value whose defaults and alternatives hold variables of their own (`${B:-${A}}`).
_VAR = st.sampled_from(["A", "B", "C_1", "D"])
NESTED = st.recursive(
    st.sampled_from(["x", "$$", "-", ""]) | _VAR.map(lambda n: "${" + n + "}"),
    lambda inner: st.tuples(_VAR, st.sampled_from([":-", "-", ":+", "+", ":?"]), inner).map(lambda t: "${" + t[0] + t[1] + t[2] + "}"),
    max_leaves=4,
)
# Every variable compose-go reads in a text, wherever it is (the judge's own reading).
_READ = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(NESTED, min_size=1, max_size=3))
def test_the_env_example_sets_every_variable_compose_reads_nested_ones_too(tmp_path_factory: Any, values: list[str]) -> None:
    folder = write(tmp_path_factory.mktemp("p"), {"environment": {f"V{i}": v for i, v in enumerate(values)}})
    assert dockergen(folder, "render", "-q").returncode == 0
    read = {a or b for v in values for a, b in _READ.findall(v) if a or b}
    env_file = folder / ".env.example"  # none when no value reads a variable
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    assert {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")} == read, values
