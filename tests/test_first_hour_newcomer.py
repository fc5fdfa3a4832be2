"""A newcomer's first hour, command by command from a terminal: what `init` leaves in git's
way, where the spec is when run from a subfolder, a mistyped environment or service name,
what `compose --help` leads with. Each trap is located, says what to do, exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = {"requirements.txt": "fastapi\nuvicorn[standard]\n", "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"}
SPEC = "version: 1\nproject: shop\nservices:\n  api:\n    image: nginx:1.27\n"
ENVIRONMENTS = "declared: dev, test, staging, prod, podman"


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKERGEN_NO_CACHE": "1", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "dockergen", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def fastapi_app(root: Path, gitignore: bytes | None = None) -> Path:
    for name, text in APP.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    if gitignore is not None:
        (root / ".gitignore").write_bytes(gitignore)
    return root


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (None, b"# the secrets Compose reads (made from .env.example): never commit them\n.env\n"),
        (b"__pycache__/\n", b"__pycache__/\n# the secrets Compose reads (made from .env.example): never commit them\n.env\n"),
        (b"__pycache__/", b"__pycache__/\n# the secrets Compose reads (made from .env.example): never commit them\n.env\n"),
        (b"dist\r\n\xff\xfe odd\r\n", b"dist\r\n\xff\xfe odd\r\n# the secrets Compose reads (made from .env.example): never commit them\r\n.env\r\n"),
        (b".env/\n", b".env/\n# the secrets Compose reads (made from .env.example): never commit them\n.env\n"),  # folders only
        (b"node_modules\n.env\n", None),
        (b"/.env\n", None),
        (b".env*\n!.env.example\n", None),
    ],
)
def test_init_keeps_the_secrets_file_out_of_git(tmp_path: Path, before: bytes | None, after: bytes | None) -> None:
    fastapi_app(tmp_path, before)
    result = run(tmp_path, "init", "--yes")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".gitignore").read_bytes() == (after if after is not None else before)
    assert ("added .env to .gitignore" in result.stdout) == (after is not None)
    # A second init (--force replaces the spec) adds nothing: the file already ignores .env.
    kept = (tmp_path / ".gitignore").read_bytes()
    again = run(tmp_path, "init", "--yes", "--force")
    assert again.returncode == 0 and (tmp_path / ".gitignore").read_bytes() == kept
    assert "added .env" not in again.stdout


def test_init_ignores_dot_env_for_real_git(tmp_path: Path) -> None:
    fastapi_app(tmp_path, b"*.pyc\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    assert run(tmp_path, "init", "--yes").returncode == 0
    (tmp_path / ".env").write_text("POSTGRES_PASSWORD=secret\n")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert ".env\n" not in status.stdout and "?? .gitignore" in status.stdout


def test_init_leaves_a_linked_gitignore_alone(tmp_path: Path) -> None:
    fastapi_app(tmp_path)
    (tmp_path / "shared.gitignore").write_text("*.pyc\n")
    (tmp_path / ".gitignore").symlink_to("shared.gitignore")
    assert run(tmp_path, "init", "--yes").returncode == 0
    assert (tmp_path / ".gitignore").is_symlink() and (tmp_path / "shared.gitignore").read_text() == "*.pyc\n"


@pytest.mark.parametrize("command", [["render"], ["check"], ["validate"], ["lint"], ["explain", "api"], ["compose", "dev", "config"]])
def test_run_from_a_subfolder_names_the_spec_above(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    sub = tmp_path / "app" / "routes"
    sub.mkdir(parents=True)
    result = run(sub, *command)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "dockergen.yaml: error: spec file not found (found ../../dockergen.yaml in a folder above: "
        "pass --spec ../../dockergen.yaml, or run dockergen from ../..)\n"
    )
    assert list(sub.iterdir()) == []


def test_the_spec_above_is_not_looked_for_past_the_repository(tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    (tmp_path / "other" / ".git").mkdir(parents=True)
    result = run(tmp_path / "other", "render")
    assert result.returncode == 2 and "`dockergen init` writes one" in result.stderr and "../" not in result.stderr


@pytest.mark.parametrize(
    ("command", "wrong", "close"),
    [
        (["render", "--env"], "prdo", "did you mean 'prod'? "),
        (["lint", "--no-hadolint", "--env"], "staeging", "did you mean 'staging'? "),
        (["explain", "api", "--env"], "PROD", "did you mean 'prod'? "),
        (["diff", "dev"], "tset", "did you mean 'test'? "),
        (["compose", "--print"], "dve", "did you mean 'dev'? "),
        (["render", "--env"], "qa", ""),
    ],
)
def test_an_unknown_environment_says_which_was_meant(tmp_path: Path, command: list[str], wrong: str, close: str) -> None:
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    if command[0] == "compose":
        assert run(tmp_path, "render").returncode == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run(tmp_path, *command, wrong)
    assert result.returncode == 2
    assert result.stderr == f"dockergen.yaml: error: unknown environment {wrong!r} ({close}{ENVIRONMENTS})\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_unknown_service_and_a_misspelt_environment_key_say_which_was_meant(tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(SPEC + "    environments:\n      prd: {restart: always}\n")
    result = run(tmp_path, "render")
    assert result.returncode == 2
    assert f"dockergen.yaml:7:7: error: services.api.environments.prd: unknown environment 'prd' (did you mean 'prod'? {ENVIRONMENTS})" in result.stderr
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    result = run(tmp_path, "explain", "apii")
    assert result.returncode == 2 and result.stderr == "dockergen.yaml: error: unknown service 'apii' (did you mean 'api'? services: api)\n"


def test_compose_help_leads_with_the_everyday_commands(tmp_path: Path) -> None:
    result = run(tmp_path, "compose", "--help")
    assert result.returncode == 0
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert lines[1] == "Start, stop and inspect the stack of environment ENV with Compose."
    assert lines[3].startswith("dockergen compose dev up -d --wait ")
    assert {"dockergen compose dev logs -f", "dockergen compose dev down"} <= {line.split("  ")[0] for line in lines[3:8]}


def test_init_in_a_subfolder_of_a_rendered_project_points_at_its_spec(tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    backend = fastapi_app(tmp_path / "backend")
    result = run(backend, "init", "--yes")
    assert result.returncode == 1
    assert result.stderr == (
        ".: ../dockergen.yaml in a folder above is this project's spec; nothing written "
        "(edit it, then `dockergen render --spec ../dockergen.yaml`; pass --force to start a separate spec here)\n"
    )
    assert sorted(p.name for p in backend.iterdir()) == ["app", "requirements.txt"]
    assert run(backend, "init", "--yes", "--force").returncode == 0 and (backend / "dockergen.yaml").is_file()


@pytest.mark.parametrize("output", ["text", "json"])
def test_explain_a_misspelt_key_is_an_error_not_an_empty_answer(tmp_path: Path, output: str) -> None:
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    result = run(tmp_path, "explain", "api", "heathcheck", "--format", output)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("command line: error: unknown key 'heathcheck' (did you mean 'healthcheck'? ")
    unset = run(tmp_path, "explain", "api", "user", "--env", "prod")
    assert unset.returncode == 0 and unset.stdout.splitlines()[1:] == ["  user: not set in any layer"]
    assert run(tmp_path, "explain", "api", "restart", "--env", "prod").stdout.splitlines()[1].split()[:2] == ["restart", "always"]


def test_compose_says_what_the_env_file_lacks_or_misspells(tmp_path: Path) -> None:
    """`compose dev up` before `cp .env.example .env`: Compose only says a variable is missing."""
    (tmp_path / "dockergen.yaml").write_text(SPEC + "    environment: {API_KEY: '${API_KEY:?set it in .env}', MODE: '${MODE:-fast}'}\n")
    assert run(tmp_path, "render").returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "API_KEY"}
    fake = {**env, "DOCKERGEN_COMPOSE": "true", "DOCKERGEN_NO_CACHE": "1"}

    def up() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dockergen", "compose", "dev", "up"], cwd=tmp_path, capture_output=True, text=True, env=fake, timeout=120)

    first = up()
    assert first.returncode == 0
    assert first.stderr == "note: no .env yet: `cp .env.example .env` and set API_KEY in it (Compose needs a value)\n"
    (tmp_path / ".env").write_text("API_KEY=\n")
    assert up().stderr == ""
    # A near miss in .env is silently unused by Compose (MODE's default wins, API_KEY stays empty).
    (tmp_path / ".env").write_text("MDOE=slow\nexport API_KY=secret\nUNRELATED=1\n")
    assert up().stderr == (
        "note: .env sets variables no generated file reads: API_KY (did you mean 'API_KEY'?); MDOE (did you mean 'MODE'?)\n"
    )


def test_diff_of_a_misspelt_service_is_an_error_not_no_difference(tmp_path: Path) -> None:
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    result = run(tmp_path, "diff", "dev", "prod", "--service", "apo")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "dockergen.yaml: error: unknown service 'apo' (did you mean 'api'? services: api)\n"
    assert "restart" in run(tmp_path, "diff", "dev", "prod", "--service", "api").stdout
