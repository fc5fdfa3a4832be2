"""Build metadata: OCI labels on every prod image (from the spec and build args, so the
Dockerfile is the same everywhere), an overridable `ARG PYTHON_VERSION`/`NODE_VERSION`
pinned to a patch release, platforms, caches and attestations in Compose, and an optional
Buildx Bake file, parsed as HCL by python-hcl2 (and `docker buildx bake --print` where
buildx exists)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from dockergen import presets
from dockergen.importer.read.interpolate import interpolate
from dockergen.render import hcl
from dockergen.render.support import interpolation_error
from tests.python_specs import APP_FILES, python_spec, render_python, render_spec
from tests.tools import compose_config, dockerfile_stages, hadolint, validate_compose_schema

OCI = {"source": "https://github.com/acme/shop", "version": "1.4.0", "licenses": "MIT", "vendor": 'Acme "Shop" $HOME'}


def labels(instructions: list[Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in instructions:
        if c.cmd == "LABEL":
            out.update(zip(c.value[::2], c.value[1::2]))
    return out


def args(instructions: list[Any]) -> dict[str, str]:
    return dict(c.value[0].split("=", 1) for c in instructions if c.cmd == "ARG" and "=" in c.value[0])


def test_prod_carries_the_oci_labels_with_build_arg_values_and_spec_defaults(tmp_path: Path) -> None:
    spec = python_spec(description="Orders API")
    spec["oci"] = OCI
    render_spec(tmp_path, spec)
    prod = dockerfile_stages(tmp_path / "api" / "Dockerfile")["prod"][1]
    assert labels(prod) == {
        "org.opencontainers.image.created": '"${OCI_CREATED}"',
        "org.opencontainers.image.revision": '"${OCI_REVISION}"',
        "org.opencontainers.image.source": '"${OCI_SOURCE}"',
        "org.opencontainers.image.version": '"${OCI_VERSION}"',
        "org.opencontainers.image.title": '"api"',
        "org.opencontainers.image.description": '"Orders API"',
        "org.opencontainers.image.licenses": '"MIT"',
        "org.opencontainers.image.vendor": '"Acme \\"Shop\\" \\$HOME"',
    }
    assert args(prod) == {"OCI_SOURCE": '"https://github.com/acme/shop"', "OCI_VERSION": '"1.4.0"', "OCI_REVISION": '""', "OCI_CREATED": '""'}
    # Declared after every RUN: a new commit reruns no step.
    assert "RUN" not in [c.cmd for c in prod]
    assert hadolint(tmp_path / "api" / "Dockerfile").returncode == 0


def test_a_description_over_several_lines_is_a_one_line_label(tmp_path: Path) -> None:
    """A description is free text (a YAML block scalar has line breaks); the label is one line
    (it used to stop the render with an internal UnsafeValue, found by the spec fuzz)."""
    render_spec(tmp_path, python_spec(description="Orders API:\nkeeps the\r\norders  "))
    prod = dockerfile_stages(tmp_path / "api" / "Dockerfile")["prod"][1]
    assert labels(prod)["org.opencontainers.image.description"] == '"Orders API: keeps the orders"'
    assert hadolint(tmp_path / "api" / "Dockerfile").returncode == 0


def test_the_labels_are_there_without_an_oci_block_and_build_labels_win(tmp_path: Path) -> None:
    path, _ = render_python(tmp_path, build={"labels": {"org.opencontainers.image.source": "https://example.com/fixed"}})
    prod = dockerfile_stages(path)["prod"][1]
    assert "org.opencontainers.image.source" not in labels(prod) and "OCI_SOURCE" not in args(prod)
    assert labels(prod)["org.opencontainers.image.revision"] == '"${OCI_REVISION}"'
    assert labels(dockerfile_stages(path)["base"][1]) == {"org.opencontainers.image.source": '"https://example.com/fixed"'}


def test_the_output_is_byte_identical_wherever_it_is_rendered(tmp_path: Path) -> None:
    spec = python_spec(build_args={"APP": "1"})
    spec["oci"], spec["output"] = OCI, {"bake": "docker-bake.hcl"}
    first = render_spec(tmp_path / "a", spec)
    second = render_spec(tmp_path / "somewhere" / "else", spec)
    assert [(f.path, f.content) for f in first.files] == [(f.path, f.content) for f in second.files]


# ---- base image version -------------------------------------------------------------


@pytest.mark.parametrize(("family", "version", "pinned"), [("python", "3.12", "3.12.16"), ("python", "3.11.4", "3.11.4"), ("node", "20", "20.20.2"), ("node", "22.1.0", "22.1.0")])
def test_the_base_version_is_a_global_arg_pinned_to_a_patch_release(family: str, version: str, pinned: str, tmp_path: Path) -> None:
    spec = python_spec({"version": version})
    if family == "node":
        spec["services"]["api"]["build"] = {"family": "node", "context": "api", "port": 3000, "node": {"version": version}}
    render_spec(tmp_path, spec, APP_FILES if family == "python" else {"package.json": "{}", "package-lock.json": "{}"})
    parsed = dockerfile_stages(tmp_path / "api" / "Dockerfile")
    name = f"{family.upper()}_VERSION"
    text = (tmp_path / "api" / "Dockerfile").read_text()
    assert f"\nARG {name}={pinned}\n" in text and text.index(f"ARG {name}") < text.index("FROM ")
    assert parsed["base"][0] == f"docker.io/library/{family}:${{{name}}}-slim"
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned)


def test_every_known_minor_is_pinned_to_a_patch_release() -> None:
    for table in (presets.PYTHON_PATCH_RELEASES, presets.NODE_PATCH_RELEASES):
        for minor, patch in table.items():
            assert patch.startswith(minor + ".") and re.fullmatch(r"\d+\.\d+\.\d+", patch)


def test_an_own_base_image_or_a_digest_has_no_version_arg(tmp_path: Path) -> None:
    path, _ = render_python(tmp_path, build={"base_image": "registry.example.com/python:3.12-slim"})
    assert "PYTHON_VERSION" not in path.read_text()
    path, _ = render_python(tmp_path / "d", build={"digest": "sha256:" + "a" * 64})
    assert "FROM docker.io/library/python:3.12-slim@sha256:" in path.read_text() and "ARG PYTHON_VERSION" not in path.read_text()


# ---- platforms, caches, attestations --------------------------------------------------

BUILD = {
    "platforms": ["linux/amd64", "linux/arm64"],
    "cache_from": ["type=registry,ref=ghcr.io/acme/api:cache"],
    "cache_to": ["type=registry,ref=ghcr.io/acme/api:cache,mode=max"],
    "sbom": True,
    "provenance": "max",
}


def test_platforms_caches_and_attestations_reach_compose(tmp_path: Path) -> None:
    render_python(tmp_path, build=BUILD)
    config = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.prod.yaml"])
    build = config["services"]["api"]["build"]
    assert {k: build[k] for k in BUILD} == {**BUILD, "sbom": "true", "provenance": "max"} or {k: build[k] for k in BUILD} == BUILD
    assert validate_compose_schema(config) == []


@pytest.mark.parametrize(("field", "value"), [("platforms", ["linux"]), ("platforms", ["linux/amd64\n"]), ("cache_from", ["registry,ref=x"]), ("cache_to", ["type=local,dest=/tmp x"]), ("provenance", "full")])
def test_malformed_build_metadata_is_a_located_error(field: str, value: Any, tmp_path: Path) -> None:
    from dockergen.errors import DockergenError

    with pytest.raises(DockergenError) as caught:
        render_python(tmp_path, build={field: value})
    assert caught.value.problems[0].path[:4] == ("services", "api", "build", field)


# ---- the Bake file ------------------------------------------------------------------


def bake_spec(**build: Any) -> dict[str, Any]:
    spec = python_spec(build=build, build_args={"APP_VERSION": "${APP_VERSION:-dev}"})
    spec["services"]["worker"] = {"uses": "api", "command": ["celery", "worker"]}
    spec["output"] = {"bake": "docker-bake.hcl"}
    spec["oci"] = {"source": "https://github.com/acme/shop"}
    return spec


_HCL_ESCAPE = re.compile(r'\\(?:([nrt"\\])|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))')
_HCL_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*)")


def hcl_value(text: str, variables: dict[str, str]) -> str:
    """The HCL quoted template ``text`` evaluated as HashiCorp's HCL reads it, with
    ``variables`` (a name not among them fails): only ``\\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN``
    escapes (``hclsyntax``'s ``ParseStringLiteralToken``), each naming a character UTF-8 can hold
    (a surrogate half is an error), ``$${``/``%%{`` for a literal ``${``/``%{``, ``${`` opening an
    interpolation, no ``%{`` directive. The expressions are the ones ``hcl.template`` writes: a
    variable, a quoted template, ``V != "" ? A : B``; ``true``/``false``/``null`` are literals."""
    value, end = _template_at(text, 0, variables)
    assert end == len(text), f"more after the string at {end}: {text}"
    return value


def unquote(value: str) -> str:
    """An HCL literal string as HCL decodes it (not as JSON, which reads what HCL refuses)."""
    return hcl_value(value, {})


def _template_at(text: str, at: int, variables: dict[str, str]) -> tuple[str, int]:
    assert text[at : at + 1] == '"', f"not a quoted template at {at}: {text}"
    out, at = [], at + 1
    while True:
        assert at < len(text), f"the string never ends: {text}"
        char = text[at]
        if char == '"':
            return "".join(out), at + 1
        if text.startswith(("$${", "%%{"), at):
            out.append(char + "{")
            at += 3
        elif text.startswith("${", at):
            value, at = _expression(text, at + 2, variables)
            assert text[at : at + 1] == "}", f"interpolation not closed at {at}: {text}"
            out.append(value)
            at += 1
        elif char == "\\":
            escape = _HCL_ESCAPE.match(text, at)
            assert escape, f"not an HCL escape at {at}: {text}"
            decoded = {"n": "\n", "r": "\r", "t": "\t"}.get(escape[1], escape[1]) if escape[1] else chr(int(escape[2] or escape[3], 16))
            assert not 0xD800 <= ord(decoded) <= 0xDFFF, f"HCL cannot encode {escape[0]} in UTF-8: {text}"
            out.append(decoded)
            at = escape.end()
        else:
            assert not text.startswith("%{", at), f"a template directive at {at}: {text}"
            assert char not in "\n\r", f"a line break ends the quoted string at {at}: {text}"
            out.append(char)
            at += 1


def _expression(text: str, at: int, variables: dict[str, str]) -> tuple[str, int]:
    left, at = _operand(text, at, variables)
    if not re.match(r"\s*!=", text[at:]):
        return left, len(text) - len(text[at:].lstrip())
    right, at = _operand(text, text.index("!=", at) + 2, variables)
    at = _punctuation(text, at, "?")
    yes, at = _operand(text, at, variables)
    at = _punctuation(text, at, ":")
    no, at = _operand(text, at, variables)
    return (yes if left != right else no), len(text) - len(text[at:].lstrip())


def _operand(text: str, at: int, variables: dict[str, str]) -> tuple[str, int]:
    at = len(text) - len(text[at:].lstrip())
    if text[at : at + 1] == '"':
        return _template_at(text, at, variables)
    name = _HCL_NAME.match(text, at)
    assert name and name[1] not in ("true", "false", "null"), f"not a variable at {at}: {text}"
    return variables[name[1]], name.end()


def _punctuation(text: str, at: int, mark: str) -> int:
    at = len(text) - len(text[at:].lstrip())
    assert text[at : at + 1] == mark, f"{mark!r} expected at {at}: {text}"
    return at + 1


def blocks(parsed: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {unquote(name): body for block in parsed.get(kind, []) for name, body in block.items()}


def test_the_bake_file_has_a_target_per_service_and_environment_and_a_group_per_environment(tmp_path: Path) -> None:
    result = render_spec(tmp_path, bake_spec(**BUILD))
    text = (tmp_path / "docker-bake.hcl").read_text()
    assert text.startswith("# Generated by dockergen from dockergen.yaml") and "dockergen:fingerprint sha256:" in text
    assert "docker-bake.hcl" in json.loads((tmp_path / "dockergen.lock").read_text())["files"]
    parsed = hcl2.loads(text)
    groups, targets = blocks(parsed, "group"), blocks(parsed, "target")
    assert {name: [unquote(t) for t in g["targets"]] for name, g in groups.items()} == {
        "default": ["prod"], "dev": ["api-dev"], "test": ["api-test"], "prod": ["api-prod"],
    }  # fmt: skip
    for env, target in (("dev", "dev"), ("test", "test"), ("prod", "prod")):
        body = targets[f"api-{env}"]
        assert (unquote(body["context"]), unquote(body["dockerfile"]), unquote(body["target"])) == ("api", "Dockerfile", target)
        image = result.project.environments[env].services["api"].image
        assert image == f"shop/api:${{TAG:-{env}}}"
        assert body["tags"] == [f'"shop/api:${{TAG != "" ? TAG : "{env}"}}"']
        assert body["args"]["APP_VERSION"] == '"${APP_VERSION != "" ? APP_VERSION : "dev"}"'
        assert body["args"]["OCI_REVISION"] == '"${OCI_REVISION}"'
        assert [unquote(p) for p in body["platforms"]] == BUILD["platforms"]
        assert [unquote(c) for c in body["cache-from"]] == BUILD["cache_from"]
        assert [unquote(c) for c in body["cache-to"]] == BUILD["cache_to"]
        assert [unquote(a) for a in body["attest"]] == ["type=sbom", "type=provenance,mode=max"]
    variables = blocks(parsed, "variable")
    assert unquote(variables["OCI_SOURCE"]["default"]) == "https://github.com/acme/shop"  # as the Dockerfile's default
    assert {"TAG", "APP_VERSION", "OCI_REVISION", "OCI_CREATED"} <= set(variables)


def test_a_hand_edit_of_the_bake_file_is_drift(tmp_path: Path) -> None:
    render_spec(tmp_path, bake_spec())
    check = [sys.executable, "-m", "dockergen", "check"]
    assert subprocess.run(check, cwd=tmp_path, capture_output=True, timeout=120).returncode == 0
    bake = tmp_path / "docker-bake.hcl"
    bake.write_text(bake.read_text().replace('target = "prod"', 'target = "dev"'))
    result = subprocess.run(check, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "docker-bake.hcl" in result.stdout + result.stderr


def test_the_bake_file_must_stay_inside_the_project(tmp_path: Path) -> None:
    from dockergen.errors import DockergenError

    spec = bake_spec()
    spec["output"]["bake"] = "../docker-bake.hcl"
    with pytest.raises(DockergenError, match="leaves the project directory"):
        render_spec(tmp_path, spec)


@settings(max_examples=200, deadline=None)
@given(value=st.lists(st.one_of(st.characters(codec="utf-8", exclude_categories=["Cs"]), st.sampled_from(["\b", "\f", "\U0001f600", "${", "%{", "$${"])), max_size=40).map("".join))
def test_no_value_can_interpolate_or_end_its_hcl_string(value: str) -> None:
    text = f"a = {hcl.literal(value)}\nb = \"after\"\n"
    parsed = hcl2.loads(text)
    assert unquote(parsed["a"]) == value and parsed["b"] == '"after"'


@settings(max_examples=int(os.environ.get("DOCKERGEN_PROPERTY_EXAMPLES", "300")), deadline=None)
@given(
    value=st.lists(st.sampled_from(["$", "{", "}", '"', "\\", ":", "-", "+", "?", "x", "A", "B", "%", "%{", "$$", "${A}", "${B", "\n", "\U0001f600"]), max_size=14).map("".join),
    a=st.sampled_from(["", "a"]), b=st.sampled_from(["", "b$"]),
)  # fmt: skip
@example(value="$$${A}", a="a", b="")  # a literal `$` then an interpolation: never HCL's `$${` escape
@example(value="$$$A", a="a", b="")
def test_a_compose_value_means_in_the_bake_file_what_it_means_to_compose(value: str, a: str, b: str) -> None:
    """Evaluated by HCL's rules, the template is what Compose makes of the value, each variable
    set or empty (a Bake variable is never unset: empty reads as unset), and it reads only the
    variables it declares."""
    assume(interpolation_error(value) is None)
    text, names = hcl.template(value)
    given = {"A": a, "B": b}
    assert hcl_value(text, {name: given.get(name, "") for name in names}) == interpolate(value, {k: v for k, v in given.items() if v})


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker CLI")
def test_buildx_bake_prints_the_file(tmp_path: Path) -> None:
    probe = subprocess.run(["docker", "buildx", "version"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip("docker buildx is not installed here (the file is parsed as HCL above)")
    render_spec(tmp_path, bake_spec(**BUILD))
    result = subprocess.run(["docker", "buildx", "bake", "-f", "docker-bake.hcl", "--print", "prod"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["target"]["api-prod"]["target"] == "prod" and printed["target"]["api-prod"]["tags"] == ["shop/api:prod"]


def test_a_compose_alternative_becomes_a_bake_conditional_not_the_variable() -> None:
    # `${T:+-x}` is `-x` when T is set and nothing otherwise (it was written as T's value).
    assert hcl.template("a${T:+-x}b") == ('"a${T != "" ? "-x" : ""}b"', ["T"])
    assert hcl.template("${T+${U:-u}}") == ('"${T != "" ? "${U != "" ? U : "u"}" : ""}"', ["T", "U"])
