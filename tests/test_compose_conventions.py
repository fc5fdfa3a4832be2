"""Compose conventions in the spec (issue 15, item 10): `develop.watch`, a plain `docker
compose up` through the override file, `x-` keys and anchors, `env_file` long form, TCP
probes, GPU reservations and `configs` on services; judged by the real Compose CLI, the
compose-spec schema and, for the probes, a real socket."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import ROOT
from tests.tools import compose, compose_config, validate_compose_schema

HEAD = "version: 1\nproject: shop\nengines: {compose: \"2.24\"}\n"
API = 'build: {family: python, port: 8000, python: {app: "app.main:app", dev_requirements: requirements-dev.txt}}'


def dockergen(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockergen", *args, "--spec", str(directory / "dockergen.yaml")], capture_output=True, text=True, timeout=60)


def project(directory: Path, body: str, head: str = HEAD) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("requirements.txt", "requirements-dev.txt", "app.conf"):
        (directory / name).write_text("")
    (directory / "dockergen.yaml").write_text(head + textwrap.dedent(body))
    return directory


def config(directory: Path, env: str) -> dict:
    doc = compose_config(directory, [directory / "compose.yaml", directory / f"compose.{env}.yaml"])
    assert validate_compose_schema(doc) == []
    return doc


def rendered(directory: Path, body: str, head: str = HEAD) -> Path:
    project(directory, body, head)
    result = dockergen(directory, "render", "-q")
    assert result.returncode == 0, result.stderr
    return directory


# ---- develop.watch ----------------------------------------------------------------


def test_watch_true_syncs_the_source_and_rebuilds_on_a_manifest_in_dev_only(tmp_path: Path) -> None:
    d = rendered(tmp_path, f"services:\n  api:\n    {API}\n    watch: true\n")
    api = config(d, "dev")["services"]["api"]
    rules = api["develop"]["watch"]
    rebuilt = {r["path"] for r in rules if r["action"] == "rebuild"}
    assert rebuilt == {str(d / "requirements.txt"), str(d / "requirements-dev.txt")}
    sync = next(r for r in rules if r["action"] == "sync")
    assert sync["path"] == str(d) and sync["target"] == "/app" and "requirements.txt" in sync["ignore"]
    assert not api.get("volumes"), "sync replaces the source bind mount"
    assert "develop" not in config(d, "prod")["services"]["api"]


def test_watch_on_a_node_build_rebuilds_on_the_lockfile(tmp_path: Path) -> None:
    web = tmp_path / "web"
    web.mkdir()
    (web / "package.json").write_text("{}")
    (web / "pnpm-lock.yaml").write_text("")
    d = rendered(tmp_path, "services:\n  web:\n    build: {family: node, context: web, port: 3000, node: {package_manager: pnpm}}\n    watch: true\n")
    rules = config(d, "dev")["services"]["web"]["develop"]["watch"]
    assert {r["path"].removeprefix(str(web) + "/") for r in rules if r["action"] == "rebuild"} == {"package.json", "pnpm-lock.yaml"}
    assert "node_modules" in next(r for r in rules if r["action"] == "sync")["ignore"]


@pytest.mark.parametrize(("manager", "lockfile"), [("uv", "uv.lock"), ("poetry", "poetry.lock"), ("pdm", "pdm.lock")])
def test_watch_on_a_locked_python_project_rebuilds_on_pyproject_and_its_lockfile(tmp_path: Path, manager: str, lockfile: str) -> None:
    api = tmp_path / "api"
    api.mkdir()
    (api / "pyproject.toml").write_text('[project]\nname = "api"\nversion = "1"\n')
    (api / lockfile).write_text("")
    build = f'build: {{family: python, context: api, port: 8000, python: {{package_manager: {manager}, app: "app.main:app"}}}}'
    d = rendered(tmp_path, f"services:\n  api:\n    {build}\n    watch: true\n")
    rules = config(d, "dev")["services"]["api"]["develop"]["watch"]
    assert {r["path"] for r in rules if r["action"] == "rebuild"} == {str(api / "pyproject.toml"), str(api / lockfile)}
    sync = next(r for r in rules if r["action"] == "sync")
    assert sync["path"] == str(api) and set(sync["ignore"]) == {"pyproject.toml", lockfile}


def test_watch_rules_of_your_own_and_a_generic_build_without_rules(tmp_path: Path) -> None:
    own = 'watch: [{action: sync+restart, path: ./conf, target: /etc/app}, {action: rebuild, path: ./requirements.txt}]'
    d = rendered(tmp_path / "own", f"services:\n  api:\n    {API}\n    {own}\n")
    rules = config(d, "dev")["services"]["api"]["develop"]["watch"]
    assert [r["action"] for r in rules] == ["sync+restart", "rebuild"]
    generic = "build: {family: generic, stages: [{name: dev, from: \"busybox:1.36\"}, {name: prod, from: \"busybox:1.36\"}]}"
    project(tmp_path / "generic", f"services:\n  app:\n    {generic}\n    watch: true\n")
    result = dockergen(tmp_path / "generic", "render")
    assert result.returncode == 2 and "dockergen.yaml:7:5: error: services.app.watch: a generic build" in result.stderr, result.stderr


@pytest.mark.parametrize("rule", ["{action: sync, path: .}", "{action: sync, path: ../elsewhere, target: /app}", "{action: jump, path: .}"])
def test_a_bad_watch_rule_is_a_located_error(tmp_path: Path, rule: str) -> None:
    project(tmp_path, f"services:\n  api:\n    {API}\n    watch: [{rule}]\n")
    result = dockergen(tmp_path, "validate")
    assert result.returncode == 2 and "dockergen.yaml:7:" in result.stderr and "services.api.watch" in result.stderr, result.stderr


def test_with_the_default_engines_watch_is_left_out_and_render_says_so(tmp_path: Path) -> None:
    project(tmp_path, f"services:\n  api:\n    {API}\n    watch: true\n", head="version: 1\nproject: shop\n")
    result = dockergen(tmp_path, "render", "-q")
    assert result.returncode == 0
    assert "dockergen.yaml:6:5: warning: services.api.watch: watch is left out" in result.stderr, result.stderr
    # The hint keeps the engines the spec targets: declaring only compose would drop podman
    # and buildah's defaults (and turn on HEALTHCHECK --start-interval, which buildah refuses).
    assert 'engines: {compose: "2.22", docker: "24.0", podman: "4.3", buildah: "1.28"}' in result.stderr, result.stderr
    api = config(tmp_path, "dev")["services"]["api"]
    assert "develop" not in api and api["volumes"][0]["target"] == "/app"  # the bind mount stays


# ---- a plain `docker compose up` ----------------------------------------------------


def test_output_override_makes_a_plain_compose_up_the_dev_environment(tmp_path: Path) -> None:
    d = rendered(tmp_path, f"output: {{override: dev}}\nservices:\n  api:\n    {API}\n    ports: [\"8000:8000\"]\n")
    assert (d / "compose.override.yaml").exists() and not (d / "compose.dev.yaml").exists()
    plain = compose(d, [], "config", "--format", "json")  # no -f: Compose finds both files itself
    assert plain.returncode == 0, plain.stderr
    explicit = compose_config(d, [d / "compose.yaml", d / "compose.override.yaml"])
    assert json.loads(plain.stdout) == explicit
    assert json.loads(plain.stdout)["services"]["api"]["build"]["target"] == "dev"
    assert "docker compose up (Compose reads compose.override.yaml" in (d / "compose.override.yaml").read_text().splitlines()[2]
    assert dockergen(d, "check").returncode == 0


def test_a_hand_written_override_file_is_never_overwritten(tmp_path: Path) -> None:
    project(tmp_path, f"output: {{override: dev}}\nservices:\n  api:\n    {API}\n")
    mine = "services:\n  api:\n    environment: {MINE: '1'}\n"
    (tmp_path / "compose.override.yaml").write_text(mine)
    result = dockergen(tmp_path, "render")
    assert result.returncode != 0 and "compose.override.yaml" in result.stderr + result.stdout
    assert (tmp_path / "compose.override.yaml").read_text() == mine


@pytest.mark.parametrize(
    ("output", "message"),
    [("{override: qa}", "names no environment: 'qa'"), ("{override: dev, compose_file: stack.yaml}", "Compose reads an override file only next to")],
)
def test_an_override_compose_would_not_read_is_a_located_error(tmp_path: Path, output: str, message: str) -> None:
    project(tmp_path, f"output: {output}\nservices:\n  api:\n    {API}\n")
    result = dockergen(tmp_path, "render")
    assert result.returncode == 2 and f"dockergen.yaml:4:" in result.stderr and message in result.stderr, result.stderr


# ---- x- keys and anchors --------------------------------------------------------------


ANCHORED = """\
x-app: &app
  restart: unless-stopped
  environment: &env {LOG_LEVEL: info, TZ: UTC}
services:
  api:
    <<: *app
    x-owner: team-a
    build: {family: python, port: 8000, python: {app: "app.main:app"}}
  worker:
    <<: *app
    uses: api
    environment: {<<: *env, QUEUE: default}
    command: [celery, -A, app, worker]
"""
EXPANDED = """\
services:
  api:
    restart: unless-stopped
    environment: {LOG_LEVEL: info, TZ: UTC}
    build: {family: python, port: 8000, python: {app: "app.main:app"}}
  worker:
    restart: unless-stopped
    uses: api
    environment: {LOG_LEVEL: info, TZ: UTC, QUEUE: default}
    command: [celery, -A, app, worker]
"""


def test_x_keys_and_anchors_mean_what_the_expanded_spec_means(tmp_path: Path) -> None:
    a = rendered(tmp_path / "a", ANCHORED)
    b = rendered(tmp_path / "b", EXPANDED)
    for env in ("dev", "prod"):
        assert config(a, env)["services"] == json.loads(json.dumps(config(b, env)["services"]).replace(str(b), str(a)))
    schema = json.loads((ROOT / "specs" / "dockergen.schema.json").read_text())
    import yaml

    jsonschema.validate(yaml.safe_load((a / "dockergen.yaml").read_text()), schema)  # editors accept x- keys too


# ---- env_file, tcp, devices, configs ------------------------------------------------------


def test_env_file_long_form_and_its_compose_version(tmp_path: Path) -> None:
    body = f"services:\n  api:\n    {API}\n    env_file: [.env, {{path: .env.local, required: false}}]\n"
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / ".env").write_text("A=1\n")
    d = rendered(tmp_path / "new", body)
    import yaml

    assert yaml.safe_load((d / "compose.yaml").read_text())["services"]["api"]["env_file"] == [".env", {"path": ".env.local", "required": False}]
    assert config(d, "prod")["services"]["api"]["environment"]["A"] == "1"  # Compose read .env and skipped the missing one
    project(tmp_path / "old", body, head="version: 1\nproject: shop\nengines: {compose: \"2.20\"}\n")
    result = dockergen(tmp_path / "old", "render")
    # A warning, not an error: imported sprawls use the long form, and a newer Compose reads it.
    assert result.returncode == 0 and "dockergen.yaml:7:5: warning: services.api.env_file: an optional env_file" in result.stderr, result.stderr
    assert 'engines: {compose: "2.24"}' in result.stderr, result.stderr  # the declaration that silences it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("family", ["python", "node"])
def test_a_tcp_probe_passes_on_a_listening_port_and_fails_on_a_closed_one(tmp_path: Path, family: str) -> None:
    port = _free_port()
    build = API if family == "python" else "build: {family: node, port: 3000}"
    if family == "node":
        (tmp_path / "package.json").write_text("{}")
        (tmp_path / "package-lock.json").write_text("{}")
    d = rendered(tmp_path, f"services:\n  api:\n    {build}\n    healthcheck: {{tcp: {port}}}\n")
    test = config(d, "prod")["services"]["api"]["healthcheck"]["test"]
    assert test[0] == "CMD" and not any(" " in arg for arg in test[1:])  # podman 4.3 splits on spaces
    argv = [sys.executable if test[1] == "python" else test[1], *test[2:]]
    assert subprocess.run(argv, capture_output=True, timeout=20).returncode != 0  # nothing listens
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        assert subprocess.run(argv, capture_output=True, timeout=20).returncode == 0
    assert "HEALTHCHECK" in (d / "Dockerfile").read_text() and str(port) in (d / "Dockerfile").read_text()


def test_a_tcp_probe_where_no_interpreter_is_known_and_two_probes_are_located_errors(tmp_path: Path) -> None:
    project(tmp_path / "stock", "services:\n  db:\n    image: postgres:16\n    healthcheck: {tcp: 5432}\n")
    result = dockergen(tmp_path / "stock", "render")
    assert result.returncode == 2 and "dockergen.yaml:7:19: error: services.db.healthcheck.tcp" in result.stderr, result.stderr
    project(tmp_path / "two", f"services:\n  api:\n    {API}\n    healthcheck: {{tcp: 8000, http: /health}}\n")
    result = dockergen(tmp_path / "two", "validate")
    assert result.returncode == 2 and "give one probe, not http and tcp" in result.stderr, result.stderr


def test_gpu_reservations(tmp_path: Path) -> None:
    gpu = "resources: {reservations: {devices: [{capabilities: [gpu], driver: nvidia, count: all}]}}"
    d = rendered(tmp_path / "ok", f"services:\n  ml:\n    image: \"ollama/ollama:0.3.0\"\n    {gpu}\n")
    devices = config(d, "prod")["services"]["ml"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"capabilities": ["gpu"], "driver": "nvidia", "count": -1}]  # Compose's spelling of `all`
    both = gpu.replace("count: all", "count: 1, device_ids: ['0']")
    project(tmp_path / "bad", f"services:\n  ml:\n    image: \"ollama/ollama:0.3.0\"\n    {both}\n")
    result = dockergen(tmp_path / "bad", "validate")
    assert result.returncode == 2 and "give `count` or `device_ids`, not both" in result.stderr, result.stderr


def test_configs_on_services_and_an_undeclared_one(tmp_path: Path) -> None:
    body = "services:\n  web:\n    image: \"nginx:1.27\"\n    configs: [site, {source: site, target: /etc/nginx/conf.d/default.conf}]\n"
    d = rendered(tmp_path / "ok", body + "configs:\n  site: {file: ./app.conf}\n")
    assert config(d, "prod")["services"]["web"]["configs"] == [{"source": "site"}, {"source": "site", "target": "/etc/nginx/conf.d/default.conf"}]
    project(tmp_path / "bad", body)
    result = dockergen(tmp_path / "bad", "render")
    assert result.returncode == 2 and "dockergen.yaml:7:5: error: services.web.configs: config 'site' is not declared" in result.stderr, result.stderr


# ---- named volumes in the long syntax -----------------------------------------------


@pytest.mark.parametrize("mount", [
    "{type: volume, source: cache, target: /cache, volume: {nocopy: true}}",
    "{type: volume, source: cache, target: /cache}",
])
def test_a_named_volume_mounted_in_the_long_syntax_is_declared_like_the_short_one(tmp_path: Path, mount: str) -> None:
    d = rendered(tmp_path, f"services:\n  cache:\n    image: redis:7\n    volumes: [{mount}, {{type: volume, target: /anon}}]\n")
    for env in ("dev", "prod"):
        doc = config(d, env)  # Compose refuses a service mounting an undeclared volume
        assert "cache" in doc["volumes"]
        assert {"type": "volume", "source": "cache", "target": "/cache"}.items() <= doc["services"]["cache"]["volumes"][0].items()


# ---- Compose keys taken as they are ---------------------------------------------------

RUNTIME_KEYS = {
    "scale": 2, "runtime": "runc", "oom_score_adj": -500, "oom_kill_disable": True, "mem_swappiness": 10,
    "cgroup": "host", "cgroup_parent": "batch.slice", "uts": "host", "mac_address": "02:42:ac:11:00:02",
    "device_cgroup_rules": ["c 1:3 mr"], "storage_opt": {"size": "20G"}, "cpu_period": 100000,
    "annotations": {"com.example.team": "core"},
}


def test_every_compose_key_the_spec_takes_as_it_is_reaches_the_rendered_service(tmp_path: Path) -> None:
    from dockergen.render.compose import AS_THEY_ARE, SERVICE_KEY_ORDER

    assert set(AS_THEY_ARE) <= set(SERVICE_KEY_ORDER)  # each has its place in the written order
    d = rendered(tmp_path, "services:\n  job:\n    image: busybox:1.36\n    environments: {prod: " + json.dumps(RUNTIME_KEYS) + "}\n")
    prod = config(d, "prod")["services"]["job"]
    for key, value in RUNTIME_KEYS.items():
        assert prod[key] in (value, str(value)), key  # Compose writes some numbers as strings
    assert not RUNTIME_KEYS.keys() & config(d, "dev")["services"]["job"].keys()
