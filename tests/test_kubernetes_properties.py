"""Property tests: specs of every shape, with hostile values, render Kubernetes manifests
that kustomize builds, that validate strictly, and that carry each value exactly: no value
adds a key, a resource or a line of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from dockergen.pipeline import render
from dockergen.write import write_files
from tests.k8s_tools import kustomize, validate

NAMES = st.sampled_from(["web", "api", "db", "cache", "worker_2", "queue"])
# Text a user (or an attacker) might put in a value: YAML and shell syntax, Compose's `$`,
# Kubernetes' `$(`, line breaks, quotes, unicode.
HOSTILE = st.text(st.sampled_from(list("ab:#-'\"\n\t $(){}[]|>&*!%@`\\=,é☃")), max_size=30)
KEYS = st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True).filter(lambda k: not any(w in k for w in ("KEY", "PASS", "TOKEN", "SECRET", "PRIVATE", "CRED")))
IMAGES = st.sampled_from(["postgres:16-alpine", "redis:7", "nginx:1.27", "ghcr.io/acme/tool:2.1", "registry:5000/team/app:3"])


def literal(value: str) -> str:
    """A value Compose would not interpolate: `$` doubled."""
    return value.replace("$", "$$")


@st.composite
def specs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, dict[str, dict[str, str]]]]:
    services: dict[str, Any] = {}
    expected: dict[str, dict[str, dict[str, str]]] = {"staging": {}, "prod": {}}
    for name in draw(st.lists(NAMES, min_size=1, max_size=4, unique=True)):
        env = draw(st.dictionaries(KEYS, HOSTILE, max_size=4))
        prod_env = draw(st.dictionaries(KEYS, HOSTILE, max_size=2))
        service: dict[str, Any] = {"image": draw(IMAGES), "environment": {k: literal(v) for k, v in env.items()}}
        if draw(st.booleans()):
            service["ports"] = [f"{draw(st.integers(1024, 65000))}:{draw(st.integers(1, 65535))}"]
        if draw(st.booleans()):
            service["healthcheck"] = {"test": ["CMD", "true", draw(HOSTILE.filter(lambda v: "$" not in v))], "interval": f"{draw(st.integers(1, 90))}s"}
        service["environments"] = {
            "prod": {
                "environment": {k: literal(v) for k, v in prod_env.items()},
                "kubernetes": {"replicas": draw(st.integers(0, 5))},
                "resources": {"limits": {"memory": f"{draw(st.integers(1, 4096))}M", "cpus": draw(st.sampled_from([0.1, 0.5, 1.0, 2.5]))}},
            }
        }
        services[name] = service
        expected["staging"][name] = dict(env)
        expected["prod"][name] = {**env, **prod_env}
    spec = {"version": 1, "project": draw(st.sampled_from(["demo", "my_shop", "x"])), "output": {"kubernetes": "deploy/k8s"}, "services": services}
    return spec, expected


# No shrinking: each example runs kubectl twice, and a failure prints its spec as drawn.
@settings(max_examples=15, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs())
def test_any_spec_renders_manifests_that_build_validate_and_keep_every_value(tmp_path_factory: Any, case: Any) -> None:
    spec, expected = case
    folder: Path = tmp_path_factory.mktemp("k8s")
    with (folder / "dockergen.yaml").open("w") as handle:
        YAML().dump(spec, handle)
    write_files(folder, render(folder / "dockergen.yaml").files)
    for env, services in expected.items():
        docs = kustomize(folder / "deploy" / "k8s" / "overlays" / env)
        validate(docs)
        by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
        assert sorted(n for k, n in by if k == "Deployment") == sorted(name.replace("_", "-") for name in services)
        for name, env_values in services.items():
            k8s = name.replace("_", "-")
            container = by[("Deployment", k8s)]["spec"]["template"]["spec"]["containers"][0]
            config = by[("ConfigMap", f"{k8s}-env")]["data"] if env_values else {}
            assert config == env_values  # every value exactly, and no key of its own
            assert "env" not in container
            if env == "prod":
                assert by[("Deployment", k8s)]["spec"]["replicas"] == spec["services"][name]["environments"]["prod"]["kubernetes"]["replicas"]
