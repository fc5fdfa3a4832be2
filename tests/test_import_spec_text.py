"""The spec text `import` writes: short collections on one line, heredocs as literal blocks,
the Dockerfiles' comments where they were; every reader gets back exactly the spec."""

from __future__ import annotations

import string
import subprocess
import sys
from pathlib import Path

import dockerfile
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from dockergen.commands.schema import schema_text
from dockergen.importer.analyze import analyze
from dockergen.importer.spec.text import spec_text
from dockergen.pipeline import render
from dockergen.render.yaml_out import flow_scalar

TEXT = st.text(alphabet=st.sampled_from(string.printable[:95] + "é\u00a0"), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(value=TEXT)
def test_a_flow_scalar_reads_back_as_itself_in_every_reader(value: str) -> None:
    written = flow_scalar(value)
    # ruamel's C reader (what pre-commit's check-yaml runs) refuses a `:` in a plain flow scalar.
    readers = (yaml.safe_load, lambda text: yaml.load(text, Loader=yaml.CSafeLoader), YAML(typ="safe", pure=True).load, YAML(typ="safe").load)
    for load in readers:
        assert load(f"[{written}, z]")[0] == value
        assert load(f"{{k: {written}, j: 1}}")["k"] == value
        assert list(load(f"{{{written}: 1}}")) == [value]


DOCKERFILE = """\
# syntax=docker/dockerfile:1.7
# check=skip=JSONArgsRecommended
# Pinned runtime: bump with the lock file.
ARG NODE_VERSION=20.14
ARG TARGETOS TARGETARCH

# Dependencies first, for the layer cache
FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-alpine AS deps
WORKDIR /app
COPY package.json ./
# The cache mount keeps npm's downloads out of the layer
RUN --mount=type=cache,target=/root/.npm \\
    # offline first: the cache has most of it
    npm install --prefer-offline

FROM node:${NODE_VERSION}-alpine
COPY --from=deps /app/node_modules ./node_modules
COPY <<EOF /app/config.yaml
# the heredoc's own text, not a Dockerfile comment
server:
  port: 3000   # two spaces: YAML cares
EOF
ONBUILD COPY . /app
CMD node server.js
"""


def test_a_dockerfile_becomes_spec_data_with_its_directives_args_platform_heredocs_and_comments(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}\n")
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    build: .\n    ports: ['3000:3000']\n")
    plan = analyze(tmp_path)
    text = spec_text(plan)
    build = plan.spec["services"]["web"]["build"]
    assert build["directives"] == {"syntax": "docker/dockerfile:1.7", "check": "skip=JSONArgsRecommended"}
    assert "family" not in build and "stages" not in build  # the Dockerfile as one list: the family is implied
    assert build["steps"][:3] == ["ARG NODE_VERSION=20.14", "ARG TARGETOS TARGETARCH", "FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-alpine AS deps"]
    lines = [line.strip() for line in text.splitlines()]
    for comment, item in [("# Pinned runtime: bump with the lock file.", "- ARG NODE_VERSION=20.14"),
                          ("# Dependencies first, for the layer cache", "- FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-alpine AS deps"),
                          ("# The cache mount keeps npm's downloads out of the layer", "- RUN --mount=type=cache,target=/root/.npm npm install --prefer-offline"),
                          ("# offline first: the cache has most of it", "- RUN --mount=type=cache,target=/root/.npm npm install --prefer-offline")]:  # fmt: skip
        after = lines[lines.index(comment) + 1 :]
        assert next(line for line in after if not line.startswith("#")) == item, (comment, text)  # above its own item
    assert 'ports: ["3000:3000"]' in text and "- |-\n" in text
    assert text.count("# the heredoc's own text") == 1  # inside the heredoc's literal block, not also as a comment
    assert YAML(typ="safe", pure=True).load(text) == plan.spec == YAML(typ="safe").load(text)  # the C reader too (check-yaml's)
    (tmp_path / "dockergen.yaml").write_text(text)
    rendered = {f.path: f.content for f in render(tmp_path / "dockergen.yaml").files}
    mine = dockerfile.parse_string(rendered["Dockerfile"])
    theirs = dockerfile.parse_string(DOCKERFILE)
    strip = lambda cs: [(c.cmd, c.flags, c.value, tuple(h.content for h in c.heredocs)) for c in cs if c.cmd != "LABEL"]  # noqa: E731
    assert [c for c in strip(mine) if c[0] != "FROM"] == [c for c in strip(theirs) if c[0] != "FROM"]
    assert [c.value[0] for c in mine if c.cmd == "FROM"] == ["node:${NODE_VERSION}-alpine"] * 2
    assert rendered["Dockerfile"].startswith("# syntax=docker/dockerfile:1.7\n# check=skip=JSONArgsRecommended\n")


def _imported(root: Path, files: dict[str, str]) -> tuple:  # noqa: ANN001
    from tests.test_import_styles import imported, unexplained, write_tree

    plan, rendered, result = imported(write_tree(root, files))
    return plan, (root / "dockergen.yaml").read_text(), unexplained(result), rendered


def test_a_one_stage_build_is_its_dockerfile_and_needs_no_target(tmp_path: Path) -> None:
    plan, text, differences, rendered = _imported(tmp_path, {
        "Dockerfile": "# the app\nFROM python:3.12-slim\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n",
        "compose.yaml": "services:\n  app:\n    build: .\n    ports: ['8000:8000']\n  cache:\n    image: redis:7\n",
    })  # fmt: skip
    assert differences == []
    app = plan.spec["services"]["app"]
    assert app["build"] == {"steps": ["FROM python:3.12-slim", "COPY . /app", 'CMD ["python", "/app/main.py"]']}  # unnamed, as it was
    dockerfile_text = next(f.content for f in rendered.files if f.path == "Dockerfile")
    assert "\nFROM python:3.12-slim\n" in dockerfile_text and " AS " not in dockerfile_text
    assert "target" not in app and "environments" not in app
    assert not text.splitlines()[0].startswith("#")  # no `$schema=` line unless asked (import --schema)
    # redis's preset probe off (said on the line of the lone environment); no probe anywhere, no timings to spell out
    assert plan.spec["environments"]["dev"]["defaults"]["healthcheck"] == {"test": None} and "defaults" not in plan.spec
    assert not [line for line in text.splitlines() if line.strip().startswith(("family:", "target:", "context:", "stages:", "- name:"))]


def test_a_target_is_written_only_where_the_environment_would_build_another_stage(tmp_path: Path) -> None:
    """A stage named `prod` is what dockergen builds in a prod environment by default; the
    original builds the last stage there (no target), so the spec must say so."""
    plan, _, differences, rendered = _imported(tmp_path, {
        "Dockerfile": "FROM alpine:3.20 AS prod\nRUN echo prod\n\nFROM alpine:3.20 AS runtime\nCMD [\"true\"]\n",
        "compose.yaml": "services:\n  app:\n    build: .\n",
        "compose.prod.yaml": "services:\n  app:\n    environment: {MODE: prod}\n",
        "compose.dev.yaml": "services:\n  app:\n    build: {context: ., target: prod}\n",
    })  # fmt: skip
    assert differences == []
    envs = {e.name: e.kind for e in plan.environments}
    targets = {env: resolved.services["app"].target for env, resolved in rendered.project.environments.items()}
    assert targets == {env: "prod" if env == "dev" else "runtime" for env in envs}, (envs, targets)
    written = [layer.get("target") for layer in [plan.spec["services"]["app"], *(plan.spec["services"]["app"].get("environments") or {}).values()]]
    assert [t for t in written if t] and all(t in ("prod", "runtime") for t in written if t)


def _import(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockergen", "import", str(root), "--force", *args], capture_output=True, text=True, timeout=300)


def test_a_schema_line_only_on_request_and_the_schema_file_validates_the_spec(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCMD [\"python\"]\n")
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    build: .\n")
    assert _import(tmp_path).returncode == 0
    assert not (tmp_path / "dockergen.yaml").read_text().startswith("#") and not (tmp_path / "dockergen.schema.json").exists()
    result = _import(tmp_path, "--schema-file")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "dockergen.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=dockergen.schema.json\n")
    assert (tmp_path / "dockergen.schema.json").read_text() == schema_text()
    check = subprocess.run(["check-jsonschema", "--schemafile", str(tmp_path / "dockergen.schema.json"), str(tmp_path / "dockergen.yaml")],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    # A hostile address adds no line to the spec, not even a comment: refused, nothing written.
    result = _import(tmp_path, "--schema", "https://example.com/s.json\nservices: {}\n#")
    assert result.returncode == 2 and "--schema" in result.stderr and "line break" in result.stderr
    assert (tmp_path / "dockergen.yaml").read_text() == text


# Names that are also words of the spec's structure: where they stand decides their style.
NAMES = st.one_of(st.sampled_from(["build", "steps", "stages", "node", "python", "services", "environments", "volumes", "defaults"]),
                  st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True))  # fmt: skip
SMALL = st.dictionaries(NAMES, st.one_of(st.integers(0, 99), st.text(string.ascii_letters, max_size=8)), min_size=1, max_size=3)


@settings(max_examples=120, deadline=None)
@given(envs=st.dictionaries(NAMES, SMALL, min_size=2, max_size=4), volumes=st.dictionaries(NAMES, SMALL, min_size=1, max_size=3),
       service=NAMES, environment=SMALL)  # fmt: skip
@example(envs={"on": {"a": 1}, "y": {"b": 2}}, volumes={"null": {"c": 3}}, service="n", environment={"n": 1})  # quoted names
def test_a_collection_is_structure_by_where_it_stands_not_by_its_name(envs, volumes, service, environment) -> None:
    """An environment, volume, service or variable called `build` or `steps` is as short as
    any other; a service and its build stay blocks, whatever they are called (spelt as YAML
    needs: `n` or `on` quoted, as YAML 1.1 reads them as booleans)."""
    from types import SimpleNamespace

    spec = {"project": "p", "environments": {name: {"description": "d", **body} for name, body in envs.items()},
            "services": {service: {"build": {"steps": ["FROM alpine:3.20"]}, "environment": environment,
                                   "environments": {name: {"enabled": True} for name in envs}}},
            "volumes": volumes}  # fmt: skip
    text = spec_text(SimpleNamespace(spec=spec, comments={}))
    # ruamel's C reader (what pre-commit's check-yaml runs) refuses a `:` in a plain flow scalar.
    readers = (yaml.safe_load, lambda text: yaml.load(text, Loader=yaml.CSafeLoader), YAML(typ="safe", pure=True).load, YAML(typ="safe").load)
    for load in readers:
        assert load(text) == spec
    lines = text.splitlines()
    assert lines.count("environments:") == 1 and "volumes:" in lines and "services:" in lines  # the top-level blocks
    assert f"  {flow_scalar(service)}:" in lines and "    build:" in lines and "      steps:" in lines and "        - FROM alpine:3.20" in lines
    for name in envs:  # each small environment on one line, like any short collection
        assert any(line.startswith(f"  {flow_scalar(name)}: {{description: d") for line in lines), (name, text)
    assert any(line.startswith("    environment: {") for line in lines), text
    assert any(line.startswith("    environments: {") or line.startswith("    environments:") for line in lines)
    for name in volumes:
        assert any(line.startswith(f"  {flow_scalar(name)}: {{") for line in lines), (name, text)


@settings(max_examples=15, deadline=None)
@given(kinds=st.lists(st.sampled_from(["dev", "prod", "test", "staging"]), min_size=1, max_size=3, unique=True),
       built=st.integers(1, 3), stock=st.sampled_from(["", "postgres:16", "redis:7", "nginx:1.27"]))  # fmt: skip
def test_the_policies_switched_off_are_said_in_the_report_and_inert_ones_are_not_written(tmp_path_factory, kinds, built, stock) -> None:
    """The spec says `null`/`false` where a built-in policy would change an environment, and
    nothing where one would render nothing (the python template's debugger port: import
    writes no template build); the why is the report's, not a comment the originals lack."""
    root = tmp_path_factory.mktemp("policies")
    files = {f"s{i}/Dockerfile": f"FROM alpine:3.20\nWORKDIR /app\nCMD [\"sleep\", \"{i}\"]\n" for i in range(built)}
    services = "".join(f"  s{i}:\n    build: s{i}\n" for i in range(built)) + (f"  db:\n    image: {stock}\n" if stock else "")
    files["compose.yaml"] = f"services:\n{services}"
    for kind in kinds[1:]:
        files[f"compose.{kind}.yaml"] = "services:\n  s0:\n    environment: {MODE: x}\n"
    plan, text, differences, _ = _imported(root, files)
    assert differences == []
    lone = [env.get("defaults") or {} for env in plan.spec["environments"].values()] if len(plan.spec["environments"]) == 1 else [{}]
    defaults = plan.spec.get("defaults") or lone[0]  # a lone environment's line says the switches
    assert "debug_port" not in defaults
    assert not [line for line in text.splitlines() if line.lstrip().startswith("#")]  # no Dockerfile comments, so no comments
    switched = [d for d in plan.decisions if d.what == "defaults: built-in policies switched off"]
    off = {key for key, value in defaults.items() if value in (None, False) or key == "healthcheck"}
    assert len(switched) == (1 if off else 0), (defaults, plan.decisions)
    for decision in switched:
        assert set(decision.detail.split(":")[0].split(", ")) == off


SETTING = st.one_of(
    st.builds(lambda p: {"ports": [f"{p}:{p}"]}, st.integers(1000, 1010)),
    st.builds(lambda v: {"environment": {"MODE": v}}, st.sampled_from(["dev", "prod", "x" * 60])),
    st.builds(lambda v: {"environment": {"LONG_NAME_OF_A_SETTING": v, "OTHER": v}}, st.sampled_from(["a", "y" * 50])),
    st.builds(lambda c: {"command": c}, st.sampled_from([["serve"], ["serve", "--port", "8000", "--workers", "4", "--log-level", "debug" * 8]])),
    st.just({"restart": "always"}),
)


@settings(max_examples=120, deadline=None)
@given(per_env=st.lists(st.lists(SETTING, max_size=4), min_size=2, max_size=4))
def test_a_service_is_factored_into_the_fewest_written_lines_and_resolves_back(per_env) -> None:
    """Of the levels the factoring weighs, the one kept is the shortest as the spec's writer
    writes it (a flow line counts one), and each environment resolves to what it was."""
    from dockergen.importer.factor.layers import factor, resolved
    from dockergen.importer.spec.text import service_lines
    from dockergen.resolve import merge

    targets = {f"e{i}": merge({}, *settings) for i, settings in enumerate(per_env)}
    chains = {env: (env,) for env in targets}
    below = {env: {} for env in targets}
    weighed: list[int] = []

    def size(level, blocks):
        weighed.append(service_lines(level, blocks))
        return weighed[-1]

    level, blocks = factor(targets, chains, below, {env: frozenset() for env in targets}, size)
    assert service_lines(level, blocks) == min(weighed)
    from types import SimpleNamespace

    entry = {**level, **({"environments": blocks} if blocks else {})}
    if entry:  # the measure is the writer's own count
        text = spec_text(SimpleNamespace(spec={"project": "p", "services": {"s": entry}}, comments={}))
        assert len(text.splitlines()) - 3 == service_lines(level, blocks), text
    for env, want in targets.items():
        assert resolved(level, blocks, chains[env], below[env]) == want


_WORDS = st.from_regex(r"[a-z][a-z0-9._/-]{0,24}", fullmatch=True)
_LEAVES = _WORDS | st.integers(0, 10**6)
_NESTED = st.recursive(
    st.dictionaries(_WORDS, _LEAVES, min_size=1, max_size=4),
    lambda inner: st.dictionaries(_WORDS, inner | _LEAVES | st.lists(_LEAVES, min_size=1, max_size=4), min_size=1, max_size=5),
    max_leaves=24,
)


@settings(max_examples=200, deadline=None)
@given(environments=st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True), _NESTED, min_size=1, max_size=3),
       services=st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True), _NESTED, min_size=1, max_size=2))  # fmt: skip
def test_nested_settings_read_back_and_short_values_fit_the_width(environments: dict, services: dict) -> None:
    # An environment's entry, a service's block for one: wrapped, a part too long for a line
    # of its own wrapped one level in, or block; never a line over the width when every value is short.
    from dockergen.importer.spec import text

    data = {"project": "p", "environments": environments, "services": {"s": {"image": "x", "environments": services}}}
    out: list[str] = []
    text._mapping(data, (), 0, {}, out)
    written = "".join(f"{line}\n" for line in out)
    assert yaml.safe_load(written) == data, written
    assert YAML(typ="safe", pure=True).load(written) == data, written
    assert all(len(line) <= text.WIDTH for line in out), written


@settings(max_examples=120, deadline=None)
@given(
    services=st.lists(st.lists(st.lists(SETTING, max_size=4), min_size=2, max_size=4), min_size=1, max_size=3),
    nested=st.booleans(),
)
def test_a_root_environments_block_joins_the_level_only_where_shorter_and_everything_resolves_back(services, nested) -> None:
    """Every environment extending one root (``e0``; with ``nested``, in a line e0 <- e1 <- e2):
    after the shared layers are hoisted, a service's block for the root moves into its level
    where the writer counts fewer lines; no (service, environment) resolves otherwise."""
    from dockergen.importer.factor.hoist import Layers, hoist, lift_root_blocks
    from dockergen.importer.factor.layers import factor
    from dockergen.importer.spec.text import service_lines
    from dockergen.resolve import merge

    targets = {f"s{n}": {f"e{i}": merge({}, *settings) for i, settings in enumerate(per_env)} for n, per_env in enumerate(services)}
    envs = sorted({e for per_env in targets.values() for e in per_env})
    chains = {env: tuple(envs[: i + 1]) if nested else ("e0",) if env == "e0" else ("e0", env) for i, env in enumerate(envs)}
    for per_env in targets.values():
        per_env.update({env: per_env.get(env, {}) for env in envs})
    below = {(s, e): {} for s in targets for e in envs}
    levels, blocks = {}, {}
    for service, per_env in targets.items():
        levels[service], blocks[service] = factor(per_env, chains, {e: {} for e in envs}, {e: frozenset() for e in envs}, service_lines)
    layers = Layers({}, {}, levels, blocks, below, chains, {s: set(envs) for s in targets})
    hoist(layers)
    before = {s: service_lines(layers.levels[s], layers.blocks[s]) for s in targets}
    lift_root_blocks(layers, service_lines)
    for service in targets:
        after = service_lines(layers.levels[service], layers.blocks[service])
        assert after <= before[service]
        if after < before[service]:
            assert "e0" not in layers.blocks[service]
        for env in envs:
            assert {k: v for k, v in layers.resolve(service, env).items() if v is not None} == targets[service][env]


def test_the_report_says_where_the_differences_between_environments_are_written(tmp_path: Path) -> None:
    # Shared by every service of prod, they move to `environments.prod.defaults`: a row that
    # sent the reader to `services.api.environments.<env>` pointed at nothing.
    files = {
        "compose.yaml": "services:\n  api:\n    image: nginx:1.27\n  worker:\n    image: redis:7\n",
        "compose.prod.yaml": "services:\n  api:\n    restart: always\n    init: true\n  worker:\n    restart: always\n    init: true\n",
    }
    for path, text in files.items():
        (tmp_path / path).write_text(text)
    plan = analyze(tmp_path)
    assert "init" in plan.spec["environments"]["prod"].get("defaults", {}), plan.spec
    row = next(d for d in plan.decisions if d.what == "api: differences between environments")
    assert "`environments.<env>.defaults`" in row.detail and "services.api.environments" not in row.detail, row.detail
