"""The node family with npm, yarn (Yarn 1 and berry) and pnpm: every rendered Dockerfile is
read back with BuildKit's own parser and passes hadolint; each installs exactly its
lockfile, with its downloads in a cache mount where the tool really keeps them, after
copying the manifests and nothing else; npm, the default, renders as it always did."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dockergen import presets
from dockergen.errors import DockergenError
from dockergen.pipeline import render
from dockergen.write import write_files
from tests.tools import dockerfile_stages as stages
from tests.tools import hadolint


@dataclass(frozen=True)
class Expected:
    lockfile: str
    cache: str  # where the tool keeps its downloads: the cache mount's target
    install: str
    prune: str
    dev: list[str]
    test: list[str]


YARN_CACHE = "/usr/local/share/.cache/yarn"
EXPECTED = {
    "npm": Expected("package-lock.json", "/root/.npm", "npm ci", "npm prune --omit=dev", ["npm", "run", "dev"], ["npm", "test"]),
    "yarn": Expected(
        "yarn.lock", YARN_CACHE, f"yarn install --frozen-lockfile --cache-folder {YARN_CACHE}",
        f"yarn install --frozen-lockfile --production --cache-folder {YARN_CACHE}", ["yarn", "dev"], ["yarn", "test"],
    ),
    "yarn-berry": Expected(
        "yarn.lock", "/usr/local/share/.cache/yarn-berry", "yarn install --immutable",
        "yarn workspaces focus --all --production", ["yarn", "dev"], ["yarn", "test"],
    ),
    "pnpm": Expected("pnpm-lock.yaml", "/pnpm/store", "pnpm install --frozen-lockfile", "pnpm prune --prod", ["pnpm", "run", "dev"], ["pnpm", "test"]),
}  # fmt: skip
MANAGERS = sorted(EXPECTED)
TOOL = {"npm": "npm", "yarn": "yarn", "yarn-berry": "yarn", "pnpm": "pnpm"}
COREPACK_HOME = "/usr/local/share/corepack"


def render_web(directory: Path, node: dict[str, Any], build: dict[str, Any] | None = None, **top: Any) -> tuple[Path, Any]:
    """Render a spec whose one service builds ``web`` with ``node`` (``build`` and ``top``
    add to the build block and the spec); the Dockerfile's path and the render result."""
    spec = {
        "version": 1,
        "project": "shop",
        "environments": {"dev": {}, "test": {}, "prod": {}},
        "services": {
            "web": {
                "build": {"family": "node", "context": "web", "port": 3000, **(build or {}), "node": node},
                "healthcheck": {"http": "/health"},
            }
        },
        **top,
    }
    manager = presets.PACKAGE_MANAGERS[node.get("package_manager", "npm")]
    for relative in ["package.json", manager.lockfile, *(node.get("install_files") or [])]:  # validation refuses copied files that are not there
        (directory / "web" / relative).parent.mkdir(parents=True, exist_ok=True)
        (directory / "web" / relative).touch()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dockergen.yaml").write_text(json.dumps(spec, indent=2))
    result = render(directory / "dockergen.yaml")
    write_files(directory, result.files)
    return directory / "web" / "Dockerfile", result


def cache_targets(run: Any) -> list[str]:
    return [m[1] for flag in run.flags if (m := re.match(r"^--mount=type=cache,target=([^,]+)", flag))]


def the_run(instructions: list[Any], command: str) -> Any:
    """The one RUN of exactly ``command``."""
    found = [c for c in instructions if c.cmd == "RUN" and c.value == (command,)]
    assert len(found) == 1, (command, [c.original for c in instructions])
    return found[0]


def env_of(instructions: list[Any]) -> dict[str, str]:
    """ENV key -> value as BuildKit reads it (the quotes dockergen writes removed)."""
    env: dict[str, str] = {}
    for c in instructions:
        if c.cmd == "ENV":
            env.update({k: v.strip('"') for k, v in zip(c.value[::2], c.value[1::2])})
    return env


@pytest.mark.parametrize("manager", MANAGERS)
def test_buildkit_reads_every_stage_and_every_target_the_environments_use(manager: str, tmp_path: Path) -> None:
    path, result = render_web(tmp_path, {"package_manager": manager})
    found = stages(path)
    assert {name: parent for name, (parent, _) in found.items()} == {
        "base": "docker.io/library/node:${NODE_VERSION}-slim", "deps": "base", "dev": "deps", "test": "deps", "builder": "deps", "prod": "base",
    }  # fmt: skip
    targets = {s.target for env in result.project.environments.values() for s in env.services.values()}
    assert targets == {"dev", "test", "prod"} and targets <= set(found)
    users = {name: [c.value[0] for c in instructions if c.cmd == "USER"] for name, (_, instructions) in found.items()}
    assert users["dev"] == users["test"] == users["prod"] == ["10001:10001"], "non-root where the app runs"


VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "plain": ({}, {}, {}),
    "alpine-packages-secret-install-files": (
        {"install_files": [".npmrc", ".yarnrc.yml", ".yarn/releases", "pnpm-workspace.yaml", "packages/a/package.json"]},
        {"flavour": "alpine", "packages": {"build": ["python3", "make"]}, "secrets": ["npm_token"]},
        {"secrets": {"npm_token": {"file": "./npm_token"}}},
    ),
    "node-25-no-bundled-corepack": ({"version": "25", "build_script": None}, {"packages": {"build": ["python3"]}}, {}),
    "nginx": ({"serve": "nginx"}, {}, {}),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("manager", MANAGERS)
def test_hadolint_finds_nothing(manager: str, variant: str, tmp_path: Path) -> None:
    node, build, top = VARIANTS[variant]
    path, _ = render_web(tmp_path, {"package_manager": manager, **node}, build, **top)
    lint = hadolint(path)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize("manager", MANAGERS)
def test_the_install_is_frozen_to_the_lockfile_with_downloads_in_the_managers_cache_mount(manager: str, tmp_path: Path) -> None:
    expected = EXPECTED[manager]
    path, _ = render_web(tmp_path, {"package_manager": manager})
    found = stages(path)
    deps = found["deps"][1]
    install = the_run(deps, expected.install)
    assert cache_targets(install) == [expected.cache]
    manifests = next(c for c in deps if c.cmd == "COPY")
    assert manifests.value == ("package.json", expected.lockfile, "./")
    assert deps.index(manifests) < deps.index(install)
    builder = found["builder"][1]
    assert cache_targets(the_run(builder, expected.prune)) == [expected.cache], "prune reuses the install's cache"
    assert the_run(builder, f"{TOOL[manager]} run build")
    installs = [c.value[0] for _, instructions in found.values() for c in instructions if c.cmd == "RUN"]
    for other in set(MANAGERS) - {manager}:
        assert EXPECTED[other].install not in installs


@pytest.mark.parametrize("manager", MANAGERS)
def test_the_cache_mount_is_where_the_manager_keeps_its_downloads(manager: str, tmp_path: Path) -> None:
    """A cache mount elsewhere would leave every build downloading everything again, and a
    cache location the non-root dev and test stages must create would break them."""
    path, _ = render_web(tmp_path, {"package_manager": manager})
    deps = stages(path)["deps"][1]
    install = [c for c in deps if c.cmd == "RUN"][-1]
    (cache,) = cache_targets(install)
    env = env_of(deps)
    if manager == "yarn":
        assert f"--cache-folder {cache}" in install.value[0] and "YARN_CACHE_FOLDER" not in env
    elif manager == "yarn-berry":
        assert env["YARN_CACHE_FOLDER"] == cache
        assert env["YARN_ENABLE_GLOBAL_CACHE"] == "false", "Yarn 4 ignores YARN_CACHE_FOLDER otherwise"
        assert env["YARN_NODE_LINKER"] == "node-modules", "Plug'n'Play would load packages from the cache mount"
    elif manager == "pnpm":
        assert env["npm_config_store_dir"] == env["pnpm_config_store_dir"] == cache
    else:
        assert cache == "/root/.npm" and env == {}


@pytest.mark.parametrize("manager", MANAGERS)
def test_manifests_and_install_files_are_copied_before_the_install_and_the_source_after(manager: str, tmp_path: Path) -> None:
    files = [".npmrc", ".yarn/releases", "packages/api/package.json"]
    path, _ = render_web(tmp_path, {"package_manager": manager, "install_files": files})
    found = stages(path)
    deps = found["deps"][1]
    copies = [c.value for c in deps if c.cmd == "COPY"]
    assert copies == [("package.json", EXPECTED[manager].lockfile, "./"), *((f, f) for f in files)], "each at its own path"
    last_copy = max(i for i, c in enumerate(deps) if c.cmd == "COPY")
    assert last_copy < deps.index(the_run(deps, EXPECTED[manager].install))
    for name in ("base", "deps"):
        assert not any(c.cmd == "COPY" and c.value[0] == "." for c in found[name][1]), f"no source in {name}"
    for name in ("dev", "test", "builder"):
        assert [c.value for c in found[name][1] if c.cmd == "COPY"] == [(".", ".")]


@pytest.mark.parametrize("manager", ["yarn", "yarn-berry", "pnpm"])
def test_yarn_and_pnpm_come_through_corepack_with_a_home_the_app_user_can_read(manager: str, tmp_path: Path) -> None:
    tool = TOOL[manager]
    path, _ = render_web(tmp_path / "20", {"package_manager": manager})
    deps = stages(path)["deps"][1]
    enable = the_run(deps, f"corepack enable {tool}")
    assert deps.index(enable) < deps.index(the_run(deps, EXPECTED[manager].install))
    env = env_of(deps)
    assert env["COREPACK_HOME"] == COREPACK_HOME, "not under /root: the dev and test stages run the tool as 10001"
    assert env["COREPACK_ENABLE_DOWNLOAD_PROMPT"] == "0" and env["COREPACK_ENABLE_AUTO_PIN"] == "0"
    assert "install --global corepack" not in path.read_text(), "Node 20 bundles corepack"

    path, _ = render_web(tmp_path / "25", {"package_manager": manager, "version": "25"})
    (setup,) = [c for c in stages(path)["deps"][1] if c.cmd == "RUN" and "corepack enable" in c.value[0]]
    assert re.fullmatch(rf"npm install --global corepack@\d+\.\d+\.\d+  && corepack enable {tool}", setup.value[0])
    assert cache_targets(setup) == ["/root/.npm"]


def test_npm_needs_no_corepack(tmp_path: Path) -> None:
    path, _ = render_web(tmp_path, {"package_manager": "npm", "version": "25"})
    assert "corepack" not in path.read_text().lower()


@pytest.mark.parametrize("manager", MANAGERS)
def test_default_dev_and_test_commands_follow_the_manager_and_explicit_ones_win(manager: str, tmp_path: Path) -> None:
    def commands(path: Path) -> list[list[str]]:
        found = stages(path)
        return [[*c.value] for name in ("dev", "test") for c in found[name][1] if c.cmd == "CMD"]

    path, _ = render_web(tmp_path / "default", {"package_manager": manager})
    assert commands(path) == [EXPECTED[manager].dev, EXPECTED[manager].test]
    mine = {"dev_command": ["node", "--watch", "server.js"], "test_command": ["node", "--test"]}
    path, _ = render_web(tmp_path / "explicit", {"package_manager": manager, **mine})
    assert commands(path) == [mine["dev_command"], mine["test_command"]]


def test_npm_is_the_default_and_renders_as_before(tmp_path: Path) -> None:
    default, _ = render_web(tmp_path / "default", {})
    explicit, _ = render_web(tmp_path / "explicit", {"package_manager": "npm"})
    assert default.read_text() == explicit.read_text()
    text = default.read_text()
    assert "COPY package.json package-lock.json ./\nRUN --mount=type=cache,target=/root/.npm \\\n    npm ci\n" in text
    assert "RUN npm run build\nRUN --mount=type=cache,target=/root/.npm \\\n    npm prune --omit=dev\n" in text
    assert 'CMD ["npm", "run", "dev"]' in text and 'CMD ["npm", "test"]' in text
    assert (tmp_path / "default" / "web" / ".dockerignore").read_text() == (tmp_path / "explicit" / "web" / ".dockerignore").read_text()


def test_dockerignore_keeps_yarn_berry_caches_and_plug_n_play_files_out(tmp_path: Path) -> None:
    render_web(tmp_path / "berry", {"package_manager": "yarn-berry"})
    render_web(tmp_path / "npm", {})
    berry = (tmp_path / "berry" / "web" / ".dockerignore").read_text().splitlines()
    npm = (tmp_path / "npm" / "web" / ".dockerignore").read_text().splitlines()
    assert {".yarn/cache", ".pnp.*", ".yarn/install-state.gz"} <= set(berry)
    assert not {".yarn/cache", ".pnp.*"} & set(npm)
    assert ".yarn/releases" not in berry, "the release yarnPath points at must reach the build"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"package.json": "{}", "package-lock.json": "{}"}, "'.npmrc' is not in the build context 'web': its COPY would fail the build"),
        ({"package.json": "{}", "package-lock.json": "{}", ".npmrc": "//registry.npmjs.org/:_authToken=npm_abc123\n"}, "'.npmrc' holds a registry credential"),
    ],
    ids=["missing", "credential"],
)
def test_install_files_must_exist_and_hold_no_credential(files: dict[str, str], message: str, tmp_path: Path) -> None:
    """They are copied into deps, which the dev and test images build on."""
    (tmp_path / "web").mkdir()
    for relative, text in files.items():
        (tmp_path / "web" / relative).write_text(text)
    spec = {"version": 1, "project": "shop", "services": {"web": {"build": {"family": "node", "context": "web", "node": {"install_files": [".npmrc"]}}}}}
    (tmp_path / "dockergen.yaml").write_text(json.dumps(spec, indent=2))
    with pytest.raises(DockergenError) as caught:
        render(tmp_path / "dockergen.yaml")
    assert re.search(r"dockergen\.yaml:\d+:\d+: error: services\.web\.build\.node\.install_files\[0\]: ", str(caught.value))
    assert message in str(caught.value)


def test_an_install_file_that_reads_the_credential_from_a_variable_is_copied(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / ".npmrc").write_text("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
    path, _ = render_web(tmp_path, {"install_files": [".npmrc"]})
    assert [c.value for c in stages(path)["deps"][1] if c.cmd == "COPY"][-1] == (".npmrc", ".npmrc")
