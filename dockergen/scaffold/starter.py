"""The text of a starter ``dockergen.yaml``: commented, for the apps ``detect`` found.

Written line by line (not dumped) so that every section can say what it does; values
that YAML could misread are written as JSON scalars, which YAML reads the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockergen import presets
from dockergen.command_probes import probe_for
from dockergen.render.comment import comment_lines
from dockergen.render.dockerfile import copies
from dockergen.render.yaml_out import atom
from dockergen.scaffold.detect import App

POSTGRES_IMAGE = "postgres:16-alpine"
PYTHON_INSTALLS = {
    "pip": "pip install -r; dev and test stages add their requirement files",
    "pyproject": "the [project] dependencies of pyproject.toml; dev and test stages add every group and extra",
    "uv": "uv sync --locked from uv.lock; dev and test stages add every dependency group",
    "poetry": "poetry install from poetry.lock; dev and test stages add every group",
    "pdm": "pdm install --check from pdm.lock; dev and test stages add every group",
}
REDIS_IMAGE = "redis:7-alpine"


@dataclass
class Choices:
    project: str
    apps: list[App]
    backing: set[str]  # postgres | redis: services to add
    schema: str | None  # what `$schema=` points at; None: say how to get one
    env_example: str | None = None  # where render writes the list of variables, when not .env.example


def q(value: object) -> str:
    """A YAML scalar or flow list, written to be read back as it is in a block or a flow collection."""
    if isinstance(value, list):
        return "[" + ", ".join(atom(item, flow=True) for item in value) + "]"
    return atom(value, flow=True)


def starter_spec(choices: Choices) -> str:
    apps = choices.apps
    sources = sorted({f"{a.context}/{e}" if a.context != "." else e for a in apps for e in a.evidence})
    modeline = (
        [*comment_lines(f"yaml-language-server: $schema={choices.schema}"), "#"]
        if choices.schema
        else [
            "# Completion and checks in editors: `dockergen schema > dockergen.schema.json`, then make",
            "# `# yaml-language-server: $schema=dockergen.schema.json` this file's first line.",
            "#",
        ]
    )
    out = [
        *modeline,
        *comment_lines(f"dockergen spec for {choices.project}, started by `dockergen init` from: {', '.join(sources) or 'nothing detected'}."),
        "# Edit it, then `dockergen render` writes the Dockerfiles, compose.yaml + one overlay per",
        "# environment, .dockerignore and .env.example; `dockergen lint` checks the result, and",
        "# `dockergen explain SERVICE --env prod` shows where each value comes from.",
        "",
        "version: 1",
        f"project: {q(choices.project)}",
        "",
        "# The five standard environments. Each picks a build stage and a built-in policy:",
        "environments:",
        "  dev: {}                  # dev stage, source bind-mounted over the app, reload server",
        "  test: {}                 # test stage (runs the test suite), state on tmpfs",
        "  staging: {}              # prod stage; restart, resource limits, rotated logs",
        "  prod: {}                 # prod stage; restart always, limits, rotated logs, no capabilities",
        "  podman:                  # prod on rootless podman: :Z labels, host ports >= 1024, localhost/ tags",
        "    extends: prod",
        "    engine: podman",
        "",
        "services:",
    ]
    used_ports: set[int] = set()
    for app in apps:
        out += _service(app, choices, used_ports)
    if "postgres" in choices.backing:
        out += [
            "  db:",
            f"    image: {POSTGRES_IMAGE}   # known image: healthcheck and a data volume are preset",
            "    environment:",
            "      POSTGRES_USER: app",
            "      POSTGRES_DB: app",
            "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}   # from .env, never the spec",
            '    security_opt: ["no-new-privileges:true"]',
            "    resources: {limits: {cpus: 1.0, memory: 1G}}   # every environment: size it for your data",
            "    environments:",
            "      dev:",
            '        ports: ["127.0.0.1:5432:5432"]   # for local tools; never published in prod',
            "",
        ]
    if "redis" in choices.backing:
        out += [
            "  cache:",
            f"    image: {REDIS_IMAGE}        # known image: healthcheck and a data volume are preset",
            '    security_opt: ["no-new-privileges:true"]',
            "    resources: {limits: {cpus: 0.5, memory: 256M}}   # every environment: size it for your data",
            "",
        ]
    if "postgres" in choices.backing:
        out += [
            "variables:                 # documented in .env.example",
            "  POSTGRES_PASSWORD:",
            "    description: Password of the database's `app` user.",
            "    required: true",
            "    secret: true",
            "",
        ]
    if choices.env_example:
        out += [
            "output:",
            f"  env_example: {q(choices.env_example)}   # .env.example is the project's own: render writes its list of variables here",
            "",
        ]
    return "\n".join(out).rstrip() + "\n"


def _service(app: App, choices: Choices, used_ports: set[int]) -> list[str]:
    out = [f"  {app.name}:"]
    label = f"{app.family}{f' ({app.framework})' if app.framework else ''}"
    where = "the repository root" if app.context == "." else app.context
    out.append(f"    description: {q(f'{label} app in {where}')}")
    for note in app.notes:
        out += ["    " + line for line in comment_lines(f"TODO: {note}")]
    out.append("    build:")
    if app.family == "go":
        out += _go_build(app)
    else:
        out += [f"      family: {app.family}", f"      context: {q(app.context)}"]
        if app.port is not None:
            out.append(f"      port: {app.port}")
        if app.variables():
            out.append(f"      env: {{{', '.join(f'{k}: {q(v)}' for k, v in app.variables().items())}}}   # read by the app: ENV in every stage")
    if app.family == "python":
        if app.requirement_includes:
            copy = [f"COPY {' '.join(files)} {folder}" for files, folder in copies(app.requirement_includes)]
            out.append("      hooks:")
            out.append(f"        before_install: {q(copy)}   # what the requirements include (-r, -c): pip opens them beside them")
        out.append("      python:")
        out.append(f"        version: {q(app.python_version)}   # ARG PYTHON_VERSION, pinned to its latest patch release")
        install = PYTHON_INSTALLS["pyproject" if app.requirements == "pyproject.toml" else app.manager]
        out.append(f"        package_manager: {app.manager}   # {install}")
        if app.manager == "pip":
            out.append(f"        requirements: {q(app.requirements) if app.requirements else 'null'}")
            if app.dev_requirements:
                out.append(f"        dev_requirements: {q(app.dev_requirements)}")
            if app.test_requirements:
                out.append(f"        test_requirements: {q(app.test_requirements)}")
        if app.test_command:
            out.append(f"        test_command: {q(app.test_command)}   # Django's test runner: no pytest in the dependencies")
        elif not app.has_pytest:
            out.append('        test_command: ["python", "-m", "unittest", "discover", "-v"]   # no pytest in the dependencies')
        if app.app_module:
            made = "factory, called by the server" if app.app_module.endswith("()") else "object"
            out.append(f"        app: {q(app.app_module)}   # the {app.interface.upper()} application {made}")
        if app.framework:
            out.append(f"        interface: {app.interface}")
            out.append(f"        server: {app.server}         # production server")
        elif app.command:
            out.append(f"        dev_command: {q(app.command)}")
            out.append(f"        prod_command: {q(app.command)}   # what the container runs{'' if app.port else ': it serves no HTTP'}")
    elif app.family == "node":
        manager = presets.PACKAGE_MANAGERS[app.package_manager]
        out.append("      node:")
        out.append(f"        version: {q(app.node_version)}")
        out.append(f"        package_manager: {app.package_manager}   # `{' '.join(manager.install)}` from {manager.lockfile}")
        if app.install_files:
            out.append(f"        install_files: {q(app.install_files)}   # read by the install: copied before the source")
        build_script = q(app.build_script) if app.build_script else "null"
        out.append(f"        build_script: {build_script}   # `{manager.tool} run <it>` in the builder stage")
        if app.serve == "nginx":
            out.append(f"        serve: nginx          # the static build in {app.output}/, served by unprivileged nginx on 8080")
            out.append(f"        output: {q(app.output)}")
        elif app.start:
            out.append(f"        start: {q(app.start)}")
        dev_command = _vite_dev(app, manager) if app.framework == "vite" else app.dev_command
        if dev_command:
            out.append(f"        dev_command: {q(dev_command)}   # the dev server, on the published port")
        if app.test_command:
            out.append(f"        test_command: {q(app.test_command)}   # package.json has no `test` script for `{' '.join(manager.test_command)}`")
        if app.framework == "next":
            out.append('      writable: [".next/cache"]   # next start caches optimised images there; the rest stays root\'s')
        elif app.framework == "vite":
            out.append('      writable: ["node_modules/.vite"]   # the dev server\'s dependency cache; the rest stays root\'s')
    if app.port is not None and (app.family == "node" or (app.family == "python" and (app.app_module or app.command))):
        out.append(f"    healthcheck: {{http: {q(app.health)}}}   # the app must answer it with a status below 400")
    if app.port is not None and app.family == "go":
        out += _go_healthcheck(app)
    out += _worker_healthcheck(app)
    if app.port is not None:
        host = app.port
        while host in used_ports:
            host += 1
        used_ports.add(host)
        out.append(f'    ports: ["{host}:{app.port}"]')
    def wants(need: str) -> bool:
        """Apps whose dependencies use it; every app when none does (the user asked for it)."""
        return need in choices.backing and (need in app.needs or not any(need in a.needs for a in choices.apps))

    deps = [name for need, name in (("postgres", "db"), ("redis", "cache")) if wants(need)]
    if deps:
        out.append(f"    depends_on: [{', '.join(deps)}]   # waits until they are healthy")
    env = [f"      {k}: {q(v)}" for k, v in app.variables().items() if app.family == "go"]  # a generic build has no `env`
    if wants("postgres"):
        env.append("      DATABASE_URL: postgresql://app:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}@db:5432/app")
    if wants("redis"):
        env.append("      REDIS_URL: redis://cache:6379/0")
        if app.command and app.command[:2] == ["rq", "worker"]:
            env.append("      RQ_REDIS_URL: redis://cache:6379/0   # the server `rq worker` takes its jobs from")
    if env:
        out += ["    environment:", *env]
    out += [
        "    environments:           # per-environment settings override the ones above",
        "      prod:",
        "        resources: {limits: {cpus: 1.0, memory: 512M}}   # the built-in default: size it for the app",
        "",
    ]
    return out


def _worker_healthcheck(app: App) -> list[str]:
    """A task queue worker's own probe (Celery's `inspect ping`, arq's `--check`), or why it has none."""
    if app.port is not None or not app.command:
        return []
    known = probe_for(None, app.command)
    if known is None:
        return []
    if known.test is None:
        return [f"    healthcheck: {{disable: true}}   # {known.note}"]
    return [f"    healthcheck: {{test: {q(list(known.test))}, {', '.join(f'{k}: {q(v)}' for k, v in known.timing.items())}}}",
            *("    " + line for line in comment_lines(known.note))]  # fmt: skip


def _vite_dev(app: App, manager: presets.PackageManager) -> list[str]:
    """Vite's dev server listens on localhost:5173; the stack publishes and probes `port`."""
    separator = ["--"] if manager.tool == "npm" else []  # npm passes a script flags only after `--`
    return [*manager.dev_command, *separator, "--host", "0.0.0.0", "--port", str(app.port), "--strictPort"]


# The prod image is distroless: no shell, no wget. Its healthcheck runs this static probe,
# built beside the app from Go's own HTTP client (exit 0 on a status below 400, as every
# generated HTTP probe; it gives up after 4 s, within the default 5 s timeout). One `printf`
# line: buildah 1.28 rejects heredocs.
GO_PROBE = "/usr/local/bin/healthcheck"
GO_PROBE_SOURCE = (
    "package main",
    'import ("net/http"; "os"; "time")',
    "func main() { c := http.Client{Timeout: 4 * time.Second}; r, err := c.Get(os.Args[1]); if err != nil || r.StatusCode >= 400 { os.Exit(1) } }",
)


def _go_probe_build(build_cache: str) -> str:
    lines = " ".join(f"'{line}'" for line in GO_PROBE_SOURCE)
    return (f"RUN {build_cache} mkdir -p /probe && printf '%s\\n' {lines} > /probe/main.go "
            f'&& CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o {GO_PROBE} /probe/main.go')  # fmt: skip


def _go_healthcheck(app: App) -> list[str]:
    """The distroless-safe probe of a Go server, on its health route."""
    url = f"http://127.0.0.1:{app.port}{app.health}"
    return [f"    healthcheck: {{test: {q(['CMD', GO_PROBE, url])}}}   # the probe the builder stage builds: distroless has no shell or wget"]


def _go_build(app: App) -> list[str]:
    cache = "--mount=type=cache,target=/go/pkg/mod"
    build_cache = f"{cache} --mount=type=cache,target=/root/.cache/go-build"
    copy_mod = "COPY go.mod go.sum ./" if app.go_sum else "COPY go.mod ./"
    steps_builder = [
        *([_go_probe_build(build_cache.split(" ", 1)[1])] if app.port is not None else []),
        "WORKDIR /src",
        copy_mod,
        f"RUN {cache} go mod download",
        "COPY . .",
        f'RUN {build_cache} CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app {app.go_main}',
    ]
    dev_cmd = q(f'CMD ["go", "run", "{app.go_main}"]')
    test_cmd = q('CMD ["go", "test", "./..."]')
    lines = [
        f"      context: {q(app.context)}",
        *([f"      port: {app.port}"] if app.port is not None else []),
        "      workdir: /src           # where dev bind-mounts the source",
        "      steps:                  # your own Dockerfile, one instruction per item; environments build dev, test or prod",
        f"        - FROM docker.io/library/golang:{app.go_version}-alpine AS builder",
        *[f"        - {q(s)}" for s in steps_builder],
        "        - FROM builder AS dev",
        f"        - {dev_cmd}",
        "        - FROM builder AS test",
        f"        - {test_cmd}",
        "        - FROM gcr.io/distroless/static-debian12:nonroot AS prod   # no shell, runs as 65532",
        *[f"        - {q(s)}" for s in [
            "COPY --from=builder /out/app /app", *([f"COPY --from=builder {GO_PROBE} {GO_PROBE}"] if app.port is not None else []), "USER 65532:65532", *([f"EXPOSE {app.port}"] if app.port else []), 'ENTRYPOINT ["/app"]',
        ]],
    ]  # fmt: skip
    return lines
