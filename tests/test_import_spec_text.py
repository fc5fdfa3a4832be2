"""The spec text `import` writes: short collections on one line, heredocs as literal blocks,
the Dockerfiles' comments where they were; every reader gets back exactly the spec."""

from __future__ import annotations

import string
from pathlib import Path

import dockerfile
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from dockergen.importer.analyze import analyze
from dockergen.importer.spec.text import spec_text
from dockergen.pipeline import render
from dockergen.render.yaml_out import flow_scalar

TEXT = st.text(alphabet=st.sampled_from(string.printable[:95] + "é\u00a0"), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(value=TEXT)
def test_a_flow_scalar_reads_back_as_itself_in_every_reader(value: str) -> None:
    written = flow_scalar(value)
    for load in (yaml.safe_load, YAML(typ="safe", pure=True).load):
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
    assert build["global_args"] == ["NODE_VERSION=20.14", "TARGETOS TARGETARCH"]
    assert build["stages"][0]["platform"] == "$BUILDPLATFORM" and build["stages"][0]["from"] == "node:${NODE_VERSION}-alpine"
    for comment in ("# Pinned runtime: bump with the lock file.", "# Dependencies first, for the layer cache",
                    "# The cache mount keeps npm's downloads out of the layer", "# offline first: the cache has most of it"):  # fmt: skip
        assert comment in text
    assert "ports: [3000:3000]" in text and "- |-\n" in text
    assert text.count("# the heredoc's own text") == 1  # inside the heredoc's literal block, not also as a comment
    assert YAML(typ="safe", pure=True).load(text) == plan.spec
    (tmp_path / "dockergen.yaml").write_text(text)
    rendered = {f.path: f.content for f in render(tmp_path / "dockergen.yaml").files}
    mine = dockerfile.parse_string(rendered["Dockerfile"])
    theirs = dockerfile.parse_string(DOCKERFILE)
    strip = lambda cs: [(c.cmd, c.flags, c.value, tuple(h.content for h in c.heredocs)) for c in cs if c.cmd != "LABEL"]  # noqa: E731
    assert [c for c in strip(mine) if c[0] != "FROM"] == [c for c in strip(theirs) if c[0] != "FROM"]
    assert [c.value[0] for c in mine if c.cmd == "FROM"] == ["node:${NODE_VERSION}-alpine"] * 2
    assert rendered["Dockerfile"].startswith("# syntax=docker/dockerfile:1.7\n# check=skip=JSONArgsRecommended\n")
