"""The one rule for the name of a built image (issue 15, item 1): `build.image`, the registry
prefix, the tag per environment, podman's `localhost/` only for names without a registry,
and `uses` services on their builder's name; judged by the real Compose CLI and `explain`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dockergen.pipeline import render
from dockergen.resolve import has_registry
from tests.tools import compose, compose_config

ENVS = ("dev", "test", "staging", "prod", "podman")


def write_spec(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "requirements.txt").write_text("fastapi\n")
    spec = directory / "dockergen.yaml"
    spec.write_text(textwrap.dedent(body))
    return spec


def cli(spec: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockergen", *args, "--spec", str(spec)], capture_output=True, text=True, timeout=120)


def rendered_images(spec: Path) -> dict[str, dict[str, str]]:
    """env -> service -> image, as `docker compose config` reads the rendered files."""
    result = cli(spec, "render", "-q")
    assert result.returncode == 0, result.stderr
    out = {}
    for env in ENVS:
        config = compose_config(spec.parent, [spec.parent / "compose.yaml", spec.parent / f"compose.{env}.yaml"])
        out[env] = {name: service.get("image") for name, service in config["services"].items()}
    return out


API_AND_WORKER = """\
version: 1
project: shop
{registry}
services:
  api:
    build:
      family: python
      port: 8000
      {image}
      python: {{app: "app.main:app"}}
    healthcheck: {{http: /health}}
  worker:
    uses: api
    command: [celery, -A, app.tasks, worker]
"""


def test_build_image_names_the_image_everywhere_and_podman_keeps_a_registry_name(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, API_AND_WORKER.format(registry="", image="image: ghcr.io/acme/api"))
    images = rendered_images(spec)
    for env in ENVS:
        assert images[env]["api"] == f"ghcr.io/acme/api:{env}", env
        # the worker runs what api builds; in test, api runs its suite and the worker serves
        assert images[env]["worker"] == images[env]["api"] + ("-prod" if env == "test" else ""), env
    # explain reads the same resolved name.
    explained = json.loads(cli(spec, "explain", "worker", "--env", "podman", "--format", "json").stdout)
    assert explained["derived"]["image"] == "ghcr.io/acme/api:${TAG:-podman}"


def test_a_tag_in_build_image_names_the_prod_stage_and_other_stages_get_a_suffix(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, API_AND_WORKER.format(registry="", image="image: registry.example.com:5000/team/api:1.4.2"))
    images = rendered_images(spec)
    assert images["prod"]["api"] == images["staging"]["api"] == images["podman"]["api"] == "registry.example.com:5000/team/api:1.4.2"
    assert images["dev"]["api"] == "registry.example.com:5000/team/api:1.4.2-dev"
    assert images["test"]["api"] == "registry.example.com:5000/team/api:1.4.2-test"


def test_the_registry_prefixes_names_without_one_and_podman_then_adds_nothing(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, API_AND_WORKER.format(registry="registry: ghcr.io/acme", image=""))
    images = rendered_images(spec)
    assert images["prod"]["api"] == "ghcr.io/acme/shop/api:prod"
    assert images["podman"]["api"] == "ghcr.io/acme/shop/api:podman"
    assert images["podman"]["worker"] == "ghcr.io/acme/shop/api:podman"


def test_an_unqualified_name_gets_localhost_on_podman_only(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, API_AND_WORKER.format(registry="", image="image: acme/api"))
    images = rendered_images(spec)
    assert images["podman"]["api"] == "localhost/acme/api:podman"
    assert images["prod"]["api"] == "acme/api:prod"


def test_a_uses_service_follows_its_builders_own_image_setting(tmp_path: Path) -> None:
    body = API_AND_WORKER.format(registry="", image="") + "    environments: {}\n"
    body = body.replace("    healthcheck: {http: /health}\n", "    healthcheck: {http: /health}\n    environments:\n      prod: {image: ghcr.io/acme/api:2024.06}\n", 1)
    spec = write_spec(tmp_path, body.replace("    environments: {}\n", ""))
    images = rendered_images(spec)
    assert images["prod"]["api"] == images["prod"]["worker"] == "ghcr.io/acme/api:2024.06"
    assert images["dev"]["worker"] == images["dev"]["api"] == "shop/api:dev"


def test_a_uses_service_naming_its_own_image_builds_that_name_itself(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, API_AND_WORKER.format(registry="", image="") + "    image: ghcr.io/acme/worker:1\n")
    images = rendered_images(spec)
    assert images["prod"]["worker"] == "ghcr.io/acme/worker:1" and images["prod"]["api"] == "shop/api:prod"
    config = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.prod.yaml"])
    assert config["services"]["worker"]["build"]["target"] == "prod"  # its own name: its own build


@pytest.mark.parametrize("bad", ["GHCR.io/Acme/API", "ghcr.io/acme/api@sha256:" + "0" * 64, "api:", "a b", "ghcr.io//api"])
def test_an_invalid_build_image_is_a_located_error(tmp_path: Path, bad: str) -> None:
    spec = write_spec(tmp_path, API_AND_WORKER.format(registry="", image=f"image: {json.dumps(bad)}"))
    result = cli(spec, "validate")
    assert result.returncode == 2, result.stderr
    assert "dockergen.yaml:9:" in result.stderr and "services.api.build.image" in result.stderr, result.stderr


# ---- property: many names, the same rule, judged by Compose ------------------------

hosts = st.sampled_from(["ghcr.io", "registry.example.com:5000", "localhost:5000", "localhost", "quay.io", "10.0.0.7:443"])
components = st.from_regex(r"[a-z0-9]{1,6}(?:[._-][a-z0-9]{1,4})?", fullmatch=True)
repositories = st.builds(lambda parts: "/".join(parts), st.lists(components, min_size=1, max_size=3))
tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}", fullmatch=True)


@st.composite
def naming(draw: st.DrawFn) -> tuple[str | None, str | None]:
    registry = draw(st.none() | st.builds(lambda h, ns: f"{h}/{ns}" if ns else h, hosts, st.none() | components))
    image = draw(
        st.none()
        | st.builds(lambda h, r, t: (f"{h}/" if h else "") + r + (f":{t}" if t else ""), st.none() | hosts, repositories, st.none() | tags)
    )
    return registry, image


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(naming())
@example(("localhost/0.0", "0"))  # the registry itself is localhost: podman adds nothing
@example((None, "ghcr.io/acme/api:1.0"))
def test_every_name_follows_the_rule_in_compose_and_the_model(tmp_path_factory: pytest.TempPathFactory, case: tuple[str | None, str | None]) -> None:
    registry, image = case
    directory = tmp_path_factory.mktemp("names")
    spec = write_spec(
        directory,
        API_AND_WORKER.format(
            registry=f"registry: {json.dumps(registry)}" if registry else "", image=f"image: {json.dumps(image)}" if image else ""
        ),
    )
    project = render(spec).project
    images = rendered_images(spec)
    explicit_tag = image is not None and ":" in image.rsplit("/", 1)[-1]
    for env in ENVS:
        resolved = project.environments[env].services
        name = images[env]["api"]
        if env != "test":  # there api runs its suite, the worker its serving stage
            assert images[env]["worker"] == name
            assert resolved["api"].image == resolved["worker"].image
        assert name == resolved["api"].image.replace("${TAG:-" + env + "}", env)  # Compose reads what the model says
        if env == "podman":
            # prod's name on podman: `localhost/` only where prod's has no registry
            same = images["prod"]["api"] if explicit_tag else images["prod"]["api"].removesuffix(":prod") + ":podman"
            assert name == (same if has_registry(same) else f"localhost/{same}"), name
        repository = (image or "shop/api").rsplit(":", 1)[0] if image and ":" in image.rsplit("/", 1)[-1] else (image or "shop/api")
        assert repository in name
        if registry and not has_registry(repository):
            assert name.startswith(f"{registry}/{repository}:"), name
        if explicit_tag:
            assert name.split(":")[-1].startswith(image.rsplit(":", 1)[1])


# ---- image_names: compose (Compose's own name for an image built without `image:`) ----

COMPOSE_NAMED = """\
version: 1
project: {project}
image_names: compose
environments:
  dev: {{}}
  ci: {{kind: test, extends: dev}}
  staging: {{project: {staging}}}
  prod: {{image_names: dockergen}}
services:
  {service}:
    build:
      steps: ["FROM python:3.12-slim", "CMD [\\"python\\", \\"-m\\", \\"http.server\\"]"]
  pinned:
    build:
      context: pinned
      image: ghcr.io/acme/pinned
      steps: ["FROM alpine:3.20"]
  worker:
    uses: {service}
"""


def compose_name(directory: Path, project: str, service: str) -> str:
    """What `docker compose build` calls an image built without `image:` (the CLI's own answer)."""
    original = directory / "original"
    original.mkdir(exist_ok=True)
    (original / "Dockerfile").write_text("FROM alpine:3.20\n")
    (original / "compose.yaml").write_text(f"services:\n  {service}:\n    build: .\n")
    out = compose(original, [original / "compose.yaml"], "-p", project, "config", "--images")
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


names = st.from_regex(r"[a-z][a-z0-9]{0,5}(?:[_-][a-z0-9]{1,4})?", fullmatch=True)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names, names, names.filter(lambda n: n not in ("pinned", "worker")))
@example("shop", "shop_live", "api")
def test_compose_names_are_the_names_compose_gives_in_every_environment(
    tmp_path_factory: pytest.TempPathFactory, project: str, staging: str, service: str
) -> None:
    directory = tmp_path_factory.mktemp("compose-names")
    spec = write_spec(directory, COMPOSE_NAMED.format(project=project, staging=staging, service=service))
    assert cli(spec, "render", "-q").returncode == 0
    images = {}
    for env in ("dev", "ci", "staging", "prod"):
        config = compose_config(directory, [directory / "compose.yaml", directory / f"compose.{env}.yaml"])
        images[env] = {name: s.get("image") for name, s in config["services"].items()}
    for env, compose_project in (("dev", project), ("ci", f"{project}-ci"), ("staging", staging)):
        assert images[env][service] == compose_name(directory, compose_project, service), env
        assert images[env]["worker"] == images[env][service]  # a `uses` service runs its builder's image
        assert images[env]["pinned"].startswith("ghcr.io/acme/pinned:")  # build.image still names its own
    assert images["prod"][service] == f"{project}/{service}:prod"  # the environment's own rule
    explained = json.loads(cli(spec, "explain", "worker", "--env", "staging", "--format", "json").stdout)
    assert explained["derived"]["image"] == f"{staging}-{service}"


def test_an_unknown_image_names_rule_is_a_located_error(tmp_path: Path) -> None:
    body = COMPOSE_NAMED.format(project="shop", staging="live", service="api").replace("prod: {image_names: dockergen}", "prod: {image_names: docker}")
    result = cli(write_spec(tmp_path, body), "validate")
    assert result.returncode == 2, result.stderr
    assert "dockergen.yaml:8:" in result.stderr and "environments.prod.image_names" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
