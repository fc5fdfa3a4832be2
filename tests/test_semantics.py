"""Semantic validation: what types alone cannot catch, each located at its cause."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAD = "version: 1\nproject: demo\nenvironments: {dev: {}, prod: {}}\n"
API = "  api:\n    build: {family: python, context: api, port: 8000, python: {app: 'app:app'}}\n"

CASES = [
    (
        "dependency-cycle",
        HEAD + "services:\n  a: {image: busybox:1, depends_on: [b]}\n  b: {image: busybox:1, depends_on: [c]}\n  c: {image: busybox:1, depends_on: [a]}\n",
        "5:25: error: services.a.depends_on: dependency cycle: a -> b -> c -> a",
    ),
    (
        "healthy-without-healthcheck",
        HEAD + "services:\n  a:\n    image: busybox:1\n    depends_on:\n      b: {condition: service_healthy}\n" + API.replace("api", "b"),
        "8:7: error: services.a.depends_on.b: waits for 'b' to be healthy, but 'b' has no healthcheck",
    ),
    (
        "healthy-without-healthcheck-in-one-env",
        HEAD
        + "services:\n  a:\n    image: busybox:1\n    depends_on:\n      b: {condition: service_healthy}\n"
        + "  b:\n    image: busybox:1\n    healthcheck: {test: [CMD, 'true']}\n    environments: {prod: {healthcheck: {disable: true}}}\n",
        "healthcheck (in prod)",
    ),
    (
        "same-host-port",
        HEAD + "services:\n  a: {image: busybox:1, ports: ['8080:80']}\n  b: {image: busybox:1, ports: ['127.0.0.1:8080:81']}\n",
        "6:25: error: services.b.ports: host port 8080/tcp is published by both 'a' and 'b'",
    ),
    (
        "port-out-of-range",
        HEAD + "services:\n  a: {image: busybox:1, ports: ['70000:80']}\n",
        "services.a.ports: '70000:80': host port 70000 is outside 1-65535",
    ),
    ("context-outside", HEAD + "services:\n  api:\n    build: {family: python, context: ../elsewhere}\n", "'../elsewhere' leaves the project directory"),
    ("context-absolute", HEAD + "services:\n  api:\n    build: {family: python, context: /etc}\n", "'/etc' must be a relative path inside the project"),
    ("output-outside", HEAD + "output: {compose_file: ../compose.yaml}\nservices:\n  a: {image: busybox:1}\n", "output.compose_file: '../compose.yaml' leaves"),
    (
        "secret-in-build-env",
        HEAD + "services:\n" + API.replace("port: 8000", "port: 8000, env: {GITHUB_TOKEN: x}"),
        "services.api.build.env.GITHUB_TOKEN: GITHUB_TOKEN looks like a secret",
    ),
    (
        "secret-build-arg",
        HEAD + "services:\n" + API + "    build_args: {NPM_TOKEN: x}\n",
        "build arg NPM_TOKEN looks like a secret",
    ),
    ("undeclared-secret", HEAD + "services:\n  a: {image: busybox:1, secrets: [db_password]}\n", "secret 'db_password' is not declared"),
]


def run(tmp_path: Path, spec: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "dockergen.yaml").write_text(spec)
    (tmp_path / "api").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "dockergen", "render"], cwd=tmp_path, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("name", "spec", "expected"), CASES, ids=[c[0] for c in CASES])
def test_semantic_errors_are_located_and_write_nothing(name: str, spec: str, expected: str, tmp_path: Path) -> None:
    result = run(tmp_path, spec)
    assert result.returncode == 2, result.stdout
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api", "dockergen.yaml"]


def test_literal_secret_is_a_warning_and_rendering_goes_on(tmp_path: Path) -> None:
    spec = HEAD + "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: hunter2\n      API_KEY: ${API_KEY}\n"
    result = run(tmp_path, spec)
    assert result.returncode == 0
    assert "dockergen.yaml:8:7: warning: services.db.environment.POSTGRES_PASSWORD: POSTGRES_PASSWORD has a literal value" in result.stderr
    assert "API_KEY" not in result.stderr  # interpolated: fine
    env_example = (tmp_path / ".env.example").read_text()
    assert "hunter2" not in env_example and "API_KEY=\n" in env_example


def test_symlinked_context_leaving_the_project_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    project = tmp_path / "project"
    outside.mkdir()
    project.mkdir()
    os.symlink(outside, project / "api")
    (project / "dockergen.yaml").write_text(HEAD + "services:\n" + API)
    result = subprocess.run([sys.executable, "-m", "dockergen", "validate"], cwd=project, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "resolves (through a symbolic link) outside the project" in result.stderr


def test_build_secrets_are_mounted_not_baked(tmp_path: Path) -> None:
    spec = (
        HEAD
        + "secrets:\n  pip_conf: {file: ./pip.conf}\nservices:\n"
        + API.replace("port: 8000", "port: 8000, secrets: [pip_conf], env: {PIP_CONFIG_FILE: /run/secrets/pip_conf}")
    )
    result = run(tmp_path, spec)
    assert result.returncode == 0, result.stderr
    dockerfile = (tmp_path / "api" / "Dockerfile").read_text()
    assert "--mount=type=secret,id=pip_conf" in dockerfile
    compose = (tmp_path / "compose.yaml").read_text()
    assert "secrets:\n        - pip_conf" in compose


def test_waiting_on_a_third_party_image_without_a_spec_healthcheck_is_only_a_warning(tmp_path: Path) -> None:
    spec = HEAD + "services:\n  a:\n    image: busybox:1\n    depends_on:\n      b: {condition: service_healthy}\n  b: {image: vendor/app:1}\n"
    result = run(tmp_path, spec)
    assert result.returncode == 0
    assert "warning: services.a.depends_on.b: waits for 'b' to be healthy, but 'b' has no healthcheck in the spec" in result.stderr


def test_ports_with_variables_are_not_judged(tmp_path: Path) -> None:
    spec = HEAD + "services:\n  a: {image: busybox:1, ports: ['${A_PORT:-8080}:80', '127.0.0.1:${B_PORT}:81']}\n"
    assert run(tmp_path, spec).returncode == 0


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("POSTGRES_PASSWORD", True), ("PGPASSWORD", True), ("GITHUB_TOKEN", True), ("APIKEY", True), ("api-key", True),
        ("AWS_SECRET_ACCESS_KEY", True), ("JWT_PRIVATE_KEY", True), ("REDIS_PASS", True), ("db.password", True),
        # Words, not substrings: none of these holds a secret.
        ("MONKEY_MODE", False), ("KEYCLOAK_URL", False), ("TOKENIZER_MODEL", False), ("PASSENGER_ENV", False), ("PWD", False),
        # Points at the secret, or public by design.
        ("SECRET_KEY_FILE", False), ("DB_PASSWORD_PATH", False), ("TOKEN_URL", False), ("PUBLIC_KEY", False),
        ("NEXT_PUBLIC_STRIPE_KEY", False), ("COREPACK_INTEGRITY_KEYS", False),
    ],
)  # fmt: skip
def test_secret_names_are_judged_by_their_words(name: str, secret: bool) -> None:
    from dockergen.sensitive import looks_secret

    assert looks_secret(name) is secret


def test_build_env_names_that_only_contain_a_secret_word_render(tmp_path: Path) -> None:
    env = "{MONKEY_MODE: '1', COREPACK_INTEGRITY_KEYS: '0', PIP_TOKEN_FILE: /run/secrets/t}"
    result = run(tmp_path, HEAD + "services:\n" + API.replace("port: 8000", f"port: 8000, env: {env}"))
    assert result.returncode == 0, result.stderr
    assert 'MONKEY_MODE="1"' in (tmp_path / "api" / "Dockerfile").read_text()


def test_a_probe_written_in_the_escape_hatch_counts_as_a_healthcheck(tmp_path: Path) -> None:
    # Interpolated timings only go through `compose:`; waiting for that probe is no error.
    spec = (
        HEAD + "services:\n  a:\n    image: busybox:1\n    depends_on:\n      b: {condition: service_healthy}\n"
        + API.replace("api", "b") + "    compose: {healthcheck: {test: [CMD, 'true'], interval: $PROBE_EVERY}}\n"
    )
    result = run(tmp_path, spec)
    assert result.returncode == 0, result.stderr
    assert "has no healthcheck" not in result.stderr


def test_ports_with_defaulted_variables_are_read_as_ports(tmp_path: Path) -> None:
    # `${VAR:-default}`'s `:-` is no separator: these are ip:host:container and host:container.
    spec = HEAD + "services:\n  a:\n    image: busybox:1\n    ports: ['127.0.0.1:${ADMIN_PORT:-8888}:8888', '${MEDIA_PORT:-10000}:${MEDIA_PORT:-10000}/udp']\n"
    result = run(tmp_path, spec)
    assert result.returncode == 0, result.stderr
    assert "127.0.0.1:${ADMIN_PORT:-8888}:8888" in (tmp_path / "compose.yaml").read_text()
