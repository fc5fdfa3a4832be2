"""Healthcheck timings the project sets per run (``interval: ${HC_INTERVAL:-10s}``) are spec
data: Compose interpolates them (the real ``docker-compose config`` judges), and where nothing
interpolates (the image's ``HEALTHCHECK``, read by BuildKit's parser; Kubernetes probes) the
default runs, which is what Compose runs without the variable. A bare variable (`$HC_INTERVAL`,
which Compose requires) runs Docker's default there; a variable with any other default
cannot be computed with and is refused (import carries it verbatim)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest
import yaml
from pydantic import ValidationError

from dockergen.spec.model import Healthcheck
from tests.python_specs import python_spec, render_spec
from tests.tools import compose

TIMINGS = {"interval": "${HC_INTERVAL:-10s}", "timeout": "${HC_TIMEOUT-4s}", "start_period": "${HC_START:-1m30s}", "retries": 4}


@pytest.mark.parametrize("value", ["${HC_INTERVAL:-10s}", "${X-500ms}", "${_A1:-1m30s}", "15s", "${HC_INTERVAL}", "$X"])
def test_a_timing_takes_a_variable_with_a_duration_default(value: str) -> None:
    assert Healthcheck(test=["CMD", "true"], interval=value).interval == value


@pytest.mark.parametrize("value", ["${X:-soon}", "${X:-10s}s", "$X s", "${X:?10s}", "${X:-10s}\n", "${1X:-10s}", "$1X", "${X}s"])
def test_a_timing_nothing_can_compute_with_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        Healthcheck(test=["CMD", "true"], interval=value)


def test_compose_interpolates_the_timings_the_image_and_kubernetes_take_the_defaults(tmp_path: Path) -> None:
    spec = python_spec(healthcheck={"http": "/health", **TIMINGS})
    spec["output"] = {"kubernetes": "k8s"}
    render_spec(tmp_path, spec)
    for env, want in (({}, ("10s", "4s", "1m30s")), ({"HC_INTERVAL": "7s", "HC_TIMEOUT": "2s", "HC_START": "5s"}, ("7s", "2s", "5s"))):
        done = compose(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.prod.yaml"], "config", "--format", "json", env=env)
        assert done.returncode == 0, done.stderr
        hc = json.loads(done.stdout)["services"]["api"]["healthcheck"]
        assert (hc["interval"], hc["timeout"], hc["start_period"]) == want
    flags = [i for i in dockerfile.parse_file(str(tmp_path / "api" / "Dockerfile")) if i.cmd.lower() == "healthcheck"]
    assert flags and all("--interval=10s" in i.flags and "--timeout=4s" in i.flags and "--start-period=1m30s" in i.flags for i in flags), flags
    probes = [doc for path in (tmp_path / "k8s").rglob("*.yaml") for doc in yaml.safe_load_all(path.read_text()) if doc]
    containers = [c for d in probes if d.get("kind") == "Deployment" for c in d["spec"]["template"]["spec"]["containers"]]
    assert containers and all(c["livenessProbe"]["periodSeconds"] == 10 and c["livenessProbe"]["timeoutSeconds"] == 4 for c in containers)


def test_import_writes_interpolated_timings_and_isolation_as_spec_fields(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  api:\n    image: nginx:1.27\n    isolation: default\n    healthcheck:\n"
        "      test: [CMD, curl, -f, http://localhost/]\n      interval: ${HC_INTERVAL:-10s}\n      timeout: ${HC_TIMEOUT-3s}\n      retries: 5\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKERGEN_")}
    done = subprocess.run([sys.executable, "-m", "dockergen", "import", str(tmp_path), "--verify"], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0 and " 0 unexplained" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
    api = yaml.safe_load((tmp_path / "dockergen.yaml").read_text())["services"]["api"]
    assert "compose" not in api, api
    assert api["isolation"] == "default" and api["healthcheck"]["interval"] == "${HC_INTERVAL:-10s}"
