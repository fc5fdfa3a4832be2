"""The migration report read as Markdown says what its text says: a Review item that starts
with a command keeps it a code span (an escaped first backquote turned every span of the
item inside out, so the commands to run showed as prose and the prose as code)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from markdown_it import MarkdownIt


def test_a_review_item_starting_with_a_command_keeps_its_code_spans(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM python:3.12-slim\nCMD [\"python\", \"-V\"]\n")
    (root / "compose.yaml").write_text("services:\n  app:\n    build: .\n    image: app:1\n")
    result = subprocess.run([sys.executable, "-m", "dockergen", "import", ".", "--report", "migration.md"], cwd=root,
                            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    tokens = MarkdownIt("commonmark").parse((root / "migration.md").read_text())
    items = [t for t in tokens if t.type == "inline" and "refuses to overwrite files it did not write" in t.content]
    assert len(items) == 1
    spans = [c.content for c in items[0].children or () if c.type == "code_inline"]
    assert spans[:2] == ["dockergen render", "dockergen render --force"], spans
    assert "variant Dockerfiles" not in items[0].content  # one Dockerfile: there is no variant to delete


def test_the_review_names_variants_to_delete_only_where_there_are(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM python:3.12-slim\nCMD [\"python\", \"-V\"]\n")
    (root / "Dockerfile.dev").write_text("FROM python:3.12-slim\nCMD [\"python\", \"-VV\"]\n")
    (root / "compose.yaml").write_text("services:\n  app:\n    build: {context: ., dockerfile: Dockerfile.dev}\n    image: app:1\n")
    (root / "compose.prod.yaml").write_text("services:\n  app:\n    build: {context: ., dockerfile: Dockerfile}\n")
    result = subprocess.run([sys.executable, "-m", "dockergen", "import", ".", "--report", "migration.md"], cwd=root,
                            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = (root / "migration.md").read_text()
    assert "| app | dev | Dockerfile.dev |" in report and "delete the variant Dockerfiles listed above and the old Compose files" in report
