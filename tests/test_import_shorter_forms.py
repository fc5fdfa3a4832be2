"""Forms that make an imported spec shorter without changing what it renders (issue 14: on
small one-Compose-file projects no longer than the files it replaces). Each is checked on
small projects of its own: the spec takes fewer lines than the form it replaces, and
``--verify`` still proves it equivalent to the original files."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from dockergen.importer.analyze import analyze
from dockergen.importer.spec.assemble import into_lone_environment
from dockergen.importer.plan import ImportOptions
from dockergen.importer.spec.text import spec_lines, spec_text
from dockergen.importer.verify.run import verify
from dockergen.pipeline import render


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for path, content in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content)
    return root


def imported(root: Path) -> tuple:  # noqa: ANN001
    plan = analyze(root, ImportOptions(use_cli=True))
    text = spec_text(plan)
    (root / "dockergen.yaml").write_text(text)
    rendered = render(root / "dockergen.yaml")
    result = verify(plan, rendered)
    assert [f"{d.env} {d.service} {d.path}: {d.original} -> {d.rendered} ({d.why})" for d in result.unexplained] == []
    return plan, text, rendered


def compose_of(rendered, path: str = "compose.yaml") -> dict:  # noqa: ANN001
    return yaml.safe_load(next(f.content for f in rendered.files if f.path == path))


# ---------------------------------------------------------------- one built service named as Compose names it

ONE_BUILT = [
    # a built service beside a known image whose presets are switched off
    {"compose.yaml": "services:\n  svc:\n    build: service\n    ports: ['9000:9000']\n    depends_on: [pg]\n"
                     "  pg:\n    image: postgres:16\n",
     "service/Dockerfile": 'FROM python:3.12-slim\nCOPY . /svc\nCMD ["python", "/svc/main.py"]\n'},
    # the only service, built from the root
    {"docker-compose.yml": "services:\n  web:\n    build: .\n",
     "Dockerfile": "FROM nginx:1.27-alpine\nCOPY site /usr/share/nginx/html\n", "site/index.html": "hi\n"},
    # a built service with a stock one that needs no switches, and a compose `name:`
    {"compose.yaml": "name: shop\nservices:\n  api-v2:\n    build: {context: ./api}\n  mail:\n    image: mailhog/mailhog:v1.0.1\n",
     "api/Dockerfile": "FROM golang:1.23 AS build\nRUN go version\nFROM alpine:3.20\nCMD [\"true\"]\n"},
]  # fmt: skip


@pytest.mark.parametrize("files", ONE_BUILT)
def test_one_built_service_takes_its_compose_name_from_the_rule_on_the_environments_line(tmp_path: Path, files: dict) -> None:
    root = write_tree(tmp_path / "proj", files)
    plan, text, rendered = imported(root)
    (env,) = plan.spec["environments"].values()
    assert env["image_names"] == "compose" and "image_names" not in plan.spec
    (built,) = [name for name, entry in plan.spec["services"].items() if "build" in entry]
    assert "image" not in plan.spec["services"][built]
    project = compose_of(rendered).get("name") or plan.spec["project"]
    assert compose_of(rendered)["services"][built]["image"] == f"{project}-{built}"  # the name Compose gave it
    # The form it replaces: the service names its image, and the environment says no rule.
    named = copy.deepcopy(plan.spec)
    named["services"][built]["image"] = f"{project}-{built}"
    del next(iter(named["environments"].values()))["image_names"]
    assert spec_lines(plan.spec) < spec_lines(named)
    assert len(text.splitlines()) == spec_lines(plan.spec)


def test_a_service_named_otherwise_keeps_its_image_and_no_rule_is_said(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", {
        "compose.yaml": "services:\n  svc:\n    build: service\n    image: acme/svc:1\n",
        "service/Dockerfile": "FROM alpine:3.20\n",
    })  # fmt: skip
    plan, _, rendered = imported(root)
    assert plan.spec["services"]["svc"]["image"] == "acme/svc:1"
    assert "image_names" not in yaml.dump(plan.spec)
    assert compose_of(rendered)["services"]["svc"]["image"] == "acme/svc:1"


# ---------------------------------------------------------------- a lone environment's rules, each where it is shortest


def test_the_rules_go_on_the_environments_line_one_at_a_time_where_both_would_overrun_it(tmp_path: Path) -> None:
    # Two known images with presets to switch off (volumes, probes, Docker's timings) and two
    # built services on Compose's names: both rules on the environment's line overrun the width.
    root = write_tree(tmp_path / "proj", {
        "compose.yaml": "services:\n  app:\n    build: ./app\n    depends_on: [db, queue]\n  worker:\n    build: ./worker\n"
                        "  queue:\n    image: rabbitmq:3.13-management-alpine\n  db:\n    image: mariadb:11.4\n"
                        "    healthcheck:\n      test: [CMD, healthcheck.sh, --connect]\n      interval: 5s\n",
        "app/Dockerfile": "FROM php:8.3-apache\nCOPY . /var/www/html/\n",
        "worker/Dockerfile": 'FROM php:8.3-cli-alpine\nCMD ["php", "-v"]\n',
    })  # fmt: skip
    plan, text, _ = imported(root)
    header = text.split("\nservices:\n", 1)[0].splitlines()
    both = copy.deepcopy(plan.spec)
    (env,) = both["environments"].values()
    env.update({k: plan.spec[k] for k in ("image_names", "defaults") if k in plan.spec})
    for key in ("image_names", "defaults"):
        both.pop(key, None)
    top = copy.deepcopy(plan.spec)
    (env,) = top["environments"].values()
    top = {"project": top.pop("project"), **{k: env.pop(k) for k in ("image_names", "defaults") if k in env}, **top}
    assert len(header) == 3, text  # project, one rule at the top, the environment with the other
    assert spec_lines(plan.spec) < min(spec_lines(both), spec_lines(top)), text


# ---------------------------------------------------------------- environments that say only their names and parents

OVERLAYS = [
    # a prod file on the base
    ({"compose.yaml": "services:\n  web:\n    image: nginx:1.27\n    ports: ['8080:80']\n",
      "compose.prod.yaml": "services:\n  web:\n    restart: always\n"}, 2),
    # two add-on files on one base
    ({"compose.yaml": "services:\n  api:\n    build: ./api\n",
      "compose.metrics.yaml": "services:\n  prom:\n    image: prom/prometheus:v2.53.0\n",
      "compose.mail.yaml": "services:\n  mail:\n    image: mailhog/mailhog:v1.0.1\n",
      "api/Dockerfile": "FROM alpine:3.20\nCMD [\"sleep\", \"1d\"]\n"}, 3),
]  # fmt: skip


@pytest.mark.parametrize(("files", "count"), OVERLAYS)
def test_environments_that_say_only_their_parents_take_one_line(tmp_path: Path, files: dict, count: int) -> None:
    root = write_tree(tmp_path / "proj", files)
    plan, text, _ = imported(root)
    envs = plan.spec["environments"]
    assert len(envs) == count and all(set(block) <= {"extends"} for block in envs.values()), envs
    (line,) = [line for line in text.splitlines() if line.startswith("environments:")]
    assert yaml.safe_load(line)["environments"] == envs
    assert "\n  " + next(iter(envs)) + ":" not in text.split("\nservices:", 1)[0]  # no block of its own
    assert spec_lines(plan.spec) == len(text.splitlines())


@pytest.mark.parametrize(
    ("environments", "one_line"),
    [
        ({"dev": {}, "prod": {"extends": "dev"}}, True),
        ({"dev": {}, "base": {}}, True),
        ({"dev": {}, "prod": {"extends": "dev", "kind": "prod"}}, False),  # says more than its parent
        ({"dev": {"description": "local"}, "prod": {}}, False),
        ({"dev": {}, "prod": {"defaults": {"restart": None}}}, False),
        ({f"environment-number-{i}": {"extends": "environment-number-0"} if i else {} for i in range(5)}, False),  # too long
    ],
)
def test_which_environments_mappings_take_one_line(environments: dict, one_line: bool) -> None:
    spec = {"project": "shop", "environments": environments, "services": {"web": {"image": "nginx:1.27"}}}
    text = spec_text(SimpleNamespace(spec=spec, comments={}))  # type: ignore[arg-type]  # (what spec_text reads of a plan)
    assert yaml.safe_load(text) == spec
    header = text.split("\nservices:", 1)[0].splitlines()
    assert (len(header) == 2) is one_line, text


# ---------------------------------------------------------------- an inline Dockerfile as the context's own


def test_an_inline_dockerfile_becomes_the_contexts_dockerfile_where_that_name_is_free(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", {
        "compose.yaml": "services:\n  trainer:\n    build:\n      context: ml\n      dockerfile_inline: |\n"
                        "        FROM python:3.12-slim\n        COPY train.py .\n        CMD [\"python\", \"train.py\"]\n",
        "ml/train.py": "print(1)\n",
    })  # fmt: skip
    plan, text, rendered = imported(root)
    build = plan.spec["services"]["trainer"]["build"]
    assert "dockerfile" not in build and build["context"] == "ml"
    assert "ml/Dockerfile" in {f.path for f in rendered.files}
    named = copy.deepcopy(plan.spec)
    named["services"]["trainer"]["build"] = {"context": "ml", "dockerfile": "ml/trainer.Dockerfile", "steps": build["steps"]}
    assert spec_lines(plan.spec) < spec_lines(named)


@pytest.mark.parametrize(
    ("files", "paths"),
    [
        # the context has a Dockerfile of its own (no service builds it): the inline one goes beside it
        ({"ml/Dockerfile": "FROM alpine:3.20\n"}, {"a": "ml/a.Dockerfile", "b": "ml/a.Dockerfile"}),
        # two texts in one context: the first takes the name, the second a name of its own
        ({"other": "FROM alpine:3.21\n"}, {"a": "ml/Dockerfile", "b": "ml/b.Dockerfile"}),
    ],
)
def test_an_inline_dockerfile_never_takes_a_name_already_used(tmp_path: Path, files: dict, paths: dict) -> None:
    second = files.pop("other", "FROM alpine:3.20\n")
    inline = "    build:\n      context: ml\n      dockerfile_inline: |\n        {}\n"
    root = write_tree(tmp_path / "proj", {
        **files,
        "compose.yaml": "services:\n  a:\n" + inline.format("FROM alpine:3.20") + "  b:\n" + inline.format(second.strip()),
    })  # fmt: skip
    before = {p: (root / p).read_text() for p in files}
    plan, _, rendered = imported(root)
    for service, path in paths.items():
        build = plan.spec["services"].get(service, {}).get("build") or plan.spec["services"][plan.spec["services"][service]["uses"]]["build"]
        assert build.get("dockerfile", f"{build['context']}/Dockerfile") == path
    assert {p: (root / p).read_text() for p in files} == before
    assert not {f.path for f in rendered.files} & set(files)


# ---------------------------------------------------------------- what every built service says, once

SHARED_BY_BUILT = [
    # the app and its worker read one env file; the database must not
    ({"compose.yaml": "services:\n  app:\n    build: ./app\n    env_file: .env.app\n  worker:\n    build: ./worker\n"
                      "    env_file: .env.app\n  db:\n    image: mariadb:11.4\n",
      ".env.app": "DATABASE_URL=mysql://db/shop\n"}, {"env_file": [".env.app"]}),
    # two built services with one variable and one extra host, two stock ones with neither
    ({"compose.yaml": "services:\n" + "".join(
        f"  {n}:\n    build: ./{n}\n    environment:\n      LOG_LEVEL: debug\n    extra_hosts: ['host.docker.internal:host-gateway']\n"
        for n in ("app", "worker")) + "  cache:\n    image: redis:7\n  mail:\n    image: mailhog/mailhog:v1.0.1\n"},
     {"environment": {"LOG_LEVEL": "debug"}, "extra_hosts": ["host.docker.internal:host-gateway"]}),
]  # fmt: skip


@pytest.mark.parametrize(("files", "shared"), SHARED_BY_BUILT)
def test_what_every_built_service_says_alike_is_said_once_for_the_built_ones(tmp_path: Path, files: dict, shared: dict) -> None:
    dockerfiles = {"app/Dockerfile": "FROM php:8.3-apache\n", "worker/Dockerfile": 'FROM php:8.3-cli-alpine\nCMD ["php", "-v"]\n'}
    root = write_tree(tmp_path / "proj", {**files, **dockerfiles})
    plan, text, rendered = imported(root)
    (env,) = plan.spec["environments"].values()
    assert env["defaults"] == {"scope": "built", **shared}, text
    built = [n for n, e in plan.spec["services"].items() if "build" in e or "uses" in e]
    assert len(built) >= 2 and not any(key in plan.spec["services"][n] for n in built for key in shared)
    stock = compose_of(rendered)["services"]["cache" if "cache" in plan.spec["services"] else "db"]
    assert not any(key in stock for key in shared)  # the stock image gets none of it
    # The form it replaces: each built service says it itself.
    each = copy.deepcopy(plan.spec)
    del next(iter(each["environments"].values()))["defaults"]
    for name in built:
        each["services"][name].update(copy.deepcopy(shared))
    assert spec_lines(plan.spec) < spec_lines(each)


def test_a_lone_environment_with_defaults_for_the_built_services_keeps_the_spec_defaults_apart() -> None:
    # The spec's switches reach every service; merged into a `scope: built` layer they would
    # stop reaching the stock ones.
    spec = {"project": "shop", "defaults": {"data_dir": None}, "environments": {"dev": {"defaults": {"scope": "built", "init": True}}},
            "services": {}}  # fmt: skip
    before = copy.deepcopy(spec)
    into_lone_environment(spec)
    assert spec == before


def test_compose_spellings_of_a_boolean_are_written_as_true_or_false(tmp_path: Path) -> None:
    # YAML 1.2 (Compose's) reads bare yes/on/off as text; Compose then takes them for booleans.
    root = write_tree(tmp_path / "p", {"compose.yaml": (
        "services:\n  web:\n    image: nginx:1.27\n    tty: yes\n    stdin_open: on\n    read_only: Off\n    init: 'NO'\n"
        "    environment: {DEBUG: yes}\n"
    )})  # fmt: skip
    plan, text, _ = imported(root)
    web = plan.spec["services"]["web"]
    assert (web["tty"], web["stdin_open"], web["read_only"], web["init"]) == (True, True, False, False), text
    assert web["environment"] == {"DEBUG": "yes"}, text  # text to the program, not a boolean
