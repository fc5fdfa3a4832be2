"""A spec of one environment: `import` writes its `image_names` and policy switches in that
environment's entry (one line), not in lines of their own at the top (each, or both, where
that is shorter). The forms must mean the same: every generated file byte for byte, and
`docker-compose config` of each."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockergen.importer.spec.assemble import LONE_FOLDS, into_lone_environment
from dockergen.pipeline import render
from tests.tools import compose

PROFILE = settings(max_examples=25, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Settings `import` switches off or sets in `defaults`, each with values it writes.
SWITCHES: dict[str, list[Any]] = {
    "restart": [None, "always", "no"],
    "init": [None, True],
    "cap_drop": [None, ["NET_RAW"]],
    "security_opt": [None],
    "resources": [None, {"limits": {"memory": "256M"}}],
    "healthcheck": [None, {"test": None}, {"test": None, "timeout": "30s", "start_period": "0s"}],
    "source_mount": [False],
    "data_dir": [None],
    "logging": [None, {"options": {"max-file": "2"}}],
    "environment": [{"MODE": "x"}],
    "labels": [{"team": "core"}],
}
SERVICES = {
    "api": {"build": {"context": "api", "steps": ["FROM python:3.12-slim", "COPY . /srv", 'CMD ["python", "/srv/main.py"]']},
            "ports": ["8000:8000"], "depends_on": ["db"]},
    "db": {"image": "postgres:16", "environment": {"POSTGRES_PASSWORD": "example"}},
    "cache": {"image": "redis:7"},
}  # fmt: skip


@st.composite
def long_forms(draw: st.DrawFn) -> dict[str, Any]:
    """A one-environment spec as it reads with its `image_names` and `defaults` at the top."""
    keys = draw(st.lists(st.sampled_from(sorted(SWITCHES)), unique=True, max_size=len(SWITCHES)))
    cut = draw(st.integers(0, len(keys)))
    top = {k: draw(st.sampled_from(SWITCHES[k])) for k in keys[:cut]}
    own = {k: draw(st.sampled_from(SWITCHES[k])) for k in keys[cut:]}
    env: dict[str, Any] = {"kind": draw(st.sampled_from(["dev", "test", "staging", "prod"]))}
    if own:
        env["defaults"] = own
    spec: dict[str, Any] = {"project": "shop"}
    if draw(st.booleans()):
        spec["image_names"] = draw(st.sampled_from(["compose", "dockergen"]))
    if top:
        spec["defaults"] = top
    spec["environments"] = {draw(st.sampled_from(["dev", "local", "live"])): env}
    spec["services"] = copy.deepcopy(SERVICES)
    return spec


def _rendered(spec: dict[str, Any], root: Path) -> dict[str, str]:
    (root / "api").mkdir(parents=True)
    (root / "dockergen.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    # The lock file records the spec's own hash: the one file that must differ.
    return {f.path: f.content for f in render(root / "dockergen.yaml").files if f.kind != "lock"}


@PROFILE
@given(long_forms(), st.sampled_from(LONE_FOLDS))
def test_a_lone_environment_saying_the_top_levels_rules_renders_the_same_files(long: dict[str, Any], keys: tuple[str, ...]) -> None:
    # Each rule alone or both (import writes whichever form is shortest).
    compact = copy.deepcopy(long)
    into_lone_environment(compact, keys)
    with tempfile.TemporaryDirectory() as work:
        a, b = _rendered(long, Path(work) / "long"), _rendered(compact, Path(work) / "compact")
    assert a == b, json.dumps({"long": long, "compact": compact})


def test_both_forms_read_the_same_to_docker_compose(tmp_path: Path) -> None:
    long = {
        "project": "shop",
        "image_names": "compose",
        "defaults": {"restart": None, "resources": None, "healthcheck": {"test": None, "timeout": "30s"}, "data_dir": None},
        "environments": {"prod": {"defaults": {"labels": {"team": "core"}}}},
        "services": copy.deepcopy(SERVICES),
    }
    compact = copy.deepcopy(long)
    into_lone_environment(compact)
    assert "defaults" not in compact and "image_names" not in compact
    assert compact["environments"]["prod"]["image_names"] == "compose"
    configs = []
    for name, spec in (("long", long), ("compact", compact)):
        _rendered(spec, tmp_path / name)
        done = subprocess.run([sys.executable, "-m", "dockergen", "render", "--spec", str(tmp_path / name / "dockergen.yaml"), "-q"],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        result = compose(tmp_path / name, [tmp_path / name / "compose.yaml", tmp_path / name / "compose.prod.yaml"], "config", "--format", "json")
        assert result.returncode == 0, result.stderr
        configs.append(json.loads(result.stdout.replace(str(tmp_path / name), "<root>")))
    assert configs[0] == configs[1]
    assert configs[0]["services"]["api"]["image"] == "shop-api"  # image_names: compose, from the environment
    assert "restart" not in configs[0]["services"]["db"]  # the switch applies there too


def test_an_environment_that_sets_a_switch_of_its_own_keeps_the_two_layers_apart() -> None:
    # `resources: null` removes the built-in prod limits; the environment's mapping alone would
    # merge into them (a memory limit over the built-in cpus), so it cannot say both.
    spec = {"project": "shop", "defaults": {"resources": None, "restart": None},
            "environments": {"prod": {"defaults": {"resources": {"limits": {"memory": "1G"}}}}}, "services": {}}  # fmt: skip
    before = copy.deepcopy(spec)
    into_lone_environment(spec)
    assert spec == before


def test_import_writes_a_lone_environments_rules_on_its_own_line(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "svc").mkdir(parents=True)
    (root / "worker").mkdir()
    (root / "svc" / "Dockerfile").write_text('FROM python:3.12-slim\nCOPY . /svc\nCMD ["python", "/svc/main.py"]\n')
    (root / "worker" / "Dockerfile").write_text('FROM python:3.12-slim\nCOPY . /worker\nCMD ["python", "/worker/main.py"]\n')
    (root / "compose.yaml").write_text(
        "services:\n  svc:\n    build: svc\n    ports: ['9000:9000']\n  worker:\n    build: worker\n"
        "  db:\n    image: postgres:16\n"
    )
    done = subprocess.run([sys.executable, "-m", "dockergen", "import", str(root), "--verify"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and " 0 unexplained" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
    text = (root / "dockergen.yaml").read_text()
    assert text.splitlines()[:2] == [
        "project: repo",
        "environments: {dev: {image_names: compose, defaults: {data_dir: null, healthcheck: {test: null}, source_mount: false}}}",
    ], text
    services = yaml.safe_load(text)["services"]
    assert "image" not in services["svc"] and "image" not in services["worker"]  # Compose's names, by the rule
