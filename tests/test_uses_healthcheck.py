"""A `uses` service never runs its builder's probe (issue 15, item 2): it gets the probe it
declares, a preset for a known command, or an explicit `disable`; lint blames the service.
Judged by the real Compose CLI; the celery probe runs on podman in tests/e2e."""

from __future__ import annotations

import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockergen.command_probes import probe_for
from tests.tools import compose_config

SPEC = """\
version: 1
project: shop
services:
  api:
    build:
      family: python
      port: 8000
      python: {{app: "app.main:app"}}
    healthcheck: {{http: /health}}
  job:
    uses: api
{job}
"""


def compose_job(tmp_path: Path, job: str, env: str = "prod") -> tuple[dict, dict]:
    (tmp_path / "requirements.txt").write_text("celery\n")
    spec = tmp_path / "dockergen.yaml"
    spec.write_text(SPEC.format(job=textwrap.indent(textwrap.dedent(job), "    ")))
    result = subprocess.run([sys.executable, "-m", "dockergen", "render", "-q", "--spec", str(spec)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    config = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / f"compose.{env}.yaml"])
    return config["services"]["api"], config["services"]["job"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("command: [celery, -A, app.tasks, worker, -l, INFO]", 'celery -A app.tasks inspect ping --timeout 5 -d "celery@$$(hostname)"'),
        ("command: celery --app=proj worker --concurrency=2 -n w1@%h", 'celery -A proj inspect ping --timeout 5 -d "w1@$$(hostname)"'),
        ("command: [python, -m, celery, -A, proj, -b, 'redis://redis:6379/0', worker]",
         'python -m celery -A proj -b redis://redis:6379/0 inspect ping --timeout 5 -d "celery@$$(hostname)"'),
        ("command: [uv, run, celery, worker, -A, proj]", 'uv run celery -A proj inspect ping --timeout 5 -d "celery@$$(hostname)"'),
    ],
)  # fmt: skip
def test_a_celery_worker_gets_inspect_ping_for_its_own_node(tmp_path: Path, command: str, expected: str) -> None:
    api, job = compose_job(tmp_path, command)
    assert job["healthcheck"]["test"] == ["CMD-SHELL", expected]
    assert job["healthcheck"]["test"] != api["healthcheck"]["test"]
    assert job["healthcheck"]["timeout"] == "15s"  # longer than the ping's own 5 s


def test_a_celery_worker_keeps_the_timing_it_declares(tmp_path: Path) -> None:
    _, job = compose_job(tmp_path, "command: [celery, -A, proj, worker]\nhealthcheck: {interval: 1m, retries: 5}")
    assert job["healthcheck"]["test"][1].startswith("celery -A proj inspect ping")
    assert (job["healthcheck"]["interval"], job["healthcheck"]["retries"]) == ("1m0s", 5)


@pytest.mark.parametrize(
    "command",
    [
        "command: [celery, -A, proj, beat, -s, /tmp/celerybeat-schedule]",
        "command: rq worker --url redis://redis:6379",
        "command: [dramatiq, app.tasks]",
        "command: [python, manage.py, process_queue]",
        "entrypoint: [/bin/sh, -c]\ncommand: ['celery -A proj worker']",  # a shell: dockergen does not guess
        "environment: {A: \"1\"}",  # the builder's own command: the probe still is not this service's to inherit
    ],
)
def test_without_a_known_probe_the_healthcheck_is_disabled_never_inherited(tmp_path: Path, command: str) -> None:
    api, job = compose_job(tmp_path, command)
    assert job["healthcheck"] == {"disable": True}, job.get("healthcheck")
    assert "test" in api["healthcheck"]


def test_arq_and_flower_get_their_own_probes(tmp_path: Path) -> None:
    _, job = compose_job(tmp_path, "command: [arq, app.worker.WorkerSettings]")
    assert job["healthcheck"]["test"] == ["CMD", "arq", "--check", "app.worker.WorkerSettings"]
    _, job = compose_job(tmp_path, "command: [celery, -A, proj, flower, --port=5566]")
    assert "http://127.0.0.1:5566/healthcheck" in job["healthcheck"]["test"][-1]


def test_a_declared_probe_or_disable_wins_over_the_preset(tmp_path: Path) -> None:
    _, job = compose_job(tmp_path, "command: [celery, -A, proj, worker]\nhealthcheck: {test: [CMD, /bin/true]}")
    assert job["healthcheck"]["test"] == ["CMD", "/bin/true"]
    _, job = compose_job(tmp_path, "command: [celery, -A, proj, worker]\nhealthcheck: {disable: true}")
    assert job["healthcheck"] == {"disable": True}


def test_the_probe_is_the_same_in_every_environment_kind(tmp_path: Path) -> None:
    for env in ("dev", "test", "staging", "podman"):
        _, job = compose_job(tmp_path, "command: [celery, -A, proj, worker]", env)
        assert job["healthcheck"]["test"][1].startswith("celery -A proj inspect ping"), env


def test_lint_blames_the_uses_service_not_its_builder(tmp_path: Path) -> None:
    compose_job(tmp_path, "command: [celery, -A, proj, beat]")
    result = subprocess.run(
        [sys.executable, "-m", "dockergen", "lint", "--spec", str(tmp_path / "dockergen.yaml"), "--no-hadolint"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    findings = [line for line in result.stdout.splitlines() + result.stderr.splitlines() if "DG004" in line]
    assert len(findings) == 1, findings
    assert "dockergen.yaml:12:5:" in findings[0] and "job:" in findings[0] and "celery beat" in findings[0], findings


# ---- property: no command makes dockergen crash or hand out another service's probe --

words = st.sampled_from(["celery", "-A", "proj", "worker", "beat", "flower", "--app=x", "-n", "n@%h", "python", "-m", "uv", "run",
                         "arq", "rq", "--port=1", "-b", "exec", "sh", "-c", "%d", "'", '"', "$", "`", "--", ""]) | st.text(max_size=8)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(words, max_size=10), st.booleans())
def test_any_command_gets_a_well_formed_probe_or_none(argv: list[str], as_string: bool) -> None:
    command = shlex.join(argv) if as_string else argv
    probe = probe_for(None, command)
    if probe is None or probe.test is None:
        return
    kind, *rest = probe.test
    assert kind in ("CMD", "CMD-SHELL") and rest
    if kind == "CMD-SHELL":
        # What the shell runs is what the command named, plus the ping: no word of the
        # command can break out of its quoting.
        words_run = shlex.split(rest[0].replace("$$(hostname)", "HOST"))
        assert "inspect" in words_run and "ping" in words_run
        assert all("\n" not in w for w in words_run)


@pytest.mark.parametrize("test", ["[]", '""', "[CMD]", "[CMD-SHELL]"])
def test_a_healthcheck_test_naming_no_command_is_a_located_error(tmp_path: Path, test: str) -> None:
    (tmp_path / "dockergen.yaml").write_text(f"version: 1\nproject: p\nservices:\n  db:\n    image: postgres:16\n    healthcheck: {{test: {test}}}\n")
    result = subprocess.run([sys.executable, "-m", "dockergen", "validate", "--spec", str(tmp_path / "dockergen.yaml")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "dockergen.yaml:6:19: error: services.db.healthcheck.test" in result.stderr, result.stderr
