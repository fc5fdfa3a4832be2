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
