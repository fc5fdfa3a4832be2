"""dockergen init: on four kinds of repository (Python/pip, Python/poetry, Node/Next, Go)
the starter spec renders, passes `check`, lint, hadolint and the Compose CLI; existing
Docker files send the user to `import`; an existing spec is never replaced silently."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dockergen.cli import main
from dockergen.commands.schema import schema_text
from tests.conftest import ROOT
from tests.tools import compose, hadolint

REPOS: dict[str, dict[str, str]] = {
    "python-pip": {
        "requirements.txt": "fastapi==0.111.0\nuvicorn[standard]==0.30.1\npsycopg[binary]==3.1.19\n",
        "requirements-dev.txt": "-r requirements.txt\npytest\n",
        "app/__init__.py": "",
        "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    },
    "python-poetry": {
        "pyproject.toml": '[tool.poetry]\nname = "svc"\n\n[tool.poetry.dependencies]\npython = "~3.11"\nflask = "^3.0"\ngunicorn = "^22.0"\nredis = "^5.0"\n',
        "poetry.lock": "# poetry lock\n",
        "svc/__init__.py": "",
        "svc/web.py": "from flask import Flask\n\napp = Flask(__name__)\n",
    },
    "node-next": {
        "package.json": json.dumps({
            "name": "site", "scripts": {"dev": "next dev", "build": "next build", "start": "next start"},
            "dependencies": {"next": "14.2.3", "react": "18.3.1", "react-dom": "18.3.1"}, "engines": {"node": "20.x"},
        }),  # fmt: skip
        "package-lock.json": '{"lockfileVersion": 3}\n',
        "pages/index.js": "export default function Home() { return 'hi' }\n",
    },
    "go": {
        "go.mod": "module example.com/svc\n\ngo 1.22\n\nrequire github.com/jackc/pgx/v5 v5.6.0\n",
        "go.sum": "",
        "cmd/server/main.go": "package main\n\nfunc main() {}\n",
    },
}
EXPECTED = {
    "python-pip": ("family: python", 'app: "app.main:app"', "dev_requirements: requirements-dev.txt", "db:"),
    "python-poetry": ("interface: wsgi", 'version: "3.11"', "poetry export", "cache:"),
    "node-next": ("family: node", '"node_modules/.bin/next", "start"', "healthcheck: {http: /}"),
    "go": ("family: generic", "golang:1.22-alpine", "./cmd/server", "distroless", "db:"),
}


def make_repo(root: Path, name: str) -> Path:
    for relative, text in REPOS[name].items():
        path = root / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / name


def invoke(*args: str, input: str | None = None):  # noqa: ANN201, A002
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def dockergen(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("repo", sorted(REPOS))
def test_starter_spec_renders_and_passes_check_lint_hadolint_and_compose(repo: str, tmp_path: Path) -> None:
    path = make_repo(tmp_path, repo)
    result = invoke("init", str(path), "--yes")
    assert result.exit_code == 0, result.output
    text = (path / "dockergen.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=dockergen.schema.json\n")
    assert (path / "dockergen.schema.json").read_text() == schema_text()
    for needle in EXPECTED[repo]:
        assert needle in text, needle
    assert text.count("\n  dev: {}") == 1 and "extends: prod" in text, "the five standard environments"

    rendered = dockergen(path, "render", "-q")
    assert rendered.returncode == 0, rendered.stderr
    assert dockergen(path, "check").returncode == 0
    lint = dockergen(path, "lint", "--format", "json")
    assert lint.returncode == 0, lint.stdout
    assert [f for f in json.loads(lint.stdout)["findings"] if f["rule"].startswith("hadolint/")] == []
    for dockerfile in path.rglob("Dockerfile*"):
        assert hadolint(dockerfile).returncode == 0, hadolint(dockerfile).stdout
    for env in ("dev", "test", "staging", "prod", "podman"):
        checked = compose(path, [path / "compose.yaml", path / f"compose.{env}.yaml"], "config", "-q", env={"POSTGRES_PASSWORD": "x"})
        assert checked.returncode == 0, (env, checked.stderr)


def test_existing_docker_files_recommend_import_and_write_nothing(tmp_path: Path) -> None:
    path = make_repo(tmp_path, "python-pip")
    (path / "docker-compose.yml").write_text("services: {app: {build: .}}\n")
    (path / "app" / "Dockerfile").write_text("FROM python:3.12-slim\n")
    result = invoke("init", str(path), "--yes")
    assert result.exit_code == 1
    assert "docker-compose.yml" in result.output and "app/Dockerfile" in result.output
    assert f"dockergen import {path}" in result.output
    assert not (path / "dockergen.yaml").exists() and not (path / "dockergen.schema.json").exists()


def test_an_existing_spec_is_replaced_only_with_force_and_generated_files_do_not_count(tmp_path: Path) -> None:
    path = make_repo(tmp_path, "go")
    assert invoke("init", str(path), "--yes").exit_code == 0
    assert dockergen(path, "render", "-q").returncode == 0  # now a generated Dockerfile and compose files exist
    (path / "dockergen.yaml").write_text((path / "dockergen.yaml").read_text() + "# mine\n")
    again = invoke("init", str(path), "--yes")
    assert again.exit_code == 1 and "--force" in again.output
    assert (path / "dockergen.yaml").read_text().endswith("# mine\n")
    forced = invoke("init", str(path), "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    assert not (path / "dockergen.yaml").read_text().endswith("# mine\n")


def test_nothing_to_containerize_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello\n")
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 2 and "no Python, Node or Go project found" in result.output
    assert not (tmp_path / "dockergen.yaml").exists()


def test_prompts_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_repo(tmp_path, "python-pip")
    monkeypatch.setattr("dockergen.commands.init.stdin_is_terminal", lambda: True)
    # project name, service name (first an invalid one), port, health path, PostgreSQL?, Redis?
    result = invoke("init", str(path), input="shop\nBad Name\napi\n9000\n/healthz\nn\ny\n")
    assert result.exit_code == 0, result.output
    text = (path / "dockergen.yaml").read_text()
    assert "project: shop" in text and "\n  api:\n" in text and "port: 9000" in text and '"9000:9000"' in text
    assert "{http: /healthz}" in text
    assert "\n  db:" not in text and "DATABASE_URL" not in text, "declined although psycopg is used"
    assert "\n  cache:" in text and "REDIS_URL: redis://cache:6379/0" in text, "asked for: wired to the app"
    assert "lowercase letters" in result.output
    assert dockergen(path, "validate").returncode == 0


def test_monorepo_gets_one_service_per_app_and_schema_option(tmp_path: Path) -> None:
    make_repo(tmp_path / "mono" / "services", "go")
    make_repo(tmp_path / "mono", "node-next")
    (tmp_path / "mono" / "node-next").rename(tmp_path / "mono" / "web")
    (tmp_path / "mono" / "services" / "go").rename(tmp_path / "mono" / "services" / "Api")
    result = dockergen(tmp_path / "mono", "init", "--yes", "--schema", "https://example.com/dockergen.schema.json")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "mono" / "dockergen.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=https://example.com/dockergen.schema.json\n")
    assert not (tmp_path / "mono" / "dockergen.schema.json").exists()
    assert "\n  api:\n" in text and "context: services/Api" in text and "\n  web:\n" in text and "context: web" in text
    assert dockergen(tmp_path / "mono", "render", "-q").returncode == 0
