"""``dockergen compose ENV ARGS...`` against the real docker-compose CLI (`config` needs no engine)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.test_drift import SPEC

COMPOSE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed (pip install -e '.[test]')")


def dockergen(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("DOCKERGEN_COMPOSE", "DOCKERGEN_DEBUG")}
    return subprocess.run(
        [sys.executable, "-m", "dockergen", *args], cwd=cwd, capture_output=True, text=True, env={**full, **(env or {})}, timeout=120
    )


def project(tmp_path: Path, spec: str = SPEC) -> Path:
    (tmp_path / "api").mkdir(exist_ok=True)
    (tmp_path / "worker").mkdir(exist_ok=True)
    (tmp_path / "dockergen.yaml").write_text(spec)
    assert dockergen(tmp_path, "render", "-q").returncode == 0
    return tmp_path


def printed(cwd: Path, *args: str) -> list[str]:
    result = dockergen(cwd, "compose", "--print", *args)
    assert result.returncode == 0, result.stderr
    words = shlex.split(result.stdout)
    return [w for w in words if "=" not in w or w.startswith("-")][1:]  # without DOCKER_HOST=... and the binary


def test_every_example_environment_is_what_compose_reads_from_the_pair(example: Path) -> None:
    """`dockergen compose ENV config` prints exactly what Compose makes of compose.yaml + the overlay."""
    spec = example / "dockergen.yaml"
    overlays = sorted(example.glob("compose.*.yaml"))
    assert overlays
    for overlay in overlays:
        env = overlay.name.removeprefix("compose.").removesuffix(".yaml")
        direct = subprocess.run(
            [COMPOSE, "-f", "compose.yaml", "-f", overlay.name, "config", "--format", "json"], cwd=example, capture_output=True, text=True, timeout=60
        )
        ours = dockergen(example.parent.parent, "compose", "--spec", str(spec.relative_to(example.parent.parent)), env, "config", "--format", "json",
                         env={"DOCKERGEN_COMPOSE": COMPOSE})  # fmt: skip
        assert ours.returncode == direct.returncode == 0, ours.stderr
        assert json.loads(ours.stdout) == json.loads(direct.stdout), env


def test_the_f_chain_and_project_name(tmp_path: Path) -> None:
    repo = project(tmp_path)
    assert printed(repo, "dev", "up", "--watch") == ["-p", "shop", "-f", "compose.yaml", "-f", "compose.dev.yaml", "up", "--watch"]
    # A test run is a project of its own (tests/test_project_names.py): it leaves dev's containers alone.
    assert printed(repo, "test", "run", "--rm", "api") == ["-p", "shop-test", "-f", "compose.yaml", "-f", "compose.test.yaml", "run", "--rm", "api"]
    # Compose's own global options go through untouched, before its subcommand.
    assert printed(repo, "prod", "--profile", "debug", "up", "-d")[-4:] == ["--profile", "debug", "up", "-d"]


def test_custom_names_spec_elsewhere_and_per_environment_project(tmp_path: Path) -> None:
    spec = SPEC.replace(
        "environments: {dev: {}, test: {}, prod: {}}",
        "output: {compose_file: docker/base.yaml, overlay: 'docker/{env}.override.yaml'}\n"
        "environments: {dev: {}, test: {project: shop-test}, prod: {compose_file: deploy/production.yaml}}",
    )
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    project(deploy, spec)
    assert printed(tmp_path, "--spec", "deploy/dockergen.yaml", "dev", "ps") == [
        "-p", "shop", "-f", "deploy/docker/base.yaml", "-f", "deploy/docker/dev.override.yaml", "ps"]  # fmt: skip
    assert printed(tmp_path, "--spec", "deploy/dockergen.yaml", "test", "ps")[:2] == ["-p", "shop-test"]
    assert printed(tmp_path, "--spec", "deploy/dockergen.yaml", "prod", "ps")[2:6] == [
        "-f", "deploy/docker/base.yaml", "-f", "deploy/deploy/production.yaml"]  # fmt: skip
    # And the real CLI reads that chain.
    result = dockergen(tmp_path, "compose", "--spec", "deploy/dockergen.yaml", "prod", "config", "--services", env={"DOCKERGEN_COMPOSE": COMPOSE})
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == ["api", "db", "worker"]


def test_a_tree_rendered_with_out(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "worker").mkdir()
    (tmp_path / "dockergen.yaml").write_text(SPEC)
    assert dockergen(tmp_path, "render", "-q", "--out", "review").returncode == 0
    assert printed(tmp_path, "--out", "review", "dev", "ps")[2:6] == ["-f", "review/compose.yaml", "-f", "review/compose.dev.yaml"]


def test_compose_exit_code_is_passed_through(tmp_path: Path) -> None:
    repo = project(tmp_path)
    direct = subprocess.run([COMPOSE, "-f", "compose.yaml", "-f", "compose.dev.yaml", "config", "--no-such-flag"], cwd=repo, capture_output=True, timeout=60)
    ours = dockergen(repo, "compose", "dev", "config", "--no-such-flag", env={"DOCKERGEN_COMPOSE": COMPOSE})
    assert direct.returncode != 0 and ours.returncode == direct.returncode
    script = tmp_path / "fake-compose"
    script.write_text("#!/bin/sh\nexit 42\n")
    script.chmod(0o755)
    assert dockergen(repo, "compose", "dev", "up", env={"DOCKERGEN_COMPOSE": str(script)}).returncode == 42


def test_no_compose_cli_installed_is_a_clear_message(tmp_path: Path) -> None:
    repo = project(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    result = dockergen(repo, "compose", "dev", "up", env={"PATH": str(bin_dir)})
    assert result.returncode == 127
    assert "no Compose CLI found" in result.stderr and "docker-compose" in result.stderr
    assert "Traceback" not in result.stderr


def test_only_the_standalone_binary_is_installed(tmp_path: Path) -> None:
    """No `docker` at all: the docker environments run docker-compose."""
    repo = project(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker-compose").symlink_to(COMPOSE)
    result = dockergen(repo, "compose", "--print", "dev", "ps", env={"PATH": str(bin_dir)})
    assert result.returncode == 0 and shlex.split(result.stdout)[0] == str(bin_dir / "docker-compose")


def test_bad_environment_not_rendered_and_stale_tree(tmp_path: Path) -> None:
    repo = project(tmp_path)
    unknown = dockergen(repo, "compose", "prd", "up")
    assert unknown.returncode == 2 and "did you mean 'prod'" in unknown.stderr
    missing_env = dockergen(repo, "compose")
    assert missing_env.returncode == 2 and "ENV" in missing_env.stderr

    (repo / "compose.dev.yaml").unlink()
    missing = dockergen(repo, "compose", "dev", "ps")
    assert missing.returncode == 2 and "dockergen render" in missing.stderr

    assert dockergen(repo, "render", "-q").returncode == 0
    (repo / "dockergen.yaml").write_text(SPEC.replace("postgres:16-alpine", "postgres:17-alpine"))
    stale = dockergen(repo, "compose", "dev", "config", "-q", env={"DOCKERGEN_COMPOSE": COMPOSE})
    assert stale.returncode == 0 and "differ from" in stale.stderr and "dockergen render" in stale.stderr


def test_an_environments_env_file_interpolates_its_files_in_dockergen_compose_and_the_header(tmp_path: Path) -> None:
    """`environments.<env>.env_file` is Compose's --env-file: inherited along extends, passed
    by `dockergen compose`, named in the overlay's header; the real CLI interpolates from it."""
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / ".env.prod").write_text("TAG=1.2.3\nPORT=8081\n")
    (tmp_path / ".env").write_text("TAG=from-root\n")
    project(tmp_path, "version: 1\nproject: shop\n"
            "environments: {dev: {}, prod: {env_file: deploy/.env.prod}, podman: {extends: prod, engine: podman}}\n"
            "services:\n  web:\n    image: 'nginx:${TAG:-none}'\n    ports: ['${PORT:-8080}:80']\n")  # fmt: skip
    assert printed(tmp_path, "prod", "ps")[:4] == ["-p", "shop", "--env-file", "deploy/.env.prod"]
    assert "--env-file" in printed(tmp_path, "podman", "ps") and "--env-file" not in printed(tmp_path, "dev", "ps")
    assert "docker compose --env-file deploy/.env.prod -f compose.yaml -f compose.prod.yaml up" in (tmp_path / "compose.prod.yaml").read_text()
    for env, tag, port in (("prod", "1.2.3", "8081"), ("dev", "from-root", "8080")):
        result = dockergen(tmp_path, "compose", env, "config", "--format", "json", env={"DOCKERGEN_COMPOSE": COMPOSE})
        assert result.returncode == 0, result.stderr
        web = json.loads(result.stdout)["services"]["web"]
        assert web["image"].endswith(f"nginx:{tag}") and web["ports"][0]["published"] == port


def test_the_render_summary_points_at_the_env_file_the_next_environment_reads(tmp_path: Path) -> None:
    spec = ("version: 1\nproject: shop\nenvironments: {dev: {env_file: deploy/.env}}\n"
            "services:\n  web:\n    image: 'nginx:1.27'\n    environment: {PW: '${PW:?set PW}'}\n")  # fmt: skip
    (tmp_path / "dockergen.yaml").write_text(spec)
    full = {k: v for k, v in os.environ.items() if k != "PW"}
    first = subprocess.run([sys.executable, "-m", "dockergen", "render"], cwd=tmp_path, capture_output=True, text=True, env=full, timeout=120)
    assert "next: cp .env.example deploy/.env and set PW in it" in first.stdout, first.stdout + first.stderr
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / ".env").write_text("PW=x\n")
    (tmp_path / "dockergen.lock").unlink()
    again = subprocess.run([sys.executable, "-m", "dockergen", "render", "--force"], cwd=tmp_path, capture_output=True, text=True, env=full, timeout=120)
    assert "next: dockergen compose dev up" in again.stdout, again.stdout + again.stderr
