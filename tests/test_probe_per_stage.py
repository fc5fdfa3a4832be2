"""The healthcheck Compose runs uses a tool the running stage's image has: a static node
build (`serve: nginx`) runs nginx's image only in its prod stage, and the node image (no
wget) in dev and test, whatever the stages are called and wherever the check is declared.
Judged by docker-compose's merged config and BuildKit's parse of the Dockerfile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dockergen.pipeline import render
from dockergen.write import write_files
from tests.tools import compose_config
from tests.tools import dockerfile_stages as stages

ENVIRONMENTS = {"dev": {}, "test": {}, "staging": {}, "prod": {}, "preview": {"extends": "dev"}, "qa": {"extends": "prod"}}
RENAMES = [None, {"dev": "develop", "prod": "release"}, {"test": "ci", "base": "runtime"}]
HEALTH = [{"http": "/"}, {"http": "/healthz", "interval": "5s"}]


def image_of(stage: str, found: dict[str, tuple[str, list[Any]]]) -> str:
    """The image a stage runs: its FROM, followed through earlier stages."""
    while stage in found:
        stage = found[stage][0].lower()
    return stage


@pytest.mark.parametrize("renames", RENAMES)
@pytest.mark.parametrize("health", HEALTH)
@pytest.mark.parametrize("where", ["service", "environment"])
def test_each_environment_probes_with_a_tool_of_the_image_it_runs(renames: Any, health: dict[str, str], where: str, tmp_path: Path) -> None:
    build: dict[str, Any] = {"family": "node", "context": "web", "port": 8080, "node": {"serve": "nginx", "output": "dist"}}
    if renames:
        build["stage_names"] = renames
    service: dict[str, Any] = {"build": build}
    if where == "service":
        service["healthcheck"] = health
    else:
        service["environments"] = {name: {"healthcheck": health} for name in ENVIRONMENTS}
    spec = {"version": 1, "project": "site", "environments": ENVIRONMENTS, "services": {"web": service}}
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "package.json").write_text('{"name": "web"}')
    (tmp_path / "web" / "package-lock.json").write_text('{"lockfileVersion": 3}')
    (tmp_path / "dockergen.yaml").write_text(json.dumps(spec, indent=2))
    write_files(tmp_path, render(tmp_path / "dockergen.yaml").files)
    found = stages(tmp_path / "web" / "Dockerfile")
    for env in ENVIRONMENTS:
        merged = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / f"compose.{env}.yaml"])["services"]["web"]
        target = merged["build"].get("target") or next(reversed(found))
        if "test" not in merged.get("healthcheck", {}):
            assert env == "test" and merged["healthcheck"].get("disable"), merged.get("healthcheck")  # it runs the suite
            continue
        tool = merged["healthcheck"]["test"][1]
        image = image_of(target.lower(), found)
        assert tool == ("wget" if "nginx" in image else "node"), (env, target, image, merged["healthcheck"]["test"])
        assert health["http"] in merged["healthcheck"]["test"][-1]
