"""`python.tuning`: production server timeouts and worker recycling as fields. The prod
command is read back with BuildKit's parser and then with gunicorn's and uvicorn's own
argument parsers, which must see exactly the values of the spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gunicorn.config
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockergen.errors import DockergenError
from tests.python_specs import render_python
from tests.tools import dockerfile_stages, hadolint

GUNICORN_NAMES = {"timeout": "timeout", "keep_alive": "keepalive", "max_requests": "max_requests",
                  "max_requests_jitter": "max_requests_jitter", "graceful_timeout": "graceful_timeout"}  # fmt: skip
UVICORN_NAMES = {"keep_alive": "timeout_keep_alive", "max_requests": "limit_max_requests",
                 "max_requests_jitter": "limit_max_requests_jitter", "graceful_timeout": "timeout_graceful_shutdown"}  # fmt: skip


def prod_cmd(path: Path) -> list[str]:
    (cmd,) = [c for c in dockerfile_stages(path)["prod"][1] if c.cmd == "CMD"]
    assert "json" in cmd.flags or cmd.original.startswith("CMD ["), cmd.original
    return list(cmd.value)


def gunicorn_settings(argv: list[str]) -> dict[str, Any]:
    assert argv[0] == "gunicorn"
    parsed = gunicorn.config.Config().parser().parse_args(argv[1:])
    return {k: v for k, v in vars(parsed).items() if v is not None}


def uvicorn_settings(argv: list[str]) -> dict[str, Any]:
    assert argv[0] == "uvicorn"
    return uvicorn.main.make_context("uvicorn", argv[1:]).params


tunings = st.fixed_dictionaries(
    {},
    optional={
        "timeout": st.integers(1, 86400),
        "keep_alive": st.integers(0, 3600),
        "max_requests": st.integers(1, 10**6),
        "graceful_timeout": st.integers(0, 5),
    },
).flatmap(
    lambda t: st.fixed_dictionaries({}, optional={"max_requests_jitter": st.integers(0, 1000)}).map(lambda j: {**t, **j})
    if "max_requests" in t
    else st.just(t)
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tuning=tunings, interface=st.sampled_from(["asgi", "wsgi"]))
def test_gunicorn_reads_every_tuning_value_from_the_prod_command(tuning: dict[str, int], interface: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    path, _ = render_python(tmp_path_factory.mktemp("g"), {"interface": interface, "tuning": tuning, "workers": 3})
    seen = gunicorn_settings(prod_cmd(path))
    assert {field: seen.get(GUNICORN_NAMES[field]) for field in tuning} == tuning
    assert seen["workers"] == 3 and seen["args"] == ["app.main:app"]
    assert (seen.get("worker_class") == "uvicorn.workers.UvicornWorker") == (interface == "asgi")
    for field in set(GUNICORN_NAMES) - set(tuning):  # unset fields leave gunicorn's default alone
        assert GUNICORN_NAMES[field] not in seen


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tuning=tunings.map(lambda t: {k: v for k, v in t.items() if k != "timeout"}))
def test_uvicorn_reads_every_tuning_value_from_the_prod_command(tuning: dict[str, int], tmp_path_factory: pytest.TempPathFactory) -> None:
    path, _ = render_python(tmp_path_factory.mktemp("u"), {"server": "uvicorn", "tuning": tuning})
    seen = uvicorn_settings(prod_cmd(path))
    assert {field: seen[UVICORN_NAMES[field]] for field in tuning} == tuning
    assert seen["app"] == "app.main:app" and seen["port"] == 8000


def test_a_tuned_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    tuning = {"timeout": 60, "keep_alive": 75, "max_requests": 1000, "max_requests_jitter": 100, "graceful_timeout": 5}
    path, _ = render_python(tmp_path, {"tuning": tuning})
    result = hadolint(path)
    assert result.returncode == 0, result.stdout


def test_tuning_never_reaches_the_dev_server(tmp_path: Path) -> None:
    path, _ = render_python(tmp_path, {"tuning": {"max_requests": 5, "keep_alive": 9}})
    (dev_cmd,) = [c.value for c in dockerfile_stages(path)["dev"][1] if c.cmd == "CMD"]
    assert "--reload" in dev_cmd and "--max-requests" not in dev_cmd and "--keep-alive" not in dev_cmd


@pytest.mark.parametrize(
    ("python", "message"),
    [
        ({"server": "uvicorn", "tuning": {"timeout": 30}}, "uvicorn has no worker `timeout`"),
        ({"tuning": {"max_requests_jitter": 10}}, "`max_requests_jitter` needs `max_requests`"),
        ({"prod_command": ["gunicorn", "app:app"], "tuning": {"timeout": 30}}, "with `prod_command`, write the flags there"),
        ({"tuning": {"timeout": 0}}, "greater than or equal to 1"),
        ({"tuning": {"keepalive": 5}}, "keepalive"),
    ],
)
def test_tuning_that_cannot_take_effect_is_a_located_error(python: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(DockergenError) as caught:
        render_python(tmp_path, python)
    text = "\n".join(p.render() for p in caught.value.problems)
    assert message in text and "dockergen.yaml:" in text


def test_draining_longer_than_the_engine_waits_is_a_warning_at_the_setting(tmp_path: Path) -> None:
    _, result = render_python(tmp_path, {"tuning": {"graceful_timeout": 30}})
    (warning,) = [w for w in result.project.warnings if "drains for 30 s" in w.message]
    assert warning.severity == "warning" and "default" in warning.message and warning.location.line
    _, result = render_python(tmp_path / "ok", {"tuning": {"graceful_timeout": 30}}, stop_grace_period="45s")
    assert not [w for w in result.project.warnings if "drains" in w.message]
