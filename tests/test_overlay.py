"""The base/overlay split, checked against the real Compose merge on hard cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dockergen.render.overlay import merge_like_compose, split
from tests.tools import canonical, compose_config, validate_compose_schema

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


def _half_entries(prod_ulimit: dict[str, int], prod_dep: dict[str, Any]) -> dict[str, dict[str, Any]]:
    def doc(ulimit: dict[str, int], dep: dict[str, Any]) -> dict[str, Any]:
        api = {"image": "api", "ulimits": {"nofile": ulimit}, "depends_on": {"db": dep}}
        return {"name": "p", "services": {"api": api, "db": {"image": "db"}}}

    return {"dev": doc({"soft": 1024, "hard": 4096}, {"condition": "service_started"}), "prod": doc(prod_ulimit, prod_dep)}


@pytest.mark.parametrize(
    ("ulimit", "dep"),
    [({"soft": 2048, "hard": 4096}, {"condition": "service_started", "restart": True}), ({"soft": 1024, "hard": 8192}, {"condition": "service_healthy"})],
)
def test_entries_compose_takes_or_validates_whole_stay_whole(ulimit: dict[str, int], dep: dict[str, Any], tmp_path: Path) -> None:
    """A ulimit or dependency shared in part would leave the base `nofile: {hard: 4096}` and
    an overlay `db: {restart: true}`: Compose validates each file alone and refuses both."""
    docs = _half_entries(ulimit, dep)
    base, overlays = split(docs)
    for doc in (base, *overlays.values()):
        assert validate_compose_schema(doc) == []
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "prod.json").write_text(json.dumps(overlays["prod"]))
    (tmp_path / "full.json").write_text(json.dumps(docs["prod"]))
    merged = compose_config(tmp_path, [tmp_path / "base.json", tmp_path / "prod.json"])
    assert merged == compose_config(tmp_path, [tmp_path / "full.json"])
    assert canonical(merge_like_compose(base, overlays["prod"])) == canonical(docs["prod"])



def test_an_extension_that_differs_goes_whole_into_each_overlay() -> None:
    """Older Compose releases replaced an `x-` mapping of a later file whole: a shared
    half in the base would be lost there."""
    docs = {
        env: {"name": "p", "services": {"a": {"image": "a", "x-tier": dict(value)}}, "x-owner": dict(value)}
        for env, value in (("dev", {"team": "web", "pager": "dev"}), ("prod", {"team": "web", "pager": "oncall"}))
    }
    base, overlays = split(docs)
    assert "x-owner" not in base and "x-tier" not in base["services"]["a"]
    for env, doc in docs.items():
        assert overlays[env]["x-owner"] == doc["x-owner"]
        assert overlays[env]["services"]["a"]["x-tier"] == doc["services"]["a"]["x-tier"]
