"""Compose `build` options as spec fields (`BuildOptions`): on the `build` block for every
environment, `build_options` in any layer replacing them field by field. Judged by the
Compose CLI (`docker-compose config` of base + overlay), the compose-spec schema and
python-hcl2 for the Bake file; `dockergen import` writes them natively and `--verify`
compares them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from tests.test_import_styles import imported, unexplained, write_tree
from tests.tools import compose, validate_compose_schema

STEPS = ["FROM alpine:3.20 AS prod", "RUN --mount=type=ssh true"]


def write_spec(root: Path, build: dict[str, Any], environments: dict[str, Any] | None = None, **service: Any) -> Path:
    (root / "app").mkdir(parents=True, exist_ok=True)
    spec = {
        "version": 1,
        "project": "opts",
        "output": {"bake": "docker-bake.hcl"},
        "environments": {"dev": {}, "ci": {"kind": "test"}, "prod": {}},
        "services": {"app": {"build": {"context": "app", "steps": STEPS, **build}, **service, **({"environments": environments} if environments else {})}},
    }
    (root / "dockergen.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root / "dockergen.yaml"


def render(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockergen", "render", "-q", "--spec", "dockergen.yaml"],
                          cwd=root, capture_output=True, text=True, timeout=120)  # fmt: skip


def built(root: Path, env: str) -> dict[str, Any]:
    """The service's `build` as Compose reads base + overlay (YAML: Compose cannot write an
    interpolated `ssh` as JSON), after the schema check of each file."""
    files = [root / "compose.yaml", root / f"compose.{env}.yaml"]
    for path in files:
        assert validate_compose_schema(yaml.safe_load(path.read_text())) == [], path
    result = compose(root, files, "config", "--no-interpolate")
    assert result.returncode == 0, result.stderr
    build = yaml.safe_load(result.stdout)["services"]["app"]["build"]
    # Compose prints `ssh` as a mapping of id to path (none for `default`; a relative path
    # joined to the project folder), and a mapping of `extra_hosts` as it is.
    if "ssh" in build:
        build["ssh"] = sorted(k if v is None else f"{k}={v.removeprefix(f'{root}/')}" for k, v in build["ssh"].items())
    if isinstance(build.get("extra_hosts"), dict):
        build["extra_hosts"] = sorted(f"{k}={v}" for k, values in build["extra_hosts"].items() for v in values)
    return build


@pytest.mark.parametrize(
    ("field", "value", "read"),
    [
        ("ssh", ["default"], ["default"]),
        ("ssh", ["default", "gh=${SSH_AUTH_SOCK:-/run/agent.sock}"], ["default", "gh=${SSH_AUTH_SOCK:-/run/agent.sock}"]),
        ("ssh", {"deploy": "/keys/id_ed25519", "default": "/run/agent.sock"}, ["default=/run/agent.sock", "deploy=/keys/id_ed25519"]),
        ("tags", ["ghcr.io/acme/app:latest", "registry.example.com:5000/acme/app:${TAG:-dev}"], None),
        ("cache_from", ["type=gha", "ghcr.io/acme/app:cache"], None),
        ("cache_from", ["${REGISTRY:-ghcr.io/acme}/app:cache", "type=registry,ref=${CACHE_REF:-ghcr.io/acme/app:cache}"], None),
        ("cache_to", ["type=registry,ref=ghcr.io/acme/app:cache,mode=max"], None),
        ("network", "host", None),
        ("network", "none", None),
        ("shm_size", "2gb", "2gb"),
        ("shm_size", 268435456, None),
        ("extra_hosts", ["proxy.internal=10.0.0.5", "gw:host-gateway"], None),
        ("extra_hosts", {"mirror": ["10.0.0.6", "::1"]}, ["mirror=10.0.0.6", "mirror=::1"]),
        ("pull", True, True),
        ("no_cache", False, False),
        ("privileged", True, True),
        ("isolation", "hyperv", "hyperv"),
        ("platforms", ["linux/amd64", "linux/arm64/v8"], None),
    ],
)
def test_each_option_renders_as_compose_reads_it(field: str, value: Any, read: Any, tmp_path: Path) -> None:
    write_spec(tmp_path, {field: value})
    assert render(tmp_path).returncode == 0
    for env in ("dev", "ci", "prod"):
        assert built(tmp_path, env)[field] == (value if read is None else read)
    # The same option once, in the base every environment shares.
    assert yaml.safe_load((tmp_path / "compose.yaml").read_text())["services"]["app"]["build"][field] == value


def test_an_environment_replaces_the_build_blocks_options_field_by_field(tmp_path: Path) -> None:
    write_spec(
        tmp_path,
        {"ssh": ["default"], "cache_from": ["ghcr.io/acme/app:cache"], "network": "host"},
        environments={"ci": {"build_options": {"ssh": {"ci": "/run/ci.sock"}, "cache_to": ["type=inline"], "network": "none"}}},
    )
    assert render(tmp_path).returncode == 0
    dev, ci = built(tmp_path, "dev"), built(tmp_path, "ci")
    assert (dev["ssh"], dev["network"], "cache_to" in dev) == (["default"], "host", False)
    assert (ci["ssh"], ci["network"], ci["cache_to"]) == (["ci=/run/ci.sock"], "none", ["type=inline"])
    assert dev["cache_from"] == ci["cache_from"] == ["ghcr.io/acme/app:cache"]  # not replaced there: the build block's
    bake = {name: body for block in hcl2.loads((tmp_path / "docker-bake.hcl").read_text())["target"] for name, body in block.items()}
    assert [json.loads(s) for s in bake['"app-ci"']["ssh"]] == ["ci=/run/ci.sock"]
    assert [json.loads(s) for s in bake['"app-dev"']["ssh"]] == ["default"]
    assert json.loads(bake['"app-ci"']["network"]) == "none" and json.loads(bake['"app-prod"']["network"]) == "host"


def test_build_extensions_are_x_fields_of_the_compose_build_an_environment_replaces(tmp_path: Path) -> None:
    write_spec(
        tmp_path,
        {"extensions": {"x-bake": {"platforms": ["linux/amd64", "linux/arm64"]}, "x-cache-hint": "warm"}},
        environments={"ci": {"build_options": {"extensions": {"x-cache-hint": "cold"}}}},
    )
    assert render(tmp_path).returncode == 0
    dev, ci = built(tmp_path, "dev"), built(tmp_path, "ci")
    assert (dev["x-bake"], dev["x-cache-hint"]) == ({"platforms": ["linux/amd64", "linux/arm64"]}, "warm")
    assert ci["x-cache-hint"] == "cold" and "x-bake" not in ci  # the field is replaced, as every option is
    assert "extensions" not in dev and "extensions" not in ci


def test_a_cache_location_with_a_variable_reads_a_bake_variable(tmp_path: Path) -> None:
    # `${REGISTRY:-local}/app:cache` (real projects write the cache beside their image): Compose
    # interpolates it, and the Bake file reads the same variable with the same fallback.
    write_spec(tmp_path, {"cache_from": ["${REGISTRY:-local}/app:cache"], "cache_to": ["type=registry,ref=${REGISTRY:-local}/app:cache,mode=max"]})
    assert render(tmp_path).returncode == 0
    text = (tmp_path / "docker-bake.hcl").read_text()
    bake = hcl2.loads(text)
    assert {name for block in bake["variable"] for name in block} >= {'"REGISTRY"'}
    body = next(b for block in bake["target"] for name, b in block.items() if name == '"app-prod"')
    assert body["cache-from"] == ['"${REGISTRY != "" ? REGISTRY : "local"}/app:cache"']
    assert body["cache-to"] == ['"type=registry,ref=${REGISTRY != "" ? REGISTRY : "local"}/app:cache,mode=max"']


def test_defaults_set_an_option_for_every_built_service(tmp_path: Path) -> None:
    path = write_spec(tmp_path, {})
    spec = yaml.safe_load(path.read_text())
    spec["defaults"] = {"build_options": {"pull": True}}
    spec["services"]["db"] = {"image": "postgres:16-alpine"}
    path.write_text(yaml.safe_dump(spec))
    assert render(tmp_path).returncode == 0
    assert built(tmp_path, "prod")["pull"] is True
    assert "build" not in yaml.safe_load((tmp_path / "compose.yaml").read_text())["services"]["db"]


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("ssh", ["mykey"], "`default` (the running agent) or `id=path`"),
        ("ssh", ["default=/a b"], "`default` (the running agent) or `id=path`"),
        ("ssh", {"bad id": "/x"}, "ssh.bad id"),
        ("tags", ["Acme/App"], "is not an image name"),
        ("network", "host\nevil: 1", "must be a Compose name"),
        ("cache_from", ["${REGISTRY:-x\nevil: 1}/app"], "a BuildKit cache location"),
        ("cache_to", ["type=local,dest=${D:-\"}; x = {}"], "a BuildKit cache location"),
        ("shm_size", "lots", "a size such as 512m, 1G, 4GB"),
        ("extra_hosts", ["nohost"], "`host=address` or `host:address`"),
        ("isolation", "chroot", "must be one of: default, process, hyperv"),
        ("pull", "sometimes", "must be true or false"),
    ],
)
def test_a_bad_option_is_exit_2_at_its_line_and_column(where: str, value: Any, message: str, tmp_path: Path) -> None:
    write_spec(tmp_path, {}, environments={"ci": {"build_options": {where: value}}})
    result = render(tmp_path)
    assert result.returncode == 2, result.stderr
    assert not (tmp_path / "compose.yaml").exists()
    first = result.stderr.splitlines()[0]
    assert first.startswith("dockergen.yaml:") and first.split(":")[2].strip().isdigit(), result.stderr
    assert "build_options" in result.stderr and message in result.stderr and "Traceback" not in result.stderr


# ---- import ---------------------------------------------------------------------------

DOCKERFILE = "FROM alpine:3.20 AS prod\nRUN --mount=type=ssh true\n"
PROJECT = {
    "Dockerfile": DOCKERFILE,
    "compose.yaml": """\
services:
  app:
    image: ghcr.io/acme/app:${TAG:-dev}
    build:
      context: .
      ssh: [default]
      cache_from: ["type=registry,ref=ghcr.io/acme/app:cache"]
      tags: [ghcr.io/acme/app:edge]
      network: host
      shm_size: 256m
      extra_hosts: [proxy.internal=10.0.0.5]
      pull: true
      no_cache: false
      privileged: false
      isolation: default
""",
    "compose.ci.yaml": """\
services:
  app:
    build:
      cache_to: ["type=registry,ref=ghcr.io/acme/app:cache,mode=max"]
      network: none
      extra_hosts: {mirror.internal: 10.0.0.6}
""",
}


def test_import_writes_the_options_natively_and_verify_compares_them(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "shop", PROJECT)
    plan, rendered, result = imported(root)
    app = plan.spec["services"]["app"]
    assert "compose" not in app and not any("compose" in (layer or {}) for layer in (app.get("environments") or {}).values())
    layers = [app["build"], app.get("build_options") or {}, *((layer or {}).get("build_options") or {} for layer in (app.get("environments") or {}).values())]
    for key in ("ssh", "cache_from", "cache_to", "tags", "network", "shm_size", "extra_hosts", "pull", "no_cache", "privileged", "isolation"):
        assert any(key in layer for layer in layers), key
    ci = [layer["build_options"] for layer in (app.get("environments") or {}).values() if "cache_to" in (layer or {}).get("build_options", {})]
    assert ci and ci[0]["network"] == "none" and ci[0]["extra_hosts"] == ["proxy.internal=10.0.0.5", "mirror.internal=10.0.0.6"]
    assert unexplained(result) == []


def test_import_writes_a_builds_x_fields_as_its_extensions_not_to_the_hatch(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "shop", {
        "Dockerfile": DOCKERFILE,
        "compose.yaml": "services:\n  app:\n    build:\n      context: .\n      x-bake: {platforms: [linux/amd64]}\n      x-cache-hint: warm\n",
        "compose.ci.yaml": "services:\n  app:\n    build:\n      x-cache-hint: cold\n",
    })  # fmt: skip
    plan, _, result = imported(root)
    app = plan.spec["services"]["app"]
    layers = [app, *(app.get("environments") or {}).values()]
    assert not any("compose" in (layer or {}) for layer in layers), app
    written = [app["build"].get("extensions") or {}, *(((layer or {}).get("build_options") or {}).get("extensions") or {} for layer in layers)]
    assert {"platforms": ["linux/amd64"]} in [e.get("x-bake") for e in written], app
    assert sorted(e["x-cache-hint"] for e in written if "x-cache-hint" in e) == ["cold", "warm"], app
    assert unexplained(result) == []


def test_verify_reports_an_option_the_spec_changed(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "shop", PROJECT)
    plan, _, _ = imported(root)
    spec = yaml.safe_load((root / "dockergen.yaml").read_text())
    spec["services"]["app"]["build"]["tags"] = ["ghcr.io/acme/app:other"]
    (root / "dockergen.yaml").write_text(yaml.safe_dump(spec))
    from dockergen.importer.verify.run import verify
    from dockergen.pipeline import render as render_spec

    found = [d for d in verify(plan, render_spec(root / "dockergen.yaml")).unexplained if "build" in d.path]
    assert found and all("ghcr.io/acme/app:other" in str(d.rendered) and "ghcr.io/acme/app:edge" in str(d.original) for d in found)


def test_a_service_running_its_builders_image_has_no_options_of_its_own(tmp_path: Path) -> None:
    path = write_spec(tmp_path, {"ssh": ["default"]})
    spec = yaml.safe_load(path.read_text())
    spec["services"]["worker"] = {"uses": "app", "environments": {"ci": {"build_options": {"pull": True}}}}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = render(tmp_path)
    assert result.returncode == 2 and "cannot have build options of its own" in result.stderr, result.stderr
    assert result.stderr.startswith("dockergen.yaml:") and "set `build_options` on 'app'" in result.stderr


def test_a_passed_build_arg_is_given_only_where_the_environment_sets_it(tmp_path: Path) -> None:
    # `pass_build_args: [HTTP_PROXY]` is Compose's `args: [HTTP_PROXY]`: the build gets the
    # host's value when it is set, and nothing otherwise, so the Dockerfile's `ARG` default holds.
    write_spec(tmp_path, {}, pass_build_args=["HTTP_PROXY"], build_args={"MODE": "fast"})
    assert render(tmp_path).returncode == 0
    files = [tmp_path / "compose.yaml", tmp_path / "compose.prod.yaml"]
    unset = compose(tmp_path, files, "config", "--format", "json")
    assert unset.returncode == 0, unset.stderr
    assert json.loads(unset.stdout)["services"]["app"]["build"]["args"] == {"MODE": "fast"}
    given = compose(tmp_path, files, "config", "--format", "json", env={"HTTP_PROXY": "http://proxy:3128"})
    assert json.loads(given.stdout)["services"]["app"]["build"]["args"] == {"MODE": "fast", "HTTP_PROXY": "http://proxy:3128"}


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "bad name"])
def test_a_passed_build_arg_with_a_secret_or_bad_name_is_refused(tmp_path: Path, name: str) -> None:
    write_spec(tmp_path, {}, pass_build_args=[name])
    result = render(tmp_path)
    assert result.returncode == 2 and "pass_build_args" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "compose.yaml").exists()


def test_import_writes_a_build_arg_without_a_value_as_passed(tmp_path: Path) -> None:
    # `args: [HTTP_PROXY]` unset where verify runs: the original passes nothing, and so must the render.
    root = write_tree(tmp_path, {
        "Dockerfile": "FROM alpine:3.20\nARG HTTP_PROXY\nARG APP_VERSION=0.0.0\nRUN echo $APP_VERSION\n",
        "compose.yaml": "services:\n  app:\n    build:\n      context: .\n      args:\n        - HTTP_PROXY\n        - APP_VERSION=1.2\n",
    })  # fmt: skip
    plan, _, result = imported(root)
    assert unexplained(result) == []
    app = yaml.safe_load((root / "dockergen.yaml").read_text())["services"]["app"]
    assert (app["pass_build_args"], app["build_args"]) == (["HTTP_PROXY"], {"APP_VERSION": "1.2"})
