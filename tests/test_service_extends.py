"""`services.<name>.extends`: a service that starts from another's settings, judged by the
real Compose CLI (the rendered config against the same spec with the settings spelled
out), kubectl's kustomize for the Kubernetes output, `explain`, and located errors; and
`import` writing it for Compose files that share a service's settings with YAML anchors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.k8s_tools import kustomize
from tests.tools import compose_config

WEB_AND_WORKER = """\
version: 1
project: shop
environments:
  dev: {}
  prod: {}
output: {kubernetes: k8s}
services:
  web:
    build:
      steps: ["FROM python:3.12-slim", "CMD [\\"gunicorn\\", \\"app:app\\"]"]
    environment: {DJANGO_SETTINGS_MODULE: shop.settings, DATABASE_URL: "postgres://db/shop"}
    depends_on: [db]
    extra_hosts: ["host.docker.internal:host-gateway"]
    ports: ["8000:8000"]
    environments:
      prod: {environment: {DEBUG: "0"}}
  worker:
    uses: web
    extends: web
    command: [celery, -A, shop, worker]
    environment: {DATABASE_URL: null, QUEUE: default}
    ports: null
    enabled: false
    environments:
      prod: {enabled: true}
  db:
    image: postgres:16
"""


def cli(spec: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockergen", *args, "--spec", str(spec)], capture_output=True, text=True, timeout=180)


def write(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    spec = directory / "dockergen.yaml"
    spec.write_text(body)
    return spec


def services(directory: Path, env: str) -> dict[str, Any]:
    return compose_config(directory, [directory / "compose.yaml", directory / f"compose.{env}.yaml"])["services"]


def test_a_service_starts_from_the_level_of_the_one_it_extends(tmp_path: Path) -> None:
    spec = write(tmp_path, WEB_AND_WORKER)
    result = cli(spec, "render", "-q")
    assert result.returncode == 0, result.stderr
    prod = services(tmp_path, "prod")
    worker = prod["worker"]
    assert worker["environment"] == {"DJANGO_SETTINGS_MODULE": "shop.settings", "QUEUE": "default"}  # not web's prod block
    assert worker["extra_hosts"] == prod["web"]["extra_hosts"]
    assert set(worker["depends_on"]) == {"db"}
    assert "ports" not in worker and worker["command"] == ["celery", "-A", "shop", "worker"]
    assert "worker" not in services(tmp_path, "dev")  # its own `enabled`, not web's
    # Kubernetes reads the same resolved settings.
    docs = kustomize(tmp_path / "k8s" / "overlays" / "prod")
    env = next(d["data"] for d in docs if d["kind"] == "ConfigMap" and "worker-env" in d["metadata"]["name"])
    assert {"DJANGO_SETTINGS_MODULE", "QUEUE"} <= set(env) and "DATABASE_URL" not in env and "DEBUG" not in env
    # explain says where each inherited value comes from.
    explained = cli(spec, "explain", "worker", "--env", "prod")
    assert explained.returncode == 0, explained.stderr
    line = next(x for x in explained.stdout.splitlines() if x.strip().startswith("environment.DJANGO_SETTINGS_MODULE"))
    assert "services.web (extended)" in line and "dockergen.yaml:" in line


def test_extends_follows_a_chain_and_the_nearest_wins(tmp_path: Path) -> None:
    body = WEB_AND_WORKER + "  beat:\n    uses: web\n    extends: worker\n    command: [celery, -A, shop, beat]\n    environment: {QUEUE: beat}\n"
    spec = write(tmp_path, body)
    assert cli(spec, "render", "-q").returncode == 0
    beat = services(tmp_path, "prod")["beat"]
    assert beat["environment"] == {"DJANGO_SETTINGS_MODULE": "shop.settings", "QUEUE": "beat"}
    assert beat["command"] == ["celery", "-A", "shop", "beat"]
    assert "beat" in services(tmp_path, "dev")  # worker's `enabled: false` is not inherited either


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("extends: web", "extends: nope"), "services.worker.extends: extends unknown service 'nope'"),
        (("extends: web", "extends: worker"), "services.worker.extends: extends 'worker', which extends it back: a cycle"),
        (("  web:\n", "  web:\n    extends: worker\n"), "services.web.extends: extends 'worker', which extends it back: a cycle"),
        (("extends: web", "extends: Web"), "services.worker.extends"),
    ],
)
def test_a_wrong_extends_is_a_located_error(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    spec = write(tmp_path, WEB_AND_WORKER.replace(*change, 1))
    result = cli(spec, "validate")
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "dockergen.yaml:" in result.stderr and "Traceback" not in result.stderr, result.stderr


# ---- property: extends renders what the settings spelled out render -----------------

keys = st.sampled_from(["A", "B", "C", "D"])
values = st.sampled_from(["1", "x", "y"])
levels = st.fixed_dictionaries(
    {},
    optional={
        "environment": st.dictionaries(keys, values | st.none(), max_size=3),
        "command": st.lists(st.sampled_from(["run", "-v", "serve"]), min_size=1, max_size=3),
        "expose": st.lists(st.sampled_from(["8000", "9000"]), max_size=2, unique=True),
        "working_dir": st.sampled_from(["/srv", "/app"]),
        "labels": st.dictionaries(keys, values, max_size=2),
    },
)


def spelled_out(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """The spec's merge by hand: mappings key by key (null removes), anything else replaced."""
    out = dict(base)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {k: v for k, v in {**out[key], **value}.items() if v is not None}
        else:
            out[key] = value
    return {k: ({i: v for i, v in x.items() if v is not None} if isinstance(x, dict) else x) for k, x in out.items()}


def spec_with(base: dict[str, Any], own: dict[str, Any], extends: bool) -> str:
    doc = {
        "version": 1,
        "project": "shop",
        "environments": {"prod": {}},
        "defaults": {"restart": None, "init": None, "cap_drop": None, "security_opt": None, "resources": None, "logging": None},
        "services": {
            "web": {"image": "nginx:1.27", **base},
            "worker": {"image": "nginx:1.27", **({"extends": "web", **own} if extends else spelled_out(base, own))},
        },
    }
    return json.dumps(doc)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(levels, levels)
def test_extends_renders_what_the_same_settings_spelled_out_render(tmp_path_factory: pytest.TempPathFactory, base: dict, own: dict) -> None:
    rendered = []
    for extends in (True, False):
        directory = tmp_path_factory.mktemp("extends")
        spec = write(directory, spec_with(base, own, extends))
        result = cli(spec, "render", "-q")
        assert result.returncode == 0, result.stderr
        rendered.append(services(directory, "prod")["worker"])
    assert rendered[0] == rendered[1]


# ---- import: services sharing settings through YAML anchors ------------------------

ANCHORED = """\
x-app: &app
  build: .
  environment:
    DATABASE_URL: postgres://app@db/app
    REDIS_URL: redis://redis:6379/0
    SENTRY_DSN: ${SENTRY_DSN:-}
  depends_on: [db, redis]
  extra_hosts: ["host.docker.internal:host-gateway"]
services:
  web:
    <<: *app
    command: ["gunicorn", "app:app"]
    ports: ["8000:8000"]
  worker:
    <<: *app
    command: ["rq", "worker"]
  scheduler:
    <<: *app
    command: ["rq", "scheduler"]
  db:
    image: postgres:16
  redis:
    image: redis:7
"""


def test_import_writes_extends_for_anchored_services_and_verify_agrees(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(ANCHORED)
    (tmp_path / "Dockerfile").write_text('FROM python:3.12-slim\nCOPY . /app\nCMD ["gunicorn", "app:app"]\n')
    result = subprocess.run([sys.executable, "-m", "dockergen", "import", str(tmp_path), "--verify"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 unexplained" in result.stdout, result.stdout
    spec = yaml.safe_load((tmp_path / "dockergen.yaml").read_text())
    extended = {name: s["extends"] for name, s in spec["services"].items() if "extends" in s}
    apps = {"web", "worker", "scheduler"}
    assert len(extended) == 2 and set(extended) < apps and set(extended.values()) == apps - set(extended), extended
    for name in extended:
        assert "environment" not in spec["services"][name] and "depends_on" not in spec["services"][name]


BROKERS = """\
x-broker: &broker
  image: bitnami/kafka:3.7
  restart: on-failure:3
  stop_grace_period: 90s
  ulimits: {nofile: {soft: 65536, hard: 65536}}
  environment: &broker-env
    KAFKA_CFG_PROCESS_ROLES: broker,controller
    KAFKA_CFG_CONTROLLER_QUORUM_VOTERS: 0@broker-a:9093,1@broker-b:9093,2@broker-c:9093
    KAFKA_CFG_CONTROLLER_LISTENER_NAMES: CONTROLLER
    KAFKA_HEAP_OPTS: -Xmx512m
services:
  broker-a:
    <<: *broker
    environment: {<<: *broker-env, KAFKA_CFG_NODE_ID: "0"}
    volumes: [a-data:/bitnami/kafka]
  broker-b:
    <<: *broker
    environment: {<<: *broker-env, KAFKA_CFG_NODE_ID: "1"}
    volumes: [b-data:/bitnami/kafka]
  broker-c:
    <<: *broker
    environment: {<<: *broker-env, KAFKA_CFG_NODE_ID: "2"}
    volumes: [c-data:/bitnami/kafka]
    cpuset: "2"
  registry:
    image: confluentinc/cp-schema-registry:7.7.1
    restart: on-failure:3
    stop_grace_period: 90s
    depends_on: [broker-a]
volumes: {a-data: {}, b-data: {}, c-data: {}}
"""
BROKERS_PROD = """\
services:
  broker-a: {environment: {KAFKA_HEAP_OPTS: -Xmx4g}}
  broker-b: {environment: {KAFKA_HEAP_OPTS: -Xmx4g}}
  broker-c: {environment: {KAFKA_HEAP_OPTS: -Xmx4g}}
"""


@pytest.mark.parametrize("with_prod", [False, True], ids=["one-file", "with-prod-override"])
def test_import_writes_extends_for_services_of_one_stock_image(tmp_path: Path, with_prod: bool) -> None:
    """Brokers of one image share an anchor: all but one extend it, each saying only its own
    settings; a service of another image that shares two settings with them does not."""
    (tmp_path / "compose.yaml").write_text(BROKERS)
    if with_prod:
        (tmp_path / "compose.prod.yaml").write_text(BROKERS_PROD)
    result = subprocess.run([sys.executable, "-m", "dockergen", "import", str(tmp_path), "--verify"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 unexplained" in result.stdout, result.stdout
    spec = yaml.safe_load((tmp_path / "dockergen.yaml").read_text())
    extended = {name: s["extends"] for name, s in spec["services"].items() if "extends" in s}
    brokers = {"broker-a", "broker-b", "broker-c"}
    assert len(extended) == 2 and set(extended) < brokers and len(set(extended.values())) == 1, extended
    (base,) = set(extended.values())
    assert base in brokers - set(extended), extended
    for name in extended:
        own = spec["services"][name]
        assert set(own.get("environment", {})) == {"KAFKA_CFG_NODE_ID"}, own
        assert "ulimits" not in own and "stop_grace_period" not in own, own
    assert "extends" not in spec["services"]["registry"]
