"""Spec behaviours the importer relies on: `null` removes a built-in default, an
environment can keep its own Compose project name, and its own top-level volumes,
networks, secrets and configs."""

from __future__ import annotations

from pathlib import Path

from dockergen.pipeline import render
from dockergen.render.compose import environment_document

SPEC = """\
version: 1
project: shop
defaults:
  restart: null
  resources: null
services:
  db:
    image: postgres:16-alpine
    healthcheck: null
    data_dir: null
    environments:
      prod:
        logging: null
environments:
  dev: {}
  prod: {project: shop-prod}
  podman: {extends: prod, engine: podman}
"""


def _documents(tmp_path: Path) -> dict:
    spec = tmp_path / "dockergen.yaml"
    spec.write_text(SPEC)
    rendered = render(spec)
    return {name: environment_document(rendered.project, env) for name, env in rendered.project.environments.items()}


def test_null_in_any_layer_removes_a_builtin_default(tmp_path: Path) -> None:
    prod = _documents(tmp_path)["prod"]["services"]["db"]
    for key in ("restart", "deploy", "healthcheck", "volumes", "logging"):
        assert key not in prod, key


def test_environment_project_name_is_used_and_inherited(tmp_path: Path) -> None:
    docs = _documents(tmp_path)
    assert docs["dev"]["name"] == "shop"
    assert docs["prod"]["name"] == "shop-prod"
    assert docs["podman"]["name"] == "shop-prod"


TOP_LEVEL = """\
version: 1
project: site
services:
  web:
    image: nginx:1.27
    volumes: ["uploads:/srv/uploads"]
    secrets: [key]
volumes:
  uploads:
    driver: local
    driver_opts: {type: nfs, o: "addr=10.0.0.5,rw", device: ":/exports/up"}
secrets:
  key: {file: ./key.txt}
environments:
  dev:
    volumes: {uploads: {driver_opts: null}}
  prod:
    secrets: {key: {file: null, external: true, name: prod_key}}
  canary:
    extends: prod
    volumes: {uploads: {driver_opts: {o: "addr=10.0.0.6,rw"}}}
"""


def test_environments_declare_their_own_top_level_objects_over_the_specs(tmp_path: Path) -> None:
    from tests.tools import compose_config

    spec = tmp_path / "dockergen.yaml"
    spec.write_text(TOP_LEVEL)
    (tmp_path / "key.txt").write_text("k\n")
    rendered = render(spec)
    for f in rendered.files:
        if f.path.endswith(".yaml") and f.path != "dockergen.yaml":
            (tmp_path / f.path).write_text(f.content)
    docs = {env: compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / f"compose.{env}.yaml"]) for env in ("dev", "prod", "canary")}
    assert docs["dev"]["volumes"]["uploads"] == {"name": "site_uploads", "driver": "local"}
    assert docs["prod"]["volumes"]["uploads"]["driver_opts"] == {"type": "nfs", "o": "addr=10.0.0.5,rw", "device": ":/exports/up"}
    assert docs["canary"]["volumes"]["uploads"]["driver_opts"]["o"] == "addr=10.0.0.6,rw"
    assert docs["dev"]["secrets"]["key"]["file"] == str(tmp_path / "key.txt")
    assert docs["prod"]["secrets"]["key"] == {"name": "prod_key", "external": True}
    assert docs["canary"]["secrets"] == docs["prod"]["secrets"]


def test_logging_with_another_driver_replaces_the_one_below_and_null_removes_an_option() -> None:
    from dockergen.resolve import merge

    rotation = {"logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "5"}}}
    syslog = {"logging": {"driver": "syslog", "options": {"tag": "web"}}}
    assert merge(rotation, syslog) == syslog
    assert merge(rotation, {"logging": {"options": {"max-file": None, "tag": "x"}}}) == {
        "logging": {"driver": "json-file", "options": {"max-size": "10m", "tag": "x"}}
    }
    assert merge({}, {"logging": {"options": {"max-file": None}}}) == {"logging": {"options": {}}}


NATIVE = """\
version: 1
project: keys
secrets:
  token: {file: ./token.txt}
services:
  app:
    image: alpine:3.20
    container_name: keys-app
    hostname: app
    stdin_open: true
    tty: true
    links: ["db:database"]
    sysctls: {net.core.somaxconn: 1024}
    mem_limit: 256m
    cpus: 1.5
    shm_size: 1gb
    env_file: [{path: ./local.env, required: false}]
    secrets: [{source: token, target: /run/secrets/api_token, mode: 256}]
    ports: [{target: 8080, published: "8080", mode: host}]
    deploy: {labels: {tier: web}}
    resources: {reservations: {memory: 64M}}
  db:
    image: postgres:16
environments:
  dev: {}
"""


def test_common_compose_keys_are_spec_fields_rendered_as_compose_reads_them(tmp_path: Path) -> None:
    from tests.tools import compose_config

    spec = tmp_path / "dockergen.yaml"
    spec.write_text(NATIVE)
    (tmp_path / "token.txt").write_text("t\n")
    (tmp_path / "local.env").write_text("A=1\n")
    for f in render(spec).files:
        if f.path.endswith(".yaml") and f.path != "dockergen.yaml":
            (tmp_path / f.path).write_text(f.content)
    app = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.dev.yaml"])["services"]["app"]
    assert (app["container_name"], app["hostname"], app["stdin_open"], app["tty"]) == ("keys-app", "app", True, True)
    assert app["links"] == ["db:database"] and app["sysctls"] == {"net.core.somaxconn": "1024"}
    assert app["mem_limit"] == "268435456" and app["cpus"] == 1.5 and app["shm_size"] == "1073741824"
    assert app["environment"] == {"A": "1"}  # the optional env file, read
    assert app["secrets"] == [{"source": "token", "target": "/run/secrets/api_token", "mode": "0400"}]  # 256 = 0o400
    assert app["ports"] == [{"mode": "host", "target": 8080, "published": "8080", "protocol": "tcp"}]
    assert app["deploy"]["labels"] == {"tier": "web"} and app["deploy"]["resources"] == {"reservations": {"memory": "67108864"}}
