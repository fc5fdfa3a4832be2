"""Import styles met in real repositories: per-project .env files of included Compose files,
contexts that hold only a Containerfile, Dockerfiles in generic source folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dockergen.importer.group.builds import stem_of


def tree(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def imported(root: Path, cli: bool) -> dict:
    argv = [sys.executable, "-m", "dockergen", "import", str(root), "--verify", "--force", *([] if cli else ["--no-compose-cli"])]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, env={k: v for k, v in os.environ.items() if not k.startswith("DOCKERGEN_")})
    assert result.returncode == 0 and " 0 unexplained" in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]
    rendered = subprocess.run([sys.executable, "-m", "dockergen", "render", "--spec", str(root / "dockergen.yaml"), "--force", "-q"],
                              capture_output=True, text=True, timeout=300)  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    return yaml.safe_load((root / "dockergen.yaml").read_text())


@pytest.mark.parametrize("cli", [True, False], ids=["compose-cli", "own-merge"])
@pytest.mark.parametrize("include", [
    "  - path: ./billing/compose.yaml\n    project_directory: ./billing\n",
    "  - path: ./billing/compose.yaml\n",
    "  - path: ./billing/compose.yaml\n    env_file: ./billing/.env\n",
    "  - billing/compose.yaml\n",
])  # fmt: skip
def test_an_included_file_keeps_the_values_of_its_own_env_file(tmp_path: Path, include: str, cli: bool) -> None:
    # Compose interpolates an included file with its project directory's .env (or the
    # include's env_file), not the root's that the rendered files read: the values it gives
    # must be the ones the spec writes. A variable both .env files agree on stays a variable.
    root = tree(tmp_path / "repo", {
        "compose.yaml": "include:\n" + include + "services:\n  web:\n    image: web:${WEB_TAG}\n    depends_on: [billing]\n",
        ".env": "WEB_TAG=3\nREGION=eu\n",
        "billing/compose.yaml": "services:\n  billing:\n    image: billing:${BILLING_TAG:-1}\n"
                                "    environment:\n      PROFILE: ${PROFILE}\n      REGION: ${REGION}\n      PLAIN: $$HOME\n",
        "billing/.env": "BILLING_TAG=7\nPROFILE=docker\nREGION=eu\n",
    })  # fmt: skip
    spec = imported(root, cli)
    billing = spec["services"]["billing"]
    assert billing["image"] == "billing:7" and billing["environment"]["PROFILE"] == "docker"
    assert billing["environment"]["REGION"] == "${REGION}" and spec["services"]["web"]["image"] == "web:${WEB_TAG}"


@pytest.mark.parametrize("cli", [True, False], ids=["compose-cli", "own-merge"])
def test_a_context_with_only_a_containerfile_builds_it(tmp_path: Path, cli: bool) -> None:
    # podman and buildah build a context's Containerfile when no Dockerfile names another; the
    # spec builds that file and the rendered Compose file names it (docker compose needs that).
    # A context a variable picks keeps naming no file, so each folder's own is built.
    root = tree(tmp_path / "repo", {
        "compose.yaml": "services:\n  api:\n    build: ./api\n  tool:\n    build:\n      context: ./tools/${TOOL:-lint}\n",
        "api/Containerfile": "FROM alpine:3.20\nRUN echo api > /api\n",
        "api/.containerignore": "*.log\n",
        "tools/lint/Containerfile": "FROM alpine:3.20\nRUN echo lint\n",
    })  # fmt: skip
    spec = imported(root, cli)
    assert spec["services"]["api"]["build"]["dockerfile"] == "api/Containerfile"
    rendered = yaml.safe_load((root / "compose.yaml").read_text())
    assert rendered["services"]["api"]["build"]["dockerfile"].endswith("Containerfile")
    assert rendered["services"]["tool"]["build"] == {"context": "./tools/${TOOL:-lint}"}


@pytest.mark.parametrize(("path", "stem"), [
    ("src/cartservice/src/Dockerfile", "cartservice"),
    ("services/api/docker/Dockerfile", "api"),
    ("docker/Dockerfile", ""),
    ("src/Dockerfile", ""),
    ("api/Dockerfile.dev", "api"),
    ("worker/Containerfile", "worker"),
    ("docker/Dockerfile-worker", "worker"),
])  # fmt: skip
def test_a_dockerfile_in_a_source_folder_is_named_for_the_folder_that_names_it(path: str, stem: str) -> None:
    assert stem_of(path) == stem


@pytest.mark.parametrize("folder, value, expected", [
    ("docker", "./library", "./docker/library"),
    ("deploy/compose", "../uploads", "./deploy/uploads"),
    ("docker", ".", "./docker"),
    ("docker", "/srv/library", None),
])  # fmt: skip
def test_a_bind_variable_with_a_relative_value_keeps_its_folder(tmp_path: Path, folder: str, value: str, expected: str | None) -> None:
    # Immich-style: the compose file and its .env live in a subfolder; `${UPLOAD_LOCATION}`
    # is relative to that folder, the rendered files' to the root. An absolute one stays a variable.
    root = tree(tmp_path / "repo", {
        f"{folder}/docker-compose.yml": "services:\n  server:\n    image: ghcr.io/acme/photos:${VERSION:-release}\n"
                                        "    volumes:\n      - ${UPLOAD_LOCATION}:/data\n    env_file: [.env]\n",
        f"{folder}/.env": f"UPLOAD_LOCATION={value} # where photos go\nVERSION=v1.2\n",
    })  # fmt: skip
    spec = imported(root, cli=True)
    volumes = spec["services"]["server"]["volumes"]
    assert volumes == ([{"type": "bind", "source": expected, "target": "/data"}] if expected else ["${UPLOAD_LOCATION}:/data"])


def test_a_bind_variable_defaulting_to_a_relative_path_stays_a_variable(tmp_path: Path) -> None:
    root = tree(tmp_path / "repo", {
        "src/compose.yaml": "services:\n  t:\n    image: alpine:3\n    volumes:\n      - ${OUT_DIR:-./out/}:/results\n",
        "src/.env": "OTHER=1\n",
    })  # fmt: skip
    assert "${OUT_DIR:-./src/out/}" in imported(root, cli=True)["services"]["t"]["volumes"][0]


@pytest.mark.parametrize("cli", [True, False], ids=["compose-cli", "own-merge"])
def test_a_host_path_starting_with_a_variable_stays_as_written(tmp_path: Path, cli: bool) -> None:
    # `${HOME}/.npmrc`: the uninterpolated Compose CLI puts it under the project folder, but its
    # value is absolute; the spec must not prefix `./` (the rendered file would read ./root/.npmrc).
    root = tree(tmp_path / "repo", {
        "Dockerfile": "FROM alpine:3.20\nRUN --mount=type=secret,id=npmrc true\n",
        "compose.yaml": "services:\n  app:\n    build:\n      context: .\n      secrets: [npmrc]\n"
                        "    volumes:\n      - ${HOME}/.cache/app:/cache\n"
                        "secrets:\n  npmrc:\n    file: ${HOME}/.npmrc\n",
    })  # fmt: skip
    spec = imported(root, cli)
    assert spec["secrets"]["npmrc"] == {"file": "${HOME}/.npmrc"}
    assert spec["services"]["app"]["volumes"] == ["${HOME}/.cache/app:/cache"]


@pytest.mark.parametrize("cli", [True, False], ids=["compose-cli", "own-merge"])
def test_a_context_variable_defaulting_to_a_folder_builds_that_folder_natively(tmp_path: Path, cli: bool) -> None:
    # `context: ${APP_CONTEXT:-./app}` (a hook for another checkout's path) that no .env sets
    # builds ./app in every run: the spec takes over its Dockerfile instead of carrying it verbatim.
    files = {
        "app/Dockerfile.dev": "FROM node:22-alpine\nWORKDIR /srv\nCMD [\"node\", \"server.js\"]\n",
        "compose.yaml": "services:\n  web:\n    build:\n      context: ${APP_CONTEXT:-./app}\n      dockerfile: Dockerfile.dev\n",
    }
    spec = imported(tree(tmp_path / "repo", files), cli)
    web = spec["services"]["web"]
    assert web["build"]["context"] == "app" and web["build"]["steps"][0] == "FROM node:22-alpine" and "compose" not in web
    # Set in the .env, the variable chooses: the build stays Compose's own.
    spec = imported(tree(tmp_path / "other", {**files, "app2/Dockerfile.dev": "FROM node:20-alpine\n", ".env": "APP_CONTEXT=./app2\n"}), cli)
    assert "build" not in spec["services"]["web"] and spec["services"]["web"]["compose"]["build"]["context"] == "${APP_CONTEXT:-./app}"


@pytest.mark.parametrize("cli", [True, False], ids=["compose-cli", "own-merge"])
def test_a_none_healthcheck_test_is_a_disabled_healthcheck(tmp_path: Path, cli: bool) -> None:
    # `test: ["NONE"]` (an overlay switching off the base's probe, the rest of it merged in)
    # means what `disable: true` means: verify must not count the rest as differences.
    root = tree(tmp_path / "repo", {
        "compose.yaml": "services:\n  db:\n    image: mariadb:11\n    healthcheck:\n      test: [CMD, healthcheck.sh, --connect]\n"
                        "      retries: 5\n      start_period: 10s\n",
        "compose.ci.yaml": "services:\n  db:\n    healthcheck:\n      test: [NONE]\n",
        "Makefile": "ci:\n\tdocker compose -f compose.yaml -f compose.ci.yaml up\n",
    })  # fmt: skip
    spec = imported(root, cli)
    assert spec["services"]["db"]["environments"]["ci"]["healthcheck"]["disable"] is True
