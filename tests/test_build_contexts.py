"""A build's named contexts (`build.additional_contexts`, read by `COPY --from=<name>`) are spec
data: rendered into Compose (judged by the real `docker-compose config`) and into Bake's
`contexts`, a folder kept inside the project like every other path the spec names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.tools import compose

STEPS = ["FROM python:3.12-slim", "COPY --from=protos ledger.proto /srv/", "COPY --from=base /etc/os-release /srv/", 'CMD ["sleep", "infinity"]']


def _spec(root: Path, contexts: dict[str, str], output: dict | None = None) -> subprocess.CompletedProcess[str]:
    (root / "api").mkdir(parents=True, exist_ok=True)
    (root / "proto").mkdir(exist_ok=True)
    (root / "proto" / "ledger.proto").write_text('syntax = "proto3";\n')
    spec = {"project": "ledger", "environments": {"dev": {}}, "output": output or {},
            "services": {"api": {"build": {"context": "api", "steps": STEPS, "additional_contexts": contexts}}}}  # fmt: skip
    (root / "dockergen.yaml").write_text(yaml.safe_dump(spec))
    return subprocess.run([sys.executable, "-m", "dockergen", "render", "--spec", str(root / "dockergen.yaml"), "--force", "-q"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.mark.parametrize("folder", ["proto", "./proto", "api/../proto"])
def test_named_contexts_reach_compose_and_bake(tmp_path: Path, folder: str) -> None:
    done = _spec(tmp_path, {"protos": folder, "base": "docker-image://alpine:3.20"}, {"bake": "docker-bake.hcl"})
    assert done.returncode == 0, done.stderr
    config = compose(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.dev.yaml"], "config", "--format", "json")
    assert config.returncode == 0, config.stderr
    build = json.loads(config.stdout)["services"]["api"]["build"]
    assert build["additional_contexts"] == {"protos": str(tmp_path / "proto"), "base": "docker-image://alpine:3.20"}
    bake = (tmp_path / "docker-bake.hcl").read_text()
    assert 'contexts = {\n    base = "docker-image://alpine:3.20"\n    protos = "proto"\n  }' in bake, bake


@pytest.mark.parametrize("folder", ["../outside", "/etc", "proto\nx", "service:db"])
def test_a_named_context_outside_the_project_or_malformed_is_refused(tmp_path: Path, folder: str) -> None:
    done = _spec(tmp_path / "project", {"protos": folder})
    assert done.returncode == 2, done.stderr
    assert "additional_contexts" in done.stderr and "Traceback" not in done.stderr
