"""A render that takes services' Compose entries and lines from earlier renders
(``service_cache``) writes the same bytes as one that works everything out, after any
sequence of edits of one project; it works out again only the services an edit reaches;
a cache file it did not write itself (corrupt, forged, sealed with another key) is none."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockergen import service_cache
from dockergen.errors import DockergenError
from dockergen.pipeline import render
from dockergen.render import compose


def _project(services: int, shared_image: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(services):
        out[f"api{i}"] = {
            "build": {"family": "python", "context": f"api{i}", "port": 8000, "python": {"app": "app.main:app"}},
            "healthcheck": {"http": "/health"},
            "environment": {"URL": f"postgresql://db/{i}"},
        }
        if shared_image:  # builders of one image name: which one carries `build:` is decided over all services
            out[f"api{i}"]["image"] = "acme/app:1"
        out[f"job{i}"] = {"uses": f"api{i}", "command": ["python", "-m", "worker"]}
        out[f"db{i}"] = {"image": "postgres:16-alpine"}
    return {"version": 1, "project": "demo", "services": out}


# One edit: (what, which service number, value); each leaves a valid spec or one both renders refuse alike.
EDITS = st.tuples(
    st.sampled_from(["value", "env-value", "disable", "depends", "waits", "image", "defaults", "env-defaults", "port", "volume", "probe", "all-wait"]),
    st.integers(0, 2),
    st.sampled_from(["a", "b", "${X:-a}", "dev", None]),
)


def _edited(spec: dict[str, Any], edit: tuple[str, int, str | None]) -> dict[str, Any]:
    what, i, value = edit
    spec = copy.deepcopy(spec)
    services = spec["services"]
    n = i % (len(services) // 3)
    api, job, db = services[f"api{n}"], services[f"job{n}"], services[f"db{n}"]
    envs = api.setdefault("environments", {})
    if what == "value":
        api["environment"]["URL"] = value or "none"
    elif what == "env-value":
        envs.setdefault("prod", {}).setdefault("environment", {})["LEVEL"] = value
    elif what == "disable":
        db.setdefault("environments", {})["test" if value else "dev"] = {"enabled": False}
    elif what == "depends":
        job["depends_on"] = [f"db{n}", f"api{n}"] if value else [f"db{n}"]
    elif what == "waits":  # another service waits for the builder: its suite runs beside it as api-test
        db["depends_on"] = {f"api{n}": {"condition": "service_started"}} if value else [f"api{n}"]
    elif what == "image":
        if value is None:
            api.pop("image", None)
        else:
            api["image"] = f"acme/{value.strip('${}:-')}:1"
    elif what == "defaults":
        spec["defaults"] = {"environment": {"REGION": value}} if value else {"labels": {"team": "core"}}
    elif what == "env-defaults":
        spec["environments"] = {"dev": {"kind": "dev"}, "test": {"kind": "test"}, "prod": {"kind": "prod", "defaults": {"environment": {"TIER": value or "x"}}}}
        for service in services.values():  # only environments that exist
            for name in list(service.get("environments", {})):
                if name not in spec["environments"]:
                    del service["environments"][name]
    elif what == "probe":  # what those waiting for it wait for: healthy, or started
        db["healthcheck"] = {"disable": True} if value else {"test": ["CMD", "pg_isready"]}
    elif what == "all-wait":  # every built service waits for this one, named outside the services
        spec["defaults"] = {"scope": "built", "depends_on": [f"db{n}"]}
    elif what == "port":
        envs.setdefault("dev", {})["ports"] = ["8000"] if value else ["127.0.0.1:9000:8000"]
    else:
        db["volumes"] = [f"{value or 'data'}-{n}:/srv".replace("$", "").replace("{", "").replace("}", "").replace(":-", "-")]
    return spec


def _files(spec: Path, cache: bool) -> list[tuple[str, str]] | list[str]:
    try:
        return [(f.path, f.content) for f in render(spec, cache=cache).files]
    except DockergenError as exc:
        return [p.render() for p in exc.problems]


@settings(max_examples=25, deadline=None)
@given(services=st.integers(1, 3), shared_image=st.booleans(), edits=st.lists(EDITS, min_size=1, max_size=6))
def test_cached_renders_write_what_full_renders_write_after_every_edit(
    tmp_path_factory: pytest.TempPathFactory, services: int, shared_image: bool, edits: list[tuple[str, int, str | None]]
) -> None:
    tmp = tmp_path_factory.mktemp("edits")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp / "cache"))
        patch.delenv("DOCKERGEN_NO_CACHE", raising=False)
        path = tmp / "dockergen.yaml"
        spec = _project(services, shared_image)
        for edit in [None, *edits]:
            spec = spec if edit is None else _edited(spec, edit)
            path.write_text(json.dumps(spec))  # YAML reads JSON
            assert _files(path, cache=True) == _files(path, cache=False), edit


def test_a_value_edit_works_out_only_the_services_it_reaches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DOCKERGEN_NO_CACHE", raising=False)
    path = tmp_path / "dockergen.yaml"
    spec = _project(3, shared_image=False)
    spec["services"]["job0"]["depends_on"] = ["db0"]  # job0 names db0: one group with api0 (its builder)
    path.write_text(json.dumps(spec))
    render(path, cache=True)
    made: list[str] = []
    real = compose._service
    monkeypatch.setattr(compose, "_service", lambda service, *rest: made.append(service.name) or real(service, *rest))
    spec["services"]["db0"]["environment"] = {"A": "1"}
    path.write_text(json.dumps(spec))
    render(path, cache=True)
    assert set(made) == {"api0", "job0", "db0", "api0-test"} or set(made) == {"api0", "job0", "db0"}
    made.clear()
    render(path, cache=True)
    assert made == []  # nothing changed: every entry from the cache


def _pack(cache: Path) -> Path:
    (pack,) = (cache / "dockergen" / "services").glob("*.pack")
    return pack


@pytest.mark.parametrize("spoil", ["garbage", "forged-record", "other-key", "short-key", "truncated"])
def test_a_cache_file_it_did_not_write_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spoil: str) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DOCKERGEN_NO_CACHE", raising=False)
    path = tmp_path / "dockergen.yaml"
    path.write_text(json.dumps(_project(2, shared_image=False)))
    expected = _files(path, cache=False)
    render(path, cache=True)
    pack = _pack(tmp_path / "cache")
    key = pack.parent / "key"
    raw = pack.read_bytes()
    mac, _, body = raw.partition(b"\n")
    evil = body.replace(b"image: ", b"privileged: true\\n    image: ")
    assert evil != body
    if spoil == "garbage":
        pack.write_bytes(b"\x00garbage\n" + bytes(range(256)))
    elif spoil == "forged-record":  # lines that would add a key, under the old seal
        pack.write_bytes(mac + b"\n" + evil)
    elif spoil == "other-key":  # sealed, but not with this user's key
        key.write_bytes(b"k" * 32)
        pack.write_bytes(service_cache._mac(b"k" * 31 + b"x", evil) + b"\n" + evil)
    elif spoil == "short-key":
        key.write_bytes(b"k")
    else:
        pack.write_bytes(raw[: len(raw) // 2])
    assert _files(path, cache=True) == expected
    assert _files(path, cache=True) == expected  # and again, from what that render kept


def test_the_cache_is_off_with_the_other_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKERGEN_NO_CACHE", "1")
    path = tmp_path / "dockergen.yaml"
    path.write_text(json.dumps(_project(1, shared_image=False)))
    render(path, cache=True)
    assert not (tmp_path / "cache" / "dockergen" / "services").exists()


@pytest.mark.parametrize("edit", [("probe", 0, "a"), ("image", 1, "b"), ("waits", 0, "a")])
def test_an_edit_reaches_services_that_only_the_rest_of_the_spec_connects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: tuple[str, int, str]) -> None:
    """Every built service waits for db0 (``defaults``), or api0 and api1 share an image name
    (one of them carries ``build:``): an edit of one service changes the others' entries."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DOCKERGEN_NO_CACHE", raising=False)
    path = tmp_path / "dockergen.yaml"
    spec = _edited(_project(2, shared_image=edit[0] == "image"), ("all-wait", 0, None))
    for step in (None, edit):
        spec = spec if step is None else _edited(spec, step)
        path.write_text(json.dumps(spec))
        assert _files(path, cache=True) == _files(path, cache=False)
