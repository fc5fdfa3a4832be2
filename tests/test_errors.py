"""Bad input: `file:line:col: error: path: message` on stderr, exit 2, no traceback, and
nothing written. Every case runs the real CLI (`python -m dockergen render`) in a fresh
directory holding only the spec."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from dockergen.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run_process(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it: a real process, its real stderr."""
    env = {k: v for k, v in os.environ.items() if k != "DOCKERGEN_DEBUG"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "dockergen", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60
    )


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The same CLI in process (click's runner): fast enough for a table of cases."""
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args))
    finally:
        os.chdir(previous)
    # Anything but a clean exit would have been a traceback in a real process.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def tree(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


HEAD = "version: 1\nproject: demo\n"


@dataclass(frozen=True)
class Case:
    id: str
    spec: str | bytes
    expected: tuple[str, ...]  # substrings of the first error line
    where: str | None  # "line:col" of the first error line

    def __str__(self) -> str:
        return self.id


CASES = [
    Case("yaml-syntax", HEAD + "services: [x\n", ("YAML syntax", "expected"), "4:1"),
    Case("tab-indentation", HEAD + "services:\n\tapi: {image: nginx}\n", ("YAML syntax", "indent with spaces, not tabs"), "4:1"),
    Case(
        "duplicate-key",
        HEAD + "project: other\nservices: {api: {image: nginx}}\n",
        ("duplicate key", '"project"', "each key may appear once per mapping"),
        "3:1",
    ),
    Case("empty-file", "", ("spec is empty", "declare at least `version`, `project` and `services`"), "1:1"),
    Case("only-a-comment", "# nothing here yet\n", ("spec is empty",), "1:1"),
    Case("top-level-list", "- version: 1\n- project: demo\n", ("mapping at the top level", "not a list"), "1:1"),
    Case("top-level-scalar", "dockergen\n", ("mapping at the top level", "not a string"), "1:1"),
    Case(
        "non-utf8",
        (HEAD + "# caf\xe9\nservices: {api: {image: nginx}}\n").encode("latin-1"),
        ("not valid UTF-8", "save it as UTF-8"),
        "3:6",
    ),
    Case(
        "unknown-key-did-you-mean",
        HEAD + "services:\n  api:\n    image: nginx:1.27\n    healtcheck:\n      test: [CMD, 'true']\n",
        ("services.api.healtcheck: unknown key 'healtcheck'", "did you mean `healthcheck`?"),
        "6:5",
    ),
    Case(
        "unknown-key-in-nested-model",
        HEAD + "services:\n  api:\n    build:\n      family: python\n      pakages: {runtime: [libpq5]}\n",
        ("services.api.build.pakages: unknown key 'pakages'", "did you mean `packages`?"),
        "7:7",
    ),
    Case(
        "key-that-belongs-deeper",
        HEAD + "services:\n  api:\n    image: nginx\n    memory: 1G\n",
        ("services.api.memory: unknown key 'memory'", "did you mean `resources.limits.memory`?"),
        "6:5",
    ),
    Case(
        "memory-unit",
        HEAD + "services:\n  api:\n    image: nginx\n    resources:\n      limits:\n        memory: 4GiB\n",
        ("services.api.resources.limits.memory:", "'4GiB'", "512m, 1G, 4GB"),
        "8:9",
    ),
    Case(
        "memory-with-space",
        HEAD + "services:\n  api:\n    image: nginx\n    resources: {reservations: {memory: 4 GB}}\n",
        ("services.api.resources.reservations.memory:", "'4 GB'", "without a space"),
        "6:32",
    ),
    Case(
        "bad-duration",
        HEAD + "services:\n  api:\n    image: nginx\n    healthcheck:\n      test: [CMD, 'true']\n      interval: 30 seconds\n",
        ("services.api.healthcheck.interval:", "'30 seconds'", "must be a duration such as 30s, 1m30s or 500ms"),
        "8:7",
    ),
    Case(
        "unknown-environment",
        HEAD + "services:\n  api:\n    image: nginx\n    environments:\n      prd:\n        ports: ['80:80']\n",
        ("services.api.environments.prd: unknown environment 'prd'", "declared: dev, test, staging, prod, podman"),
        "7:7",
    ),
    Case(
        "uses-service-without-build",
        HEAD + "services:\n  api:\n    image: nginx\n  worker:\n    uses: api\n",
        ("services.worker.uses: uses 'api', which builds no image", "give it a `build`"),
        "7:5",
    ),
    Case(
        "uses-unknown-service",
        HEAD + "services:\n  worker:\n    uses: api\n",
        ("services.worker.uses: uses unknown service 'api'",),
        "5:5",
    ),
    Case(
        "depends-on-missing-service",
        HEAD + "services:\n  api:\n    image: nginx\n    depends_on: [dbx]\n",
        ("services.api.depends_on[0]: depends on 'dbx', which does not exist in environment(s) dev, test",),
        "6:18",
    ),
    Case(
        "depends-on-service-disabled-there",
        HEAD
        + "environments: {dev: {}, prod: {}}\nservices:\n  api:\n    image: nginx\n    depends_on: [mail]\n"
        + "  mail:\n    image: mailhog/mailhog\n    environments: {prod: {enabled: false}}\n",
        ("services.api.depends_on[0]: depends on 'mail', which is not enabled in environment(s) prod",),
        "7:18",
    ),
    Case(
        "extends-cycle",
        HEAD + "environments:\n  a: {extends: b}\n  b: {extends: a}\nservices: {api: {image: nginx}}\n",
        ("environments.b.extends: environments extend each other in a cycle", "a -> b -> a"),
        "5:7",
    ),
    Case(
        "extends-unknown",
        HEAD + "environments:\n  a: {extends: zz}\nservices: {api: {image: nginx}}\n",
        ("environments.a.extends: extends unknown environment 'zz'", "declared: a"),
        "4:7",
    ),
    Case(
        "environment-flavour-unknown",
        HEAD + "environments:\n  dev: {}\n  alp: {extends: dev, flavour: musl}\nservices:\n  api:\n    build: {family: python, context: .}\n",
        ("environments.alp.flavour: unknown flavour 'musl'", "one of: slim, alpine"),
        "5:23",
    ),
    Case("missing-services", HEAD, ("services: required key is missing",), "1:1"),
    Case(
        "wrong-version",
        "version: 2\nproject: demo\nservices: {api: {image: nginx}}\n",
        ("version:", "1"),
        "1:1",
    ),
    Case(
        "no-image-no-build",
        HEAD + "services:\n  api:\n    command: [sleep, '1']\n",
        ("services.api: has neither `image` nor `build`",),
        "4:3",
    ),
    Case(
        "union-reports-the-meant-member",
        HEAD + "services:\n  api:\n    image: nginx\n    depends_on:\n      db: {conditon: service_healthy}\n  db: {image: postgres:16}\n",
        ("services.api.depends_on.db.conditon: unknown key 'conditon'", "did you mean `condition`?"),
        "7:12",
    ),
]


def pick(*ids: str) -> list[Case]:
    return [next(c for c in CASES if c.id == i) for i in ids]


def _write_spec(directory: Path, spec: str | bytes) -> Path:
    path = directory / "dockergen.yaml"
    if isinstance(spec, bytes):
        path.write_bytes(spec)
    else:
        path.write_text(spec)
    return path


ERROR_LINE = re.compile(r"^dockergen\.yaml:(\d+):(\d+): error: (.*)$")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_located_line_per_problem_and_nothing_is_written(case: Case, tmp_path: Path) -> None:
    _write_spec(tmp_path, case.spec)
    before = tree(tmp_path)

    result = run_cli(tmp_path, "render")

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert lines, "no error reported"
    for line in lines:
        assert ERROR_LINE.match(line), f"not `file:line:col: error: ...`: {line!r}"
    first = lines[0]
    for expected in case.expected:
        assert expected in first, (expected, first)
    if case.where is not None:
        match = ERROR_LINE.match(first)
        assert match and f"{match[1]}:{match[2]}" == case.where, first
    assert tree(tmp_path) == before, "bad input must write nothing"


@pytest.mark.parametrize("case", pick("yaml-syntax", "duplicate-key", "unknown-key-did-you-mean", "extends-cycle"), ids=str)
def test_validate_and_render_out_report_the_same_and_write_nothing(case: Case, tmp_path: Path) -> None:
    _write_spec(tmp_path, case.spec)
    rendered = run_cli(tmp_path, "render", "--out", "out")
    validated = run_cli(tmp_path, "validate")
    assert rendered.returncode == validated.returncode == 2
    assert rendered.stderr == validated.stderr
    assert not (tmp_path / "out").exists()
    assert tree(tmp_path) == ["dockergen.yaml"]


def test_missing_spec_file_names_the_file_and_exits_2(tmp_path: Path) -> None:
    result = run_process(tmp_path, "render", "--spec", "nowhere/dockergen.yaml")
    assert result.returncode == 2
    assert result.stderr.startswith("nowhere/dockergen.yaml: error: spec file not found")
    assert "--spec" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(tmp_path) == []


def test_the_default_spec_is_dockergen_yaml_in_the_current_directory(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "validate")
    assert result.returncode == 2
    assert result.stderr.startswith("dockergen.yaml: error: spec file not found")


def test_every_problem_of_a_spec_is_reported_in_one_run(tmp_path: Path) -> None:
    _write_spec(
        tmp_path,
        HEAD
        + "services:\n"
        + "  api:\n"
        + "    image: nginx\n"
        + "    restart: sometimes\n"  # line 6
        + "    healthcheck: {test: [CMD, 'true'], interval: soon}\n"  # line 7
        + "  Bad-Name: {image: nginx}\n",  # line 8
    )
    result = run_process(tmp_path, "render")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(set(lines)) == len(lines) >= 3, lines
    located = [ERROR_LINE.match(line) for line in lines]
    assert all(located), lines
    positions = [(int(m[1]), int(m[2])) for m in located if m]
    assert positions == sorted(positions), "problems are reported in file order"
    assert [p[0] for p in positions] == [6, 7, 8]
    assert "services.api.restart: must be one of no, always, unless-stopped, on-failure or on-failure:N, or ${VARIABLE[:-policy]} (got 'sometimes')" in lines[0]
    assert "services.api.healthcheck.interval: must be a duration such as 30s, 1m30s or 500ms, or a variable (${HC_INTERVAL:-10s}, $HC_INTERVAL) (got 'soon')" in lines[1]
    assert "services.Bad-Name:" in lines[2]
    assert tree(tmp_path) == ["dockergen.yaml"]


def test_reference_problems_across_services_are_reported_together(tmp_path: Path) -> None:
    _write_spec(
        tmp_path,
        HEAD
        + "services:\n"
        + "  api:\n"
        + "    image: nginx\n"
        + "    environments: {prd: {}}\n"  # line 6
        + "  worker:\n"
        + "    uses: api\n",  # line 8
    )
    result = run_cli(tmp_path, "validate")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert any(line.startswith("dockergen.yaml:6:") and "unknown environment 'prd'" in line for line in lines), lines
    assert any(line.startswith("dockergen.yaml:8:5:") and "which builds no image" in line for line in lines), lines


@pytest.mark.parametrize("memory", ["4GB", "4gb", "512m", "512M", "1g", "1.5g", "2048k", "1024kb", "100b"])
def test_memory_sizes_compose_accepts_are_valid(memory: str, tmp_path: Path) -> None:
    """Compose reads `4GB` as 4 GiB (compose-spec byte values: b, k/kb, m/mb, g/gb)."""
    _write_spec(tmp_path, HEAD + f"services:\n  api:\n    image: nginx\n    resources: {{limits: {{memory: {memory}}}}}\n")
    result = run_cli(tmp_path, "validate")
    assert result.returncode == 0, result.stderr


def test_an_internal_error_is_one_line_and_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not bad input but a bug: exit 3, no traceback unless DOCKERGEN_DEBUG is set."""
    from click.testing import CliRunner

    from dockergen import cli

    _write_spec(tmp_path, HEAD + "services: {api: {image: nginx}}\n")

    def boom(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("kaboom")

    monkeypatch.delenv("DOCKERGEN_DEBUG", raising=False)
    monkeypatch.setattr("dockergen.commands.validate.validate", boom)
    result = CliRunner().invoke(cli.main, ["validate", "--spec", str(tmp_path / "dockergen.yaml")])
    assert result.exit_code == 3
    assert "internal error: RuntimeError: kaboom" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", pick("tab-indentation", "non-utf8", "memory-unit"), ids=str)
def test_a_real_process_prints_only_the_problem(case: Case, tmp_path: Path) -> None:
    _write_spec(tmp_path, case.spec)
    result = run_process(tmp_path, "render")
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert ERROR_LINE.match(result.stderr.strip())
    assert "Traceback" not in result.stderr
    assert tree(tmp_path) == ["dockergen.yaml"]
