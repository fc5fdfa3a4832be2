"""Compose keys the import once carried in the escape hatch are spec fields now: `attach`,
`dns_opt`, `gpus`, `blkio_config`, the `post_start`/`pre_stop` hooks, `annotations` written as
a list, and healthcheck timings and retries given as a bare variable (`$HEALTHCHECK_INTERVAL`,
sentry's style). The real `docker-compose config` judges what they render to, per
environment, and the import of a file that uses them verifies with nothing in `compose:`."""

from __future__ import annotations

import json
from pathlib import Path

import dockerfile
import pytest
import yaml
from pydantic import ValidationError

from dockergen import durations
from dockergen.importer.analyze import analyze
from dockergen.importer.plan import ImportOptions
from dockergen.importer.spec.text import spec_text
from dockergen.importer.verify.run import verify
from dockergen.pipeline import render
from dockergen.spec.model import Healthcheck, ServiceSettings
from dockergen.write import write_files
from tests.python_specs import python_spec, render_spec
from tests.tools import compose_config

HOOK = {"command": ["sh", "-c", "echo up > /tmp/up"], "user": "root"}
BLKIO = {"weight": 300, "device_read_bps": [{"path": "/dev/sda", "rate": "50mb"}], "device_write_iops": [{"path": "/dev/sda", "rate": 100}]}

SPEC = {
    "version": 1,
    "project": "keys",
    "environments": {"dev": {}, "prod": {}},
    "services": {
        "worker": {
            "image": "alpine:3.20",
            "command": ["sleep", "infinity"],
            "attach": False,
            "dns_opt": ["ndots:2", "timeout:3"],
            "gpus": [{"driver": "nvidia", "count": 1}],
            "blkio_config": BLKIO,
            "post_start": [HOOK],
            "pre_stop": [{"command": "echo bye"}],
            "healthcheck": {"test": ["CMD", "true"], "interval": "$HC_INTERVAL", "timeout": "${HC_TIMEOUT}", "retries": "${HC_RETRIES:-4}"},
            "environments": {
                # prod replaces each list and the weight: Compose would append lists across
                # files, so the base must not hold what prod does not have
                "prod": {"attach": True, "dns_opt": ["ndots:5"], "gpus": "all", "blkio_config": {"weight": 100, "device_read_bps": None},
                         "post_start": [], "pre_stop": None},
            },
        }
    },
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("native")
    (root / "dockergen.yaml").write_text(json.dumps(SPEC))
    write_files(root, render(root / "dockergen.yaml").files)
    return root


def _service(root: Path, env: str) -> dict:
    files = [root / "compose.yaml", root / f"compose.{env}.yaml"]
    return compose_config(root, [f for f in files if f.is_file()], env={"HC_INTERVAL": "7s", "HC_TIMEOUT": "3s"})["services"]["worker"]


def test_each_key_renders_as_compose_reads_it_in_every_environment(rendered: Path) -> None:
    dev, prod = _service(rendered, "dev"), _service(rendered, "prod")
    assert dev["attach"] is False and prod["attach"] is True
    assert dev["dns_opt"] == ["ndots:2", "timeout:3"] and prod["dns_opt"] == ["ndots:5"]
    assert dev["gpus"] == [{"driver": "nvidia", "count": 1}]
    assert prod["gpus"] in ("all", [{"count": -1}], [{"count": "all"}]), prod["gpus"]
    assert dev["blkio_config"]["weight"] == 300 and _rates(dev["blkio_config"]["device_read_bps"]) == [("/dev/sda", "52428800")]
    assert prod["blkio_config"]["weight"] == 100 and "device_read_bps" not in prod["blkio_config"]
    assert _rates(prod["blkio_config"]["device_write_iops"]) == [("/dev/sda", "100")]
    assert dev["post_start"] == [HOOK] and dev["pre_stop"] == [{"command": ["echo", "bye"]}]
    assert not prod.get("post_start") and not prod.get("pre_stop")
    assert dev["healthcheck"]["interval"] == "7s" and dev["healthcheck"]["timeout"] == "3s" and dev["healthcheck"]["retries"] == 4


def _rates(limits: list[dict]) -> list[tuple[str, str]]:
    """(path, rate) of each limit (Compose's JSON spells these keys `Path`/`Rate`)."""
    return [tuple(str(v) for _, v in sorted((k.lower(), v) for k, v in limit.items())) for limit in limits]


def test_a_healthcheck_timing_may_be_a_bare_variable_compose_requires() -> None:
    hc = Healthcheck(test=["CMD", "true"], interval="$HEALTHCHECK_INTERVAL", timeout="${HC_T}", retries="$HEALTHCHECK_RETRIES")
    assert (hc.interval, hc.retries) == ("$HEALTHCHECK_INTERVAL", "$HEALTHCHECK_RETRIES")
    # where nothing interpolates (the image, Kubernetes) Docker's own default runs
    assert durations.literal("$HEALTHCHECK_INTERVAL", "30s") == "30s" and durations.count("${R:-5}") == 5 and durations.count("$R") == 3
    for bad in ({"retries": "$1X"}, {"retries": "${R:-0}"}, {"retries": "${R:-soon}"}, {"interval": "$X s"}, {"interval": "${X}s"}):
        with pytest.raises(ValidationError):
            Healthcheck(test=["CMD", "true"], **bad)


def test_the_image_healthcheck_of_a_bare_variable_is_dockers_default(tmp_path: Path) -> None:
    spec = python_spec(healthcheck={"http": "/health", "interval": "$HC_INTERVAL", "timeout": "${HC_TIMEOUT:-4s}", "retries": "$HC_RETRIES"})
    spec["output"] = {"kubernetes": "k8s"}
    render_spec(tmp_path, spec)
    flags = [i.flags for i in dockerfile.parse_file(str(tmp_path / "api" / "Dockerfile")) if i.cmd.lower() == "healthcheck"]
    assert flags and all("--interval=30s" in f and "--timeout=4s" in f and "--retries=3" in f for f in flags), flags
    docs = [d for p in (tmp_path / "k8s").rglob("*.yaml") for d in yaml.safe_load_all(p.read_text()) if d]
    probes = [c["livenessProbe"] for d in docs if d.get("kind") == "Deployment" for c in d["spec"]["template"]["spec"]["containers"]]
    assert probes and all(p["periodSeconds"] == 30 and p["timeoutSeconds"] == 4 and p["failureThreshold"] == 3 for p in probes)
    hc = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.prod.yaml"], env={"HC_INTERVAL": "9s", "HC_RETRIES": "6"})
    assert (hc["services"]["api"]["healthcheck"]["interval"], hc["services"]["api"]["healthcheck"]["retries"]) == ("9s", 6)


def test_a_list_of_annotations_is_the_mapping_field() -> None:
    assert ServiceSettings(annotations={"a": "1"}).annotations == {"a": "1"}


COMPOSE = """\
services:
  api:
    image: nginx:1.27
    attach: false
    dns_opt: [ndots:2]
    annotations: [com.example.tier=edge, com.example.owner=web]
    gpus: all
    blkio_config:
      weight: 500
      device_write_bps: [{path: /dev/sdb, rate: 10mb}]
    post_start:
      - command: [sh, -c, "echo started"]
        user: root
    pre_stop:
      - command: nginx -s quit
    healthcheck:
      test: [CMD, curl, -f, http://localhost/]
      interval: $HEALTHCHECK_INTERVAL
      timeout: ${HEALTHCHECK_TIMEOUT}
      retries: $HEALTHCHECK_RETRIES
"""
PROD = """\
services:
  api:
    dns_opt: [ndots:5, attempts:2]
    gpus: [{driver: nvidia, device_ids: ["0"]}]
"""


def test_import_writes_them_as_spec_fields_and_verifies(tmp_path: Path) -> None:
    root = tmp_path / "edge"
    root.mkdir()
    (root / "compose.yaml").write_text(COMPOSE)
    (root / "compose.prod.yaml").write_text(PROD)
    (root / ".env").write_text("HEALTHCHECK_INTERVAL=30s\nHEALTHCHECK_TIMEOUT=1m30s\nHEALTHCHECK_RETRIES=10\n")
    plan = analyze(root, ImportOptions())
    (root / "dockergen.yaml").write_text(spec_text(plan))
    result = verify(plan, render(root / "dockergen.yaml"))
    assert [f"{d.env} {d.path}" for d in result.unexplained] == []
    spec = yaml.safe_load((root / "dockergen.yaml").read_text())
    layers = [spec["services"]["api"], *(spec["services"]["api"].get("environments") or {}).values()]
    assert not [layer["compose"] for layer in layers if layer.get("compose")], layers
    api = spec["services"]["api"]
    assert api["annotations"] == {"com.example.tier": "edge", "com.example.owner": "web"}
    assert api["healthcheck"]["retries"] == "$HEALTHCHECK_RETRIES" and api["attach"] is False


def test_an_env_file_read_raw_stays_raw(tmp_path: Path) -> None:
    # `format: raw`: Compose neither unquotes nor interpolates the file; dropping it changes
    # GREETING from `"hello, $USER"` to `hello, ` (the variable unset).
    root = tmp_path / "raw"
    (root / "config").mkdir(parents=True)
    (root / "config" / "app.env").write_text('GREETING="hello, $USER"\n')
    (root / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n    env_file:\n      - path: ./config/app.env\n        format: raw\n")
    plan = analyze(root, ImportOptions())
    (root / "dockergen.yaml").write_text(spec_text(plan))
    assert verify(plan, render(root / "dockergen.yaml")).unexplained == []
    assert yaml.safe_load((root / "dockergen.yaml").read_text())["services"]["web"]["env_file"] == [{"path": "./config/app.env", "format": "raw"}]
