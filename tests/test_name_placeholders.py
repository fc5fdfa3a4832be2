"""`{service}`, `{env}` and `{project}` in the names a spec gives containers and images
(`image`, `container_name`, `hostname`, network `aliases`): written once in `defaults`,
they render exactly what writing every name out renders, for any names; an unknown
placeholder is a located error; Compose's `${VAR}` is left alone. Judged by the rendered
files and by the real Compose CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockergen.pipeline import render
from dockergen.spec import names
from tests.tools import compose_config

NAME = st.from_regex(r"[a-z][a-z0-9]{0,5}(?:[-_][a-z0-9]{1,4})?", fullmatch=True)
PATTERNS = {
    "container_name": "{project}-{env}-{service}",
    "hostname": "{service}.{env}",
    "aliases": "{env}-{service}",
    "image": "registry.example/{project}/{service}:${TAG:-{env}}",
}


def _spec(project: str, services: list[str], envs: list[str], *, written_out: bool) -> dict:
    """A spec whose environments name every service by the patterns: in `defaults`, or
    (``written_out``) in each service's block for each environment."""

    def named(service: str, env: str) -> dict:
        values = {"service": service, "env": env, "project": project}
        expand = (lambda text: names.expand(text, values)) if written_out else (lambda text: text)
        return {
            "container_name": expand(PATTERNS["container_name"]),
            "hostname": expand(PATTERNS["hostname"]),
            "networks": {"default": {"aliases": [expand(PATTERNS["aliases"])]}},
        }

    built = services[0]
    spec: dict = {"project": project, "environments": {}, "services": {}}
    for env in envs:
        spec["environments"][env] = {"kind": "dev"} if written_out else {"kind": "dev", "defaults": named("{service}", env)}
    spec["defaults"] = {"scope": "built", "image": PATTERNS["image"]} if not written_out else None
    if spec["defaults"] is None:
        del spec["defaults"]
    for service in services:
        entry: dict = {"image": f"redis:7-{service}"} if service != built else {"build": {"steps": ["FROM python:3.12-slim", 'CMD ["python"]']}}
        if written_out:
            entry["environments"] = {env: named(service, env) for env in envs}
            if service == built:
                for env in envs:
                    entry["environments"][env]["image"] = names.expand(PATTERNS["image"], {"service": service, "env": env, "project": project})
        spec["services"][service] = entry
    return spec


def _files(directory: Path, spec: dict) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "dockergen.yaml"
    rendered = render(path, raw=json.dumps(spec).encode())  # JSON is YAML
    return {f.path: f.content for f in rendered.files if f.kind in ("compose", "overlay", "dockerfile")}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(project=NAME, services=st.lists(NAME, min_size=1, max_size=4, unique=True), envs=st.lists(NAME, min_size=1, max_size=3, unique=True))
def test_placeholders_render_what_the_names_written_out_render(tmp_path: Path, project: str, services: list[str], envs: list[str]) -> None:
    short = _files(tmp_path / "short", _spec(project, services, envs, written_out=False))
    long = _files(tmp_path / "long", _spec(project, services, envs, written_out=True))
    assert short == long


def test_compose_reads_each_service_under_its_own_names(tmp_path: Path) -> None:
    project, services, envs = "shop", ["api", "cache", "queue-2"], ["dev", "review"]
    files = _files(tmp_path, _spec(project, services, envs, written_out=False))
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    for env in envs:
        config = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / f"compose.{env}.yaml"])
        for service in services:
            got = config["services"][service]
            assert got["container_name"] == f"shop-{env}-{service}"
            assert got["hostname"] == f"{service}.{env}"
            assert got["networks"]["default"]["aliases"] == [f"{env}-{service}"]
        # `${TAG:-...}` is Compose's: its default is the environment's name, the variable wins when set.
        assert config["services"]["api"]["image"] == f"registry.example/shop/api:{env}"
        assert config["services"]["cache"]["image"] == "docker.io/library/redis:7-cache"  # its own, above `defaults`
        tagged = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / f"compose.{env}.yaml"], env={"TAG": "1.2"})
        assert tagged["services"]["api"]["image"] == "registry.example/shop/api:1.2"


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("{service}", {}, "api"),
        ("x-{env}-{service}-{project}", {}, "x-dev-api-shop"),
        ("${PREFIX}-{service}", {}, "${PREFIX}-api"),
        ("${A:-${B:-{env}}}-{service}", {}, "${A:-${B:-dev}}-api"),
        ("$${service}", {}, None),  # `$$` is a literal dollar: `{service}` after it is a placeholder
        ("plain", {}, "plain"),
    ],
)
def test_expand_puts_names_in_and_leaves_variables(text: str, values: dict, expected: str | None) -> None:
    got = names.expand(text, {"service": "api", "env": "dev", "project": "shop", **values})
    assert got == (expected if expected is not None else "$$api")


# Any text a name can hold: no control, formatting or surrogate character, no space.
NAME_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zs", "Zl", "Zp")), max_size=12)


@given(st.text(alphabet="ab{}$:-", max_size=12) | NAME_TEXT)
def test_a_doubled_brace_is_a_brace_and_literal_gives_any_text_back(text: str) -> None:
    assert names.expand(names.literal(text), {"service": "s", "env": "e", "project": "p"}) == text
    assert names.check(names.literal(text)) == names.literal(text)


@pytest.mark.parametrize("bad", [r"nginx\nRUN evil", r"redis:7\r", r"app\x07", r"ghcr.io/acme/app:1\u2028x", r"a\u202eb", r"${TAG:-a\nb}", "postgres 16", "a\tb"])
def test_a_name_with_a_line_break_space_or_control_character_is_refused(tmp_path: Path, bad: str) -> None:
    spec = tmp_path / "dockergen.yaml"
    spec.write_text(f'project: shop\nservices:\n  cache:\n    image: "{bad}"\n    container_name: shop\n  api:\n    image: "${{IMAGE:?set IMAGE first}}"\n')
    result = subprocess.run([sys.executable, "-m", "dockergen", "render", "--spec", str(spec)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "dockergen.yaml:4:5: error: services.cache.image:" in result.stderr, result.stderr
    assert "no image, container or host name can" in result.stderr and "Traceback" not in result.stderr
    assert "${IMAGE:?set IMAGE first}" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dockergen.yaml"]


@pytest.mark.parametrize("bad", ["{services}", "{Service}", "{}", "{service", "a-{env}-{tag}", "${TAG}-{x}"])
def test_an_unknown_placeholder_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"\{service\}, \{env\}, \{project\}"):
        names.check(bad)


@pytest.mark.parametrize(
    "where",
    [
        "  cache: {image: redis:7, container_name: 'shop-{environment}-{service}'}\n",
        "  cache: {image: redis:7, hostname: '{host}'}\n",
        "  cache: {image: 'ghcr.io/acme/{svc}:1'}\n",
        "  cache: {image: redis:7, networks: {default: {aliases: ['{env}-{name}']}}}\n",
    ],
)
def test_the_cli_names_the_line_of_an_unknown_placeholder_and_writes_nothing(tmp_path: Path, where: str) -> None:
    spec = tmp_path / "dockergen.yaml"
    spec.write_text("project: shop\nservices:\n  db:\n    image: postgres:16-alpine\n" + where)
    result = subprocess.run([sys.executable, "-m", "dockergen", "render", "--spec", str(spec)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "dockergen.yaml:5:" in result.stderr and "unknown placeholder" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dockergen.yaml"]
