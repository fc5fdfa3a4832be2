"""Compose extension fields (`x-` keys) other tools read from a Compose file: the spec's
`extensions` (top level, per environment, per service) are written back as they are, and
`import` carries a project's own (not the YAML anchors merged into services) into them.
Judged by the real `docker-compose config` of the rendered files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tools import compose

SCALARS = st.one_of(st.integers(-10**6, 10**6), st.booleans(), st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.from_regex(r"[a-z][a-z0-9_.-]{0,8}", fullmatch=True), inner, max_size=3), max_leaves=8)
KEYS = st.from_regex(r"x-[a-zA-Z0-9._-]{1,12}", fullmatch=True)


def _render(root: Path, spec: dict[str, Any]) -> None:
    (root / "dockergen.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    done = subprocess.run([sys.executable, "-m", "dockergen", "render", "--spec", str(root / "dockergen.yaml"), "--force", "-q"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr


def _config(root: Path, env: str) -> dict[str, Any]:
    done = compose(root, [root / "compose.yaml", root / f"compose.{env}.yaml"], "config", "--no-interpolate", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(top=st.dictionaries(KEYS, VALUES, max_size=3), prod=st.dictionaries(KEYS, st.none() | VALUES, max_size=2),
       own=st.dictionaries(KEYS, VALUES, max_size=2))  # fmt: skip
def test_extensions_come_back_from_compose_as_written(tmp_path_factory: Any, top: dict, prod: dict, own: dict) -> None:
    root = tmp_path_factory.mktemp("ext")
    spec = {"project": "demo", "environments": {"dev": {}, "prod": {"extensions": prod}},
            "services": {"web": {"image": "nginx:1.27", "extensions": own}}, "extensions": top}  # fmt: skip
    _render(root, spec)
    for env, over in (("dev", {}), ("prod", prod)):
        want = {k: v for k, v in {**top, **over}.items() if v is not None}
        got = _config(root, env)
        assert {k: v for k, v in got.items() if k.startswith("x-")} == want, env
        assert {k: v for k, v in got["services"]["web"].items() if k.startswith("x-")} == own
        assert set(got) - set(want) <= {"name", "services", "networks"}  # no value added a key


def test_import_carries_a_projects_own_extensions_not_its_anchors(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "compose.yaml").write_text(
        "x-kompose:\n  service.type: LoadBalancer\n"
        "x-project-meta:\n  owner: payments\n  tags: [billing]\n"
        "x-logging: &logging\n  driver: json-file\n  options: {max-size: 5m}\n"
        "services:\n  api:\n    image: nginx:1.27\n    logging: *logging\n    x-route: edge\n"
    )
    (root / "compose.prod.yaml").write_text("x-project-meta:\n  tier: gold\n  tags: [prod]\nservices:\n  api:\n    restart: always\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKERGEN_")}
    done = subprocess.run([sys.executable, "-m", "dockergen", "import", str(root), "--verify"], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " 0 unexplained" in done.stdout, done.stdout[-3000:]
    spec = yaml.safe_load((root / "dockergen.yaml").read_text())
    assert spec["extensions"] == {"x-kompose": {"service.type": "LoadBalancer"}, "x-project-meta": {"owner": "payments", "tags": ["billing"]}}
    prod = spec["environments"]["prod"]  # compose.yaml + compose.prod.yaml, as its name and `extends: dev` say
    assert prod.get("extends") == "dev" and "description" not in prod
    assert prod["extensions"] == {"x-project-meta": {"owner": "payments", "tags": ["billing", "prod"], "tier": "gold"}}
    assert spec["services"]["api"]["extensions"] == {"x-route": "edge"} and "compose" not in spec["services"]["api"]
