"""`dockergen import` never exits 3: what a spec field refuses goes to the `compose:` escape
hatch, what even the hatch refuses is left out (and said), and the written spec renders.

Each input here once made the importer write a spec the renderer refused. They are judged
through the real CLI (exit code, the written spec rendered again by `dockergen render`) and
the decision the report gives for the value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dockergen.errors import Problem
from dockergen.importer.plan import ImportOptions
from dockergen.importer.spec.fallback import next_options
from tests.tools import compose_config


def _run(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "dockergen", *argv], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)  # fmt: skip


def _tree(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


DOCKERFILE = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"-m\", \"http.server\"]\n"


def test_a_port_no_field_takes_goes_to_the_hatch_then_out_and_the_spec_renders(tmp_path: Path) -> None:
    # `ports: CMD` (a fuzzed file, tests/test_fuzz.py seed 31): Compose refuses it, dockergen's own merge reads it.
    root = _tree(tmp_path / "repo", {"Dockerfile": DOCKERFILE, "docker-compose.yml": "services:\n  web:\n    build: .\n    ports: CMD\n"})
    result = _run("import", ".", "--report", "MIGRATION.md", cwd=root, env={"DOCKERGEN_COMPOSE": "none"})
    assert result.returncode == 0, result.stderr
    report = (root / "MIGRATION.md").read_text()
    assert "web: ports" in report and "refused" in report
    assert "web: ports left out" in result.stdout
    assert "ports" not in yaml.safe_load((root / "dockergen.yaml").read_text())["services"]["web"]
    rendered = _run("render", "--force", "-q", cwd=root)
    assert rendered.returncode == 0, rendered.stderr


def test_a_service_compose_refuses_too_is_left_out_and_verify_lists_it(tmp_path: Path) -> None:
    files = {"Dockerfile": DOCKERFILE, "docker-compose.yml": "services:\n  web:\n    build: .\n",
             "docker-compose.override.yml": "services:\n  helper:\n    environment: {A: '1'}\n"}  # fmt: skip
    root = _tree(tmp_path / "repo", files)
    result = _run("import", ".", "--verify", cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr  # verify: the original dev chain does not even load
    assert "helper left out" in result.stdout
    assert "helper" not in yaml.safe_load((root / "dockergen.yaml").read_text())["services"]
    assert _run("render", "--force", "-q", cwd=root).returncode == 0


def test_an_image_only_the_hatch_holds_keeps_its_service_and_renders_as_it_was(tmp_path: Path) -> None:
    # A line break in `image`: Compose's config takes it, the spec's `image` field does not.
    compose = 'services:\n  web:\n    image: "nginx\\nRUN x"\n  db:\n    image: postgres:16\n'
    root = _tree(tmp_path / "repo", {"compose.yaml": compose})
    original = compose_config(root, [root / "compose.yaml"])["services"]["web"]["image"]
    assert original == "nginx\nRUN x"
    result = _run("import", ".", "--verify", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 unexplained" in result.stdout and "left out" not in result.stdout
    web = yaml.safe_load((root / "dockergen.yaml").read_text())["services"]["web"]
    assert web == {"compose": {"image": "nginx\nRUN x"}}
    (root / "compose.yaml").unlink()
    assert _run("render", "-q", cwd=root).returncode == 0
    base = (root / "compose.yaml").read_text()
    assert not any(line.lstrip().startswith("RUN") for line in base.splitlines())  # the line break stays escaped
    overlay = next(root.glob("compose.*.yaml"))
    assert compose_config(root, [root / "compose.yaml", overlay])["services"]["web"]["image"] == original


def test_twins_behind_a_profile_share_a_host_port_natively(tmp_path: Path) -> None:
    compose = ("services:\n  web:\n    image: nginx:1.27\n    ports: ['8080:80']\n"
               "  web-debug:\n    image: nginx:1.27\n    profiles: [debug]\n    ports: ['8080:80']\n")  # fmt: skip
    root = _tree(tmp_path / "repo", {"compose.yaml": compose})
    result = _run("import", ".", "--verify", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "compose:" not in (root / "dockergen.yaml").read_text() and "left out" not in result.stdout
    assert "0 unexplained" in result.stdout


def test_a_build_context_beside_the_main_one_stays_relative(tmp_path: Path) -> None:
    compose = "services:\n  web:\n    build:\n      context: ./app\n      additional_contexts:\n        assets: ./assets\n        base: docker-image://alpine:3.20\n"
    root = _tree(tmp_path / "repo", {"compose.yaml": compose, "app/Dockerfile": "FROM alpine:3.20\nCOPY --from=assets . /srv\n", "assets/a.css": "a{}\n"})
    result = _run("import", ".", "--verify", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    web = yaml.safe_load((root / "dockergen.yaml").read_text())["services"]["web"]
    assert web["build"]["additional_contexts"] == {"assets": "./assets", "base": "docker-image://alpine:3.20"}  # a spec field, not the hatch
    assert "compose" not in web


def test_a_context_with_a_dollar_the_cli_resolved_stays_relative(tmp_path: Path) -> None:
    # `build: $$` (a literal `$`, fuzzed): the Compose CLI makes it absolute, `$` and all.
    root = _tree(tmp_path / "repo", {"compose.yaml": "services:\n  web:\n    build: $$\n    ports: ['8080:80']\n"})
    result = _run("import", ".", "--verify", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    build = yaml.safe_load((root / "dockergen.yaml").read_text())["services"]["web"]["compose"]["build"]
    assert build["context"] == "$$"  # as the file spells it (relative: a folder named `$`), not the CLI's absolute path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("services", "web", "ports"), {("web", "ports")}),
        (("services", "web", "environments", "prod", "resources", "limits"), {("web", "deploy")}),
        (("services", "web", "target"), {("web", "build")}),
        (("services", "web", "build_args"), {("web", "build_args")}),  # only the args: the Dockerfile still merges
        (("environments", "prod", "defaults", "logging", "driver"), {("*", "logging")}),
        (("defaults", "healthcheck"), {("*", "healthcheck")}),
    ],
)
def test_a_refused_field_moves_its_compose_key_to_the_hatch(path: tuple, expected: set) -> None:
    moved = next_options(ImportOptions(), [Problem("refused", path=path)])
    assert moved is not None and set(moved.carried) == expected and not moved.left_out


def test_a_refused_hatch_value_is_left_out_and_nothing_else_moves_a_second_time() -> None:
    first = ImportOptions(carried={("web", "ports"): "x"})
    moved = next_options(first, [Problem("refused", path=("services", "web", "compose", "ports"))])
    assert moved is not None and moved.left_out == {("web", "ports"): "refused"}
    assert next_options(moved, [Problem("refused", path=("services", "web", "compose", "ports"))]) is None
    built = next_options(ImportOptions(carried={("web", "build"): "x"}), [Problem("outside", path=("services", "web", "compose", "build", "context"))])
    assert built is not None and built.left_out == {("web", "build"): "outside"}
    assert next_options(ImportOptions(), [Problem("no path")]) is None
    assert next_options(ImportOptions(), [Problem("refused", path=("volumes", "data"))]) is None


def test_a_brace_in_an_original_name_is_kept_as_written_not_read_as_a_placeholder(tmp_path: Path) -> None:
    # `{service}` and `{x}` mean placeholders to the spec (`spec.names`): the originals' braces are written doubled.
    compose = ("services:\n  web:\n    build: .\n    container_name: 'shop-{service}'\n"
               "    networks: {default: {aliases: ['{x}']}}\n  db:\n    image: 'postgres:{env}'\n")  # fmt: skip
    root = _tree(tmp_path / "repo", {"Dockerfile": DOCKERFILE, "docker-compose.yml": compose})
    result = _run("import", ".", cwd=root, env={"DOCKERGEN_COMPOSE": "none"})
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = _run("render", "--force", "-q", cwd=root)
    assert rendered.returncode == 0, rendered.stderr
    for overlay in root.glob("compose.*.yaml"):
        services = compose_config(root, [root / "compose.yaml", overlay])["services"]
        assert services["web"]["container_name"] == "shop-{service}"
        assert services["web"]["networks"]["default"]["aliases"] == ["{x}"]
        assert services["db"]["image"] == "docker.io/library/postgres:{env}"  # (qualified, as any short name)


def test_a_folder_holding_more_than_any_repository_is_refused_not_walked_for_hours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dockergen.errors import DockergenError
    from dockergen.importer import discover

    for index in range(30):
        (tmp_path / f"d{index}").mkdir()
        (tmp_path / f"d{index}" / "compose.yaml").write_text("services: {web: {image: nginx}}\n")
    monkeypatch.setattr(discover, "MAX_ENTRIES", 40)  # `dockergen import /`, in miniature
    with pytest.raises(DockergenError, match="holds more than 40 files and folders") as caught:
        discover.discover(tmp_path)
    assert caught.value.problems[0].location.file == str(tmp_path)
    monkeypatch.setattr(discover, "MAX_ENTRIES", 60)
    assert len(discover.discover(tmp_path).compose_files) == 30
