"""`dockergen import` on small repositories in the other layouts people use, and on files it
cannot understand: it never crashes, it says what it skipped, and what it imports verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dockergen.cli import main
from dockergen.importer.spec.text import spec_text
from dockergen.importer.analyze import analyze
from dockergen.importer.plan import ImportOptions
from dockergen.importer.read.dockerfile import parse_dockerfile, summarise
from dockergen.importer.verify.run import VerifyResult, verify
from dockergen.pipeline import render
from dockergen.spec.model import Build


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return root


def imported(root: Path, **options: object) -> tuple:  # noqa: ANN001
    plan = analyze(root, ImportOptions(**options))  # type: ignore[arg-type]
    spec = root / "dockergen.yaml"
    spec.write_text(spec_text(plan))
    rendered = render(spec)
    return plan, rendered, verify(plan, rendered)


def unexplained(result: VerifyResult) -> list[str]:
    return [f"{d.env} {d.service} {d.path}: {d.original} -> {d.rendered}" for d in result.unexplained]


CLEAN = {
    "Dockerfile": """\
# syntax=docker/dockerfile:1
FROM python:3.12-slim AS build
WORKDIR /src
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt

FROM python:3.12-slim
RUN useradd --system --uid 10001 app
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*
COPY app/ app/
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health')"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
""",
    "compose.yaml": """\
services:
  api:
    build: .
    ports:
      - "8000:8000"
    environment:
      LOG_LEVEL: ${LOG_LEVEL:-info}
    restart: unless-stopped
""",
    "requirements.txt": "fastapi==0.110.0\nuvicorn==0.29.0\n",
    "app/main.py": "app = None\n",
}


def test_a_clean_single_service_repo_round_trips_with_no_difference_at_all(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "shop", CLEAN)
    plan, rendered, result = imported(root)
    assert [(e.name, e.files) for e in plan.environments] == [("dev", ("compose.yaml",))]
    assert plan.problems == [] and plan.findings == []
    assert result.compared == {"dev": "ok"}
    assert [f"{d.cls} {d.path}: {d.original} -> {d.rendered}" for d in result.differences] == []
    assert result.dockerfiles_compared == 2
    assert [f.path for f in rendered.files if f.kind == "dockerfile"] == ["Dockerfile"]


OVERRIDE_STYLE = {
    "docker-compose.yml": """\
version: "3.9"
x-env: &env
  DATABASE_URL: postgres://app:app@db/app
services:
  web:
    build: ./web
    environment:
      <<: *env
    depends_on: [db]
  worker:
    build: ./web
    command: celery -A web.tasks worker
    environment:
      <<: *env
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: app
    volumes:
      - pgdata:/var/lib/postgresql/data
volumes:
  pgdata: {}
""",
    "docker-compose.override.yml": """\
services:
  web:
    build:
      dockerfile: Dockerfile.dev
    ports: ["8000:8000"]
    volumes: ["./web:/code"]
  db:
    ports: ["5432:5432"]
""",
    "docker-compose.prod.yml": """\
services:
  web:
    build:
      dockerfile: Dockerfile.prod
    restart: always
    ports: ["80:8000"]
  worker:
    restart: always
    deploy:
      resources:
        limits: {memory: 1G}
""",
    "web/Dockerfile": "FROM python:3.12-slim\nWORKDIR /code\nCOPY . .\nCMD [\"gunicorn\", \"web.wsgi\"]\n",
    "web/Dockerfile.dev": "FROM python:3.12-slim\nWORKDIR /code\nCOPY . .\nCMD [\"python\", \"manage.py\", \"runserver\", \"0.0.0.0:8000\"]\n",
    "web/Dockerfile.prod": "FROM python:3.12-slim AS base\nWORKDIR /code\nCOPY . .\nFROM base\nUSER 1000\nCMD [\"gunicorn\", \"-w\", \"4\", \"web.wsgi\"]\n",
    "web/manage.py": "",
}


def test_override_style_dev_is_base_plus_override_and_variants_become_targets(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "site", OVERRIDE_STYLE)
    plan, rendered, result = imported(root)
    assert {e.name: e.files for e in plan.environments} == {
        "dev": ("docker-compose.yml", "docker-compose.override.yml"),
        "prod": ("docker-compose.yml", "docker-compose.prod.yml"),
    }
    assert unexplained(result) == []
    web = plan.spec["services"]["web"]["build"]
    assert "family" not in web and web["context"] == "web"  # `steps` imply the generic family
    assert set(Build.model_validate(web, context={}).stage_list()) >= {"default", "dev", "prod"}
    assert plan.spec["services"]["worker"]["uses"] == "web"
    assert [f.path for f in rendered.files if f.kind == "dockerfile"] == ["web/Dockerfile"]


FOLDER_STYLE = {
    "services/api/Containerfile": "FROM docker.io/library/node:20-slim\nWORKDIR /srv\nCOPY package.json .\nRUN npm install\nCOPY . .\nUSER node\nCMD [\"node\", \"server.js\"]\n",
    "services/api/Containerfile.dev": "FROM docker.io/library/node:20-slim\nWORKDIR /srv\nCOPY package.json .\nRUN npm install\nCMD [\"npx\", \"nodemon\", \"server.js\"]\n",
    "services/api/package.json": "{}\n",
    "services/api/server.js": "",
    "compose.yaml": """\
include:
  - infra/compose.db.yaml
services:
  api:
    build:
      context: services/api
      dockerfile: Containerfile
    depends_on:
      db: {condition: service_healthy}
    ports: ["3000:3000"]
""",
    "infra/compose.db.yaml": """\
services:
  db:
    image: docker.io/library/postgres:16-alpine
    healthcheck:
      test: ["CMD-SHELL", "pg_isready"]
      interval: 5s
""",
    "compose.dev.yaml": """\
services:
  api:
    build:
      dockerfile: Containerfile.dev
    volumes: ["./services/api:/srv:z"]
""",
    "deploy/staging/compose.yaml": """\
name: api-staging
services:
  api:
    build:
      context: ../../services/api
      dockerfile: Containerfile
    image: registry.example.com/api:staging
    extends:
      file: ../common.yaml
      service: base
  db:
    image: docker.io/library/postgres:16-alpine
""",
    "deploy/common.yaml": "services:\n  base:\n    restart: always\n    logging: {driver: local}\n",
    "podman-compose.yml": """\
services:
  api:
    build:
      context: services/api
      dockerfile: Containerfile
    image: localhost/api:latest
    ports: ["8080:3000"]
    volumes: ["./services/api/data:/srv/data:Z"]
""",
}


def test_folder_style_with_containerfiles_include_extends_and_podman(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "mono", FOLDER_STYLE)
    plan, rendered, result = imported(root)
    envs = {e.name: e.files for e in plan.environments}
    assert envs["dev"] == ("compose.yaml", "compose.dev.yaml")
    assert envs["staging"] == ("deploy/staging/compose.yaml",)
    assert envs["podman"] == ("podman-compose.yml",)
    assert next(e for e in plan.environments if e.name == "podman").engine == "podman"
    assert next(e for e in plan.environments if e.name == "staging").project == "api-staging"
    assert unexplained(result) == []
    stages = set(Build.model_validate(plan.spec["services"]["api"]["build"], context={}).stage_list())
    assert {"default", "dev"} <= stages


BROKEN = {
    "compose.yaml": "services:\n  app:\n    build: .\n",
    "Dockerfile": "FROM alpine:3.19\nCMD [\"true\"]\n",
    "docker-compose.broken.yml": "services: [this is: not: valid\n",
    "k8s-compose.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n",
    "legacy/docker-compose.yml": "web:\n  image: nginx\n",
    "garbage.Dockerfile": "this is not a dockerfile at all\n",
    "empty.Dockerfile": "",
    "binary/Dockerfile": "\x00\x01\x02",
    "Dockerfile.j2": "FROM {{ base }}\n",
    "heredoc/Dockerfile": "# syntax=docker/dockerfile:1\nFROM alpine:3.19\nRUN <<EOF\necho hi\nEOF\nCMD [\"sh\"]\n",
    "compose.heredoc.yaml": "services:\n  tool:\n    build: ./heredoc\n  ghost:\n    build:\n      context: .\n      dockerfile: missing.Dockerfile\n",
}


def test_files_it_does_not_understand_are_reported_and_the_import_carries_on(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "mess", BROKEN)
    plan, rendered, result = imported(root)
    reported = {p.path for p in plan.problems}
    assert {"docker-compose.broken.yml", "k8s-compose.yaml", "legacy/docker-compose.yml", "garbage.Dockerfile",
            "empty.Dockerfile", "binary/Dockerfile", "Dockerfile.j2", "missing.Dockerfile"} <= reported  # fmt: skip
    assert "dev" in {e.name for e in plan.environments}
    # The heredoc is spec data now, one step spanning its lines.
    assert "tool" in plan.builds.merged and "tool" not in plan.builds.fallback
    assert "RUN <<EOF\necho hi\nEOF" in plan.spec["services"]["tool"]["build"]["steps"]
    assert unexplained(result) == [] or all("ghost" in line for line in unexplained(result))


def test_the_cli_imports_verifies_and_writes_the_report(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "shop", CLEAN)
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(root), "--verify", "--report", str(tmp_path / "report.md")])
    assert result.exit_code == 0, result.output
    assert "0 unexplained" in result.output and (root / "dockergen.yaml").is_file()
    assert "## Verification" in (tmp_path / "report.md").read_text()
    again = runner.invoke(main, ["import", str(root)])
    assert again.exit_code == 2 and "already exists" in again.output
    verified = runner.invoke(main, ["verify", "--spec", str(root / "dockergen.yaml"), "--against", str(root)])
    assert verified.exit_code == 0, verified.output


def test_out_dash_is_refused_rather_than_writing_a_file_named_dash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree(tmp_path / "shop", CLEAN)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["import", str(root), "--out", "-"])
    assert result.exit_code == 2 and "--out - (standard output) is not supported" in result.output
    assert not (tmp_path / "-").exists() and not (root / "dockergen.yaml").exists()


def test_verify_fails_on_a_spec_that_changed_behaviour(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "shop", CLEAN)
    runner = CliRunner()
    assert runner.invoke(main, ["import", str(root)]).exit_code == 0
    spec = root / "dockergen.yaml"
    spec.write_text(spec.read_text().replace("8000:8000", "8080:8000"))
    result = runner.invoke(main, ["verify", "--spec", str(spec), "--against", str(root)])
    assert result.exit_code == 1
    assert "unexplained" in result.output and "ports" in result.output


def test_compose_set_names_environments_explicitly(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "site", OVERRIDE_STYLE)
    plan, _, result = imported(root, compose_sets={"live": ("docker-compose.yml", "docker-compose.prod.yml"), "prod": ()})
    assert {e.name: e.files for e in plan.environments} == {
        "dev": ("docker-compose.yml", "docker-compose.override.yml"),
        "live": ("docker-compose.yml", "docker-compose.prod.yml"),
    }
    assert unexplained(result) == []


@pytest.mark.parametrize("style", ["clean", "override", "folder"])
def test_the_import_is_the_same_without_the_compose_cli(tmp_path: Path, style: str) -> None:
    files = {"clean": CLEAN, "override": OVERRIDE_STYLE, "folder": FOLDER_STYLE}[style]
    root = write_tree(tmp_path / style, files)
    assert analyze(root, ImportOptions(use_cli=False)).spec == analyze(root).spec


def test_copy_sources_that_dockergens_default_dockerignore_would_drop_are_re_included(tmp_path: Path) -> None:
    files = dict(CLEAN)
    files["Dockerfile"] = files["Dockerfile"].replace("COPY app/ app/", "COPY app/ app/\nCOPY README.md ./")
    files["README.md"] = "Shop\n"
    plan, rendered, result = imported(write_tree(tmp_path / "shop", files))
    assert plan.spec["services"]["api"]["build"]["ignore"] == ["!README.md"]
    ignore = next(f.content for f in rendered.files if f.path == ".dockerignore").splitlines()
    assert ignore.index("!README.md") > ignore.index("*.md")
    assert unexplained(result) == []


@pytest.mark.parametrize(
    ("ignore_files", "expected", "note"),
    [
        ({".containerignore": "*.log\ncache/\n"}, ["*.log", "cache/"], ".containerignore: its patterns are the spec's"),
        ({".dockerignore": "*.tmp\n", ".containerignore": "*.log\n"}, ["*.tmp"], None),  # Docker's file wins here
        ({".dockerignore": "*.tmp\n", "Dockerfile.dockerignore": "*.log\n"}, ["*.log"], "Dockerfile.dockerignore: its patterns"),
        # BuildKit's reader: a byte order mark dropped (a Windows editor's), CRLF lines.
        ({".dockerignore": "\ufeff*.tmp\r\n# notes\r\ncache/\r\n"}, ["*.tmp", "cache/"], None),
        # Only a `#` in the first column starts a comment: an indented one is a pattern.
        ({".dockerignore": "# notes\n  #scratch#\n\t# draft\n"}, ["/#scratch#", "/# draft"], None),
    ],
)
def test_the_ignore_file_the_builds_read_becomes_the_spec_ignore(tmp_path: Path, ignore_files: dict[str, str], expected: list[str], note: str | None) -> None:
    plan, rendered, result = imported(write_tree(tmp_path / "shop", {**CLEAN, **ignore_files}))
    assert plan.spec["services"]["api"]["build"]["ignore"] == expected
    assert unexplained(result) == []
    assert (note is None) == (not any(".containerignore:" in n or "Dockerfile.dockerignore:" in n for n in plan.notes))
    assert note is None or any(note in n for n in plan.notes), plan.notes


def test_without_any_compose_cli_import_works_and_verify_says_what_it_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dockergen.errors import DockergenError
    from dockergen.importer.read import compose_cli

    root = write_tree(tmp_path / "site", OVERRIDE_STYLE)
    monkeypatch.setenv("DOCKERGEN_COMPOSE", "none")
    compose_cli.compose_command.cache_clear()
    try:
        plan = analyze(root)
        assert plan.cli is None and {e.name for e in plan.environments} == {"dev", "prod"}
        spec = root / "dockergen.yaml"
        spec.write_text(spec_text(plan))
        with pytest.raises(DockergenError, match="Compose CLI"):
            verify(plan, render(spec))
    finally:
        monkeypatch.delenv("DOCKERGEN_COMPOSE")
        compose_cli.compose_command.cache_clear()


SUFFIX_STYLE = {
    "docker/Dockerfile-api": """\
FROM golang:1.22 AS build
WORKDIR /src
COPY app/ .
RUN go build -o /out/api ./cmd/api
FROM gcr.io/distroless/base-debian12
COPY --from=build /out/api /api
USER nonroot
ENTRYPOINT ["/api"]
""",
    "docker/Dockerfile-worker": """\
FROM golang:1.22 AS build
WORKDIR /src
COPY app/ .
RUN go build -o /out/worker ./cmd/worker
FROM gcr.io/distroless/base-debian12
COPY --from=build /out/worker /worker
ENTRYPOINT ["/worker"]
""",
    "app/go.mod": "module x\n",
    "docker-compose.yml": """\
x-logging: &logging
  driver: local
services:
  api:
    build: {context: ., dockerfile: docker/Dockerfile-api}
    ports: ["8080:8080"]
    secrets: [db_password]
    configs:
      - source: app_config
        target: /etc/app.yaml
    logging: *logging
    environment:
      - FROM_HOST
      - FIXED=1
  worker:
    build: {context: ., dockerfile: docker/Dockerfile-worker}
    deploy: {replicas: 2}
    logging: *logging
secrets:
  db_password: {file: ./secret.txt}
configs:
  app_config: {file: ./app.yaml}
""",
    "secret.txt": "x\n",
    "app.yaml": "a: 1\n",
}


def test_dockerfile_dash_service_configs_secrets_and_host_passthrough_variables(tmp_path: Path) -> None:
    plan, rendered, result = imported(write_tree(tmp_path / "go", SUFFIX_STYLE))
    services = plan.spec["services"]
    # Dockerfile-api and Dockerfile-worker are two images, not two variants of one.
    assert services["api"]["build"]["dockerfile"] == "docker/Dockerfile-api"
    assert services["worker"]["build"]["dockerfile"] == "docker/Dockerfile-worker"
    assert plan.spec["configs"] == {"app_config": {"file": "./app.yaml"}}
    assert plan.spec["secrets"] == {"db_password": {"file": "./secret.txt"}}
    # A variable passed through from the host is `pass_env` (a spec null would drop it).
    assert services["api"]["pass_env"] == ["FROM_HOST"] and services["api"]["environment"] == {"FIXED": "1"}
    assert services["worker"]["deploy"] == {"replicas": 2} and "compose" not in services["worker"]
    assert unexplained(result) == []


def test_compose_file_in_dotenv_is_the_default_environment(tmp_path: Path) -> None:
    files = dict(OVERRIDE_STYLE)
    files[".env"] = "COMPOSE_FILE=docker-compose.yml:docker-compose.prod.yml\n"
    del files["docker-compose.override.yml"]
    plan, _, result = imported(write_tree(tmp_path / "site", files))
    envs = {e.name: e.files for e in plan.environments}
    assert envs["prod"] == ("docker-compose.yml", "docker-compose.prod.yml")
    assert unexplained(result) == []


def test_a_service_renamed_for_the_spec_says_why_and_keeps_its_old_name_reachable(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "names", {"compose.yaml": "services:\n  API.Gateway:\n    image: nginx:1.27\n    depends_on: [db]\n  db:\n    image: postgres:16\n"})
    plan, _, result = imported(root)
    (decision,) = [d for d in plan.decisions if d.what == "service name api-gateway"]
    assert "lowercase letters, digits" in decision.detail and "prefix/suffix" not in decision.detail
    assert plan.spec["services"]["api-gateway"]["networks"] == {"default": {"aliases": ["API.Gateway"]}}
    assert not [d for d in result.differences if d.cls == "unexplained"]


def test_a_from_that_picks_a_stage_by_build_arg_keeps_picking_it(tmp_path: Path) -> None:
    # `FROM builder-${DEVICE}` inlined to `FROM builder-cpu` would build the same image here
    # and silently ignore `--build-arg DEVICE=gpu` everywhere else.
    root = write_tree(tmp_path, {
        "Dockerfile": "ARG DEVICE=cpu\nFROM python:3.12-slim AS base-cpu\nFROM base-cpu AS base-gpu\nRUN echo gpu\n"
                      "FROM base-${DEVICE} AS final\nCMD [\"python\"]\n",
        "compose.yaml": "services:\n  app:\n    build: .\n",
    })  # fmt: skip
    plan, rendered, result = imported(root, use_cli=True)
    assert unexplained(result) == []
    text = next(f.content for f in rendered.files if f.kind == "dockerfile")
    parsed = parse_dockerfile("Dockerfile", text)
    assert "FROM base-${DEVICE} AS final" in text
    assert summarise(parsed, "final", {"DEVICE": "gpu"}).instructions != summarise(parsed, "final").instructions


def test_a_fresh_checkout_without_its_gitignored_env_is_told_to_create_it(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "app", {
        "docker-compose.yml": "services:\n  web:\n    image: 'ghcr.io/acme/web:${WEB_TAG:?set WEB_TAG}'\n    env_file: .env\n",
        ".env.example": "WEB_TAG=1.0\n",
    })  # fmt: skip
    plan, rendered, result = imported(root, use_cli=True)
    (failed,) = result.unexplained
    assert failed.path == "config" and "create it (e.g. from .env.example)" in failed.why


@pytest.mark.parametrize(("second", "action"), [
    ("docker.io/library/golang:1.22", "kept as written: the same image under other names"),
    ("golang:1.22-alpine", "kept as written: different images of one version"),
])
def test_a_base_spelled_two_ways_is_reported_as_what_the_steps_really_keep(tmp_path: Path, second: str, action: str) -> None:
    write_tree(tmp_path, {
        "Dockerfile": f"FROM golang:1.22 AS build\nRUN go version\nFROM {second}\nCOPY --from=build /usr/local/go/VERSION /v\n",
        "compose.yaml": "services:\n  app:\n    build: .\n",
    })
    plan, rendered, result = imported(tmp_path)
    (finding,) = [f for f in plan.findings if "spelled" in f.title]
    assert finding.action.startswith(action)
    (dockerfile,) = [f.content for f in rendered.files if f.path == "Dockerfile"]
    assert "FROM golang:1.22 AS build\n" in dockerfile and f"FROM {second}\n" in dockerfile  # nothing qualified or unified
    assert unexplained(result) == []


def test_a_git_url_context_is_carried_as_is_without_a_missing_file_problem(tmp_path: Path) -> None:
    url = "https://github.com/example/tool.git#v1.2:docker"
    write_tree(tmp_path, {"compose.yaml": f"services:\n  tool:\n    build:\n      context: {url}\n      args: {{VERSION: '1.2'}}\n"})
    plan, rendered, result = imported(tmp_path)
    assert plan.problems == []  # nothing of the repository is missing
    (decision,) = [d for d in plan.decisions if d.what == "tool: Dockerfiles kept as they are"]
    assert f"Dockerfile in {url}: its build context is not a folder of this repository" in decision.detail
    compose = next(f.content for f in rendered.files if f.path == "compose.yaml")
    assert f"context: {url}\n" in compose
    assert unexplained(result) == []


def test_dotted_and_hyphenated_variables_are_native_environment_and_pass_env(tmp_path: Path) -> None:
    write_tree(tmp_path, {"compose.yaml": "services:\n  api:\n    image: eclipse-temurin:21-jre\n    environment:\n"
                                          "      - spring.datasource.url=jdbc:postgresql://db/app\n      - server.port\n      - my-var=x\n"})
    plan, rendered, result = imported(tmp_path)
    spec = (tmp_path / "dockergen.yaml").read_text()
    assert "compose:" not in spec and "pass_env: [server.port]" in spec
    assert unexplained(result) == []


PROBES = [
    # a probe with no timings at all: Docker's, of which the renderer's own interval and retries are two
    ("  api:\n    image: example/api:1\n    healthcheck:\n      test: [CMD, /bin/check]\n", {"api": {}}),
    # timings of its own, beside a service with none
    ("  api:\n    image: example/api:1\n    healthcheck:\n      test: curl -f http://localhost/\n      interval: 7s\n"
     "      retries: 9\n  job:\n    image: example/job:1\n    healthcheck: {test: [CMD, 'true'], timeout: 4s}\n",
     {"api": {"interval": "7s", "retries": 9}, "job": {"timeout": "4s"}}),
    # an image dockergen knows (its preset probe has timings of its own) and one it does not
    ("  db:\n    image: postgres:16\n    healthcheck:\n      test: [CMD-SHELL, pg_isready -U app]\n"
     "  cache:\n    image: redis:7\n  web:\n    image: example/web:1\n    healthcheck: {test: [CMD, /ok], start_period: 20s}\n",
     {"web": {"start_period": "20s"}}),
]  # fmt: skip


@pytest.mark.parametrize(("services", "own"), PROBES)
def test_a_probe_writes_only_the_timings_the_renderer_would_not_give_it(tmp_path: Path, services: str, own: dict) -> None:
    # Docker's default timings (30s/30s/0s/3) under every probe: the renderer gives a probe
    # interval 30s and retries 3 itself, so the spec's defaults say only timeout and start_period.
    root = write_tree(tmp_path / "probes", {"compose.yaml": "services:\n" + services})
    plan, rendered, result = imported(root, use_cli=True)
    assert unexplained(result) == []
    hc = plan.spec["environments"]["dev"]["defaults"]["healthcheck"]  # the lone environment says the switches
    assert hc["timeout"] == "30s" and hc["start_period"] == "0s" and "interval" not in hc and "retries" not in hc
    for name, timings in own.items():
        written = plan.spec["services"][name].get("healthcheck") or {}
        assert {k: v for k, v in written.items() if k not in ("test", "http", "tcp")} == timings
    compose = yaml.safe_load(next(f.content for f in rendered.files if f.path == "compose.yaml"))
    for name, service in yaml.safe_load("services:\n" + services)["services"].items():
        if "healthcheck" in service:
            got = compose["services"][name]["healthcheck"]
            want = {"interval": "30s", "timeout": "30s", "start_period": "0s", "retries": 3, **service["healthcheck"]}
            assert {k: got[k] for k in ("interval", "timeout", "start_period", "retries")} == {
                k: want[k] for k in ("interval", "timeout", "start_period", "retries")}


LEFT_ALONE = [
    # A `cache/` folder with a Dockerfile beside a `cache` service that pulls its image.
    ({"compose.yaml": "services:\n  cache:\n    image: valkey/valkey:8.0\n  api:\n    build: ./api\n",
      "cache/Dockerfile": "FROM valkey/valkey:8.0\nCOPY valkey.conf /etc/valkey.conf\n", "cache/valkey.conf": "",
      "api/Dockerfile": "FROM alpine:3.20\n"}, ["cache/Dockerfile"]),
    # An inline Dockerfile whose context also holds an unrelated one.
    ({"compose.yaml": "services:\n  trainer:\n    build:\n      context: ml\n      dockerfile_inline: |\n"
                      "        FROM python:3.12-slim\n        CMD [\"python\"]\n",
      "ml/Dockerfile": "FROM alpine:3.20\nCMD [\"echo\", \"other\"]\n"}, ["ml/Dockerfile"]),
    # Root-level images a CI job builds by hand, and one compose service pulling a published image.
    ({"docker-compose.yml": "services:\n  web:\n    image: nginx:1.27\n    ports: [\"8080:80\"]\n",
      "tools.Dockerfile": "FROM golang:1.23\nRUN go install example.org/tool@latest\n",
      "docker/e2e/Dockerfile": "FROM mcr.microsoft.com/playwright:v1.47.0-jammy\nCMD [\"npx\", \"playwright\", \"test\"]\n"},
     ["docker/e2e/Dockerfile", "tools.Dockerfile"]),
    # A Containerfile of a folder no service builds, beside a built service of another name.
    ({"compose.yaml": "services:\n  app:\n    build: ./app\n",
      "app/Dockerfile": "FROM node:22-alpine\nCMD [\"node\", \"index.js\"]\n",
      "batch/Containerfile": "FROM registry.access.redhat.com/ubi9/python-312\nCMD [\"python\", \"-V\"]\n"}, ["batch/Containerfile"]),
]  # fmt: skip


@pytest.mark.parametrize(("files", "left"), LEFT_ALONE)
def test_a_dockerfile_no_compose_file_builds_is_left_as_it_is_and_reported(tmp_path: Path, files: dict, left: list) -> None:
    # No service is made up for it (that would add to what Compose runs); nothing renders
    # over it; the report names it, and the services are exactly the Compose files' own.
    root = write_tree(tmp_path / "proj", files)
    before = {path: (root / path).read_bytes() for path in left}
    plan, rendered, result = imported(root, use_cli=True)
    assert unexplained(result) == []
    compose_file = next(files[n] for n in ("compose.yaml", "docker-compose.yml") if n in files)
    assert set(plan.spec["services"]) == set(yaml.safe_load(compose_file)["services"])
    assert plan.builds.unbuilt == left
    reported = {d.what for d in plan.decisions if "no Compose file builds it" in d.detail}
    assert reported == set(left)
    assert not {f.path for f in rendered.files} & set(left)
    assert {path: (root / path).read_bytes() for path in left} == before
    assert not any("profiles" in (s or {}) for s in plan.spec["services"].values())


def test_a_dockerfile_beside_a_built_one_of_its_image_stays_a_target_of_it(tmp_path: Path) -> None:
    # `api/Dockerfile.debug` is a variant of the image `api` builds: a target of its Dockerfile, not left out.
    root = write_tree(tmp_path / "proj", {
        "compose.yaml": "services:\n  api:\n    build: ./api\n",
        "api/Dockerfile": "FROM python:3.12-slim\nCMD [\"python\", \"-m\", \"api\"]\n",
        "api/Dockerfile.debug": "FROM python:3.12-slim\nRUN pip install debugpy\nCMD [\"python\", \"-m\", \"debugpy\", \"api\"]\n",
    })  # fmt: skip
    plan, _, result = imported(root, use_cli=True)
    assert unexplained(result) == []
    assert plan.builds.unbuilt == [] and plan.builds.unreferenced == {"api/Dockerfile.debug": "api"}
    assert "RUN pip install debugpy" in plan.spec["services"]["api"]["build"]["steps"]


PICKED_FOLDERS = [
    # podman style: each folder a variable picks holds only a Containerfile
    ({"jobs/nightly/Containerfile": "FROM alpine:3.20\nCMD [\"echo\", \"nightly\"]\n",
      "jobs/weekly/Containerfile": "FROM alpine:3.20\nCMD [\"echo\", \"weekly\"]\n"},
     "./jobs/${JOB:-nightly}", ["jobs/nightly/Containerfile", "jobs/weekly/Containerfile"], []),
    # one folder of each kind
    ({"runtimes/node22/Dockerfile": "FROM node:22-slim\n", "runtimes/deno/Containerfile": "FROM denoland/deno:2.0.0\n"},
     "./runtimes/${RUNTIME:-node22}", ["runtimes/deno/Containerfile", "runtimes/node22/Dockerfile"], []),
    # where a folder has a Dockerfile, that one is built: its Containerfile is nobody's
    ({"img/a/Dockerfile": "FROM alpine:3.20\n", "img/a/Containerfile": "FROM alpine:3.19\n", "img/b/Dockerfile": "FROM alpine:3.18\n"},
     "img/${FLAVOUR:-a}", ["img/a/Dockerfile", "img/b/Dockerfile"], ["img/a/Containerfile"]),
]  # fmt: skip


@pytest.mark.parametrize(("files", "context", "picked", "left"), PICKED_FOLDERS)
def test_the_default_file_of_each_folder_a_variable_picks_is_among_its_choices(
    tmp_path: Path, files: dict, context: str, picked: list, left: list
) -> None:
    root = write_tree(tmp_path / "jobs", {"compose.yaml": f"services:\n  job:\n    build:\n      context: \"{context}\"\n", **files})
    plan, _, result = imported(root, use_cli=True)
    assert unexplained(result) == []
    assert sorted(plan.spec["services"]) == ["job"]
    (note,) = [n for n in plan.notes if "a variable picks the Dockerfile" in n]
    assert f"among {', '.join(picked)})" in note
    assert plan.builds.unbuilt == left


def test_a_variable_that_picks_the_build_folder_keeps_picking_it(tmp_path: Path) -> None:
    # `.env` chooses `runtimes/${RUNTIME}`: the build stays as written (switching RUNTIME keeps
    # working) and the folders it picks among are neither "not found" nor images of their own.
    root = write_tree(tmp_path / "shelf", {
        "compose.yaml": "services:\n  app:\n    build:\n      context: ./runtimes/${RUNTIME}\n",
        ".env": "RUNTIME=node22\n",
        "runtimes/node20/Dockerfile": "FROM node:20-slim\n",
        "runtimes/node22/Dockerfile": "FROM node:22-slim\n",
    })  # fmt: skip
    plan, rendered, result = imported(root, use_cli=True)
    assert unexplained(result) == []
    assert sorted(plan.spec["services"]) == ["app"]
    assert plan.spec["services"]["app"]["compose"]["build"]["context"] == "./runtimes/${RUNTIME}"
    assert not [p for p in plan.problems if "not found" in p.what]
    assert not [f for f in rendered.files if f.kind == "dockerfile"]


def test_a_dockerfile_compose_builds_under_any_name_is_read_and_its_test_variant_keeps_its_ports(tmp_path: Path) -> None:
    # `.Dockerfile-test` is no name discovery takes for a Dockerfile; Compose builds it, so it is
    # one. Its stage is not called `test`: a test environment would run that as a suite, unpublished.
    root = write_tree(tmp_path / "ledger", {
        "docker-compose.yml": "services:\n  api:\n    build: .\n    ports: ['3100:3100']\n",
        "docker-compose-test.yml": "services:\n  api:\n    build:\n      context: .\n      dockerfile: .Dockerfile-test\n"
                                   "    ports: ['3199:3100']\n  seed:\n    image: mongo:7.0\n",
        "Dockerfile": "FROM node:20-alpine\nCMD [\"node\", \"server.js\"]\n",
        ".Dockerfile-test": "FROM node:20-alpine\nCMD [\"npm\", \"test\"]\n",
    })  # fmt: skip
    plan, rendered, result = imported(root, use_cli=True)
    assert unexplained(result) == []
    assert not plan.builds.fallback and ".Dockerfile-test" in plan.builds.owner
    assert plan.builds.merged["api"].stage_map[(".Dockerfile-test", 0)] == "tests"


def test_an_environment_building_a_missing_dockerfile_leaves_the_others_native(tmp_path: Path) -> None:
    # `.docker/docker-compose.yaml` (Docker Desktop dev environments) names `api` from the
    # repository root, so plain Compose finds no Dockerfile there: only that build stays as written.
    root = write_tree(tmp_path / "desk", {
        "compose.yaml": "services:\n  api:\n    build: api\n",
        ".docker/docker-compose.yaml": "services:\n  api:\n    build: api\n    volumes: ['/var/run/docker.sock:/var/run/docker.sock']\n",
        "api/Dockerfile": "FROM alpine:3.20\nCMD [\"true\"]\n",
    })  # fmt: skip
    plan, _, result = imported(root, use_cli=True)
    assert unexplained(result) == []
    assert "api" in plan.builds.merged and "api" not in plan.builds.fallback
    assert [p.path for p in plan.problems if "not found" in p.what] == [".docker/api/Dockerfile"]


@pytest.mark.parametrize(
    ("files", "services"),
    [
        ({"Dockerfile": "FROM python:3.12-slim\nCMD [\"python\", \"-V\"]\n"}, {"shop": "Dockerfile"}),
        (
            {"api/Dockerfile": "FROM node:20-alpine\nCMD [\"node\", \"-v\"]\n", "api/Dockerfile.dev": "FROM node:20\nCMD [\"node\"]\n",
             "docker/worker.Dockerfile": "FROM golang:1.22\nCMD [\"go\", \"version\"]\n"},
            {"api": "api/Dockerfile", "worker": "docker/worker.Dockerfile"},
        ),
    ],
)
def test_a_repository_with_dockerfiles_and_no_compose_file_imports_each_image_as_a_service(
    tmp_path: Path, files: dict[str, str], services: dict[str, str]
) -> None:
    # Without a Compose file the Dockerfiles are all there is: left out, the spec had no service (exit 3).
    plan, rendered, result = imported(write_tree(tmp_path / "shop", files), use_cli=False)
    assert sorted(plan.spec["services"]) == sorted(services)
    assert not any("profiles" in s for s in plan.spec["services"].values()), "dockergen compose dev up runs them"
    assert unexplained(result) == []
    assert any(f.path.endswith(".yaml") and "services:" in f.content for f in rendered.files)


ROOT_BLOCKS = [
    # the overlay replaces the whole environment (`!override`): the base's variables are prod's alone
    {"compose.yaml": "services:\n  web:\n    image: nginx:1.27\n    ports: ['80:80']\n    environment:\n"
                     "      DATABASE_URL: postgres://app:secret@db.internal.example.com/app\n"
                     "      CACHE_URL: redis://cache.internal.example.com:6379/0\n"
                     "      SEARCH_URL: http://search.internal.example.com:9200/app-production\n",  # (more than two lines hold)
     "compose.override.yaml": "services:\n  web:\n    environment: !override\n      DEBUG: '1'\n"},
    # a long command, a label and a restart policy the dev overlay takes back
    {"docker-compose.yml": "services:\n  worker:\n    image: example/worker:2\n    command: [celery, -A, proj, worker, --loglevel, info, "
                           "--concurrency, '8', --max-tasks-per-child, '100', --without-gossip]\n    labels: [a=1]\n    restart: always\n",
     "docker-compose.override.yml": "services:\n  worker:\n    command: [celery, -A, proj, worker, --loglevel, debug]\n"
                                    "    labels: !reset null\n    restart: !reset null\n"},
    # published ports and variables reset by the overlay, a second service untouched by it
    {"compose.yaml": "services:\n  api:\n    image: example/api:3\n    ports: ['8443:8443', '9000:9000']\n    environment:\n"
                     "      TLS_CERT: /run/secrets/tls.crt\n      TLS_KEY: /run/secrets/tls.key\n      PUBLIC_URL: https://api.example.com\n"
                     "      SESSION_STORE: redis://cache.internal.example.com:6379/1\n  cache:\n    image: redis:7\n",
     "compose.override.yaml": "services:\n  api:\n    ports: !reset []\n    environment: !override\n      PUBLIC_URL: http://localhost:9000\n"},
]  # fmt: skip


@pytest.mark.parametrize("files", ROOT_BLOCKS)
def test_what_only_the_base_file_says_is_the_service_level_when_that_is_shorter(tmp_path: Path, files: dict) -> None:
    # `dev` extends `prod` (base + override): a service's `prod` block of several lines is
    # written as its level instead; dev's block takes back what its overlay does.
    root = write_tree(tmp_path / "proj", files)
    plan, _, result = imported(root, use_cli=True)
    assert unexplained(result) == []
    assert [(e.name, e.parent) for e in plan.environments] == [("prod", None), ("dev", "prod")]
    changed = [s for s in plan.spec["services"].values() if s.get("environments")]
    assert changed and all("prod" not in s["environments"] and "dev" in s["environments"] for s in changed)


def test_verify_never_reads_or_prints_a_dotenv_that_links_out_of_the_project(tmp_path: Path) -> None:
    # The import does not read a .env linked from outside the project; Compose, left to
    # itself, would, and its error ("invalid hostPort: <value>") put the value in the report.
    (tmp_path / "shared.env").write_text("PORT=hunter2\n")
    root = write_tree(tmp_path / "shop", {"compose.yaml": "services:\n  web:\n    image: nginx:1.27\n    ports: ['${PORT}:80']\n"})
    (root / ".env").symlink_to("../shared.env")
    result = CliRunner().invoke(main, ["import", str(root), "--verify", "--force"])
    assert "hunter2" not in result.output
    assert result.exit_code == 0, result.output


def test_unquoted_dates_and_floats_in_text_fields_are_kept_as_compose_passes_them(tmp_path: Path) -> None:
    # Compose (Go) prints the YAML value it read: what `up` hands the container, and what
    # `config --no-interpolate` does not show (`2024-05-01T00:00:00Z`, `100000000000000000000`).
    compose = """\
services:
  web:
    image: nginx:1.27
    environment:
      RELEASED: 2024-05-01
      AT: 2001-12-14t21:59:43.10-05:00
      BIG: 1.0e+20
      QUOTED: "2024-05-01T00:00:00Z"
      DOLLAR: $${HOME}
    labels:
      org.opencontainers.image.created: 2024-05-01T10:00:00Z
"""
    plan, _, result = imported(write_tree(tmp_path / "shop", {"compose.yaml": compose}))
    web = plan.spec["services"]["web"]
    assert web["environment"] == {"RELEASED": "2024-05-01 00:00:00 +0000 UTC", "AT": "2001-12-14 21:59:43.1 -0500 -0500",
                                  "BIG": "1e+20", "QUOTED": "2024-05-01T00:00:00Z", "DOLLAR": "$${HOME}"}  # fmt: skip
    assert web["labels"] == {"org.opencontainers.image.created": "2024-05-01 10:00:00 +0000 UTC"}
    assert unexplained(result) == []


@pytest.mark.parametrize(
    ("value", "go"),
    # Compose's own output for each (environment: {X: <value>}, `docker compose config`).
    [(1000.0, "1000"), (1e20, "1e+20"), (1234567.0, "1.234567e+06"), (123456.0, "123456"), (0.0001, "0.0001"),
     (1e-05, "1e-05"), (250000.0, "250000"), (-0.0, "-0"), (1.2e-06, "1.2e-06"), (0.1, "0.1")],
)  # fmt: skip
def test_a_float_is_text_as_go_prints_it(value: float, go: str) -> None:
    from dockergen.importer.read.go_text import go_text

    assert go_text(value) == go


SSH_AND_CACHE = {
    "Dockerfile": "FROM alpine:3.20 AS build\nRUN --mount=type=ssh true\n\nFROM build AS lint\nRUN true\n\nFROM alpine:3.20 AS runtime\nCMD [\"true\"]\n",
    "compose.yaml": """\
services:
  app:
    build:
      context: .
      target: runtime
      cache_from: [type=registry,ref=ghcr.io/acme/app:cache]
      platforms: [linux/amd64, linux/arm64]
  lint:
    build:
      context: .
      target: lint
      ssh: ["default=${SSH_AUTH_SOCK:-/run/ssh-agent.sock}"]
""",
}


def test_a_build_ssh_path_is_kept_as_the_files_spell_it_and_compared(tmp_path: Path) -> None:
    # `config --no-interpolate` joins it to the project folder (a path of this machine), and
    # the interpolated config cannot be written as JSON at all (Compose's SSHKey).
    root = write_tree(tmp_path / "shop", SSH_AND_CACHE)
    plan, _, result = imported(root)
    assert str(tmp_path) not in spec_text(plan)
    assert plan.spec["services"]["lint"]["build_options"]["ssh"] == ["default=${SSH_AUTH_SOCK:-/run/ssh-agent.sock}"] and "compose" not in plan.spec["services"]["lint"]
    assert unexplained(result) == []


def test_a_service_building_another_target_of_a_file_does_not_get_its_builders_cache(tmp_path: Path) -> None:
    plan, rendered, result = imported(write_tree(tmp_path / "shop", SSH_AND_CACHE))
    assert plan.spec["services"]["lint"].get("uses") == "app"
    base = yaml.safe_load(next(f.content for f in rendered.files if f.path == "compose.yaml"))
    assert "cache_from" not in base["services"]["lint"]["build"] and "platforms" not in base["services"]["lint"]["build"]
    assert unexplained(result) == []
