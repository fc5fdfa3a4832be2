"""The documentation: the site builds strictly, every spec field is described, every example
has a page and starts with `dockergen compose`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockergen.spec.schema import spec_json_schema
from tests.conftest import EXAMPLES, ROOT

DOCS = ROOT / "docs"


def undocumented_fields() -> list[str]:
    """``Model.field`` for every property of the spec's schema without a description."""
    schema = spec_json_schema()
    missing = []
    for name, definition in [("Spec", schema), *schema.get("$defs", {}).items()]:
        for field, node in definition.get("properties", {}).items():
            if not str(node.get("description", "")).strip():
                missing.append(f"{name}.{field}")
    return missing


def test_every_spec_field_has_a_description() -> None:
    missing = undocumented_fields()
    assert not missing, (
        f"{len(missing)} spec field(s) without a description; write a docstring under each in "
        "dockergen/spec/model.py (it becomes docs/spec-reference.md):\n  " + "\n  ".join(missing)
    )


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    """Broken links, missing pages and pages left out of the nav fail the build."""
    mkdocs = shutil.which("mkdocs")
    if mkdocs is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("mkdocs is not installed on CI (.ci/run installs the `docs` extra)")
        pytest.skip("mkdocs is not installed: pip install -e '.[docs]'")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    # Not -q: it hides the warnings that --strict turns into a failure.
    result = subprocess.run([mkdocs, "build", "--strict", "-d", str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "quickstart" / "index.html").is_file()


def test_every_example_has_a_page_that_starts_it_with_dockergen_compose(example: Path) -> None:
    page = DOCS / "examples" / f"{example.name}.md"
    assert page.is_file(), f"add {page.relative_to(ROOT)} (and its nav entry in mkdocs.yml)"
    spec = f"examples/{example.name}/dockergen.yaml"
    for text in (page.read_text(), (example / "README.md").read_text()):
        assert f"dockergen compose --spec {spec} dev up" in text


def test_the_quick_start_commands_are_real_commands() -> None:
    """Every `dockergen X` the README and the quick start tell a newcomer to run exists."""
    result = subprocess.run([sys.executable, "-m", "dockergen", "--help"], capture_output=True, text=True, timeout=60)
    commands = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()}
    for page in (ROOT / "README.md", DOCS / "quickstart.md"):
        used = {word.split()[1] for word in page.read_text().split("`") if word.startswith("dockergen ") and len(word.split()) > 1}
        blocks = page.read_text().split("```")[1::2]  # fenced code
        used |= {line.split()[1] for block in blocks for line in block.splitlines() if line.startswith("dockergen ")}
        assert used and used <= commands | {"--version"}, (page.name, used - commands)
