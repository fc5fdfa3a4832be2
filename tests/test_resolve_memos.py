"""What resolve and the Compose documents work out once and share (settings of equal
stacks of layers, their probes, a builder's image name, what settings alone give a
Compose entry) never hands one service another's result: services that differ in one
value resolve and render differently, equal ones alike, and a bad value shared by many
is reported at each of them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockergen.errors import DockergenError
from dockergen.pipeline import load_and_resolve
from dockergen.render.compose import environment_documents
from dockergen.resolve import ResolvedProject

BUILDERS = """
  api:
    build: {family: python, context: api, port: 8000, python: {app: 'app.main:app'}}
    healthcheck: {http: /health}
  admin:
    build: {family: python, context: admin, port: 9000, python: {app: 'app.main:app'}}
    healthcheck: {http: /ready}
"""


def _resolve(tmp_path: Path, *blocks: str, extra: str = "") -> ResolvedProject:
    """``blocks``: services, each string dedented on its own; ``extra``: top-level keys."""
    services = "".join(textwrap.indent(textwrap.dedent(block).strip("\n") + "\n", "  ") for block in blocks)
    path = tmp_path / "dockergen.yaml"
    path.write_text("version: 1\nproject: demo\n" + textwrap.dedent(extra).strip("\n") + "\nservices:\n" + services)
    return load_and_resolve(path)[2]


def test_equal_image_services_share_a_probe_and_one_that_differs_gets_its_own(tmp_path: Path) -> None:
    project = _resolve(tmp_path, """
      cache1: {image: redis:7-alpine}
      cache2: {image: redis:7-alpine}
      cache3: {image: redis:7-alpine, healthcheck: {test: [CMD, redis-cli, -p, '6380', ping]}}
    """)
    for env in project.environments.values():
        first, second, third = (env.services[name].healthcheck for name in ("cache1", "cache2", "cache3"))
        assert first == second and first is not None
        assert third is not None and third.test == ("CMD", "redis-cli", "-p", "6380", "ping") and third != first


def test_uses_services_with_equal_blocks_keep_their_own_builder(tmp_path: Path) -> None:
    project = _resolve(tmp_path, BUILDERS, """
      api-job: {uses: api, command: [python, job.py]}
      admin-job: {uses: admin, command: [python, job.py]}
    """)
    for env in project.environments.values():
        api, admin = env.services["api-job"], env.services["admin-job"]
        assert "runs api's image" in (api.healthcheck.note or "") and "runs admin's image" in (admin.healthcheck.note or "")
        assert api.image is not None and admin.image is not None
        assert "demo/api:" in api.image and "demo/admin:" in admin.image


def test_the_same_settings_probe_per_engine(tmp_path: Path) -> None:
    """Two environments of one kind settle on the same settings; only the engine differs."""
    project = _resolve(tmp_path, BUILDERS, extra="""
      engines: {compose: "2.30", docker: "27.0"}
      environments:
        prod: {kind: prod}
        rootless: {kind: prod, engine: podman}
    """)
    docker, podman = (project.environments[env].services["api"] for env in ("prod", "rootless"))
    assert docker.settings is podman.settings  # one stack of layers, settled once
    assert docker.healthcheck.start_interval is not None and podman.healthcheck.start_interval is None  # podman has none


def test_a_bad_probe_shared_by_equal_services_is_reported_at_each(tmp_path: Path) -> None:
    with pytest.raises(DockergenError) as caught:
        _resolve(tmp_path, """
          one: {image: nginx:1.27, healthcheck: {http: /health}}
          two: {image: nginx:1.27, healthcheck: {http: /health}}
        """)
    paths = {problem.path for problem in caught.value.problems if "HTTP healthcheck" in problem.message}
    assert paths == {("services", "one", "healthcheck", "http"), ("services", "two", "healthcheck", "http")}


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.sampled_from(["a", "b", "${X:-a}", "postgresql://db/a", "postgresql://db/b"]), min_size=2, max_size=6))
def test_services_differing_in_one_value_resolve_to_that_value(tmp_path_factory: pytest.TempPathFactory, values: list[str]) -> None:
    blocks = [f"db{i}:\n  image: postgres:16-alpine\n  environment: {{URL: '{value}'}}\n" for i, value in enumerate(values)]
    project = _resolve(tmp_path_factory.mktemp("memo"), *blocks)
    for env in project.environments.values():
        assert [dict(env.services[f"db{i}"].settings.environment or {})["URL"] for i in range(len(values))] == values
        probes = {env.services[f"db{i}"].healthcheck for i in range(len(values))}
        assert len(probes) == 1  # equal but for the value: one probe


def test_compose_entries_of_equal_settings_differ_only_where_the_service_does(tmp_path: Path) -> None:
    project = _resolve(tmp_path, """
      db1: {image: postgres:16-alpine, ports: ['5432'], environment: {A: '1'}}
      db2: {image: postgres:16-alpine, ports: ['5432'], environment: {A: '1'}}
      db3: {image: postgres:16-alpine, ports: ['5432'], environment: {A: '2'}}
      web: {image: nginx:1.27, ports: ['80:80'], depends_on: [db1]}
    """)
    documents = environment_documents(project)
    for env, doc in documents.items():
        one, two, three = (doc["services"][name] for name in ("db1", "db2", "db3"))
        assert one["environment"] == two["environment"] == {"A": "1"} and three["environment"] == {"A": "2"}
        if "volumes" in one:  # each its own data volume, named after it (a test run keeps the data in tmpfs)
            assert [v.split(":")[0] for v in one["volumes"]] == ["db1-data"] and [v.split(":")[0] for v in two["volumes"]] == ["db2-data"]
        assert {k: v for k, v in one.items() if k != "volumes"} == {k: v for k, v in two.items() if k != "volumes"}
    assert documents["prod"]["services"]["web"]["ports"] == ["80:80"]
    assert documents["podman"]["services"]["web"]["ports"] == ["8080:80"]  # rootless podman: shifted, in its own document only


class _Forgetful(dict):
    """A memo that never recalls: every lookup misses, so each service and environment is
    worked out alone (the slow path the memos must agree with)."""

    def __contains__(self, key: object) -> bool:
        return False

    def get(self, key: object, default: object = None) -> object:
        return default


_BLOCKS = st.sampled_from([None, "{}", "{ports: ['8000']}", "{environment: {LEVEL: debug}}", "{enabled: false}", "{resources: {limits: {memory: 1G}}}"])


@settings(max_examples=30, deadline=None)
@given(own=st.lists(st.tuples(_BLOCKS, _BLOCKS, _BLOCKS), min_size=1, max_size=4), env_defaults=st.tuples(_BLOCKS, _BLOCKS))
def test_shared_settings_resolve_as_each_service_alone(
    tmp_path_factory: pytest.TempPathFactory, own: list[tuple[str | None, ...]], env_defaults: tuple[str | None, ...]
) -> None:
    """Settings are settled once per stack of non-empty layers (an empty one, such as podman's
    under prod's, adds nothing): every service in every environment, from an `extends` chain
    with empty and full blocks, resolves and renders as it does with nothing remembered."""
    envs = {"prod": env_defaults[0], "staging": env_defaults[1]}
    environments = "environments:\n  dev: {kind: dev}\n" + "".join(
        f"  {name}: {{kind: prod{', defaults: ' + block if block else ''}}}\n" for name, block in envs.items()
    ) + "  podman: {kind: prod, engine: podman, extends: prod}\n  rootless: {kind: prod, engine: podman, extends: staging}\n"
    blocks = []
    for i, per_env in enumerate(own):
        lines = [f"api{i}:", "  build: {family: python, context: api, port: 8000, python: {app: 'app.main:app'}}", "  healthcheck: {http: /health}"]
        lines += [f"db{i}:", "  image: postgres:16-alpine"]
        chosen = {env: block for env, block in zip(("prod", "podman", "dev"), per_env) if block is not None}
        if chosen:
            lines += ["  environments:", *(f"    {env}: {block}" for env, block in chosen.items())]
        blocks.append("\n".join(lines) + f"\njob{i}: {{uses: api{i}, command: [python, -m, worker], depends_on: [db{i}]}}\n")
    tmp = tmp_path_factory.mktemp("shared")
    try:
        shared = _resolve(tmp, *blocks, extra=environments)
    except DockergenError as exc:
        with pytest.MonkeyPatch.context() as patch:
            _forget(patch)
            with pytest.raises(DockergenError) as alone:
                _resolve(tmp, *blocks, extra=environments)
        assert [p.render() for p in alone.value.problems] == [p.render() for p in exc.problems]
        return
    with pytest.MonkeyPatch.context() as patch:
        _forget(patch)
        alone = _resolve(tmp, *blocks, extra=environments)
    assert shared.environments == alone.environments
    assert environment_documents(shared) == environment_documents(alone)


def _forget(patch: pytest.MonkeyPatch) -> None:
    from dockergen import resolve

    class Forgetting(resolve.DumpedOnce):
        def __init__(self) -> None:
            super().__init__()
            self.settled, self.images, self.healthchecks = _Forgetful(), _Forgetful(), _Forgetful()

    patch.setattr(resolve, "DumpedOnce", Forgetting)
