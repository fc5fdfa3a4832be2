"""`import --verify` on files that use variables set in the team's shell, not in the checkout:
Compose only warns that they are unset, so verify compares both sides with the same
placeholders instead of blaming the import for a blank the original files have too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockergen.importer.read import compose_cli

USES = {
    "agent-socket bind": "    volumes:\n      - ${SSH_AUTH_SOCK}:/ssh-agent\n      - ./data:/data\n",
    "host port": "    ports:\n      - ${HOST_PORT}:8080\n",
    "port range and bind": "    ports:\n      - \"${PORT_A}:80\"\n    volumes:\n      - ${SRC_DIR}:/src:ro\n",
    "healthcheck timing": "    healthcheck:\n      test: [CMD, \"true\"]\n      interval: ${HC_INTERVAL}\n      retries: 3\n",
    "long-syntax bind": "    volumes:\n      - type: bind\n        source: ${DOCKER_SOCK}\n        target: /var/run/docker.sock\n",
}
BLANK_IS_VALID = {"host port", "long-syntax bind"}


@pytest.mark.parametrize("use", sorted(USES))
def test_verify_judges_files_with_unset_variables_like_for_like(tmp_path: Path, use: str) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "compose.yaml").write_text("services:\n  app:\n    image: ghost:5-alpine\n    environment:\n      url: ${GHOST_URL}\n" + USES[use])
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKERGEN_")}
    result = subprocess.run([sys.executable, "-m", "dockergen", "import", str(root), "--verify"],
                            capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "(1 with the Compose CLI)" in result.stdout and " 0 unexplained" in result.stdout, result.stdout[-3000:]
    # A blank host port (Compose picks one) or long-syntax source is valid: no placeholder there.
    assert ("compared with the same placeholder on both sides: " in result.stdout) == (use not in BLANK_IS_VALID)


def test_a_placeholder_does_not_hide_what_a_blank_breaks_in_the_rendered_files_only(tmp_path: Path) -> None:
    # Same placeholders on both sides: a rendered file that is invalid with them stays a failure.
    (tmp_path / "a.yaml").write_text("services:\n  app:\n    image: x\n    volumes: ['${SRC}:/src']\n")
    (tmp_path / "b.yaml").write_text("services:\n  app:\n    image: x\n    ports: ['${SRC}:80']\n")
    original = compose_cli.run_config(compose_cli.ConfigRequest(tmp_path, (tmp_path / "a.yaml",), interpolate=True))
    assert original.config is None and original.unset == ("SRC",)
    retried = compose_cli.with_placeholders(original)
    assert retried.config is not None and dict(retried.request.env)["SRC"].startswith("/")
    mine = compose_cli.ConfigRequest(tmp_path, (tmp_path / "b.yaml",), interpolate=True, env=retried.request.env)
    assert compose_cli.run_config(mine).config is None
