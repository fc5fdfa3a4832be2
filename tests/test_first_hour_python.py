"""Python projects of a newcomer's first hour that init used to start with an image running
nothing: an app factory with no module-level app, rq and huey workers, requirements kept only
in a `requirements/` folder; and the spec render refused to accept because nothing would
run, located at the field to add."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from dockergen.cli import main
from tests.test_init_first_hour import assert_sound, pip_reads_what_the_image_has, prod_runs, write
from tests.tools import dockerfile_stages


def invoke(*args: str):  # noqa: ANN201
    return CliRunner().invoke(main, list(args))


def init(root: Path) -> str:
    result = invoke("init", str(root), "--yes")
    assert result.exit_code == 0, result.output
    return (root / "dockergen.yaml").read_text()


def stage_cmd(dockerfile: Path, stage: str) -> list[str] | None:
    found = [list(c.value) for c in dockerfile_stages(dockerfile)[stage][1] if c.cmd == "CMD"]
    return found[-1] if found else None


FLASK_FACTORY = "from flask import Flask\n\n\ndef create_app(config=None):\n    app = Flask(__name__)\n    return app\n"


@pytest.mark.parametrize(("files", "app", "runs"), [
    ({"requirements.txt": "flask\ngunicorn\n", "app/__init__.py": FLASK_FACTORY}, "app:create_app()",
     ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-", "app:create_app()"]),
    ({"requirements.txt": "flask\ngunicorn\n", "wsgi.py": FLASK_FACTORY.replace("create_app", "make_app")}, "wsgi:make_app()", None),
    # wsgi.py makes the app from the package's factory: it imports no framework itself.
    ({"requirements.txt": "flask\ngunicorn\n", "myapp/__init__.py": FLASK_FACTORY, "wsgi.py": "from myapp import create_app\n\napp = create_app()\n"},
     "wsgi:app", None),
    ({"requirements.txt": "fastapi\nuvicorn\n", "api/__init__.py": "", "api/main.py": "from fastapi import FastAPI\n\ndef create_app() -> FastAPI:\n    return FastAPI()\n"},
     "api.main:create_app()", ["uvicorn", "--factory", "api.main:create_app", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]),
])  # fmt: skip
def test_an_app_factory_is_served_by_calling_it(files: dict[str, str], app: str, runs: list[str] | None, tmp_path: Path) -> None:
    write(tmp_path, files)
    text = init(tmp_path)
    assert f"app: {json.dumps(app)}" in text and "no ASGI/WSGI app" not in text, text
    assert_sound(tmp_path)
    dockerfile = tmp_path / "Dockerfile"
    if runs is not None:
        assert prod_runs(dockerfile) == runs
    dev = stage_cmd(dockerfile, "dev") or []
    assert (app.removesuffix("()") if "uvicorn" in dev else app) in dev, dev


def test_a_factory_that_needs_arguments_is_named_and_nothing_written(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "flask\n", "app/__init__.py": "from flask import Flask\n\ndef create_app(config_name):\n    return Flask(__name__)\n"})
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 2, result.output
    assert "its factory `app:create_app` needs arguments" in result.output and "wsgi.py with `app = create_app(...)`" in result.output
    assert not (tmp_path / "dockergen.yaml").exists()


@pytest.mark.parametrize("framework", ["flask", "fastapi", "django"])
def test_a_web_app_init_cannot_find_is_left_out_not_started_running_nothing(framework: str, tmp_path: Path) -> None:
    write(tmp_path, {"api/requirements.txt": f"{framework}\n", "api/views.py": "X = 1\n", "worker/requirements.txt": "celery\n",
                     "worker/tasks.py": "from celery import Celery\napp = Celery('t')\n"})  # fmt: skip
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.output
    assert f"left out (add them to the spec by hand): api: a {framework} project whose application init could not find" in result.output
    assert 'python.app: "module:app"' in result.output
    assert "\n  api:" not in (tmp_path / "dockergen.yaml").read_text()
    assert_sound(tmp_path)


@pytest.mark.parametrize(("files", "runs"), [
    ({"requirements.txt": "rq\nredis\n", "jobs.py": "def count(url):\n    return len(url)\n", "worker.py": "from rq import Queue\n"}, ["rq", "worker"]),
    ({"requirements.txt": "huey\nredis\n", "tasks.py": "from huey import RedisHuey\n\nhuey = RedisHuey('app', host='cache')\n"},
     ["huey_consumer", "tasks.huey"]),
    ({"requirements.txt": "huey\n", "app/__init__.py": "", "app/queue.py": "import huey\n\nq = huey.SqliteHuey(filename='/tmp/q.db')\n"},
     ["huey_consumer", "app.queue.q"]),
])  # fmt: skip
def test_rq_and_huey_workers_are_started(files: dict[str, str], runs: list[str], tmp_path: Path) -> None:
    write(tmp_path, files)
    init(tmp_path)
    services = assert_sound(tmp_path)
    assert prod_runs(tmp_path / "Dockerfile") == runs and stage_cmd(tmp_path / "Dockerfile", "dev") == runs
    app = services["app"]
    assert "ports" not in app and app["healthcheck"].get("disable") is True, app
    if runs[0] == "rq":
        # `rq worker` connects to RQ_REDIS_URL, else localhost: the cache service must be named.
        assert app["environment"]["RQ_REDIS_URL"] == "redis://cache:6379/0"
        assert app["depends_on"]["cache"]["condition"] == "service_healthy"


REQUIREMENT_FOLDERS = {
    "base, prod and dev": ({"requirements/base.txt": "flask\n", "requirements/prod.txt": "-r base.txt\ngunicorn\n",
                            "requirements/dev.txt": "-r base.txt\npytest\n"}, "requirements/prod.txt", "requirements/dev.txt", None),
    "cookiecutter-django's": ({"requirements/base.txt": "flask\ngunicorn\n", "requirements/local.txt": "-r base.txt\nwatchfiles\n",
                               "requirements/production.txt": "-r base.txt\npsycopg\n", "requirements/tests.txt": "-r local.txt\npytest\n"},
                              "requirements/production.txt", "requirements/local.txt", "requirements/tests.txt"),
    "one file": ({"requirements/app.txt": "flask\ngunicorn\npytest\n"}, "requirements/app.txt", None, None),
}  # fmt: skip


@pytest.mark.parametrize("layout", sorted(REQUIREMENT_FOLDERS))
def test_requirements_only_in_a_folder_go_to_the_stages_they_are_for(layout: str, tmp_path: Path) -> None:
    files, prod, dev, test = REQUIREMENT_FOLDERS[layout]
    write(tmp_path, {**files, "wsgi.py": "from flask import Flask\n\napp = Flask(__name__)\n"})
    text = init(tmp_path)
    assert "TODO: no dependency manifest" not in text and 'app: "wsgi:app"' in text
    for field, expected in (("requirements", prod), ("dev_requirements", dev), ("test_requirements", test)):
        found = re.search(rf"^        {field}: (\S+)", text, re.MULTILINE)
        assert (found[1] if found else None) == expected, (field, text)
    assert "unittest" not in text, "pytest is in the dev or test requirements"
    assert_sound(tmp_path)
    dockerfile = tmp_path / "Dockerfile"
    pip_reads_what_the_image_has(dockerfile, tmp_path)
    stages = dockerfile_stages(dockerfile)
    builder = " ".join(c.value[0] for c in stages["builder"][1] if c.cmd == "RUN")
    assert f"-r {prod}" in builder and (dev is None or dev not in builder), builder


# ---- render refuses a python build that runs nothing --------------------------------

HEADER = "version: 1\nproject: shop\nservices:\n  job:\n    build:\n      family: python\n      context: .\n"


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("python", "at", "message", "hint"), [
    ("      python: {requirements: requirements.txt}\n", "8:7", "the image runs nothing: no `python.app`, `python.prod_command` or `command`",
     "set `python.app` to the web app (`module:app`, or `module:create_app()` for an app factory)"),
    ("", "5:5", "the image runs nothing: no `python.app`", "`python.prod_command` and `python.dev_command` to what it runs"),
    ('      python: {prod_command: ["python", "job.py"]}\n', "8:7",
     "the dev image runs nothing: `python.prod_command` is set and `python.dev_command` is not (in dev)", 'set `python.dev_command` too (e.g. ["python", "job.py"])'),
    ('      python: {app: "main:app"}\n', "5:5", "`python.app` is served on `build.port`, which is not set", "set `build.port`"),
])  # fmt: skip
def test_render_refuses_a_python_image_that_runs_nothing(python: str, at: str, message: str, hint: str, tmp_path: Path) -> None:
    write(tmp_path, {"dockergen.yaml": HEADER + python, "requirements.txt": "requests\n", "job.py": "print(1)\n", "main.py": "app = None\n"})
    before = snapshot(tmp_path)
    result = invoke("render", "--spec", str(tmp_path / "dockergen.yaml"))
    assert result.exit_code == 2, result.output
    assert f"dockergen.yaml:{at}: error: services.job.build" in result.output
    assert message in result.output and hint in result.output
    assert "Traceback" not in result.output and snapshot(tmp_path) == before


@pytest.mark.parametrize("fix", [
    '      python: {prod_command: ["python", "job.py"], dev_command: ["python", "job.py"]}\n',
    '      python: {app: "main:create_app()"}\n      port: 8000\n',
    "    command: [python, job.py]\n",
    '      python: {prod_command: ["python", "job.py"]}\n    environments:\n      dev: {command: [python, job.py]}\n',
])  # fmt: skip
def test_a_python_image_told_what_to_run_renders(fix: str, tmp_path: Path) -> None:
    write(tmp_path, {"dockergen.yaml": HEADER + fix, "requirements.txt": "requests\n", "job.py": "print(1)\n", "main.py": "app = None\n"})
    result = invoke("render", "-q", "--spec", str(tmp_path / "dockergen.yaml"))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("value", ["main", "main:app()x", "main:create_app(1)", "main:", ":app", "main:app\n# x", "main:a b"])
def test_python_app_garbage_is_located_and_names_both_forms(value: str, tmp_path: Path) -> None:
    write(tmp_path, {"dockergen.yaml": HEADER + f"      port: 8000\n      python: {{app: {json.dumps(value)}}}\n", "requirements.txt": "x\n"})
    result = invoke("render", "--spec", str(tmp_path / "dockergen.yaml"))
    assert result.exit_code == 2, result.output
    assert "dockergen.yaml:9:16: error: services.job.build.python.app: must be module:attribute or module:factory(), " \
           "e.g. app.main:app or app:create_app()" in result.output, result.output
    assert not (tmp_path / "compose.yaml").exists()


DJANGO = {"requirements.txt": "Django>=5\ngunicorn\n", "manage.py": "if __name__ == '__main__':\n    pass\n", "site_cfg/__init__.py": "",
          "site_cfg/wsgi.py": "application = object()\n", "site_cfg/settings.py": "ALLOWED_HOSTS = []\n"}  # fmt: skip


@pytest.mark.parametrize(("extra", "runner"), [
    ({}, ["python", "manage.py", "test"]),  # unittest discovery would import the tests without settings
    ({"requirements.txt": "Django>=5\ngunicorn\npytest-django\npytest\n"}, ["python", "-m", "pytest", "-q"]),
])  # fmt: skip
def test_django_tests_run_with_its_own_runner_unless_pytest_is_there(extra: dict[str, str], runner: list[str], tmp_path: Path) -> None:
    write(tmp_path, {**DJANGO, **extra})
    init(tmp_path)
    assert_sound(tmp_path)
    assert stage_cmd(tmp_path / "Dockerfile", "test") == runner


@pytest.mark.parametrize(("hosts", "noted"), [("[]", True), ('["example.com"]', True), ('["*"]', False), ("['127.0.0.1', 'localhost']", False)])
def test_the_allowed_hosts_note_is_given_only_when_the_healthcheck_is_refused(hosts: str, noted: bool, tmp_path: Path) -> None:
    write(tmp_path, {**DJANGO, "site_cfg/settings.py": f"DEBUG = False\nALLOWED_HOSTS = {hosts}\n"})
    result = invoke("init", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.output
    assert ("Django answers only the hosts in ALLOWED_HOSTS" in result.output) == noted


@pytest.mark.parametrize(("value", "hint"), [
    ("/health", "write `healthcheck: {http: /health}`"),
    ('"curl -f localhost"', "write `healthcheck: {test: [CMD-SHELL, curl -f localhost]}`"),
    ("[CMD, pg_isready]", "write `healthcheck: {test: [CMD, pg_isready]}`"),
])  # fmt: skip
def test_a_healthcheck_written_as_text_or_a_list_says_the_mapping_to_write(value: str, hint: str, tmp_path: Path) -> None:
    write(tmp_path, {"dockergen.yaml": f"version: 1\nproject: shop\nservices:\n  db:\n    image: postgres:16\n    healthcheck: {value}\n"})
    result = invoke("render", "--spec", str(tmp_path / "dockergen.yaml"))
    assert result.exit_code == 2 and "dockergen.yaml:6:5: error: services.db.healthcheck: must be a mapping" in result.output, result.output
    assert hint in result.output


def test_check_before_the_first_render_says_so_and_what_to_run(tmp_path: Path) -> None:
    write(tmp_path, {"dockergen.yaml": "version: 1\nproject: shop\nservices:\n  db:\n    image: postgres:16\n"})
    result = invoke("check", "--spec", str(tmp_path / "dockergen.yaml"))
    assert result.exit_code == 1
    assert ".gitattributes: missing: the spec produces it (the linguist-generated block)" in result.output
    assert "dockergen.yaml is not rendered yet (" in result.output and "files missing); run `dockergen render" in result.output
    assert invoke("render", "-q", "--spec", str(tmp_path / "dockergen.yaml")).exit_code == 0
    (tmp_path / "compose.yaml").unlink()
    again = invoke("check", "--spec", str(tmp_path / "dockergen.yaml"))
    assert again.exit_code == 1 and "1 file(s) drifted from" in again.output and "not rendered yet" not in again.output
