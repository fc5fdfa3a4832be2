"""What the import asks the Compose CLI, and that asking concurrently changes no byte.

The import reads each environment from ``config --no-interpolate``; the interpolated config
is asked too only where a file holds a plain scalar Compose prints in Go's spelling (a date,
a float), since that is all it adds. The real Compose CLI is the judge of which scalars those are.
"""

from __future__ import annotations

import json
import random
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

from dockergen.importer.analyze import analyze
from dockergen.importer.environments import infer
from dockergen.importer.plan import ImportOptions
from dockergen.importer.read import compose_cli
from dockergen.importer.read.go_text import go_text, holds_go_spelling, spelled_by_go
from dockergen.importer.spec.text import spec_text
from tests.tools import compose


def _scalars() -> list[str]:
    fixed = ["5", "+5", "-5", "-0", "0", "00", "0755", "0x1F", "0o17", "0b101", "1_000", "12345678901234567890",
             "123456789012345678901234567890", "1.5", "1.", ".5", "-.5", "1e5", "1E+20", "1.0e+20", "1234567.0", "0.0001",
             "1e-05", "true", "false", "True", "yes", "on", "null", "~", "2024-05-01", "2024-5-1", "2001-12-14t21:59:43.10-05:00",
             "2024-05-01T10:00:00Z", "2024-05-01 10:00:00", "5s", "1:30", "190:20:30", "256M", "8080:8080", "3.12-slim",
             "2024-05-01x", "v1.2", "1.2.3", "0.5s", "+", "1e", "e5", "0x", "1__0"]  # fmt: skip
    rng = random.Random(14)  # a fixed seed: the same file every run
    made = []
    for _ in range(60):
        number = rng.choice([rng.randint(-10**6, 10**6), rng.uniform(-1e7, 1e7), rng.choice([1e-7, 3e21, 2.5e15])])
        made.append(rng.choice(["{}", "{:e}", "{:g}", "{:.3f}", "{:+}", "{:_}"]).format(number))
    return list(dict.fromkeys(fixed + made))


def test_every_scalar_compose_prints_otherwise_than_its_json_is_one_the_import_asks_the_interpolated_config_for(tmp_path: Path) -> None:
    scalars = _scalars()
    lines = ["services:", "  web:", "    image: nginx:1.27", "    environment:", *(f"      V{i}: {s}" for i, s in enumerate(scalars))]
    (tmp_path / "compose.yaml").write_text("\n".join(lines) + "\n")
    configs = []
    for flags in (["--no-interpolate"], []):
        done = compose(tmp_path, [tmp_path / "compose.yaml"], "config", "--format", "json", *flags)
        assert done.returncode == 0, done.stderr
        configs.append(json.loads(done.stdout)["services"]["web"]["environment"])
    plain, passed = configs
    differs = {s for i, s in enumerate(scalars) if plain[f"V{i}"] is not None and go_text(plain[f"V{i}"]) != passed[f"V{i}"]}
    assert {"2024-05-01", "-0", "1.0e+20", "1234567.0"} <= differs  # the check is not vacuous
    assert {s for s in differs if not spelled_by_go(s)} == set()
    assert not any(spelled_by_go(s) for s in ("5", "0755", "0x1F", "true", "5s", "8080:8080", "3.12-slim"))  # asked for nothing


def test_a_quoted_value_or_one_compose_reads_as_text_needs_no_interpolated_config() -> None:
    assert not holds_go_spelling('version: "3.8"\nservices:\n  a: {image: "x:1.5", environment: {A: "2024-05-01", B: 5, C: 5s}}\n')
    assert holds_go_spelling("x-when: &when 2024-05-01\nservices:\n  a: {image: x, labels: {at: *when}}\n")
    assert holds_go_spelling("services: [unclosed")  # unreadable: ask, as before


def _asked(monkeypatch: pytest.MonkeyPatch) -> list[compose_cli.ConfigRequest]:
    asked: list[compose_cli.ConfigRequest] = []
    real = compose_cli.run_config

    def recording(request: compose_cli.ConfigRequest) -> compose_cli.ConfigResult:
        asked.append(request)
        return real(request)

    monkeypatch.setattr(compose_cli, "run_config", recording)
    return asked


@pytest.mark.parametrize(("value", "interpolated"), [("'1.5'", 0), ("1.5", 1)])
def test_the_interpolated_config_is_asked_only_where_a_file_holds_a_value_in_go_spelling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, interpolated: int
) -> None:
    (tmp_path / "compose.yaml").write_text(f"services:\n  web:\n    image: nginx:1.27\n    environment:\n      RATIO: {value}\n      SIZE: 1234567.0\n"
                                           if interpolated else f"services:\n  web:\n    image: nginx:1.27\n    environment:\n      RATIO: {value}\n")  # fmt: skip
    asked = _asked(monkeypatch)
    plan = analyze(tmp_path, ImportOptions())
    assert sum(r.interpolate for r in asked) == interpolated
    environment = plan.effective["dev"].services["web"]["environment"]
    assert environment["RATIO"] == "1.5"
    if interpolated:
        assert environment["SIZE"] == "1.234567e+06"  # as Compose hands it to the container


class _Backwards:
    """A pool that runs the calls one at a time, last first: answers arrive in another order
    than asked, as they may from a real pool."""

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers

    def __enter__(self) -> _Backwards:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        done: Future[Any] = Future()
        done.set_result(fn(*args))
        return done

    def shutdown(self, wait: bool = True) -> None:
        return None

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterable[Any]:
        items = list(items)
        answers = {i: fn(item) for i, item in reversed(list(enumerate(items)))}
        return [answers[i] for i in range(len(items))]


SPRAWL = {
    "compose.yaml": "services:\n  api:\n    build: ./api\n    environment: {RELEASED: 2024-05-01}\n    depends_on: [db]\n"
                    "  db:\n    image: postgres:16-alpine\n",
    "compose.override.yaml": "services:\n  api:\n    environment: {LOG_LEVEL: debug}\n",
    "compose.prod.yaml": "services:\n  api:\n    restart: always\n    environment: {LOG_LEVEL: warning}\n",
    "compose.staging.yaml": "services:\n  api:\n    environment: {LOG_LEVEL: info}\n",
    "compose.ci.yaml": "services:\n  api:\n    environment: {CI: 'true'}\n",
    "compose.monitoring.yaml": "services:\n  prometheus:\n    image: prom/prometheus:v2.53.0\n    depends_on: [api]\n",
    "api/Dockerfile": "FROM python:3.12-slim\nCOPY . /app\nCMD [\"python\", \"/app/app.py\"]\n",
    "api/app.py": "print('hi')\n",
}  # fmt: skip


def test_the_spec_is_the_same_bytes_whatever_order_the_compose_cli_answers_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path, text in SPRAWL.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    concurrent = analyze(tmp_path, ImportOptions())
    monkeypatch.setattr(infer, "ThreadPoolExecutor", _Backwards)
    monkeypatch.setattr(compose_cli, "ThreadPoolExecutor", _Backwards)
    backwards = analyze(tmp_path, ImportOptions())
    assert len(concurrent.environments) >= 6  # add-ons on several chains: many calls in flight at once
    assert spec_text(backwards) == spec_text(concurrent)
    assert [(e.name, e.files) for e in backwards.environments] == [(e.name, e.files) for e in concurrent.environments]


@pytest.mark.parametrize("where", ["compose.yaml", ".env"])
def test_a_variable_dockergen_sets_for_compose_itself_is_not_one_the_files_read(tmp_path: Path, where: str) -> None:
    # GOGC tunes the Go runtime of the Compose CLI; where the project names it, Compose must not see ours.
    (tmp_path / "compose.yaml").write_text('services:\n  web:\n    image: nginx:1.27\n    environment: {X: "${GOGC:-unset}", Y: "${Y:-}"}\n'
                                           if where == "compose.yaml" else 'services:\n  web:\n    image: nginx:1.27\n    environment: {X: "${Y}"}\n')  # fmt: skip
    if where == ".env":
        (tmp_path / ".env").write_text("Y=${GOGC:-unset}\n")
    request = compose_cli.ConfigRequest(tmp_path, (tmp_path / "compose.yaml",), interpolate=True)
    result = compose_cli.run_config(request)
    assert result.config is not None, result.error
    assert result.config["services"]["web"]["environment"]["X"] == "unset"


def test_the_import_command_looks_for_the_compose_cli_once_and_never_with_no_compose_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command starts the search before it loads its modules; the import then takes that
    # search instead of starting its own, and --no-compose-cli neither searches nor asks.
    from click.testing import CliRunner

    from dockergen.cli import main

    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n")
    searches: list[Future] = []
    asked: list[compose_cli.ConfigRequest] = []
    finding_compose, run_config = compose_cli.finding_compose, compose_cli.run_config
    monkeypatch.setattr(compose_cli, "finding_compose", lambda: searches.append(finding_compose()) or searches[-1])
    monkeypatch.setattr(compose_cli, "run_config", lambda request: asked.append(request) or run_config(request))
    for flags in ([], ["--no-compose-cli"]):
        searches.clear()
        asked.clear()
        done = CliRunner().invoke(main, ["import", str(tmp_path), "--out", str(tmp_path / "spec.yaml"), "--force", *flags])
        assert done.exit_code == 0, done.output
        assert len(searches) == (0 if flags else 1)
        assert bool(asked) == (not flags)
        assert ("Compose CLI: not used" in done.output) == bool(flags), done.output
