"""`dockergen import` on the reference sprawl (tests/fixtures/legacy-monorepo, see its INVENTORY.md):
one spec that validates, renders and verifies with zero unexplained differences in every
environment INVENTORY.md lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockergen.importer.spec.text import spec_text
from dockergen.importer.analyze import analyze
from dockergen.importer.plan import ImportOptions, ImportPlan
from dockergen.importer.records import UNEXPLAINED
from dockergen.importer.verify.run import VerifyResult, verify
from dockergen.pipeline import Rendered, render
from dockergen.spec.model import Build

FIXTURE = Path(__file__).parent / "fixtures" / "legacy-monorepo"

# INVENTORY.md section 1: environment -> its exact -f set ("base" is not an environment of its own).
INVENTORY_ENVIRONMENTS = {
    "dev": ("docker-compose.yml",),
    "dev-optimized": ("docker-compose.yml", "docker-compose.dev-optimized.yml"),
    "resource-optimized": ("docker-compose.yml", "docker-compose.resource-optimized.yml"),
    "test": ("docker-compose.test.yml",),
    "pytest": ("docker-compose.test.yml", "docker-compose.pytest.yml"),
    "alpine": ("docker-compose.alpine.yml",),
    "alpine-test": ("docker-compose.alpine-test.yml",),
    "staging": ("docker-compose.base.yml", "docker-compose.staging.yml"),
    "unified": ("docker-compose.unified.yml",),
    "podman": ("docker-compose.podman.yml",),
    "podman-mac": ("docker-compose.podman.yml", "docker-compose.podman-mac.yml"),
    "podman-no-dns": ("docker-compose.podman-no-dns.yml",),
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[ImportPlan, Rendered, VerifyResult]:
    plan = analyze(FIXTURE)
    spec = tmp_path_factory.mktemp("spec") / "dockergen.yaml"
    spec.write_text(spec_text(plan))
    rendered = render(spec)
    return plan, rendered, verify(plan, rendered)


def test_every_inventory_environment_is_found_with_its_exact_files(imported) -> None:  # noqa: ANN001
    plan, _, _ = imported
    assert {e.name: e.files for e in plan.environments} == INVENTORY_ENVIRONMENTS


def test_all_files_are_read_and_understood(imported) -> None:  # noqa: ANN001
    plan, _, _ = imported
    assert len(plan.inventory.dockerfiles) == 28
    assert len(plan.inventory.compose_files) == 13
    assert plan.problems == []
    assert not [n for n in plan.notes if "import bug" in n]


def test_the_spec_renders_one_dockerfile_per_image_instead_of_28(imported) -> None:  # noqa: ANN001
    plan, rendered, _ = imported
    dockerfiles = [f.path for f in rendered.files if f.kind == "dockerfile"]
    # backend 8 -> 1, auth 6 -> 1, frontend 6 -> 1, and the 7 single-file images Compose builds
    # (loadtest.Dockerfile, run by hand, stays as it is).
    assert len(dockerfiles) == 10 and "docker/loadtest.Dockerfile" not in dockerfiles
    assert "docker/backend.Dockerfile" in dockerfiles and "docker/backend.alpine.Dockerfile" not in dockerfiles
    stages = set(Build.model_validate(plan.spec["services"]["auth"]["build"], context={}).stage_list())
    assert {"default", "alpine", "development", "podman", "staging", "test"} <= stages
    assert plan.spec["services"]["auth-tests"]["uses"] == "auth"


def test_verifies_with_zero_unexplained_differences_in_every_environment(imported) -> None:  # noqa: ANN001
    _, _, result = imported
    assert result.compared == {name: "ok" for name in INVENTORY_ENVIRONMENTS}
    assert [f"{d.env} {d.service} {d.path}: {d.original} -> {d.rendered}" for d in result.unexplained] == []
    assert result.dockerfiles_compared == 37  # every stage of every original Dockerfile the spec replaces


def test_differences_are_classified_not_hidden(imported) -> None:  # noqa: ANN001
    _, _, result = imported
    counts = result.counts()
    assert counts.get("unified", 0) > 0 and counts.get("baked-in", 0) > 0 and counts.get("carried verbatim", 0) > 0
    assert UNEXPLAINED not in counts


def test_without_the_compose_cli_the_import_is_the_same(imported) -> None:  # noqa: ANN001
    plan, _, _ = imported
    own = analyze(FIXTURE, ImportOptions(use_cli=False))
    assert {e.name: e.files for e in own.environments} == INVENTORY_ENVIRONMENTS
    assert own.spec == plan.spec
