"""Fixtures of the e2e suite: the engine (or a visible skip / a CI failure) and rendered
copies of the examples.

Every test under tests/e2e carries the ``e2e`` marker (deselect with ``-m "not e2e"``).
Without podman the tests skip with the reason and the set-up command; with ``CI=true``
they fail instead, because CI must prove the generated files build and run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import engine as eng

E2E_DIR = Path(__file__).resolve().parent
# Projects the e2e suite builds: their own test suites run inside the images, not here.
collect_ignore = ["projects"]


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def not_available(reason: str) -> None:
    """Skip with the reason on a developer machine; fail on CI (never a silent skip there)."""
    if on_ci():
        pytest.fail(f"e2e on CI: {reason} (CI runs {eng.SETUP_HINT} first; see its output)", pytrace=False)
    pytest.skip(f"e2e: {reason}; set up with: {eng.SETUP_HINT}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def engine() -> eng.Engine:
    found, why = eng.find_engine()
    if found is None:
        not_available(why)
    assert found is not None
    return found


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


_RENDERED: dict[Path, Path] = {}
_CONFIGS: dict[tuple[Path, str], dict[str, Any]] = {}


def rendered_copy(example: Path, workspace: Path) -> Path:
    """The example copied to a scratch directory and rendered there with the CLI, once per run."""
    if example not in _RENDERED:
        target = workspace / example.name
        shutil.copytree(example, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "node_modules", "dist"))
        result = subprocess.run(
            [sys.executable, "-m", "dockergen", "render", "-q", "--spec", str(target / "dockergen.yaml")],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, f"dockergen render failed:\n{result.stderr}"
        _RENDERED[example] = target
    return _RENDERED[example]


def merged_config(stack: eng.Stack) -> dict[str, Any]:
    key = (stack.directory, "|".join(stack.files))
    if key not in _CONFIGS:
        _CONFIGS[key] = stack.config()
    return _CONFIGS[key]


def require_images(images: list[str]) -> None:
    """Skip (with the reason) for images no stand-in can provide; otherwise a missing image
    is a set-up problem: a failure on CI, a skip with the set-up command elsewhere."""
    missing = [image for image in dict.fromkeys(images) if not eng.image_exists(image)]
    for image in missing:
        reason = eng.unavailable_reason(image)
        if reason:
            pytest.skip(reason)
    if missing:
        not_available(f"image(s) not present locally: {', '.join(missing)}")
