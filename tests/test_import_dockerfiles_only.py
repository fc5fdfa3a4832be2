"""`dockergen import` of a repository with Dockerfiles and no Compose file: every image
becomes a service of a `dev` environment that builds it (never an empty spec), and the
rendered Compose files build each from the folder `docker build` would use."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

APP = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "main.py"]\n'
NODE = "FROM node:20-alpine\nWORKDIR /srv\nCOPY package.json .\nRUN npm install\nCOPY . .\nCMD [\"node\", \"index.js\"]\n"
GO = "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app .\n\nFROM gcr.io/distroless/static\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n"

SHAPES = {
    # layout -> {service: build context} the import must build
    "one root Dockerfile": ({"Dockerfile": APP}, {"shop": "."}),
    "one root Containerfile": ({"Containerfile": APP}, {"shop": "."}),
    "one folder per app": ({"api/Dockerfile": APP, "web/Dockerfile": NODE, "worker/Dockerfile": GO}, {"api": "api", "web": "web", "worker": "worker"}),
    "variants of one image": ({"Dockerfile": APP, "Dockerfile.dev": APP.replace("slim", "bookworm")}, {"shop": "."}),
    "named Dockerfiles in one folder": ({"docker/api.Dockerfile": APP, "docker/web.Dockerfile": NODE}, {"api": "docker", "web": "docker"}),
    "one stem in two folders": ({"a/app/Dockerfile": APP, "b/app/Dockerfile": NODE}, {"app": "a/app", "app-2": "b/app"}),
}


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=root, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_dockerfiles_without_compose_become_built_services(tmp_path: Path, shape: str) -> None:
    files, expected = SHAPES[shape]
    root = tmp_path / "shop"
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    imported = _run(root, "import", ".", "--verify")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "0 unexplained" in imported.stdout
    rendered = _run(root, "render", "--force")
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    compose = shutil.which("docker-compose")
    assert compose, "the test extra installs docker-compose"
    config = subprocess.run([compose, "-f", "compose.yaml", "-f", "compose.dev.yaml", "config", "--format", "json"],
                            cwd=root, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    assert config.returncode == 0, config.stderr
    services = json.loads(config.stdout)["services"]
    assert {name: Path(s["build"]["context"]).relative_to(root).as_posix() or "." for name, s in services.items()} == expected
    for service in services.values():
        assert (Path(service["build"]["context"]) / service["build"]["dockerfile"]).is_file()
