"""The base/overlay split, checked against the real Compose merge on hard cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockergen.render.overlay import merge_like_compose, split
from tests.tools import canonical, compose_config

DEV = {
    "name": "p",
    "services": {
        "api": {
            "image": "api:dev",
            "command": ["uvicorn", "--reload"],
            "environment": {"DEBUG": "1", "LOG": "debug", "SHARED": "x"},
            "env_file": ["a.env", "b.env"],
            "ports": ["8000:8000", "5678:5678"],
            "volumes": ["./src:/app", "data:/data"],
            "depends_on": {"db": {"condition": "service_started"}},
            "healthcheck": {"test": ["CMD", "true"], "interval": "5s"},
            "logging": {"driver": "local", "options": {"max-size": "1m"}},
        },
        "db": {"image": "postgres:16", "volumes": ["data:/var/lib/postgresql/data"]},
        "mail": {"image": "mailhog/mailhog:v1.0.1"},
    },
    "volumes": {"data": None},
}
PROD = {
    "name": "p",
    "services": {
        "api": {
            "image": "api:prod",
            "environment": {"LOG": "info", "SHARED": "x"},
            "env_file": ["b.env"],
            "ports": ["8000:8000"],
            "volumes": ["data:/data"],
            "depends_on": {"db": {"condition": "service_healthy"}},
            "healthcheck": {"test": ["CMD", "false"], "interval": "5s"},
            "logging": {"driver": "json-file", "options": {"max-size": "1m", "max-file": "3"}},
            "deploy": {"resources": {"limits": {"memory": "512M"}}},
        },
        "db": {"image": "postgres:16", "volumes": ["data:/var/lib/postgresql/data"], "restart": "always"},
    },
    "volumes": {"data": None},
}


def test_prod_overlay_drops_what_only_dev_has() -> None:
    base, overlays = split({"dev": DEV, "prod": PROD})
    api = base["services"]["api"]
    assert "./src:/app" not in api.get("volumes", [])
    assert "5678:5678" not in api.get("ports", [])
    assert "command" not in api and "DEBUG" not in api["environment"]
    assert "mail" not in base["services"]
    assert "command" not in overlays["prod"]["services"]["api"]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_real_compose_merge_gives_each_environment(env: str, tmp_path: Path) -> None:
    docs = {"dev": DEV, "prod": PROD}
    base, overlays = split(docs)
    files = {}
    for name, doc in {"base": base, "overlay": overlays[env], "full": docs[env]}.items():
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps(doc))
    # Both files set X: the later one wins, so a reordered env_file would show up as X.
    (tmp_path / "a.env").write_text("X=from-a\n")
    (tmp_path / "b.env").write_text("X=from-b\n")
    merged = compose_config(tmp_path, [files["base"], files["overlay"]])
    expected = compose_config(tmp_path, [files["full"]])
    assert canonical(merged) == canonical(expected)
    assert merged["services"]["api"]["environment"]["X"] == "from-b"


def test_split_then_merge_round_trips_in_python_too() -> None:
    docs = {"dev": DEV, "prod": PROD}
    base, overlays = split(docs)
    for env, doc in docs.items():
        assert canonical(merge_like_compose(base, overlays[env])) == canonical(doc)


def test_one_environment_puts_everything_in_the_base() -> None:
    base, overlays = split({"only": PROD})
    assert base == PROD
    assert overlays == {"only": {}}
