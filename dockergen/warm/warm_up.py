"""What the warm server runs once before it serves: a ``validate`` and a ``render`` of a small
project of its own, through the CLI as a served command runs them, so each forked child
starts with what a first run pays for and a second one does not (Jinja's compiled
templates and lexer, the ``re`` cache, pydantic's and the renderers' lazy setup, the
lookups the render functions cache), and does only its own command's work.

Nothing of a user's is read or written: the project, its output and the render cache it
fills are in a temporary folder, removed before the server answers. What stays in memory
is keyed by what it was made from (a template's compiled code by its source, a cached
function's result by its arguments), so a child reads the user's spec and templates as a
run without the server does. Warnings shown once per place are shown again by the next
run (``catch_warnings`` resets that record on exit).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings

# Both build families with their dependency files, images, two environments with one
# extending the other, interpolation, a healthcheck, dev-only ports and Kubernetes manifests:
# the paths a typical project's run takes.
SPEC = """\
version: 1
project: warm
output: {kubernetes: k8s}
environments:
  dev: {}
  prod: {defaults: {restart: unless-stopped, resources: {limits: {memory: 256M}}}}
  staging: {extends: prod}
defaults:
  environment: {LOG_LEVEL: info}
services:
  api:
    build: {family: python, context: api, port: 8000, python: {app: "app.main:app", dev_requirements: requirements-dev.txt}}
    environment: {DATABASE_URL: "postgresql://db/${DB_NAME:-app}"}
    depends_on: [db]
    healthcheck: {http: /health}
    environments: {dev: {ports: ["127.0.0.1:8000:8000"]}}
  web:
    build: {family: node, context: web, port: 3000}
    depends_on: [api]
    healthcheck: {http: /health}
  cache: {image: "redis:7-alpine"}
  db:
    image: postgres:16-alpine
    environment: {POSTGRES_PASSWORD: "${POSTGRES_PASSWORD:-dev}"}
"""
FILES = {
    "api/requirements.txt": "fastapi\nuvicorn\n",
    "api/requirements-dev.txt": "pytest\n",
    "api/app/__init__.py": "",
    "api/app/main.py": "app = None\n",
    "web/package.json": '{"name": "web", "scripts": {"start": "node server.js"}}\n',
    "web/package-lock.json": '{"name": "web", "lockfileVersion": 3, "packages": {}}\n',
    "web/server.js": "",
}


def warm_up() -> None:
    """Validate and render the project above as the console script would (render cache
    on), every output going nowhere; raises what the run raises."""
    from dockergen.cli import main as cli
    from dockergen.render.dockerfile_template import template_environment

    environ = dict(os.environ)
    try:
        with tempfile.TemporaryDirectory(prefix="dockergen-warm-") as tmp, warnings.catch_warnings(), open(os.devnull, "w") as quiet:
            for name, text in {"dockergen.yaml": SPEC, **FILES}.items():
                os.makedirs(os.path.dirname(os.path.join(tmp, name)), exist_ok=True)
                with open(os.path.join(tmp, name), "w", encoding="utf-8") as handle:
                    handle.write(text)
            os.environ.pop("DOCKERGEN_NO_CACHE", None)
            os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")
            spec = os.path.join(tmp, "dockergen.yaml")
            for argv in (["validate", "--spec", spec], ["render", "-q", "--spec", spec, "--out", os.path.join(tmp, "out")]):
                with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                    try:
                        cli(argv, obj={"render_cache": True})
                    except SystemExit as exc:
                        if exc.code:
                            raise RuntimeError(f"the warm-up's {argv[0]} exited {exc.code}") from None
    finally:
        os.environ.clear()
        os.environ.update(environ)
        # Jinja's environments look up a template by name, then by its file's time stamp: a
        # child builds its own and finds each template's compiled code by its source.
        template_environment.cache_clear()
