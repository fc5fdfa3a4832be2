"""The README's path for a new user, on a real engine: an app with no Docker files,
`dockergen init`, `dockergen render`, `.env` from `.env.example`, then
`dockergen compose dev up` brings a healthy dev stack (built from the generated
Dockerfile's dev stage, the source bind-mounted) and `dockergen compose dev down` removes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e import engine as eng

APP = {
    "requirements.txt": "fastapi\nuvicorn\nredis\n",
    "main.py": (
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
        "@app.get('/health')\ndef health() -> dict:\n    return {'ok': True}\n"
    ),
}
PORT = 8000


def dockergen(cwd: Path, engine: eng.Engine, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**engine.compose_env(), "DOCKERGEN_COMPOSE": "docker-compose", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)


def test_init_render_and_compose_dev_up_give_a_healthy_stack(engine: eng.Engine, workspace: Path) -> None:
    repo = workspace / f"{eng.PROJECT_PREFIX}newcomer"
    (repo / "web").mkdir(parents=True)
    for name, text in APP.items():
        (repo / "web" / name).write_text(text)

    init = dockergen(repo, engine, "init", "--yes")
    assert init.returncode == 0, init.stderr
    render = dockergen(repo, engine, "render")
    assert render.returncode == 0, render.stderr
    assert "dockergen compose dev up" in render.stdout
    example = (repo / ".env.example").read_text()
    (repo / ".env").write_text(example.replace("POSTGRES_PASSWORD=", "POSTGRES_PASSWORD=newcomer-password"))

    config = json.loads(dockergen(repo, engine, "compose", "dev", "config", "--format", "json").stdout)
    built = [s["image"] for s in config["services"].values() if s.get("build") and s.get("image")]
    with eng.exclusive():
        assert not eng.port_in_use(PORT), f"host port {PORT} is in use: stop what listens there"
        try:
            up = dockergen(repo, engine, "compose", "dev", "up", "--detach", "--wait", "--wait-timeout", "300", timeout=1200)
            assert up.returncode == 0, up.stderr[-3000:]
            listed = dockergen(repo, engine, "compose", "dev", "ps", "--format", "json").stdout
            states = [json.loads(line) for line in listed.splitlines() if line.strip()]
            assert {s["Service"]: s["Health"] for s in states} == {name: "healthy" for name in config["services"]}
            status, body = eng.http_get(f"http://127.0.0.1:{PORT}/health")
            assert status == 200 and json.loads(body) == {"ok": True}
        finally:
            down = dockergen(repo, engine, "compose", "dev", "down", "--volumes", "--remove-orphans", "--timeout", "1", timeout=300)
            for image in built:  # what this test built; stand-ins and other images stay
                eng.podman("rmi", "--force", eng.docker_reference(image), check=False)
    assert down.returncode == 0, down.stderr
