"""`import` writes names that differ only by the service's own once per environment, with
`{service}` (`spec.names`): container names, network aliases and image names of a sprawl
that prefixes every service by its environment. Judged by `--verify` (the real Compose CLI
reads the originals and the rendered files) and by what the written spec says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "-m", "{module}"]\n'


def _compose(services: list[str], env: str, *, tag: str) -> str:
    """A file whose services are named `<env>-<service>`, each with a container name, an
    image name and (for the built ones) a build, as a sprawl writes them."""
    lines = ["services:"]
    for i, service in enumerate(services):
        lines += [f"  {env}-{service}:"]
        if i % 2 == 0:  # its own Dockerfile: a build of its own
            lines += [f"    build: {{context: ., dockerfile: {service}.Dockerfile}}", f"    image: acme/{env}-{service}:{tag}"]
        else:
            lines += [f"    image: registry.example/store-{i}:1"]
        lines += [f"    container_name: acme-{env}-{service}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "services",
    [["api", "worker", "web", "cache"], ["svc-a", "b_2", "gateway", "x1", "queue"], ["api", "db"]],
    ids=["plain", "odd-names", "two"],
)
def test_a_prefixed_sprawl_is_written_with_one_name_per_environment(tmp_path: Path, services: list[str]) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    for service in services[::2]:
        (root / f"{service}.Dockerfile").write_text(DOCKERFILE.replace("{module}", service))
    (root / "docker-compose.yml").write_text(_compose(services, "dev", tag="latest"))
    (root / "docker-compose.staging.yml").write_text(_compose(services, "staging", tag="${TAG:-1.0}"))
    result = subprocess.run([sys.executable, "-m", "dockergen", "import", ".", "--verify"], cwd=root, capture_output=True, text=True,
                            timeout=300, env={**os.environ}, stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    text = (root / "dockergen.yaml").read_text()
    spec = yaml.safe_load(text)
    defaults = {name: (env.get("defaults") or {}) for name, env in spec["environments"].items()}
    dev, staging = (next(d for name, d in defaults.items() if prefix in name) for prefix in ("dev", "staging"))
    assert dev["container_name"] == "acme-dev-{service}" and staging["container_name"] == "acme-staging-{service}", text
    assert staging["networks"] == {"default": {"aliases": ["staging-{service}"]}}, text
    built = services[::2]
    if len(built) > 1:
        assert dev["image"] == "acme/dev-{service}:latest" and staging["image"] == "acme/staging-{service}:${TAG:-1.0}", text
    for service, entry in spec["services"].items():
        # Each name is said once, in the environments' defaults, not per service.
        for layer in [entry, *(entry.get("environments") or {}).values()]:
            assert not {"container_name", "networks"} & set(layer), (service, text)
            assert len(built) < 2 or "image" not in layer or service not in built, (service, text)


@pytest.mark.parametrize("env_overlay", [False, True], ids=["one-environment", "with-overlay"])
def test_one_image_two_services_run_is_not_every_services_default(tmp_path: Path, env_overlay: bool) -> None:
    # A built image a second service runs too, beside services on images of their own: in
    # `defaults` (spec-wide or an environment's) it would read as the rule for every service.
    root = tmp_path / "repo"
    (root / "backend").mkdir(parents=True)
    (root / "backend" / "Dockerfile").write_text(DOCKERFILE.replace("{module}", "backend"))
    (root / "docker-compose.yml").write_text(
        "services:\n"
        "  backend: {build: ./backend, image: 'acme/backend:local', container_name: acme_backend}\n"
        "  worker: {image: 'acme/backend:local', command: celery worker, container_name: acme_worker}\n"
        "  redis: {image: 'redis:7.2', container_name: acme_redis}\n"
        "  mail: {image: 'mailhog/mailhog:v1.0.1', container_name: acme_mail}\n"
    )
    if env_overlay:
        (root / "docker-compose.prod.yml").write_text("services:\n  backend: {restart: always}\n")
    result = subprocess.run([sys.executable, "-m", "dockergen", "import", ".", "--verify"], cwd=root, capture_output=True, text=True,
                            timeout=300, env={**os.environ}, stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    text = (root / "dockergen.yaml").read_text()
    spec = yaml.safe_load(text)
    for defaults in [spec.get("defaults") or {}, *((env or {}).get("defaults") or {} for env in spec["environments"].values())]:
        assert not {"image", "container_name"} & set(defaults), text
    assert spec["services"]["worker"]["image"] == spec["services"]["backend"]["image"] == "acme/backend:local", text
