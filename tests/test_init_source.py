"""`dockergen init` reads the source for what the manifests cannot say: the port a node or
Go server listens on (and whether it reads PORT), the route that answers health, a src
layout's module path, the dev server of a static build. Judged by real tools: node runs
each server with the environment the starter gives it and must answer the healthcheck on
the starter's port; python imports the starter's module path; docker-compose merges the
rendered dev stack."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dockergen import presets
from dockergen.cli import main
from dockergen.scaffold.detect import detect
from tests.tools import compose_config, dockerfile_stages

PORTS = itertools.count(41731)


def stage_env(instructions: list[Any]) -> dict[str, str]:
    """The `ENV`s of a stage as BuildKit reads them, quotes removed."""
    return {k: v.strip('"') for c in instructions if c.cmd == "ENV" for k, v in zip(c.value[::2], c.value[1::2])}


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


# ---- node: the port and the health route, judged by node itself ---------------------

# How a server says where it listens ({port} is the port it falls back to, {route} its health route).
LISTENS = {
    "env-or": "const port = process.env.PORT || {port};\nserver.listen(port);\n",
    "env-or-string": "server.listen(parseInt(process.env.PORT || '{port}', 10));\n",
    "env-nullish": "const PORT = Number(process.env.PORT) ?? {port};\nserver.listen(PORT, () => console.log('up'));\n",
    "constant": "const PORT = {port};\nserver.listen(PORT);\n",
    "literal": "server.listen({port}, '0.0.0.0');\n",
    "options": "server.listen({{ port: {port}, host: '0.0.0.0' }});\n",
    "env-only": "server.listen(process.env.PORT);\n",
}
ROUTES = ["/health", "/healthz", "/api/health", "/ping", "/api/v1/status", None]
ENTRIES = {  # where the entry is, and how package.json says so
    "server.js": {},
    "src/index.js": {"scripts": {"start": "node src/index.js"}},
    "app.js": {"main": "app.js"},
    "index.mjs": {"main": "index.mjs", "type": "module"},
}
DB_CONFIG = "module.exports = { host: 'db', port: 5432, user: 'app' };\n"  # a client's port, never the server's


def node_server(listen: str, route: str | None, port: int, esm: bool) -> str:
    head = "import http from 'node:http';\n" if esm else "const http = require('http');\n"
    answer = f"req.url === '{route}' ? 200 : 404" if route else "404"
    return head + f"const server = http.createServer((req, res) => {{ res.statusCode = {answer}; res.end(); }});\n" + listen.format(port=port, route=route)


def answers(port: int, path: str, proc: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize(("listen", "route", "entry"), [
    (listen, route, entry) for i, (listen, route) in enumerate(itertools.product(sorted(LISTENS), ROUTES))
    for entry in [sorted(ENTRIES)[i % len(ENTRIES)]]
])  # fmt: skip
def test_a_node_server_answers_the_starters_healthcheck_on_the_starters_port(listen: str, route: str | None, entry: str, tmp_path: Path) -> None:
    fallback = next(PORTS)
    package = {"name": "api", "scripts": {"test": "node --test"}, "dependencies": {"express": "4.19.2"}}
    package.update({k: v for k, v in ENTRIES[entry].items() if k != "scripts"})
    package["scripts"].update(ENTRIES[entry].get("scripts", {}))
    write(tmp_path, {
        "package.json": json.dumps(package), "package-lock.json": "{}", "config/db.js": DB_CONFIG,
        entry: node_server(LISTENS[listen], route, fallback, entry.endswith(".mjs")),
    })  # fmt: skip
    (app,) = detect(tmp_path).apps
    assert app.start == ["node", entry]
    if listen == "env-only":
        app_port = app.port  # no fallback: the starter's PORT is all the server has
        assert app.variables() == {"PORT": str(app.port)}
    else:
        assert app.port == fallback, (app.port, fallback)
    assert ("PORT" in app.variables()) == ("process.env.PORT" in LISTENS[listen])
    assert (app.health == route) if route else (app.health == "/health" and any("no health route" in n for n in app.notes))
    env = {"PATH": os.environ["PATH"], **app.variables()}
    if listen == "env-only":
        env["PORT"] = str(app_port := next(PORTS))  # the port is whatever PORT says: any free one proves it
        app.port = app_port
    proc = subprocess.Popen(["node", entry], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert answers(app.port, app.health, proc) == (200 if route else 404)
    finally:
        proc.kill()
        proc.wait()


def test_a_node_server_without_a_dev_script_reloads_its_entry_with_node_watch(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": json.dumps({"scripts": {"start": "node src/server.js", "test": "jest"}}), "src/server.js": "require('http').createServer().listen(3000)\n"})
    (app,) = detect(tmp_path).apps
    assert app.dev_command == ["node", "--watch", "src/server.js"]
    write(tmp_path, {"package.json": json.dumps({"scripts": {"start": "node src/server.js", "dev": "nodemon src/server.js"}})})
    (app,) = detect(tmp_path).apps
    assert app.dev_command is None and any("no `test` script" in n for n in app.notes)


# ---- node: the test stage runs a suite, with or without a `test` script ----------------

PLACEHOLDER = 'echo "Error: no test specified" && exit 1'  # what `npm init -y` writes
TEST_SCRIPTS = {  # package.json's scripts and devDependencies -> what the test stage runs
    "own script": ({"test": "vitest run"}, {"vitest": "1.6.0"}, ["npm", "test"]),
    "no script, vitest": ({}, {"vitest": "1.6.0"}, ["node_modules/.bin/vitest", "run"]),
    "placeholder, jest": ({"test": PLACEHOLDER}, {"jest": "29.7.0"}, ["node_modules/.bin/jest", "--ci"]),
    "no script, mocha": ({"start": "node server.js"}, {"mocha": "10.4.0"}, ["node_modules/.bin/mocha"]),
    "no script, no runner": ({}, {}, ["node", "--test"]),
    "placeholder, no runner": ({"test": PLACEHOLDER}, {}, ["node", "--test"]),
}


@pytest.mark.parametrize("kind", sorted(TEST_SCRIPTS))
@pytest.mark.parametrize("framework", ["next", "express"])
def test_a_node_test_stage_runs_a_suite_even_without_a_test_script(kind: str, framework: str, tmp_path: Path) -> None:
    scripts, dev, command = TEST_SCRIPTS[kind]
    deps = {"next": {"next": "14.2.3", "react": "18.3.1"}, "express": {"express": "4.19.2"}}[framework]
    package = {"name": "x", "scripts": {**scripts, "build": "next build"} if framework == "next" else scripts, "dependencies": deps, "devDependencies": dev}
    write(tmp_path, {"package.json": json.dumps(package), "package-lock.json": "{}", "server.js": "require('express')().listen(3000)\n"})
    spec = str(tmp_path / "dockergen.yaml")
    assert CliRunner().invoke(main, ["init", str(tmp_path), "--yes"], catch_exceptions=False).exit_code == 0
    result = CliRunner().invoke(main, ["render", "--spec", spec, "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (test_cmd,) = [c for c in dockerfile_stages(tmp_path / "Dockerfile")["test"][1] if c.cmd == "CMD"]
    assert list(test_cmd.value) == command
    lint = CliRunner().invoke(main, ["lint", "--spec", spec], catch_exceptions=False)
    assert "DG032" not in lint.output, lint.output


# ---- static builds: the dev server listens where the stack publishes and probes -------

STATIC = {
    ("vite", "npm"): ({"devDependencies": {"vite": "5.2.0"}, "scripts": {"dev": "vite", "build": "vite build"}}, "package-lock.json"),
    ("vite", "pnpm"): ({"devDependencies": {"vite": "5.2.0"}, "scripts": {"dev": "vite --open", "build": "vite build"}, "packageManager": "pnpm@9.1.0"}, "pnpm-lock.yaml"),
    ("vite", "yarn"): ({"devDependencies": {"vite": "5.2.0"}, "scripts": {"dev": "vite", "build": "vite build"}, "packageManager": "yarn@1.22.22"}, "yarn.lock"),
    ("create-react-app", "npm"): ({"dependencies": {"react-scripts": "5.0.1"}, "scripts": {"start": "react-scripts start", "build": "react-scripts build"}}, "package-lock.json"),
}  # fmt: skip


@pytest.mark.parametrize(("framework", "manager"), sorted(STATIC))
def test_a_static_builds_dev_server_listens_on_the_published_and_probed_port(framework: str, manager: str, tmp_path: Path) -> None:
    package, lockfile = STATIC[framework, manager]
    write(tmp_path, {"package.json": json.dumps({"name": "site", **package}), lockfile: "{}\n", "index.html": "<h1>hi</h1>\n"})
    result = CliRunner().invoke(main, ["init", str(tmp_path), "--yes"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["render", "--spec", str(tmp_path / "dockergen.yaml"), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    dev = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / "compose.dev.yaml"])["services"]["web"]
    published = {p["target"] for p in dev["ports"]}
    probe = dev["healthcheck"]["test"]
    assert probe[1] == "node" and any(f"127.0.0.1:{port}/" in probe[-1] for port in published), probe
    found = dockerfile_stages(tmp_path / "Dockerfile")
    dev_stage = found[dev["build"]["target"]][1]
    (cmd,) = [list(c.value) for c in dev_stage if c.cmd == "CMD"]
    env = stage_env([*found["base"][1], *dev_stage])
    (port,) = published
    if framework == "vite":  # vite's own flags; its default is localhost:5173
        assert cmd[cmd.index("--host") + 1] == "0.0.0.0" and cmd[cmd.index("--port") + 1] == str(port), cmd
        dev = list(presets.PACKAGE_MANAGERS[manager].dev_command)
        assert cmd[: len(dev)] == dev and (cmd[len(dev)] == "--") == (manager == "npm"), cmd
        assert any(c.cmd == "RUN" and "node_modules/.vite" in c.value[0] for c in dev_stage), "vite writes its cache there"
    else:  # react-scripts reads PORT and has no `dev` script
        assert cmd == ["npm", "run", "start"] and env.get("PORT") == str(port), (cmd, env)


# ---- python: the route and the module path -------------------------------------------

PY_ROUTES = {
    "fastapi": ('from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get("{route}")\ndef ok():\n    return {{}}\n', "app"),
    "flask": ("from flask import Flask\n\nserver = Flask(__name__)\n\n@server.route('{route}', methods=['GET'])\ndef ok():\n    return 'ok'\n", "server"),
    "starlette": ('from starlette.applications import Starlette\nfrom starlette.routing import Route\n\napi = Starlette(routes=[Route("{route}", ok)])\n', "api"),
}


@pytest.mark.parametrize(("framework", "route"), list(itertools.product(sorted(PY_ROUTES), ["/healthz", "/api/health", "/livez", None])))
def test_python_health_route_comes_from_the_source(framework: str, route: str | None, tmp_path: Path) -> None:
    source, variable = PY_ROUTES[framework]
    write(tmp_path, {"requirements.txt": f"{framework}\nuvicorn\ngunicorn\n", "web/__init__.py": "", "web/main.py": source.format(route=route or "/items")})
    (app,) = detect(tmp_path).apps
    assert app.app_module == f"web.main:{variable}"
    assert app.health == (route or "/health")
    assert any("no health route" in n for n in app.notes) == (route is None)


def test_a_django_route_is_written_without_its_slash(tmp_path: Path) -> None:
    write(tmp_path, {
        "requirements.txt": "django\ngunicorn\n", "site/__init__.py": "", "site/wsgi.py": "application = get_wsgi_application()\n",
        "site/urls.py": "from django.urls import path\n\nurlpatterns = [path('admin/', admin.site.urls), path(\"healthz/\", views.healthz)]\n",
    })  # fmt: skip
    (app,) = detect(tmp_path).apps
    assert (app.app_module, app.health) == ("site.wsgi:application", "/healthz/")
    assert any("ALLOWED_HOSTS" in n for n in app.notes)


@pytest.mark.parametrize("manager", ["poetry", "uv", "pip"])
@pytest.mark.parametrize("depth", [1, 2])
def test_a_src_layout_runs_its_package_by_its_own_name(manager: str, depth: int, tmp_path: Path) -> None:
    package = "shop" if depth == 1 else "shop/api"
    name = package.replace("/", ".")
    files = {
        f"src/{package}/__init__.py": "", "src/shop/__init__.py": "",
        "src/shop/settings.py": "TITLE = 'shop'\n",
        f"src/{package}/main.py": "from shop.settings import TITLE  # the package imports itself by its name\n\n\nclass FastAPI:\n    pass\n\n\napp = FastAPI()\n",
        "pyproject.toml": '[project]\nname = "shop"\nversion = "1"\ndependencies = ["fastapi", "uvicorn"]\n',
    }  # fmt: skip
    files.update({"poetry": {"poetry.lock": "#\n"}, "uv": {"uv.lock": "version = 1\n"}, "pip": {}}[manager])
    write(tmp_path, files)
    (app,) = detect(tmp_path).apps
    assert app.app_module == f"{name}.main:app" and app.variables() == {"PYTHONPATH": "/app/src"}
    # Imported as the image will: from the workdir, with the starter's PYTHONPATH pointed at this tree.
    module, variable = app.app_module.split(":")
    check = f"import importlib; assert hasattr(importlib.import_module({module!r}), {variable!r})"
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": app.env["PYTHONPATH"].replace("/app", str(tmp_path))}
    imported = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    result = CliRunner().invoke(main, ["init", str(tmp_path), "--yes"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["render", "--spec", str(tmp_path / "dockergen.yaml"), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert stage_env(dockerfile_stages(tmp_path / "Dockerfile")["base"][1])["PYTHONPATH"] == "/app/src"


def test_a_pipfile_tells_the_framework_and_its_interface(tmp_path: Path) -> None:
    write(tmp_path, {"Pipfile": '[packages]\nflask = "*"\ngunicorn = "*"\n\n[dev-packages]\npytest = "*"\n', "wsgi.py": "from flask import Flask\napp = Flask(__name__)\n"})
    (app,) = detect(tmp_path).apps
    assert (app.framework, app.interface, app.server) == ("flask", "wsgi", "gunicorn")


# ---- go: the port ------------------------------------------------------------------

@pytest.mark.parametrize(("source", "port", "reads_env"), [
    ('http.ListenAndServe(":9090", mux)', 9090, False),
    ('srv := &http.Server{Addr: "0.0.0.0:8181"}', 8181, False),
    ('r.Run(":7070")', 7070, False),
    ('port := os.Getenv("PORT")\nif port == "" { port = "8080" }\nhttp.ListenAndServe(":"+port, nil)', 8080, True),
])  # fmt: skip
def test_go_port_comes_from_the_source(source: str, port: int, reads_env: bool, tmp_path: Path) -> None:
    write(tmp_path, {"go.mod": "module example.com/x\n\ngo 1.22\n", "cmd/api/main.go": f"package main\n\nfunc main() {{\n{source}\n}}\n", "internal/db/db.go": 'const dsn = "db:5432"\n'})
    (app,) = detect(tmp_path).apps
    assert app.port == port and app.go_main == "./cmd/api"
    assert app.variables() == ({"PORT": str(port)} if reads_env else {})
    if reads_env:
        result = CliRunner().invoke(main, ["init", str(tmp_path), "--yes"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert CliRunner().invoke(main, ["render", "--spec", str(tmp_path / "dockergen.yaml"), "-q"]).exit_code == 0
        for env in ("dev", "prod"):
            merged = compose_config(tmp_path, [tmp_path / "compose.yaml", tmp_path / f"compose.{env}.yaml"])["services"]["app"]
            assert merged["environment"]["PORT"] == str(port)


@pytest.mark.parametrize("kind", ["node-port-env", "vite"])
def test_a_port_answered_at_the_prompt_is_the_one_the_app_is_told(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if kind == "vite":
        write(tmp_path, {"package.json": json.dumps({"devDependencies": {"vite": "5"}, "scripts": {"dev": "vite", "test": "vitest"}}), "package-lock.json": "{}"})
    else:
        write(tmp_path, {"package.json": json.dumps({"scripts": {"test": "jest"}}), "package-lock.json": "{}", "server.js": "app.listen(process.env.PORT || 4000)\n"})
    monkeypatch.setattr("dockergen.commands.init.stdin_is_terminal", lambda: True)
    result = CliRunner().invoke(main, ["init", str(tmp_path)], input="site\nweb\n9123\n/\n\n\n", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(main, ["render", "--spec", str(tmp_path / "dockergen.yaml"), "-q"]).exit_code == 0
    found = dockerfile_stages(tmp_path / "Dockerfile")
    (cmd,) = [list(c.value) for c in found["dev"][1] if c.cmd == "CMD"]
    told = cmd[cmd.index("--port") + 1] if kind == "vite" else stage_env(found["base"][1])["PORT"]
    assert told == "9123", cmd
