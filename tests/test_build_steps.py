"""A generic build written as ``build.steps``, the Dockerfile as one list of instructions:
the same files as the equivalent ``stages`` (property-tested over stage layouts, platforms,
pre-FROM ARGs, heredocs and the escape directive), unnamed stages, the target an environment
builds without one, and located errors on the user's own item. Judged by BuildKit's parser
and Docker Compose's ``config``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import dockerfile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockergen.errors import DockergenError
from dockergen.pipeline import Rendered, render
from tests.tools import compose_config

FINGERPRINT = re.compile(r"^# dockergen:fingerprint .*$", re.MULTILINE)


def spec_with(build: dict[str, Any], **service: Any) -> dict[str, Any]:
    return {"version": 1, "project": "shop", "environments": {"dev": {}, "prod": {}}, "services": {"api": {"build": {"context": "api", **build}, **service}}}


def rendered(directory: Path, spec: dict[str, Any]) -> Rendered:
    (directory / "api").mkdir(parents=True, exist_ok=True)
    (directory / "dockergen.yaml").write_text(json.dumps(spec, indent=2))
    return render(directory / "dockergen.yaml")


def files(result: Rendered) -> dict[str, str]:
    """Every generated file but the lock, without the spec's fingerprint (the specs differ)."""
    return {f.path: FINGERPRINT.sub("", f.content) for f in result.files if f.kind != "lock"}


def errors(directory: Path, spec: dict[str, Any]) -> list[Any]:
    with pytest.raises(DockergenError) as caught:
        rendered(directory, spec)
    return caught.value.problems


# ---- the same Dockerfile as `stages` ----------------------------------------------------

NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
IMAGES = st.sampled_from(["alpine:3.20", "golang:1.22", "node:${NODE_VERSION}-alpine", "debian:bookworm-slim", "scratch"])
PLAIN_STEPS = st.sampled_from([
    "RUN echo hi", "WORKDIR /app", "ENV A=1", 'CMD ["app"]', "USER 10001", "EXPOSE 8080", "ARG TARGETARCH",
    "RUN --mount=type=cache,target=/root/.cache true", "COPY . .", "ONBUILD RUN true", 'LABEL a="b c"',
    "RUN <<EOF\nset -e\n\necho  two  spaces   \nEOF", "COPY <<-EOT /etc/x.conf\n\tkey=value\n\tEOT",
])  # fmt: skip


@st.composite
def generic_builds(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same Dockerfile as ``(stages form, steps form)``."""
    escape = draw(st.sampled_from(["\\", "`"]))
    continued = f"RUN echo a {escape}\n    b"  # a continuation under the declared escape
    names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    global_args = draw(st.lists(st.sampled_from(["NODE_VERSION=20", "TARGETOS TARGETARCH", "BASE=alpine:3.20"]), max_size=2, unique=True))
    stages, steps = [], [f"ARG {item}" for item in global_args]
    for index, name in enumerate(names):
        base = draw(st.sampled_from([*names[:index], "alpine:3.20"]) | IMAGES)
        platform = draw(st.sampled_from([None, "$BUILDPLATFORM", "linux/amd64"]))
        body = draw(st.lists(PLAIN_STEPS | st.just(continued), max_size=4))
        stage: dict[str, Any] = {"name": name, "from": base, "steps": body}
        if platform:
            stage["platform"] = platform
        stages.append(stage)
        steps += [f"FROM {f'--platform={platform} ' if platform else ''}{base} AS {name}", *body]
    common: dict[str, Any] = {"directives": {"escape": escape}} if escape != "\\" else {}
    long_form = {**common, "stages": stages, **({"global_args": global_args} if global_args else {})}
    return long_form, {**common, "steps": steps}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(builds=generic_builds(), data=st.data())
def test_steps_render_the_files_the_equivalent_stages_render(builds: tuple[dict[str, Any], dict[str, Any]], data: st.DataObject,
                                                              tmp_path_factory: pytest.TempPathFactory) -> None:  # fmt: skip
    long_form, short_form = builds
    names = [s["name"] for s in long_form["stages"]]
    target = data.draw(st.sampled_from(names))
    long = files(rendered(tmp_path_factory.mktemp("stages"), spec_with(long_form, target=target)))
    short = files(rendered(tmp_path_factory.mktemp("steps"), spec_with(short_form, target=target)))
    assert short == long
    parsed = dockerfile.parse_string(short["api/Dockerfile"])
    assert [c.value[2] for c in parsed if c.cmd == "FROM"] == names


# ---- the Dockerfile as written ---------------------------------------------------------


def test_unnamed_stages_are_written_verbatim_and_the_last_one_is_built(tmp_path: Path) -> None:
    steps = ["ARG GO=1.22", "from --platform=$BUILDPLATFORM golang:${GO} as build", "RUN go build -o /out/app ./...",
             "FROM golang:1.22", "RUN go vet ./...", "FROM gcr.io/distroless/static", "COPY --from=build /out/app /app", 'ENTRYPOINT ["/app"]']  # fmt: skip
    result = rendered(tmp_path, spec_with({"steps": steps}))
    text = next(f.content for f in result.files if f.path == "api/Dockerfile")
    body = text.split("ARG GO=1.22\n", 1)[1]
    assert body == "\nfrom --platform=$BUILDPLATFORM golang:${GO} as build\nRUN go build -o /out/app ./...\n\nFROM golang:1.22\nRUN go vet ./...\n\n" \
                   "FROM gcr.io/distroless/static\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n"  # fmt: skip
    assert [c.original for c in dockerfile.parse_string(text)][-len(steps) :] == steps
    for env in ("dev", "prod"):
        assert result.project.environments[env].services["api"].target is None
    from dockergen.write import write_files

    write_files(tmp_path, result.files)
    config = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.prod.yaml"])
    assert "target" not in config["services"]["api"]["build"]  # Compose builds the last stage
    assert config["services"]["api"]["image"] == "shop/api:prod"  # no `-<stage>` suffix for the stage a plain build builds


def test_an_environment_builds_its_kinds_stage_else_the_last_one(tmp_path: Path) -> None:
    steps = ["FROM node:20 AS dev", 'CMD ["npm", "run", "dev"]', "FROM node:20 AS build", "RUN npm run build", "FROM nginx:1.27 AS serve"]
    result = rendered(tmp_path, spec_with({"steps": steps}))
    assert {env: resolved.services["api"].target for env, resolved in result.project.environments.items()} == {"dev": "dev", "prod": "serve"}


def test_target_null_in_an_environment_builds_the_last_stage_as_a_plain_build_does(tmp_path: Path) -> None:
    steps = ["FROM node:20 AS dev", 'CMD ["npm", "run", "dev"]', "FROM nginx:1.27 AS serve"]
    result = rendered(tmp_path, spec_with({"steps": steps}, target="dev", environments={"prod": {"target": None}}))
    assert {env: resolved.services["api"].target for env, resolved in result.project.environments.items()} == {"dev": "dev", "prod": "serve"}


def test_an_explicit_target_picks_a_stage_and_one_naming_none_is_located(tmp_path: Path) -> None:
    steps = ["FROM alpine:3.20 AS base", "FROM base AS app"]
    result = rendered(tmp_path / "ok", spec_with({"steps": steps}, target="base"))
    assert {e.services["api"].target for e in result.project.environments.values()} == {"base"}
    problems = errors(tmp_path / "bad", spec_with({"steps": steps}, environments={"prod": {"target": "release"}}))
    assert [p.path for p in problems] == [("services", "api", "environments", "prod", "target")]
    assert "does not have" in problems[0].message and "base, app" in (problems[0].hint or "")


def test_a_backtick_escape_reads_the_steps_as_the_dockerfile_will(tmp_path: Path) -> None:
    build = {"directives": {"escape": "`"}, "steps": ["FROM mcr.microsoft.com/windows/nanoserver:ltsc2022", "RUN dir C:\\ `\n    && echo done", "WORKDIR C:\\app\\"]}
    text = next(f.content for f in rendered(tmp_path, spec_with(build)).files if f.path == "api/Dockerfile")
    assert text.startswith("# syntax=docker/dockerfile:1\n# escape=`\n")
    assert [c.cmd for c in dockerfile.parse_string(text)] == ["FROM", "RUN", "WORKDIR"]
    with pytest.raises(DockergenError, match="swallow the next instruction"):
        rendered(tmp_path / "b", spec_with({**build, "steps": ["FROM alpine:3.20", "RUN echo a `"]}))


# ---- located errors ---------------------------------------------------------------------

BAD_STEPS = [
    (["RUN echo early", "FROM alpine:3.20"], 0, "only ARG may come before the first FROM"),
    (["FROM alpine:3.20 AS app", "FROM alpine:3.20 AS app"], 1, "already the name of the stage at item 0"),
    (["FROM alpine:3.20 AS App"], 0, "lowercase letters"),
    (["FROM alpine:3.20 AS x.y"], 0, "lowercase letters"),
    (["FROM alpine:3.20 app"], 0, "FROM takes an image and an optional `AS <name>`"),
    (["FROM alpine:3.20 AS"], 0, "FROM takes an image"),
    (["FROM --pull alpine:3.20"], 0, "--pull is not a FROM option"),
    (["FROM"], 0, "FROM needs arguments"),
    (["FROM alpine:3.20", "ENTRYPOINT"], 1, "ENTRYPOINT needs arguments"),
    (["FROM alpine:3.20", "RUN []"], 1, "RUN needs arguments"),
    (["FROM alpine:3.20", "RUN a\nRUN b"], 1, "a step is one instruction"),
    (["FROM alpine:3.20", "RUN <<EOF\necho"], 1, "heredoc"),
    (["FROM alpine:3.20", "ONBUILD FROM x"], 1, "ONBUILD cannot trigger FROM"),
    (["FROM alpine:3.20", "# a comment"], 1, "not only a comment"),
    (["FROM alpine:3.20", "FROM alpine:3.20\nRUN x"], 1, "a step is one instruction"),
]


@pytest.mark.parametrize(("steps", "item", "message"), BAD_STEPS)
def test_a_bad_step_is_reported_at_its_item(steps: list[str], item: int, message: str, tmp_path: Path) -> None:
    spec = spec_with({"steps": steps})
    problems = errors(tmp_path, spec)
    assert [p.path for p in problems] == [("services", "api", "build", "steps", item)], [p.render() for p in problems]
    assert message in problems[0].message
    text = (tmp_path / "dockergen.yaml").read_text()
    steps_line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip() == '"steps": [')
    assert problems[0].location.line == steps_line + 1 + item  # json.dumps writes one item a line
    assert not (tmp_path / "api" / "Dockerfile").exists()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        ({"steps": ["ARG A=1"]}, "a Dockerfile needs a FROM"),
        ({"steps": []}, "a Dockerfile needs a FROM"),
        ({}, "a build needs its Dockerfile as `steps`"),
        ({"family": "python", "steps": ["FROM alpine:3.20"]}, "not the python template"),
        ({"steps": ["FROM alpine:3.20"], "stages": [{"name": "a", "from": "alpine:3.20"}]}, "give one of them"),
        ({"steps": ["FROM alpine:3.20"], "global_args": ["A=1"]}, "`global_args` go with `stages`"),
        ({"steps": ["FROM alpine:3.20"], "hooks": {"system": ["RUN true"]}}, "`hooks` is for the built-in"),
    ],
)
def test_a_bad_build_is_reported_at_its_block(build: dict[str, Any], message: str, tmp_path: Path) -> None:
    problems = errors(tmp_path, spec_with(build))
    assert any(message in p.message and p.path[:3] == ("services", "api", "build") and p.location.line for p in problems), [p.render() for p in problems]


def test_family_generic_is_still_accepted_and_implied(tmp_path: Path) -> None:
    steps = ["FROM alpine:3.20", "RUN true"]
    explicit = files(rendered(tmp_path / "a", spec_with({"family": "generic", "steps": steps})))
    assert explicit == files(rendered(tmp_path / "b", spec_with({"steps": steps})))


def test_an_empty_exec_form_entrypoint_or_cmd_resets_the_base_images(tmp_path: Path) -> None:
    text = next(f.content for f in rendered(tmp_path, spec_with({"steps": ["FROM ruby:3.3-slim", "ENTRYPOINT []", 'CMD ["bash"]']})).files
                if f.kind == "dockerfile")  # fmt: skip
    assert [(c.cmd, c.value, c.json) for c in dockerfile.parse_string(text) if c.cmd in ("ENTRYPOINT", "CMD")] == [("ENTRYPOINT", (), True), ("CMD", ("bash",), True)]


# ---- template settings a generic build would drop ---------------------------------------

TEMPLATE_ONLY = {
    "env": {"PORT": "8080"},
    "labels": {"team": "core"},
    "packages": {"runtime": ["curl"]},
    "base_image": "alpine:3.20",
    "digest": "sha256:" + "a" * 64,
    "flavour": "alpine",
    "flavours": {"alpine": {}},
}


@pytest.mark.parametrize("name", sorted(TEMPLATE_ONLY))
@pytest.mark.parametrize("layout", ["steps", "stages"])
def test_a_generic_build_refuses_the_template_settings_its_dockerfile_would_ignore(name: str, layout: str, tmp_path: Path) -> None:
    own = {"steps": ["FROM alpine:3.20", "CMD [\"true\"]"]} if layout == "steps" else {"stages": [{"name": "app", "from": "alpine:3.20"}]}
    problems = errors(tmp_path, spec_with({**own, name: TEMPLATE_ONLY[name]}))
    assert problems[0].path[:3] == ("services", "api", "build")
    assert f"`{name}` is for the built-in python and node templates" in problems[0].message
    assert problems[0].location is not None and problems[0].location.line > 1
    assert not (tmp_path / "api" / "Dockerfile").exists()
