"""INVENTORY.md of the reference sprawl, checked against what the imported spec renders.

Section 5 (meaningful differences): each one must survive in the rendered output, checked
here on the rendered Compose files (as the Compose CLI resolves each environment) and the
rendered Dockerfile targets (with BuildKit's parser). Section 6 (accidental drift): each
one must be listed in the migration report.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from dockergen.importer.spec.text import spec_text
from dockergen.importer.read import compose_cli
from dockergen.importer.analyze import analyze
from dockergen.importer.plan import ImportPlan
from dockergen.importer.read.dockerfile import TargetSummary, parse_dockerfile, summarise
from dockergen.importer.report import build_report, markdown
from dockergen.pipeline import render
from dockergen.spec.model import Build

FIXTURE = Path(__file__).parent / "fixtures" / "legacy-monorepo"


@dataclass
class Rendered:
    plan: ImportPlan
    files: dict[str, str]
    configs: dict[str, dict[str, Any]]
    report: str
    compose: dict[str, tuple[str, str]]  # environment -> its base and overlay (import names them: a bare `up` keeps running dev)

    def svc(self, env: str, name: str) -> dict[str, Any]:
        return self.configs[env]["services"][name]

    def env_vars(self, env: str, name: str) -> dict[str, str]:
        return self.svc(env, name).get("environment") or {}

    def target(self, env: str, name: str) -> TargetSummary:
        build = self.svc(env, name)["build"]
        path = build["dockerfile"] if build["context"] == str(FIXTURE) else None
        assert path is not None, build
        return summarise(parse_dockerfile(path, self.files[path]), build.get("target"))

    def built(self, env: str, name: str) -> str:
        """Every instruction the target's build runs: its stages and those it copies from."""
        build = self.svc(env, name)["build"]
        parsed = parse_dockerfile(build["dockerfile"], self.files[build["dockerfile"]])
        wanted, todo = set(), [parsed.target_index(build.get("target"))]
        while todo:
            index = todo.pop()
            if index is None or index in wanted:
                continue
            wanted.add(index)
            stage = parsed.stages[index]
            todo.append(parsed.stage_index(stage.base))
            for ins in stage.instructions:
                for ref in re.findall(r"(?:--from=|from=)([\w.-]+)", " ".join(ins.flags)):
                    todo.append(parsed.stage_index(ref))
        return "\n".join(i.original for n in sorted(wanted) for i in parsed.stages[n].instructions)

    def stage(self, service: str, stage: str) -> TargetSummary:
        path = self.plan.builds.merged[service].dockerfile
        return summarise(parse_dockerfile(path, self.files[path]), stage)

    def text(self, env: str) -> str:
        base, overlay = self.compose[env]
        return self.files[base] + self.files[overlay]

    def ports(self, env: str, name: str) -> set[str]:
        return {f"{p.get('published')}:{p['target']}" for p in self.svc(env, name).get("ports") or []}

    def cmd(self, env: str, name: str) -> list[str]:
        command = self.svc(env, name).get("command")
        if command:
            return command
        return json.loads(self.target(env, name).cmd or "[]")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    plan = analyze(FIXTURE)
    folder = tmp_path_factory.mktemp("rendered")
    spec = folder / "dockergen.yaml"
    spec.write_text(spec_text(plan))
    rendered = render(spec)
    files = {f.path: f.content for f in rendered.files}
    compose = {name: (rendered.spec.output.compose_file, env.info.compose_file) for name, env in rendered.project.environments.items()}
    for path in {path for pair in compose.values() for path in pair}:
        (folder / path).write_text(files[path])
    requests = [compose_cli.ConfigRequest(FIXTURE, tuple(folder / path for path in compose[e.name]), interpolate=True) for e in plan.environments]
    results = compose_cli.run_configs(requests)
    assert all(r.config is not None for r in results), [r.error for r in results]
    configs = {e.name: r.config for e, r in zip(plan.environments, results)}
    report = markdown(build_report(plan, str(spec), {}, None))
    return Rendered(plan, files, configs, report, compose)  # type: ignore[arg-type]


def _all(out: Rendered, service: str) -> list[str]:
    return [e for e, c in out.configs.items() if service in c["services"]]


MEANINGFUL: dict[str, Callable[[Rendered], None]] = {}


def check(name: str) -> Callable[[Callable[[Rendered], None]], Callable[[Rendered], None]]:
    def register(fn: Callable[[Rendered], None]) -> Callable[[Rendered], None]:
        MEANINGFUL[name] = fn
        return fn

    return register


# --- backend -------------------------------------------------------------------------


@check("backend-1 python 3.11 where intended, 3.10 only in the test image")
def _(o: Rendered) -> None:
    for env in ("dev", "staging", "alpine", "podman", "unified", "dev-optimized"):
        assert ":3.11" in o.target(env, "backend").base_image, env
    assert "python:3.10-slim" in o.target("test", "backend").base_image


@check("backend-2 port 8000 and /health everywhere; debugpy 5678 only in the debug target")
def _(o: Rendered) -> None:
    for env in _all(o, "backend"):
        assert "8000/tcp" in o.target(env, "backend").expose, env
        assert "5678/tcp" not in o.target(env, "backend").expose
    debug = o.stage("backend", "development")
    assert "5678/tcp" in debug.expose and "debugpy" in (debug.cmd or "")


@check("backend-3 dev reload with ./backend bind; dev-optimized --reload-dir and :cached; no reload elsewhere")
def _(o: Rendered) -> None:
    assert "--reload" in o.cmd("dev", "backend")
    assert any(v["source"].endswith("/backend") and v["target"] == "/app" for v in o.svc("dev", "backend")["volumes"])
    assert o.cmd("dev-optimized", "backend")[-3:] == ["--reload", "--reload-dir", "/app/app"]
    assert "./backend:/app:cached" in o.files["compose.dev-optimized.yaml"]
    for env in ("alpine", "test", "staging", "podman"):
        assert "--reload" not in o.cmd(env, "backend"), env


@check("backend-4 debug target: requirements-dev.txt, git, USER_UID=1000, development/debug")
def _(o: Rendered) -> None:
    debug = o.stage("backend", "development")
    text = "\n".join(debug.instructions)
    assert "requirements-dev.txt" in text and "git" in text and "USER_UID=1000" in text
    assert ("ENVIRONMENT", "development") in debug.env and ("LOG_LEVEL", "debug") in debug.env


@check("backend-5 test image with requirements-test and coverage; test stack runs uvicorn without reload, urllib healthcheck 5s x12")
def _(o: Rendered) -> None:
    test = o.target("test", "backend")
    assert "requirements-test.txt" in "\n".join(test.instructions) and "--cov=app" in (test.cmd or "")
    assert ("ENVIRONMENT", "testing") in test.env and ("TESTING", "1") in test.env
    assert o.cmd("test", "backend") == ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
    hc = o.svc("test", "backend")["healthcheck"]
    assert "urllib" in " ".join(hc["test"]) and hc["interval"] == "5s" and hc["retries"] == 12


@check("backend-6 staging: gunicorn 4 UvicornWorker, access log, timeout 120, entrypoint, migrations, uid 1000")
def _(o: Rendered) -> None:
    command = o.cmd("staging", "backend")
    assert command[:4] == ["gunicorn", "app.main:app", "--workers", "4"] and "uvicorn.workers.UvicornWorker" in command
    assert command[command.index("--timeout") + 1] == "120" and "--access-logfile" in command
    target = o.target("staging", "backend")
    assert "docker-entrypoint.sh" in (target.entrypoint or "") and target.user == "appuser"
    assert "--uid 1000" in "\n".join(target.instructions)
    assert o.env_vars("staging", "backend")["RUN_MIGRATIONS"] == "true"
    assert o.env_vars("staging", "backend")["ENVIRONMENT"] == "staging"


@check("backend-7 optimized build: cache mounts, framework deps first, base/deps/runtime, gunicorn -w 2")
def _(o: Rendered) -> None:
    target = o.target("dev-optimized", "backend")
    text = "\n".join(o.stage("backend", "optimized-deps").instructions)
    assert "--mount=type=cache,target=/root/.cache/pip" in text and "sharing=locked" in text
    assert "grep -E '^(fastapi|uvicorn|gunicorn)'" in text
    assert o.svc("dev-optimized", "backend")["build"]["target"] == "optimized"
    assert {"optimized-base", "optimized-deps", "optimized"} <= set(Build.model_validate(o.plan.spec["services"]["backend"]["build"], context={}).stage_list())
    assert '"-w", "2"' in (target.cmd or "")


@check("backend-8 native deps: gcc + libpq-dev to build, libpq5/libpq at run time, musl-dev libffi-dev on alpine")
def _(o: Rendered) -> None:
    assert "libpq5" in "\n".join(o.target("dev-optimized", "backend").instructions)
    alpine = o.built("alpine", "backend")
    assert "gcc musl-dev libpq-dev libffi-dev" in alpine and "apk add --no-cache libpq" in alpine


@check("backend-9 non-root users per variant")
def _(o: Rendered) -> None:
    assert o.target("alpine", "backend").user == "netra"
    assert o.target("staging", "backend").user == "appuser"
    assert o.target("dev-optimized", "backend").user == "appuser"
    assert o.target("podman", "backend").user == "1001"
    assert o.stage("backend", "podman-optimized").user == "netra"
    assert o.stage("backend", "development").user == "appuser"


@check("backend-10 podman: qualified base, compose healthcheck, podman-optimized venv and 2 workers")
def _(o: Rendered) -> None:
    assert o.target("podman", "backend").base_image == "docker.io/library/python:3.11-slim"
    assert o.target("podman", "backend").healthcheck is None and "healthcheck" in o.svc("podman", "backend")
    optimized = o.stage("backend", "podman-optimized")
    assert "/opt/venv" in "\n".join(optimized.instructions) and '"--workers", "2"' in (optimized.cmd or "")


@check("backend-11 environment per environment")
def _(o: Rendered) -> None:
    assert o.env_vars("dev", "backend")["DATABASE_URL"].endswith("/netra_dev")
    assert o.env_vars("test", "backend")["DATABASE_URL"].endswith("/netra_test")
    assert o.env_vars("staging", "backend")["REDIS_URL"] == "redis://:dummy-redis-password@redis:6379/0"
    assert o.env_vars("dev", "backend")["AUTH_SERVICE_URL"] == "http://dev-auth:8081"
    assert o.env_vars("test", "backend")["AUTH_SERVICE_URL"] == "http://test-auth:8081"
    assert o.env_vars("staging", "backend")["AUTH_SERVICE_URL"] == "http://auth:8081"
    assert [o.env_vars(e, "backend")["LOG_LEVEL"] for e in ("dev", "test", "staging", "pytest")] == ["debug", "info", "info", "warning"]
    assert o.env_vars("resource-optimized", "backend")["WEB_CONCURRENCY"] == "1"
    assert o.env_vars("staging", "backend")["LOG_FORMAT"] == "json" and o.env_vars("staging", "backend")["PYTHONUNBUFFERED"] == "1"


@check("backend-12 published ports")
def _(o: Rendered) -> None:
    expected = {"dev": {"8000:8000"}, "test": {"8001:8000"}, "alpine": {"8000:8000"}, "staging": {"8000:8000"},
                "unified": {"8000:8000"}, "podman": {"8000:8000"}, "alpine-test": set()}  # fmt: skip
    for env, ports in expected.items():
        assert o.ports(env, "backend") == ports, env


@check("backend-13 depends_on conditions")
def _(o: Rendered) -> None:
    cond = lambda env: {k: v["condition"] for k, v in o.svc(env, "backend")["depends_on"].items()}  # noqa: E731
    assert cond("dev") == {"postgres": "service_healthy", "redis": "service_healthy", "auth": "service_started"}
    assert cond("test")["auth"] == "service_healthy" and cond("alpine")["auth"] == "service_healthy"
    assert cond("unified")["auth"] == "service_healthy"
    assert set(cond("podman").values()) == {"service_started"}


# --- auth ----------------------------------------------------------------------------


@check("auth-1 port 8081 everywhere, test publishes 8082")
def _(o: Rendered) -> None:
    for env in _all(o, "auth"):
        assert "8081/tcp" in o.target(env, "auth").expose or env in ("dev", "dev-optimized", "resource-optimized", "podman-no-dns"), env
        assert any(p.endswith(":8081") for p in o.ports(env, "auth")) or env == "alpine-test"
    assert o.ports("test", "auth") == {"8082:8081"}


@check("auth-2 alpine two-stage build with pip --user")
def _(o: Rendered) -> None:
    alpine = o.target("alpine", "auth")
    text = o.built("alpine", "auth")
    assert "pip install --no-cache-dir --user -r requirements.txt" in text and "/root/.local /home/netra/.local" in text
    assert dict(alpine.env)["PATH"].startswith("/home/netra/.local/bin")
    assert alpine.instructions[-1].startswith(("CMD", "HEALTHCHECK")) or "COPY" in alpine.instructions[-4]


@check("auth-3 dev: reload, bind mount, JWT_EXPIRY_MINUTES=1440, curl healthcheck every 10s")
def _(o: Rendered) -> None:
    assert "--reload" in o.cmd("dev", "auth")
    assert any(v["source"].endswith("/auth_service") for v in o.svc("dev", "auth")["volumes"])
    assert ("JWT_EXPIRY_MINUTES", "1440") in o.target("dev", "auth").env
    hc = o.svc("dev", "auth")["healthcheck"]
    assert hc["test"][:2] == ["CMD", "curl"] and hc["interval"] == "10s"


@check("auth-4 staging: gunicorn 2 workers, ENVIRONMENT=staging, JWT_SECRET required")
def _(o: Rendered) -> None:
    assert '"--workers", "2"' in (o.target("staging", "auth").cmd or "")
    assert o.env_vars("staging", "auth")["ENVIRONMENT"] == "staging"
    assert "${JWT_SECRET:?JWT_SECRET must be set for staging}" in o.files["compose.staging.yaml"]
    assert o.env_vars("staging", "auth")["REDIS_URL"].startswith("redis://:")


@check("auth-5 test image: requirements-test, AUTH_TESTING, JWT_EXPIRY_MINUTES=5")
def _(o: Rendered) -> None:
    tests = o.target("test", "auth-tests")
    assert "requirements-test.txt" in "\n".join(tests.instructions)
    assert ("AUTH_TESTING", "true") in tests.env and ("JWT_EXPIRY_MINUTES", "5") in tests.env
    assert o.env_vars("test", "auth")["JWT_EXPIRY_MINUTES"] == "5"


@check("auth-6 database netra_auth and redis db 1")
def _(o: Rendered) -> None:
    for env in _all(o, "auth"):
        assert o.env_vars(env, "auth")["DATABASE_URL"].endswith("/netra_auth"), env
        assert o.env_vars(env, "auth")["REDIS_URL"].endswith("/1"), env


@check("auth-7 podman: qualified base, numeric user 1001")
def _(o: Rendered) -> None:
    target = o.target("podman", "auth")
    assert target.base_image == "docker.io/library/python:3.11-slim" and target.user == "1001"


# --- frontend ------------------------------------------------------------------------


@check("frontend-1 port 3000, health on /api/health")
def _(o: Rendered) -> None:
    for env in _all(o, "frontend"):
        assert "3000/tcp" in o.target(env, "frontend").expose
    assert "/api/health" in (o.target("staging", "frontend").healthcheck or "")
    assert "/api/health" in (o.target("alpine", "frontend").healthcheck or "")


@check("frontend-2 NEXT_PUBLIC_API_URL is a build argument per environment")
def _(o: Rendered) -> None:
    assert "ARG NEXT_PUBLIC_API_URL=http://localhost:8000" in o.built("unified", "frontend")
    assert o.svc("staging", "frontend")["build"]["args"]["NEXT_PUBLIC_API_URL"] == "https://api.staging.netra.example.com"
    assert o.svc("test", "frontend")["build"]["args"]["NEXT_PUBLIC_API_URL"] == "http://test-backend:8000"


@check("frontend-3 standalone (alpine, podman-optimized) vs full build (default, podman)")
def _(o: Rendered) -> None:
    assert "NEXT_OUTPUT=standalone" in o.built("alpine", "frontend")
    assert "NEXT_OUTPUT=standalone" in o.files["docker/frontend.Dockerfile"].split("AS podman-optimized-build", 1)[1]
    for summary in (o.target("alpine", "frontend"), o.stage("frontend", "podman-optimized")):
        assert summary.cmd == '["node", "server.js"]'
        assert ("PORT", "3000") in summary.env and ("HOSTNAME", "0.0.0.0") in summary.env
    assert o.target("staging", "frontend").cmd == '["npm", "start"]'
    assert "next" in (o.target("podman", "frontend").cmd or "") and "start" in (o.target("podman", "frontend").cmd or "")


@check("frontend-4 dev: npm run dev on node:20, polling true/false, anonymous volumes, no restart")
def _(o: Rendered) -> None:
    dev = o.target("dev", "frontend")
    assert dev.cmd == '["npm", "run", "dev"]' and dev.base_image == "docker.io/library/node:20"
    assert ("WATCHPACK_POLLING", "true") in dev.env and "WATCHPACK_POLLING" not in o.env_vars("dev", "frontend")
    assert o.env_vars("dev-optimized", "frontend")["WATCHPACK_POLLING"] == "false"
    targets = {v["target"] for v in o.svc("dev", "frontend")["volumes"] if v["type"] == "volume" and "source" not in v}
    assert targets == {"/app/node_modules", "/app/.next"}
    assert "restart" not in o.svc("dev", "frontend")


@check("frontend-5 test image: npm test once, CI=true, NODE_ENV=test")
def _(o: Rendered) -> None:
    tests = o.target("test", "frontend-tests")
    assert tests.cmd == '["npm", "test"]' and ("CI", "true") in tests.env and ("NODE_ENV", "test") in tests.env


@check("frontend-6 NEXT_TELEMETRY_DISABLED=1 in every image; libc6-compat on alpine")
def _(o: Rendered) -> None:
    for stage in ("default", "alpine", "development", "podman", "podman-optimized"):
        assert ("NEXT_TELEMETRY_DISABLED", "1") in o.stage("frontend", stage).env, stage
    assert "libc6-compat" in o.built("alpine", "frontend")


@check("frontend-7 users: node, nextjs, 1001")
def _(o: Rendered) -> None:
    assert o.target("staging", "frontend").user == "node" and o.target("podman", "frontend").user == "node"
    assert o.target("alpine", "frontend").user == "nextjs" and o.stage("frontend", "podman-optimized").user == "1001"


@check("frontend-8 published 3000 except test 3001")
def _(o: Rendered) -> None:
    for env in _all(o, "frontend"):
        assert o.ports(env, "frontend") == ({"3001:3000"} if env in ("test", "pytest") else {"3000:3000"}), env


@check("frontend-9 resource-optimized: NODE_OPTIONS and 1G")
def _(o: Rendered) -> None:
    assert o.env_vars("resource-optimized", "frontend")["NODE_OPTIONS"] == "--max-old-space-size=768"
    assert o.svc("resource-optimized", "frontend")["deploy"]["resources"]["limits"]["memory"] == "1073741824"


# --- analytics, tests, utilities, infrastructure ---------------------------------------


@check("analytics-1..4 port 8002, main:app, /srv/analytics, user analytics, workers, where it runs")
def _(o: Rendered) -> None:
    target = o.target("dev", "analytics")
    assert "8002/tcp" in target.expose and "main:app" in (target.cmd or "") and target.workdir == "/srv/analytics"
    assert target.user == "analytics" and '"--workers", "2"' in (target.cmd or "")
    assert o.cmd("resource-optimized", "analytics")[-2:] == ["--workers", "1"]
    assert ("CLICKHOUSE_HOST", "clickhouse") in target.env and ("CLICKHOUSE_PORT", "8123") in target.env
    assert o.env_vars("dev", "analytics")["CLICKHOUSE_HOST"] == "dev-clickhouse"
    assert sorted(_all(o, "analytics")) == sorted(["dev", "dev-optimized", "resource-optimized", "staging"])
    assert o.svc("dev-optimized", "analytics")["profiles"] == ["analytics"]


@check("testing images: runner, e2e, loadtest")
def _(o: Rendered) -> None:
    runner = o.target("pytest", "pytest")
    assert "junit" in (runner.cmd or "") and any(v["target"] == "/tests/reports" for v in o.svc("pytest", "pytest")["volumes"])
    assert o.env_vars("alpine-test", "pytest")["BACKEND_URL"] == "http://alpine-test-backend:8000"
    e2e = o.target("test", "e2e")
    assert e2e.base_image == "mcr.microsoft.com/playwright:v1.41.2-jammy" and o.svc("test", "e2e")["ipc"] == "host"
    assert o.env_vars("test", "e2e")["BASE_URL"] == "http://test-frontend:3000"
    # Run by hand (no Compose file builds it): it stays as it is, outside the spec, and the report says so.
    assert o.plan.builds.unbuilt == ["docker/loadtest.Dockerfile"] and "docker/loadtest.Dockerfile" not in o.files
    assert "loadtest" not in o.plan.spec["services"] and "docker/loadtest.Dockerfile" in o.report
    load = summarise(parse_dockerfile("loadtest", (FIXTURE / "docker/loadtest.Dockerfile").read_text()), None)
    assert ("LOCUST_USERS", "50") in load.env and "8089/tcp" in load.expose and "--headless" in (load.cmd or "")


@check("utilities: db-migrate, backup, cron, wait-for-services")
def _(o: Rendered) -> None:
    migrate = o.svc("staging", "db-migrate")
    assert migrate["profiles"] == ["tools"] and "restart" not in migrate
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "alembic" in (o.target("staging", "db-migrate").entrypoint or "")
    assert any(v["target"] == "/backups" for v in o.svc("staging", "backup")["volumes"])
    assert ("TZ", "Europe/Berlin") in o.target("staging", "cron").env and "backend" in o.svc("staging", "cron")["depends_on"]
    assert o.svc("unified", "pytest")["depends_on"]["wait-for-services"]["condition"] == "service_completed_successfully"


@check("infrastructure: postgres image, host port, data and healthcheck per environment")
def _(o: Rendered) -> None:
    assert o.svc("alpine-test", "postgres")["image"].endswith("postgres:15-alpine")
    assert o.svc("dev", "postgres")["image"].endswith("postgres:16-alpine")
    assert o.ports("dev", "postgres") == {"5433:5432"} and o.ports("test", "postgres") == {"5434:5432"}
    assert o.ports("alpine", "postgres") == {"5432:5432"} and o.ports("alpine-test", "postgres") == set()
    assert o.ports("staging", "postgres") == set()
    assert "/var/lib/postgresql/data" in (o.svc("test", "postgres").get("tmpfs") or [])
    named = lambda env: {v.get("source") for v in o.svc(env, "postgres")["volumes"] if v["type"] == "volume"}  # noqa: E731
    assert named("dev") == {"postgres_dev_data"} and named("alpine") == {"postgres_alpine_data"}
    assert named("staging") == {"postgres_data"} and named("podman") == {"postgres_podman_data"}
    assert o.configs["dev"]["volumes"]["postgres_dev_data"]["name"] == "legacy-monorepo_postgres_dev_data"
    assert o.svc("dev", "postgres")["healthcheck"]["interval"] == "5s" and o.svc("test", "postgres")["healthcheck"]["interval"] == "2s"
    assert "healthcheck" not in o.svc("podman-no-dns", "postgres")
    assert o.svc("dev", "clickhouse")["ulimits"]["nofile"] == {"soft": 262144, "hard": 262144}
    assert "healthcheck" not in o.svc("podman", "redis")


@check("infrastructure: restart policies per environment")
def _(o: Rendered) -> None:
    assert o.svc("dev", "postgres")["restart"] == "unless-stopped" and o.svc("dev", "analytics")["restart"] == "on-failure"
    assert "restart" not in o.svc("dev", "clickhouse") and "restart" not in o.svc("test", "backend")
    assert all(o.svc("alpine", s)["restart"] == "always" for s in o.configs["alpine"]["services"] if s != "loadtest")
    assert o.svc("staging", "backend")["restart"] == "always" and o.svc("staging", "cron")["restart"] == "unless-stopped"
    assert o.svc("podman", "backend")["restart"] == "on-failure" and "restart" not in o.svc("podman", "auth")


@check("resource limits only in resource-optimized; log rotation with {{.Name}} tags in staging")
def _(o: Rendered) -> None:
    limits = o.svc("resource-optimized", "postgres")["deploy"]["resources"]
    assert limits["limits"]["cpus"] == 1.0 and limits["reservations"]["memory"] == "268435456"
    assert o.svc("resource-optimized", "redis")["deploy"]["resources"]["limits"]["cpus"] == 0.5
    for env in ("dev", "test", "staging", "alpine", "podman", "unified"):
        assert all("deploy" not in s for s in o.configs[env]["services"].values()), env
    for service in ("postgres", "redis", "clickhouse", "auth", "backend", "frontend", "analytics", "cron"):
        logging = o.svc("staging", service)["logging"]
        assert logging["options"] == {"max-size": "10m", "max-file": "5", "tag": "{{.Name}}"}, service


@check("project names per environment")
def _(o: Rendered) -> None:
    names = {env: c["name"] for env, c in o.configs.items()}
    assert names["test"] == names["pytest"] == "netra-test" and names["staging"] == "netra"
    assert names["alpine"] == "netra-alpine" and names["unified"] == "netra-unified" and names["dev"] == "legacy-monorepo"


@pytest.mark.parametrize("name", list(MEANINGFUL))
def test_meaningful_difference_survives(out: Rendered, name: str) -> None:
    MEANINGFUL[name](out)


# --- section 6: accidental drift, each listed in the report ----------------------------------

DRIFT = {
    1: [r"python 3\.10", r"backend\.test\.Dockerfile", r"node 18", r"frontend\.test\.Dockerfile"],
    2: [r"EXPOSE 8001 in docker/auth\.development\.Dockerfile", r"listens on 8081"],
    3: [r"postgres:15-alpine in alpine-test", r"backup builds on postgres 15"],
    4: [r"images run as root", r"cron\.Dockerfile"],
    5: [r"auth: health checked", r"backend: health checked", r"frontend: health checked", r"curl", r"urllib", r"wget", r"node fetch"],
    6: [r"python 3\.11 is spelled", r"python:3\.11-slim-bookworm", r"node 20 is spelled", r"node:20-alpine3\.19"],
    7: [r"sqlalchemy==2\.0\.25", r"psycopg2-binary", r"pip install --upgrade pip"],
    8: [r"netra-dev-auth:latest built from 2 different", r"netra-dev-frontend:latest built from 2", r"netra-test-backend:latest built from 2",
        r"netra-test-runner:latest built by 3", r"localhost/netra-podman-backend:latest built by 2"],
    9: [r"ENVIRONMENT spelled dev / development", r"ENVIRONMENT spelled test / testing"],
    10: [r"backend in staging: environment SENTRY_DSN overrides \./\.env\.staging"],
    11: [r"backend in staging: command repeats the image CMD to change 60 -> 120"],
    12: [r"staging: restart policy of cron differs", r"staging: analytics has a staging image name but no staging build"],
    13: [r"frontend in podman: NEXT_PUBLIC_API_URL set at run time", r"frontend in podman-no-dns: NEXT_PUBLIC_API_URL"],
    14: [r"lacks .*variable", r"REDIS_PASSWORD", r"STAGING_TAG", r"NETRA_ENV", r"has variables \.env lacks \| TAG", r"env_file: \.env ships"],
    15: [r"secret baked into docker/auth\.test\.Dockerfile", r"JWT_SECRET"],
    16: [r"podman-no-dns: IP addresses", r"podman-no-dns: extra_hosts on 2 of 5 services"],
    17: [r"postgres:5432 published on 2 host ports in dev", r"5433", r"container_name only in dev"],
    18: [r"obsolete `version:` key in 6 Compose files"],
    19: [r"build contexts without a \.dockerignore: \./auth_service, \./backend, \./frontend"],
    20: [r"wait-for-services\.Dockerfile: default CMD never used"],
}


@pytest.mark.parametrize("item", list(DRIFT))
def test_accidental_drift_is_listed_in_the_report(out: Rendered, item: int) -> None:
    section = out.report.split("## Drift found (review)", 1)[1].split("\n## ", 1)[0]
    for pattern in DRIFT[item]:
        assert re.search(pattern, section), f"INVENTORY §6.{item}: {pattern!r} not in the report's drift section"
