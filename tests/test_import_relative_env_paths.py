"""Compose files in a subfolder whose ``.env`` gives a path: Compose resolves the value from
that folder, the rendered files sit at the root. Every host path a variable can give (bind
source, build context, env_file, secret and config files), relative or absolute, must mean
the same after import: judged by ``import --verify`` (the real Compose CLI on both sides)
and by the rendered files' own ``docker-compose config``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools import compose

COMPOSE = """\
services:
  app:
    build:
      context: ${APP_DIR}
    env_file: ${APP_ENV}
    secrets: [token]
    configs: [conf]
    volumes:
      - ${DATA}:/data
secrets:
  token:
    file: ${TOKEN_FILE}
configs:
  conf:
    file: ${CONF_FILE}
"""
RELATIVE = {"APP_DIR": "../app", "APP_ENV": "./cfg/app.env", "DATA": "./data", "TOKEN_FILE": "./cfg/token.txt", "CONF_FILE": "cfg/app.conf"}
# Absolute values of files that may be outside the project (a secret or config on the host, a bind).
ABSOLUTE = {"TOKEN_FILE": "/etc/hostname", "CONF_FILE": "/etc/hosts", "DATA": "/srv/data"}
CASES = {
    "all relative": RELATIVE,
    "absolute secret, config and bind": {**RELATIVE, **ABSOLUTE},
    "absolute secret only": {**RELATIVE, "TOKEN_FILE": "/etc/hostname"},
    "context in the subfolder": {**RELATIVE, "APP_DIR": "./app"},
}


def _project(root: Path, values: dict[str, str]) -> None:
    for rel, text in {
        "app/Dockerfile": 'FROM python:3.12-slim\nCOPY . /srv\nCMD ["python", "-m", "http.server"]\n',
        "docker/app/Dockerfile": 'FROM python:3.12-slim\nCMD ["sleep", "infinity"]\n',
        "docker/cfg/app.env": "MODE=subfolder\n",
        "docker/cfg/token.txt": "t\n",
        "docker/cfg/app.conf": "c\n",
        "docker/compose.yaml": COMPOSE,
        "docker/.env": "".join(f"{k}={v}\n" for k, v in values.items()),
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_subfolder_dotenv_path_means_the_same_after_import(tmp_path: Path, case: str) -> None:
    root = tmp_path / "repo"
    _project(root, CASES[case])
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKERGEN_")}
    result = subprocess.run([sys.executable, "-m", "dockergen", "import", str(root), "--verify"],
                            capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " 0 unexplained" in result.stdout, result.stdout[-4000:]
    rendered = subprocess.run([sys.executable, "-m", "dockergen", "render", "--spec", str(root / "dockergen.yaml"), "--force", "-q"],
                              capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr

    def config(files: list[str], *flags: str) -> dict:
        done = compose(root / posixpath_dir(files[0]), [root / f for f in files], *flags, "config", "--format", "json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    original = config(["docker/compose.yaml"])
    mine = config(["compose.yaml", "compose.dev.yaml"], "--env-file", str(root / "docker/.env"))
    theirs, ours = original["services"]["app"], mine["services"]["app"]
    assert ours["build"]["context"] == theirs["build"]["context"]
    assert [v["source"] for v in ours["volumes"]] == [v["source"] for v in theirs["volumes"]]
    assert ours.get("environment") == theirs.get("environment")  # the env_file read is the same file
    for kind, name in (("secrets", "token"), ("configs", "conf")):
        assert mine[kind][name]["file"] == original[kind][name]["file"], kind


def posixpath_dir(rel: str) -> str:
    return rel.rpartition("/")[0] or "."
