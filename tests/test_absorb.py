"""dockergen absorb: a hand edit becomes a spec change, proven with the real Compose CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.test_drift import SPEC, run
from tests.tools import canonical, compose_config

COMMENTED = "# the team's spec\n" + SPEC


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "api").mkdir()
    (tmp_path / "worker").mkdir()
    (tmp_path / "dockergen.yaml").write_text(COMMENTED)
    assert run(tmp_path, "render").returncode == 0
    return tmp_path


def effective(project: Path, env: str) -> dict:
    config = compose_config(project, [project / "compose.yaml", project / f"compose.{env}.yaml"])
    as_text = json.dumps(canonical(config)).replace(str(project), "<project>")
    return json.loads(as_text)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def snapshot(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("edited")
    shutil.copytree(project, copy, dirs_exist_ok=True)
    return copy


def test_overlay_edit_becomes_a_per_environment_setting(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    prod = project / "compose.prod.yaml"
    edit(prod, "  db:\n", "  db:\n    environment:\n      MAX_CONNECTIONS: \"50\"\n")
    edit(prod, "    image: shop/api:${TAG:-prod}\n", "    image: shop/api:${TAG:-prod}\n    stop_grace_period: 45s\n")
    edited = snapshot(project, tmp_path_factory)
    result = run(project, "absorb")
    assert result.returncode == 0, result.stderr
    spec = (project / "dockergen.yaml").read_text()
    assert spec.startswith("# the team's spec\n")  # comments kept
    assert "MAX_CONNECTIONS" in spec and "stop_grace_period: 45s" in spec
    assert run(project, "check").returncode == 0
    assert effective(project, "prod") == effective(edited, "prod")
    assert effective(project, "dev") == effective(edited, "dev")  # other environments untouched


def test_base_edit_becomes_a_service_setting(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    edit(project / "compose.yaml", "  db:\n", "  db:\n    labels:\n      team: data\n")
    edited = snapshot(project, tmp_path_factory)
    assert run(project, "absorb", "compose.yaml").returncode == 0
    spec = (project / "dockergen.yaml").read_text()
    assert "environments" not in spec.split("  db:")[1]  # service level, not per environment
    assert "team: data" in spec
    for env in ("dev", "test", "prod"):
        assert effective(project, env) == effective(edited, env)


def test_edit_without_a_native_field_goes_through_the_escape_hatch(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    edit(project / "compose.dev.yaml", "      - 8000:8000\n", "      - 8000:8000\n      - 9000:9000\n")
    edited = snapshot(project, tmp_path_factory)
    assert run(project, "absorb").returncode == 0
    assert "compose:" in (project / "dockergen.yaml").read_text()
    assert effective(project, "dev") == effective(edited, "dev")


def test_service_removed_from_an_overlay_is_disabled_in_that_environment(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "worker").mkdir()
    spec = SPEC.replace("  db:\n", "    environments: {test: {enabled: false}}\n  db:\n", 1)
    (tmp_path / "dockergen.yaml").write_text(spec)
    assert run(tmp_path, "render").returncode == 0
    prod = tmp_path / "compose.prod.yaml"
    head, rest = prod.read_text().split("  worker:\n", 1)
    following = rest[rest.index("\n  db:\n") + 1 :]
    prod.write_text(head + following)
    assert run(tmp_path, "absorb").returncode == 0
    assert "prod: {enabled: false}" in (tmp_path / "dockergen.yaml").read_text() or "enabled: false" in (
        tmp_path / "dockergen.yaml"
    ).read_text().split("worker:")[1]
    assert "worker" not in compose_config(tmp_path, [tmp_path / "compose.yaml", prod])["services"]
    assert "worker" in compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.dev.yaml"])["services"]


def test_new_service_and_dockerfile_edits_are_reported_precisely(project: Path) -> None:
    edit(project / "compose.dev.yaml", "services:\n", "services:\n  mail:\n    image: mailhog/mailhog:v1.0.1\n")
    dockerfile = project / "api" / "Dockerfile"
    edit(dockerfile, "FROM base AS prod\n", "FROM base AS prod\nENV FEATURE=1\n")
    result = run(project, "absorb", "compose.dev.yaml", "api/Dockerfile")
    assert result.returncode == 1
    assert "service `mail` is new" in result.stderr
    assert "api/Dockerfile: cannot be absorbed" in result.stderr
    assert "Traceback" not in result.stderr


def test_dry_run_changes_nothing(project: Path) -> None:
    edit(project / "compose.prod.yaml", "restart: always", "restart: on-failure")
    before = (project / "dockergen.yaml").read_text()
    result = run(project, "absorb", "--dry-run")
    assert result.returncode == 0 and "+        restart: on-failure" in result.stdout
    assert (project / "dockergen.yaml").read_text() == before
    assert run(project, "check").returncode == 1


def test_nothing_is_lost_when_part_of_an_edit_cannot_be_absorbed(project: Path) -> None:
    dev = project / "compose.dev.yaml"
    edit(dev, "services:\n", "services:\n  mail:\n    image: mailhog/mailhog:v1.0.1\n")
    edit(dev, "      - 8000:8000\n", "      - 8000:8000\n      - 9000:9000\n")
    dockerfile = project / "api" / "Dockerfile"
    edit(dockerfile, "FROM base AS prod\n", "FROM base AS prod\nENV FEATURE=1\n")
    edited_dev, edited_dockerfile, spec = dev.read_text(), dockerfile.read_text(), (project / "dockergen.yaml").read_text()
    assert run(project, "absorb").returncode == 1
    assert dev.read_text() == edited_dev and dockerfile.read_text() == edited_dockerfile
    assert (project / "dockergen.yaml").read_text() == spec


def test_absorbing_one_file_keeps_other_hand_edits(project: Path) -> None:
    edit(project / "compose.prod.yaml", "restart: always", "restart: on-failure")
    dockerfile = project / "api" / "Dockerfile"
    edit(dockerfile, "FROM base AS prod\n", "FROM base AS prod\nENV FEATURE=1\n")
    edited_dockerfile = dockerfile.read_text()
    assert run(project, "absorb", "compose.prod.yaml").returncode == 0
    assert dockerfile.read_text() == edited_dockerfile
    result = run(project, "check")
    assert result.returncode == 1 and "api/Dockerfile: edited by hand" in result.stdout and "compose.prod.yaml" not in result.stdout
