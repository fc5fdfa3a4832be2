"""`dockergen init` on the projects a newcomer brings: servers, workers, scripts, CLIs, in
many layouts and folder names. Whatever it writes renders, Compose accepts in every
environment, and runs something in prod (a worker publishes no port and has no HTTP probe);
what it cannot start (a missing lockfile, a Maven or PHP project) is exit 2 with what to do,
and nothing written."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockergen.cli import main
from tests.tools import compose, dockerfile_stages, hadolint

ENVIRONMENTS = ("dev", "test", "staging", "prod", "podman")
LOCK = {"package-lock.json": '{"lockfileVersion": 3}\n'}


def package(deps: dict[str, str] | None = None, dev: dict[str, str] | None = None, **fields: Any) -> str:
    return json.dumps({"name": "x", "scripts": {"test": "node --test"}, "dependencies": deps or {}, "devDependencies": dev or {}, **fields})


# name: (files, what the prod image runs (None: a server's generated command), whether it publishes a port)
PROJECTS: dict[str, tuple[dict[str, str], list[str] | None, bool]] = {
    "celery worker": (
        {"requirements.txt": "celery[redis]==5.4.0\nredis==5.0.4\n", "tasks.py": "from celery import Celery\n\napp = Celery('tasks')\n"},
        ["celery", "-A", "tasks", "worker", "--loglevel=INFO"], False,
    ),
    "celery app named otherwise, in a package": (
        {"requirements.txt": "celery\n", "proj/__init__.py": "", "proj/queue.py": "import celery\n\nbroker = celery.Celery('p')\n"},
        ["celery", "-A", "proj.queue:broker", "worker", "--loglevel=INFO"], False,
    ),
    "arq worker": (
        {"pyproject.toml": '[project]\nname = "w"\nversion = "0"\ndependencies = ["arq"]\n',
         "worker.py": "class WorkerSettings:\n    functions = []\n"},
        ["arq", "worker.WorkerSettings"], False,
    ),
    "dramatiq worker": (
        {"requirements.txt": "dramatiq[redis]\n", "jobs.py": "import dramatiq\n\n@dramatiq.actor\ndef go():\n    pass\n"},
        ["dramatiq", "jobs"], False,
    ),
    "script with a main guard": (
        {"requirements.txt": "requests\n", "util.py": "X = 1\n", "main.py": "def run():\n    pass\n\nif __name__ == '__main__':\n    run()\n"},
        ["python", "main.py"], False,
    ),
    "package run with -m": (
        {"requirements.txt": "click\n", "bot/__init__.py": "", "bot/__main__.py": "print('hi')\n"},
        ["python", "-m", "bot"], False,
    ),
    "src layout script": (
        {"pyproject.toml": '[project]\nname = "tool"\nversion = "0"\ndependencies = []\n',
         "src/tool/__init__.py": "", "src/tool/__main__.py": "print(1)\n"},
        ["python", "-m", "tool"], False,
    ),
    "fastapi": (
        {"requirements.txt": "fastapi\nuvicorn\n", "main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"}, None, True,
    ),
    "flask with gunicorn": (
        {"requirements.txt": "flask\ngunicorn\n", "app.py": "from flask import Flask\n\napp = Flask(__name__)\n"}, None, True,
    ),
    "django with manage.py": (
        {"requirements.txt": "Django>=5\ngunicorn\npsycopg[binary]\n", "manage.py": "if __name__ == '__main__':\n    pass\n",
         "site_cfg/__init__.py": "", "site_cfg/wsgi.py": "application = object()\n"},
        None, True,
    ),
    "uv project": (
        {"pyproject.toml": '[project]\nname = "api"\nversion = "0"\ndependencies = ["fastapi", "uvicorn"]\n[dependency-groups]\ndev = ["pytest"]\n',
         "uv.lock": "version = 1\n", "api.py": "from fastapi import FastAPI\napp = FastAPI()\n"},
        None, True,
    ),
    "hatch pyproject without a lockfile": (
        {"pyproject.toml": '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n[project]\nname = "svc"\nversion = "0"\n'
                           'dependencies = ["starlette", "uvicorn"]\n', "svc/__init__.py": "", "svc/web.py": "from starlette.applications import Starlette\napp = Starlette()\n"},
        None, True,
    ),
    "express": (
        {"package.json": package({"express": "4"}, start="node server.js"), **LOCK, "server.js": "require('express')().listen(3000)\n"},
        ["node", "server.js"], True,
    ),
    "node worker": (
        {"package.json": package({"bullmq": "5", "ioredis": "5"}, main="worker.js"), **LOCK,
         "worker.js": "const { Worker } = require('bullmq')\nnew Worker('q', async () => {})\n"},
        ["node", "worker.js"], False,
    ),
    "node without main or start": (
        {"package.json": package({"dotenv": "16"}), **LOCK, "index.js": "setInterval(() => console.log('tick'), 1000)\n"},
        ["node", "index.js"], False,
    ),
    "next": (
        {"package.json": package({"next": "14", "react": "18"}, scripts={"dev": "next dev", "build": "next build", "test": "jest"}), **LOCK}, None, True,
    ),
    "vite on pnpm": (
        {"package.json": package(dev={"vite": "5"}, scripts={"dev": "vite", "build": "vite build", "test": "vitest"}, packageManager="pnpm@9.1.0"),
         "pnpm-lock.yaml": "lockfileVersion: '9.0'\n", "index.html": "<html></html>\n"},
        None, True,
    ),
    "typescript node worker": (
        {"package.json": package({"bullmq": "5"}, main="dist/worker.js", scripts={"build": "tsc", "test": "jest"}), **LOCK,
         "src/worker.ts": "import { Worker } from 'bullmq'\nnew Worker('q', async () => {})\n"},
        ["node", "dist/worker.js"], False,
    ),
    "websocket server on a port option": (
        {"package.json": package({"ws": "8"}, main="index.js"), **LOCK, "index.js": "new (require('ws').WebSocketServer)({ port: 8090 })\n"},
        ["node", "index.js"], True,
    ),
    "streamlit": (
        {"requirements.txt": "streamlit\npandas\n", "app.py": "import streamlit as st\n\nst.title('hi')\n"},
        ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"], True,
    ),
    "gradio": (
        {"requirements.txt": "gradio\n", "ui.py": "import gradio as gr\n\ngr.Interface(fn=str, inputs='text', outputs='text').launch()\n"},
        ["python", "ui.py"], True,
    ),
    "go server": (
        {"go.mod": "module x\n\ngo 1.22\n", "main.go": 'package main\n\nimport "net/http"\n\nfunc main() { http.ListenAndServe(":8081", nil) }\n'},
        ["/app"], True,
    ),
    "go cli in cmd/": (
        {"go.mod": "module example.com/tool\n\ngo 1.23\n", "cmd/tool/main.go": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n'},
        ["/app"], False,
    ),
}  # fmt: skip


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def invoke(*args: str):  # noqa: ANN201
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def prod_runs(dockerfile: Path) -> list[str] | None:
    """What the prod stage runs (its CMD, else ENTRYPOINT, through the stages it builds on);
    None when nothing in the file says (the base image's own command)."""
    stages = dockerfile_stages(dockerfile)
    stage = "prod"
    while stage in stages:
        parent, instructions = stages[stage]
        for cmd in ("CMD", "ENTRYPOINT"):
            found = [list(c.value) for c in instructions if c.cmd == cmd]
            if found:
                return found[-1]
        stage = parent.lower()
    return stage if "nginx" in stage else None  # type: ignore[return-value]


def assert_sound(root: Path) -> dict[str, Any]:
    """The spec init wrote renders; Compose accepts every environment; each built image's prod
    stage runs something. Returns prod's services."""
    rendered = invoke("render", "-q", "--spec", str(root / "dockergen.yaml"))
    assert rendered.exit_code == 0, rendered.output
    for env in ENVIRONMENTS:
        checked = compose(root, [root / "compose.yaml", root / f"compose.{env}.yaml"], "config", "--format", "json", env={"POSTGRES_PASSWORD": "x"})
        assert checked.returncode == 0, (env, checked.stderr)
        if env == "prod":
            services = json.loads(checked.stdout)["services"]
    for dockerfile in root.rglob("Dockerfile"):
        assert prod_runs(dockerfile), f"{dockerfile}: the prod image runs nothing (the container exits and restarts forever)"
        assert hadolint(dockerfile).returncode == 0, hadolint(dockerfile).stdout
    return services


@pytest.mark.parametrize("name", sorted(PROJECTS))
@pytest.mark.parametrize("where", ["root", "subfolder"])
def test_init_writes_a_spec_that_renders_and_runs_what_the_project_is(name: str, where: str, tmp_path: Path) -> None:
    files, runs, serves = PROJECTS[name]
    root = tmp_path / "My Project ünï"
    write(root / ("svc" if where == "subfolder" else ""), files)
    result = invoke("init", str(root), "--yes")
    assert result.exit_code == 0, result.output
    services = assert_sound(root)
    built = {n: s for n, s in services.items() if "build" in s}
    assert len(built) == 1, services
    (service,) = built.values()
    dockerfile = next(root.rglob("Dockerfile"))
    if runs is not None:
        assert prod_runs(dockerfile) == runs
    assert bool(service.get("ports")) == serves, service.get("ports")
    assert bool(re.search(r"^EXPOSE ", dockerfile.read_text(), re.MULTILINE)) == serves
    test = (service.get("healthcheck") or {}).get("test") or []
    if not serves:
        assert not any("http://" in part or "urlopen" in part for part in test), ("a worker answers no HTTP probe", test)


def test_a_celery_worker_is_probed_by_celery_and_waits_for_its_broker(tmp_path: Path) -> None:
    write(tmp_path, PROJECTS["celery worker"][0])
    assert invoke("init", str(tmp_path), "--yes").exit_code == 0
    text = (tmp_path / "dockergen.yaml").read_text()
    assert "server: uvicorn" not in text and "port:" not in text and "no ASGI/WSGI app" not in text
    services = assert_sound(tmp_path)
    assert "inspect ping" in services["app"]["healthcheck"]["test"][1]
    assert services["app"]["depends_on"]["cache"]["condition"] == "service_healthy"


@pytest.mark.parametrize(("manager", "pin", "command"), [
    ("npm", None, "cd web && npm install --package-lock-only"),
    ("pnpm", "pnpm@9.1.0", "cd web && pnpm install --lockfile-only"),
    ("yarn", "yarn@1.22.22", "cd web && yarn install"),
    ("yarn-berry", "yarn@4.9.1", "cd web && yarn install --mode=update-lockfile"),
])  # fmt: skip
def test_a_node_app_without_its_lockfile_is_refused_with_the_command_that_makes_it(manager: str, pin: str | None, command: str, tmp_path: Path) -> None:
    write(tmp_path, {
        "api/requirements.txt": "fastapi\nuvicorn\n", "api/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        "web/package.json": package(dev={"vite": "5"}, scripts={"dev": "vite", "build": "vite build"}, **({"packageManager": pin} if pin else {})),
        "web/index.html": "<html></html>\n",
    })  # fmt: skip
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 2, result.output
    lockfile = "yarn.lock" if manager.startswith("yarn") else "pnpm-lock.yaml" if manager == "pnpm" else "package-lock.json"
    assert f"web/{lockfile}: error: web: no {lockfile}" in result.output and command in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api", "web"], "nothing written"
    (tmp_path / "web" / lockfile).write_text("lockfileVersion: '9.0'\n" if manager == "pnpm" else "{}\n")
    assert invoke("init", str(tmp_path), "--yes").exit_code == 0
    assert_sound(tmp_path)


@pytest.mark.parametrize(("files", "found"), [
    ({"pom.xml": "<project/>\n", "src/main/java/App.java": "class App {}\n"}, "Java (Maven) (pom.xml)"),
    ({"build.gradle.kts": "plugins {}\n"}, "Java/Kotlin (Gradle) (build.gradle.kts)"),
    ({"composer.json": "{}\n", "index.php": "<?php\n"}, "PHP (Composer) (composer.json)"),
    ({"index.php": "<?php echo 1;\n"}, "PHP (index.php)"),
    ({"index.html": "<html></html>\n", "style.css": ""}, "a static site (index.html)"),
    ({"Cargo.toml": "[package]\n"}, "Rust (Cargo) (Cargo.toml)"),
    ({"Gemfile": "source 'https://rubygems.org'\n"}, "Ruby (Bundler) (Gemfile)"),
    ({"Api.csproj": "<Project/>\n"}, ".NET (Api.csproj)"),
])  # fmt: skip
def test_a_project_of_another_kind_is_named_and_refused_with_what_to_do(files: dict[str, str], found: str, tmp_path: Path) -> None:
    write(tmp_path, files)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 2
    assert f"nothing init can start: the directory: {found}, which init does not start yet" in result.output
    assert "dockergen import" in result.output and "`steps`" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_app_next_to_a_project_of_another_kind_is_started_and_the_other_named(tmp_path: Path) -> None:
    write(tmp_path, {**{f"api/{k}": v for k, v in PROJECTS["fastapi"][0].items()}, "billing/pom.xml": "<project/>\n", "api/static/index.html": ""})
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.output
    assert "left out (add them to the spec by hand): billing: Java (Maven) (pom.xml), which init does not start yet" in result.output
    assert "static site" not in result.output, "an app's own static folder is no project"
    assert_sound(tmp_path)


def test_a_python_project_with_nothing_to_run_is_left_out_and_named(tmp_path: Path) -> None:
    library = {"pyproject.toml": '[project]\nname = "common"\nversion = "0"\ndependencies = ["pydantic"]\n', "common/__init__.py": "X = 1\n"}
    write(tmp_path / "shared", library)
    alone = invoke("init", str(tmp_path), "--yes")
    assert alone.exit_code == 2 and "nothing init can start: shared: a Python project with nothing to run" in alone.output
    assert not (tmp_path / "dockergen.yaml").exists()
    write(tmp_path / "api", PROJECTS["fastapi"][0])
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.output
    assert "left out (add them to the spec by hand): shared: a Python project with nothing to run" in result.output
    assert "\n  api:\n" in (tmp_path / "dockergen.yaml").read_text() and "shared" not in (tmp_path / "dockergen.yaml").read_text()
    assert_sound(tmp_path)


@pytest.mark.parametrize("framework", ["fastapi", "flask", "starlette"])
def test_an_app_made_by_a_factory_is_served(framework: str, tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": f"{framework}\nuvicorn\ngunicorn\n", "web/__init__.py": "", "web/factory.py": "def create_app():\n    ...\n",
                     "web/main.py": f"from {framework} import *\nfrom web.factory import create_app\n\napp = create_app()\n"})  # fmt: skip
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 0 and "no ASGI/WSGI app found" not in result.output, result.output
    assert 'app: "web.main:app"' in (tmp_path / "dockergen.yaml").read_text()
    assert_sound(tmp_path)


# ---- any project shape: init writes a spec that renders, or refuses with exit 2 ---------

PY_DEPS = ["fastapi", "flask", "django", "celery", "arq", "dramatiq", "requests", "uvicorn", "gunicorn", "psycopg", "redis"]
PY_SOURCES = {
    "fastapi": "from fastapi import FastAPI\napp = FastAPI()\n",
    "flask": "from flask import Flask\napp = Flask(__name__)\n",
    "celery": "from celery import Celery\napp = Celery('x')\n",
    "script": "if __name__ == '__main__':\n    print(1)\n",
    "plain": "X = 1\n",
}
NODE_DEPS = ["express", "fastify", "next", "vite", "react-scripts", "bullmq", "pg", "dotenv"]
NODE_SOURCES = {"listen": "require('http').createServer().listen(4000)\n", "worker": "setInterval(() => {}, 1000)\n", "none": ""}
FOLDERS = st.sampled_from(["", "api", "Web App", "services/Worker", "apps/ünï", "backend-2"])


@st.composite
def projects(draw: st.DrawFn) -> dict[str, str]:
    files: dict[str, str] = {}
    for folder in draw(st.lists(FOLDERS, min_size=1, max_size=3, unique=True)):
        at = f"{folder}/" if folder else ""
        family = draw(st.sampled_from(["python", "node", "go"]))
        if family == "python":
            deps = draw(st.lists(st.sampled_from(PY_DEPS), max_size=4, unique=True))
            manifest = draw(st.sampled_from(["requirements.txt", "pyproject.toml"]))
            files[at + manifest] = "\n".join(deps) + "\n" if manifest == "requirements.txt" else (
                f'[project]\nname = "p"\nversion = "0"\ndependencies = {json.dumps(deps)}\n')
            name = draw(st.sampled_from(["main.py", "app.py", "pkg/__init__.py", "pkg/__main__.py", "tasks.py"]))
            files[at + name] = PY_SOURCES[draw(st.sampled_from(sorted(PY_SOURCES)))]
        elif family == "node":
            deps = {d: "1" for d in draw(st.lists(st.sampled_from(NODE_DEPS), max_size=3, unique=True))}
            files[at + "package.json"] = package(deps, main=draw(st.sampled_from(["index.js", "src/server.js", "dist/x.js"])))
            if draw(st.booleans()):
                files[at + "package-lock.json"] = "{}\n"
            files[at + draw(st.sampled_from(["index.js", "src/server.js", "worker.js"]))] = NODE_SOURCES[draw(st.sampled_from(sorted(NODE_SOURCES)))]
        else:
            files[at + "go.mod"] = "module x\n\ngo 1.22\n"
            body = draw(st.sampled_from(['http.ListenAndServe(":9000", nil)', 'fmt.Println("x")']))
            files[at + draw(st.sampled_from(["main.go", "cmd/x/main.go"]))] = f"package main\n\nfunc main() {{ {body} }}\n"
    return files


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(files=projects())
def test_init_on_any_project_writes_a_spec_that_renders_or_refuses_with_nothing_written(files: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> None:
    root = write(tmp_path_factory.mktemp("project"), files)
    result = CliRunner().invoke(main, ["init", str(root), "--yes"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        assert not (root / "dockergen.yaml").exists()
        assert "error:" in result.output and "Traceback" not in result.output
        return
    assert_sound(root)


# ---- requirement files in folders, and the files they include ------------------------

REQUIREMENT_LAYOUTS = {
    "an include in a folder": {
        "requirements.txt": "-r requirements/base.txt\n", "requirements/base.txt": "fastapi\nuvicorn\n",
        "requirements/dev.txt": "-r base.txt\npytest\n",
    },
    "a constraints file": {"requirements.txt": "-c constraints.txt\nfastapi\nuvicorn\n", "constraints.txt": "fastapi<1\n"},
    "a dev file including the runtime one": {"requirements.txt": "fastapi\nuvicorn\n", "requirements-dev.txt": "-r requirements.txt\npytest\n"},
    "includes of includes": {
        "requirements.txt": "--requirement=reqs/a.txt\n", "reqs/a.txt": "-r sub/b.txt\nfastapi\n", "reqs/sub/b.txt": "uvicorn\n",
        "requirements/test.txt": "-r ../requirements.txt\npytest\n",
    },
}  # fmt: skip


def pip_reads_what_the_image_has(dockerfile: Path, root: Path) -> None:
    """Replays the COPYs of builder, dev and test: every file a `pip install -r` opens (and
    the ones it includes) is in /app at the path pip opens it by."""
    from dockergen.manifests import requirement_includes

    stages = dockerfile_stages(dockerfile)
    present: dict[str, set[str]] = {}
    for stage in ("builder", "dev", "test"):
        parent, instructions = stages[stage]
        have = set(present.get(parent.lower(), set()))
        for c in instructions:
            if c.cmd == "COPY" and not any(f.startswith("--from") for f in c.flags):
                *sources, dest = c.value
                if sources == ["."]:
                    have.add("*")
                for source in sources:
                    have.add(f"{dest.rstrip('/')}/{Path(source).name}".removeprefix("./") if dest.endswith("/") else dest)
            if c.cmd == "RUN" and "pip install" in c.value[0] and "*" not in have:
                for read in re.findall(r"-r (\S+)", c.value[0].split("pip install", 1)[1]):
                    if read.startswith("/tmp/"):
                        continue
                    for needed in [read, *requirement_includes(root, read)]:
                        assert needed in have, (stage, needed, sorted(have))
        present[stage] = have


@pytest.mark.parametrize("layout", sorted(REQUIREMENT_LAYOUTS))
def test_the_requirement_files_pip_opens_are_in_the_image_where_it_opens_them(layout: str, tmp_path: Path) -> None:
    write(tmp_path, {**REQUIREMENT_LAYOUTS[layout], "main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.output
    assert 'app: "main:app"' in (tmp_path / "dockergen.yaml").read_text(), "the framework is read through the includes"
    assert_sound(tmp_path)
    pip_reads_what_the_image_has(tmp_path / "Dockerfile", tmp_path)


def test_a_streamlit_app_is_probed_on_its_own_health_route(tmp_path: Path) -> None:
    write(tmp_path, PROJECTS["streamlit"][0])
    assert invoke("init", str(tmp_path), "--yes").exit_code == 0
    services = assert_sound(tmp_path)
    assert services["app"]["ports"][0]["target"] == 8501
    assert "/_stcore/health" in " ".join(services["app"]["healthcheck"]["test"])


@pytest.mark.parametrize("where", [".", "api"])
def test_a_hand_written_env_example_is_kept_and_the_generated_one_goes_beside_it(where: str, tmp_path: Path) -> None:
    mine = "# the app's settings\nDATABASE_URL=postgresql://localhost/app\n"
    write(tmp_path, {**{f"{where}/{k}": v for k, v in {**PROJECTS["fastapi"][0], "requirements.txt": "fastapi\nuvicorn\npsycopg\n"}.items()},
                     ".env.example": mine})  # fmt: skip
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.output
    assert_sound(tmp_path)
    assert (tmp_path / ".env.example").read_text() == mine
    assert "POSTGRES_PASSWORD=" in (tmp_path / ".env.dockergen.example").read_text()


def test_render_refusing_a_file_it_never_wrote_does_not_send_the_user_to_absorb(tmp_path: Path) -> None:
    write(tmp_path, PROJECTS["fastapi"][0])
    assert invoke("init", str(tmp_path), "--yes").exit_code == 0
    (tmp_path / ".dockerignore").write_text("node_modules\n")
    result = invoke("render", "--spec", str(tmp_path / "dockergen.yaml"))
    assert result.exit_code == 1
    assert ".dockerignore: error: refusing to overwrite it: not written by dockergen" in result.output
    assert "it is yours" in result.output and "absorb" not in result.output

    checked = invoke("check", "--spec", str(tmp_path / "dockergen.yaml"))
    assert checked.exit_code == 1 and "would refuse to overwrite .dockerignore: not written by dockergen: move it away" in checked.output
    assert "absorb" not in checked.output


def test_a_go_module_with_several_programs_says_which_one_the_image_builds(tmp_path: Path) -> None:
    main = 'package main\n\nimport "net/http"\n\nfunc main() { http.ListenAndServe(":8080", nil) }\n'
    write(tmp_path, {"go.mod": "module x\n\ngo 1.22\n", "cmd/api/main.go": main, "cmd/worker/main.go": "package main\n\nfunc main() {}\n"})
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.output
    assert "cmd/ holds 2 programs: the image builds ./cmd/api, not ./cmd/worker" in result.output
    assert_sound(tmp_path)


GO_SERVER = 'package main\n\nimport "net/http"\n\nfunc main() {\n\thttp.HandleFunc("/livez", func(w http.ResponseWriter, r *http.Request) {})\n\thttp.ListenAndServe(":9090", nil)\n}\n'


def test_a_go_server_on_distroless_is_probed_by_a_binary_its_image_has(tmp_path: Path) -> None:
    """Distroless has no shell, wget or curl: the healthcheck runs a static probe the builder
    stage compiles and the prod stage copies, on the route and port the source serves."""
    write(tmp_path, {"go.mod": "module x\n\ngo 1.22\n", "main.go": GO_SERVER})
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 0 and "TODO" not in (tmp_path / "dockergen.yaml").read_text(), result.output
    services = assert_sound(tmp_path)
    probe = services["app"]["healthcheck"]["test"]
    assert probe[0] == "CMD" and probe[2:] == ["http://127.0.0.1:9090/livez"]
    stages = dockerfile_stages(tmp_path / "Dockerfile")
    prod_from, prod = stages["prod"]
    assert "distroless" in prod_from
    assert [(list(c.flags), list(c.value)) for c in prod if c.cmd == "COPY" and probe[1] in c.value] == [(["--from=builder"], [probe[1], probe[1]])]
    (build,) = [" ".join(c.value) for c in stages["builder"][1] if c.cmd == "RUN" and f"-o {probe[1]}" in " ".join(c.value)]
    assert stages["dev"][0] == "builder", "dev runs the probe from the builder stage too"
    go = shutil.which("go")
    if go is None:
        return  # the probe's own behaviour needs a Go toolchain (the podman judgement is in docs/podman-e2e.md)
    source = build.split("mkdir -p /probe && ", 1)[1].split(" > /probe/main.go", 1)[0]
    subprocess.run(["sh", "-c", f"{source} > main.go"], cwd=tmp_path, check=True)
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "", "GOCACHE": str(tmp_path / "cache"), "GO111MODULE": "on"}
    subprocess.run([go, "build", "-o", "probe", "main.go"], cwd=tmp_path, check=True, env=env, timeout=300)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200 if self.path == "/livez" else 404)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        codes = [subprocess.run([str(tmp_path / "probe"), base + path], timeout=30).returncode for path in ("/livez", "/missing")]
    finally:
        server.shutdown()
        server.server_close()
    refused = subprocess.run([str(tmp_path / "probe"), f"http://127.0.0.1:{server.server_address[1]}/livez"], timeout=30).returncode
    assert (codes, refused) == ([0, 1], 1)


WORKSPACE_APP = {"package.json": json.dumps({"name": "web", "scripts": {"start": "node server.js", "test": "node --test"}}), "server.js": "require('http').createServer().listen(3000)\n"}


@pytest.mark.parametrize("manager", ["npm", "yarn", "pnpm"])
def test_node_workspaces_are_named_not_sent_to_make_a_lockfile_each(manager: str, tmp_path: Path) -> None:
    """A workspace member has no lockfile of its own (the root's installs every member): init
    must not tell the user to create one there, nor build the root, which runs nothing."""
    root = {"package.json": json.dumps({"name": "mono", "private": True, **({"workspaces": ["apps/*", "packages/*"]} if manager != "pnpm" else {})})}
    root |= {"pnpm-workspace.yaml": "packages:\n  - 'apps/*'\n  - \"packages/*\"\n", "pnpm-lock.yaml": "lockfileVersion: '9.0'\n"} if manager == "pnpm" else {}
    root |= {"package-lock.json": "{}\n"} if manager == "npm" else {"yarn.lock": "# yarn lockfile v1\n"} if manager == "yarn" else {}
    members = {**{f"apps/web/{k}": v for k, v in WORKSPACE_APP.items()}, "packages/ui/package.json": json.dumps({"name": "ui"})}
    api = {f"api/{k}": v for k, v in PROJECTS["fastapi"][0].items()}
    write(tmp_path, {**root, **members})
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 2 and "lockfile" not in result.output, result.output
    assert "Node workspaces of" in result.output and "(apps/web, packages/ui)" in result.output and "`context: .`" in result.output
    assert not (tmp_path / "dockergen.yaml").exists()
    write(tmp_path, api)
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.output
    assert "left out (add them to the spec by hand): the Node workspaces of" in result.output
    assert_sound(tmp_path)


def test_a_bun_project_is_told_why_its_lockfile_does_not_do(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": json.dumps({"name": "b", "scripts": {"start": "node server.js"}}), "server.js": "", "bun.lockb": "x"})
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 2 and "bun.lockb is bun's, which the node family does not build with: npm, yarn or pnpm" in result.output
    assert "npm install --package-lock-only" in result.output and not (tmp_path / "dockergen.yaml").exists()


@pytest.mark.parametrize(("folder", "project", "service"), [
    ("My Project ünï", "my-project-uni", "api"), ("Café Crème", "cafe-creme", "api"), ("日本", "app", "api"), ("2024 shop", "app-2024-shop", "api"),
])  # fmt: skip
def test_project_and_service_names_keep_the_letters_of_accented_folder_names(folder: str, project: str, service: str, tmp_path: Path) -> None:
    write(tmp_path / folder / "Äpi", PROJECTS["fastapi"][0])
    result = invoke("init", str(tmp_path / folder), "--yes")
    assert result.exit_code == 0, result.output
    spec = (tmp_path / folder / "dockergen.yaml").read_text()
    assert f"\nproject: {project}\n" in spec and f"\n  {service}:\n" in spec
