"""How `dockergen import` finds environments: the chains a project runs itself (Makefiles,
scripts, package.json, devcontainer.json, .env) and those it infers from the files."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockergen.importer.analyze import analyze
from dockergen.importer.environments.sources import command_files, compose_file_variable
from dockergen.importer.plan import ImportOptions

SERVICE = "services:\n  app:\n    image: nginx:1.27\n"
OVERLAY = "services:\n  app:\n    environment: {MODE: %s}\n"


def tree(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def chains(root: Path, *sources: str) -> list[tuple[tuple[str, ...], str | None, str | None]]:
    return [(c.files, c.name, c.project) for c in command_files(root, sources)]


def test_makefile_variables_targets_and_project_names(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "ops/base.yml": SERVICE, "ops/dev.yml": OVERLAY % "dev", "ops/prod.yml": OVERLAY % "prod",
        "Makefile": (
            "NAME ?= shop\nFILES = -f ops/base.yml\nDC := docker compose -p $(NAME) $(FILES)\n"
            "export DC\n\n.PHONY: dev prod logs\n"
            "dev: ## run it\n\t$(DC) -f ops/dev.yml up --build\n"
            "prod:\n\t@${DC} --file=ops/prod.yml \\\n\t\tup -d\n"
            "logs:\n\t$(DC) logs -f\n"
        ),
    })  # fmt: skip
    assert chains(root, "Makefile") == [
        (("ops/base.yml", "ops/dev.yml"), "dev", "shop"),
        (("ops/base.yml", "ops/prod.yml"), "prod", "shop"),
    ]


def test_shell_arrays_branches_continuations_and_other_clients(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "compose.yaml": SERVICE, "compose.ci.yaml": OVERLAY % "ci", "compose.e2e.yaml": OVERLAY % "e2e",
        "tools/test.sh": (
            "#!/usr/bin/env bash\ncd \"$(dirname \"$0\")/..\"\n"
            "# docker compose -f compose.yaml -f compose.commented.yaml up   (a comment, not a call)\n"
            "if [[ $1 == e2e ]]; then\n  FILES=(-f compose.yaml\n         -f compose.e2e.yaml)\nelse\n"
            "  FILES=(-f compose.yaml -f compose.ci.yaml)\nfi\n"
            "COMPOSE_PROFILES=tests docker-compose \"${FILES[@]}\" run --rm app\n"
            "podman compose -f compose.yaml -p other up -d\n"
            "docker compose -f compose.yaml down\n"
        ),
    })  # fmt: skip
    # One script runs the three: its name is none of theirs (their files name them).
    assert chains(root, "tools/test.sh") == [
        (("compose.yaml", "compose.e2e.yaml"), None, None),
        (("compose.yaml", "compose.ci.yaml"), None, None),
        (("compose.yaml",), None, "other"),
    ]


def test_package_json_devcontainer_and_dotenv(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "docker-compose.yml": SERVICE, "docker-compose.local.yml": OVERLAY % "local", ".devcontainer/compose.yaml": OVERLAY % "vsc",
        "package.json": json.dumps({"scripts": {"stack": "docker compose -f docker-compose.yml -f docker-compose.local.yml up", "x": 1}}),
        ".devcontainer/devcontainer.json": (
            '// VS Code reads JSON with comments\n{\n  "name": "a // not a comment",\n  /* block */\n'
            '  "dockerComposeFile": ["../docker-compose.yml", "compose.yaml",],\n}\n'
        ),
        ".env": "COMPOSE_PATH_SEPARATOR=;\nCOMPOSE_FILE=docker-compose.yml;docker-compose.local.yml\n",
    })  # fmt: skip
    assert chains(root, "package.json", ".devcontainer/devcontainer.json") == [
        (("docker-compose.yml", "docker-compose.local.yml"), "stack", None),
        (("docker-compose.yml", ".devcontainer/compose.yaml"), "devcontainer", None),
    ]
    declared = compose_file_variable(root)
    assert declared is not None and declared.files == ("docker-compose.yml", "docker-compose.local.yml")


def test_a_call_naming_files_that_do_not_exist_or_a_variable_it_cannot_expand_is_no_chain(tmp_path: Path) -> None:
    root = tree(tmp_path, {"compose.yaml": SERVICE, "run.sh": "docker compose -f compose.yaml -f gone.yaml up\ndocker compose -f $UNKNOWN up\n"})
    assert chains(root, "run.sh") == []


FILE = st.sampled_from(["compose.yaml", "compose.a.yaml", "deploy/b.yml", "c d.yaml"])


@settings(max_examples=60, deadline=None)
@given(files=st.lists(FILE, min_size=1, max_size=4, unique=True), style=st.data())
def test_every_spelling_of_the_file_flags_is_read_back(tmp_path_factory, files: list[str], style: st.DataObject) -> None:  # noqa: ANN001
    root = tmp_path_factory.mktemp("p")
    tree(root, {f: SERVICE for f in files})
    words = []
    for f in files:
        spelling = style.draw(st.sampled_from(["-f {}", "--file {}", "--file={}", "-f{}"]))
        words.append(spelling.format(shlex.quote(f)) if "=" not in spelling and not spelling.startswith("-f{") else shlex.quote(spelling.format(f)))
    client = style.draw(st.sampled_from(["docker compose", "docker-compose", "/usr/local/bin/docker-compose", "podman compose"]))
    joiner = style.draw(st.sampled_from([" ", " \\\n    "]))
    (root / "up.sh").write_text(f"#!/bin/sh\nset -e\n{client}{joiner}{joiner.join(words)} up -d\n")
    assert [c.files for c in command_files(root, ("up.sh",))] == [tuple(files)]


def envs(root: Path) -> dict[str, tuple[str, ...]]:
    return {e.name: e.files for e in analyze(root, ImportOptions(use_cli=True)).environments}


def test_three_file_chains_add_ons_and_the_override(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "compose.yaml": "services:\n  api:\n    image: api:1\n    environment: {A: 1}\n",
        "compose.override.yaml": "services:\n  api:\n    ports: ['8000:8000']\n",
        "compose.prod.yaml": "services:\n  api:\n    restart: always\n    deploy: {replicas: 3}\n    environment: {A: 2}\n",
        "compose.staging.yaml": "services:\n  api:\n    deploy: {replicas: 1}\n",
        "compose.metrics.yaml": "services:\n  api:\n    labels: {scrape: 'true'}\n  exporter:\n    image: exporter:1\n    depends_on: [api]\n",
    })  # fmt: skip
    assert envs(root) == {
        "dev": ("compose.yaml", "compose.override.yaml"),
        "prod": ("compose.yaml", "compose.prod.yaml"),
        "staging": ("compose.yaml", "compose.prod.yaml", "compose.staging.yaml"),
        "dev-metrics": ("compose.yaml", "compose.override.yaml", "compose.metrics.yaml"),
        "prod-metrics": ("compose.yaml", "compose.prod.yaml", "compose.metrics.yaml"),
        "staging-metrics": ("compose.yaml", "compose.prod.yaml", "compose.staging.yaml", "compose.metrics.yaml"),
    }


def test_the_default_file_alone_runs_too_when_only_its_override_builds_on_it(tmp_path: Path) -> None:
    root = tree(tmp_path, {"docker-compose.yml": SERVICE, "docker-compose.override.yml": OVERLAY % "dev", "podman-compose.yml": SERVICE})
    assert envs(root) == {
        "dev": ("docker-compose.yml", "docker-compose.override.yml"),
        "podman": ("podman-compose.yml",),
        "prod": ("docker-compose.yml",),
    }


def test_yaml_files_named_otherwise_are_compose_files_only_when_they_read_as_one(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "local.yml": "services:\n  web:\n    image: nginx\n    ports: ['80:80']\n",
        "helm/values.yaml": "services:\n  web:\n    image: nginx\n    port: 80\n",
        ".gitlab-ci.yml": "services:\n  - postgres:16\ntest:\n  script: [pytest]\n",
        "mkdocs.yml": "site_name: x\nnav: []\n",
    })  # fmt: skip
    plan = analyze(root)
    assert {e.name: e.files for e in plan.environments} == {"local": ("local.yml",)}
    assert plan.problems == []


def test_a_script_or_target_named_for_an_action_does_not_name_the_environment(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "docker-compose.yml": SERVICE,
        "docker-compose.extra.yml": OVERLAY % "qa",
        "scripts/up.sh": "#!/bin/sh\ndocker compose -f docker-compose.yml up -d --remove-orphans\n",
        "Makefile": "start-qa:\n\tdocker compose -f docker-compose.yml -f docker-compose.extra.yml up\n",
    })  # fmt: skip
    assert envs(root) == {"dev": ("docker-compose.yml",), "qa": ("docker-compose.yml", "docker-compose.extra.yml")}


def test_one_script_running_several_chains_names_none_of_them_their_files_do(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "docker-compose.yml": SERVICE,
        "docker-compose.base.yml": SERVICE.replace("app", "platform-base"),
        "release.sh": "#!/bin/sh\ndocker compose -f docker-compose.base.yml build\ndocker compose -f docker-compose.yml build\n",
        "Makefile": "build:\n\tdocker compose -f docker-compose.base.yml build\n",
    })  # fmt: skip
    assert envs(root) == {"dev": ("docker-compose.yml",), "base": ("docker-compose.base.yml",)}


def test_a_development_overlay_in_a_folder_of_its_own_makes_the_default_file_prod(tmp_path: Path) -> None:
    # `docker compose -f docker-compose.yml -f dev/docker-compose.dev.yml up`: the overlay is
    # dev, so the bare `docker compose up` is the other way the stack runs, not a second dev.
    root = tree(tmp_path, {"docker-compose.yml": SERVICE, "dev/docker-compose.dev.yml": OVERLAY % "dev",
                           "docker-compose.cache.yml": "services:\n  cache:\n    image: redis:7\n  app:\n    depends_on: [cache]\n"})  # fmt: skip
    assert envs(root) == {
        "prod": ("docker-compose.yml",),
        "dev": ("docker-compose.yml", "dev/docker-compose.dev.yml"),
        "cache": ("docker-compose.yml", "docker-compose.cache.yml"),
        "dev-cache": ("docker-compose.yml", "dev/docker-compose.dev.yml", "docker-compose.cache.yml"),
    }


def test_a_variant_file_that_restates_the_default_one_runs_on_its_own(tmp_path: Path) -> None:
    # docker-compose-non-dev.yml repeats the services as the default file has them (names,
    # users, restart policies) with a build: a copy run with `-f` alone, not an overlay;
    # "non-dev" names no kind. A variant that only writes what it changes stays an overlay.
    service = "  {name}:\n    image: shop/{name}:1\n    container_name: shop_{name}\n    user: root\n    restart: unless-stopped\n"
    copy = "  {name}:\n    build: .\n    container_name: shop_{name}\n    user: root\n    restart: unless-stopped\n"
    names = ("api", "worker", "beat")
    root = tree(tmp_path, {
        "docker-compose.yml": "services:\n" + "".join(service.format(name=n) for n in names),
        "docker-compose-non-dev.yml": "services:\n" + "".join(copy.format(name=n) for n in names),
        "docker-compose.ci.yml": "services:\n  api:\n    image: shop/api:ci\n",
        "Dockerfile": "FROM alpine:3.20\n",
    })  # fmt: skip
    found = envs(root)
    assert found["non-dev"] == ("docker-compose-non-dev.yml",)
    assert found["ci"] == ("docker-compose.yml", "docker-compose.ci.yml")
    kinds = {e.name: e.kind for e in analyze(root).environments}
    assert kinds["non-dev"] != "dev" and kinds["ci"] == "test"


def test_an_add_on_is_not_offered_on_a_chain_it_cannot_run_with(tmp_path: Path) -> None:
    # overrides/compose.tls.yaml adds a proxy on 80/443; compose.direct.yaml publishes the
    # frontend on 80 itself: together `up` fails, so no team runs that chain. A chain named
    # for the add-on's absence (without-metrics) does not get it either.
    root = tree(tmp_path, {
        "compose.yaml": "services:\n  frontend:\n    image: web:1\n  backend:\n    image: api:1\n",
        "overrides/compose.direct.yaml": "services:\n  frontend:\n    ports: ['80:8080']\n",
        "overrides/compose.tls.yaml": "services:\n  proxy:\n    image: traefik:3\n    ports: ['80:80', '443:443']\n    depends_on: [frontend]\n",
        "compose.without-metrics.yaml": "services:\n  backend:\n    environment: {METRICS: 'off'}\n",
        "compose.metrics.yaml": "services:\n  exporter:\n    image: exporter:1\n    depends_on: [backend]\n",
    })  # fmt: skip
    found = set(envs(root).values())
    assert ("compose.yaml", "overrides/compose.tls.yaml") in found
    assert ("compose.yaml", "overrides/compose.direct.yaml") in found
    assert not any("overrides/compose.tls.yaml" in chain and "overrides/compose.direct.yaml" in chain for chain in found)
    assert ("compose.yaml", "compose.metrics.yaml") in found
    assert not any("compose.metrics.yaml" in chain and "compose.without-metrics.yaml" in chain for chain in found)


def test_an_add_on_that_needs_another_add_on_goes_on_that_ones_chains(tmp_path: Path) -> None:
    # extensions/fleet/agent.yml's agent depends on fleet-server, which only the fleet add-on
    # defines: it runs as base + fleet + agent (never alone, never on the base without fleet),
    # and the add-on's own names are kept (`fleet-server` of the `fleet` chain is not `server`).
    root = tree(tmp_path, {
        "docker-compose.yml": "services:\n  search:\n    image: search:8\n  ui:\n    image: ui:8\n    depends_on: [search]\n",
        "extensions/fleet/fleet-compose.yml": "services:\n  fleet-server:\n    image: agent:8\n    depends_on: [search, ui]\n",
        "extensions/fleet/agent-compose.yml": "services:\n  apm:\n    image: agent:8\n    depends_on: [search, fleet-server]\n",
        "extensions/beat/beat-compose.yml": "services:\n  beat:\n    image: beat:8\n    depends_on: [search]\n",
    })  # fmt: skip
    found = envs(root)
    assert found == {
        "dev": ("docker-compose.yml",),
        "beat": ("docker-compose.yml", "extensions/beat/beat-compose.yml"),
        "fleet": ("docker-compose.yml", "extensions/fleet/fleet-compose.yml"),
        "fleet-agent": ("docker-compose.yml", "extensions/fleet/fleet-compose.yml", "extensions/fleet/agent-compose.yml"),
    }
    plan = analyze(root, ImportOptions(use_cli=True))
    assert "fleet-server" in plan.grouping.order and "server" not in plan.grouping.order


def test_a_chain_named_with_f_never_goes_through_the_override_of_a_subfolder(tmp_path: Path) -> None:
    # src/docker-compose.prod.yml only re-sets what src/docker-compose.override.yml sets, but
    # `docker compose -f docker-compose.yml -f docker-compose.prod.yml` does not load the
    # override: prod is base + prod, whichever folder the import starts from.
    overlay = "services:\n  api:\n    environment: [MODE=%s]\n    ports: ['%s:80']\n"
    files = {"docker-compose.yml": "services:\n  api:\n    image: api:1\n  db:\n    image: postgres:16\n",
             "docker-compose.override.yml": overlay % ("dev", 5100) + "  db:\n    ports: ['5432:5432']\n",
             "docker-compose.prod.yml": overlay % ("prod", 80)}  # fmt: skip
    at_root = envs(tree(tmp_path / "repo", {f"src/{k}": v for k, v in files.items()}))
    assert at_root["prod"] == ("src/docker-compose.yml", "src/docker-compose.prod.yml")
    assert at_root["dev"] == ("src/docker-compose.yml", "src/docker-compose.override.yml")
    assert envs(tree(tmp_path / "src", files))["prod"] == ("docker-compose.yml", "docker-compose.prod.yml")


@pytest.mark.parametrize("cli", [True, False], ids=["compose-cli", "own-merge"])
@pytest.mark.parametrize(("source", "spelled"), [
    ("${OUT:-./results/}", "${OUT:-./src/results/}"),
    ("${OUT-../shared}", "${OUT-./shared}"),
    ("./${OUT}/logs", "./src/${OUT}/logs"),
    ("./out-${RUN:-1}", "./src/out-${RUN:-1}"),
    ("${HOME}/cache", "${HOME}/cache"),
])  # fmt: skip
def test_interpolated_host_paths_of_a_file_in_a_subfolder_keep_their_folder(tmp_path: Path, source: str, spelled: str, cli: bool) -> None:
    # Relative parts of a bind written with a variable (`${OUT:-./results/}`) are relative to
    # the project directory (src/): from the root they are spelled ./src/...; verify compares
    # the interpolated paths, with and without the variable set.
    root = tree(tmp_path / "repo", {"src/compose.yaml": f"services:\n  tests:\n    image: runner:1\n    volumes: ['{source}:/out']\n"})
    argv = [sys.executable, "-m", "dockergen", "import", str(root), "--verify", *([] if cli else ["--no-compose-cli"])]
    for env in ({}, {"OUT": "elsewhere", "RUN": "7"}):
        result = subprocess.run([*argv, "--force"], capture_output=True, text=True, env={**os.environ, **env}, timeout=300)
        assert result.returncode == 0 and " 0 unexplained" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"{spelled}:/out" in (root / "dockergen.yaml").read_text()


def _spec_environments(root: Path) -> dict[str, dict]:
    return analyze(root, ImportOptions(use_cli=False)).spec["environments"]


def test_an_environment_says_the_files_it_was_only_where_its_name_and_extends_do_not(tmp_path: Path) -> None:
    named = tree(tmp_path / "named", {
        "compose.yaml": SERVICE,
        "compose.staging.yaml": OVERLAY % "staging",
        "compose.qa.yaml": OVERLAY % "qa",
    })  # fmt: skip
    # compose.yaml is what a bare `docker compose up` runs (dev); each overlay on it is named for its file.
    assert _spec_environments(named) == {"dev": {}, "staging": {"extends": "dev"}, "qa": {"extends": "dev", "kind": "staging"}}

    other = tree(tmp_path / "other", {
        "docker-compose.base.yml": SERVICE,
        "docker-compose.staging.yml": OVERLAY % "staging",
        "deploy/compose.prod.yaml": SERVICE,
        "Makefile": "up:\n\tdocker compose -p shop -f docker-compose.base.yml -f docker-compose.staging.yml up\n",
    })  # fmt: skip
    found = _spec_environments(other)
    # A shared base no environment is named for, a file in a folder, a -p of its own: said.
    assert found["staging"]["description"] == "was: docker compose -p shop -f docker-compose.base.yml -f docker-compose.staging.yml"
    assert found["prod"]["description"] == "was: docker compose -f deploy/compose.prod.yaml"


def test_the_default_file_with_its_override_or_named_prod_says_what_it_was(tmp_path: Path) -> None:
    root = tree(tmp_path, {"docker-compose.yml": SERVICE, "docker-compose.override.yml": OVERLAY % "dev"})
    found = _spec_environments(root)
    assert found["dev"]["description"] == "was: docker compose -f docker-compose.yml -f docker-compose.override.yml"
    assert found["prod"]["description"] == "was: docker compose -f docker-compose.yml"
