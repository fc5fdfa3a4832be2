"""Every example on a real engine: every target an environment uses builds with podman
(and its test stage passes), and every prod-kind stack (`prod`, `podman`) comes up
healthy with the real Compose CLI, answers on its health endpoints from the host, runs
its built images as their non-root user, does its job, and is torn down completely."""

from __future__ import annotations

import contextlib
import pwd
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import engine as eng
from tests.e2e.cases import STACK_CASES, TARGET_CASES, StackCase, TargetCase
from tests.e2e.conftest import merged_config, rendered_copy, require_images
from tests.e2e.smoke import SMOKE

HEALTH_URL = re.compile(r"http://(?:127\.0\.0\.1|localhost):(\d+)(/[^\s'\"]*)")


def _stack(engine: eng.Engine, workdir: Path, files: tuple[str, ...] | list[str], name: str) -> eng.Stack:
    return eng.Stack(engine, workdir, list(files), eng.PROJECT_PREFIX + name)


# ---- builds ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", TARGET_CASES, ids=[c.id for c in TARGET_CASES])
def test_every_target_an_environment_uses_builds_with_podman(case: TargetCase, engine: eng.Engine, workspace: Path) -> None:
    workdir = rendered_copy(case.example, workspace)
    dockerfile = workdir / case.dockerfile
    require_images(eng.base_images(dockerfile))

    # Tag the image with every name the environments' compose files give it, qualified the
    # way the Docker API does, so Compose finds it without building again.
    tags: list[str] = []
    context: Path | None = None
    args: dict[str, str] = {}
    for env_name, files in case.environments:
        stack = _stack(engine, workdir, files, f"{case.example.name}-{env_name}")
        config = merged_config(stack)
        for name, service in config["services"].items():
            build = service.get("build") or {}
            if build.get("target") != case.target:
                continue
            if (Path(build["context"]) / build.get("dockerfile", "Dockerfile")).resolve() != dockerfile.resolve():
                continue
            context = Path(build["context"])
            args.update(build.get("args") or {})
            tags.append(eng.docker_reference(service.get("image") or f"{stack.project}-{name}"))
    assert context is not None, f"no environment builds {case.id}"
    built = eng.BuildCase(dockerfile, context, case.target, tuple(sorted(args.items())), tuple(dict.fromkeys(tags)), tuple(e for e, _ in case.environments))
    eng.build(built)

    if case.target == "test":
        # The test stage is the service's test suite: it must pass, offline.
        result = eng.podman("run", "--rm", "--network", "none", built.tags[0], timeout=300, check=False)
        assert result.returncode == 0, f"test stage of {case.id} failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}"


# ---- stacks ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", STACK_CASES, ids=[c.id for c in STACK_CASES])
def test_stack_comes_up_healthy_and_works(case: StackCase, engine: eng.Engine, workspace: Path) -> None:
    workdir = rendered_copy(case.example, workspace)
    stack = _stack(engine, workdir, case.compose_files, case.id)
    config = merged_config(stack)
    # Services whose image cannot exist here are left out, each with its own visible skip
    # (test_service_left_out_of_the_stack); nothing that stays may depend on them.
    for name, reason in case.left_out.items():
        dependants = [s for s, svc in config["services"].items() if name in (svc.get("depends_on") or {}) and s not in case.left_out]
        assert not dependants, f"{name} cannot run here ({reason}) but {dependants} depend on it"
    stack.services = [s for s in config["services"] if s not in case.left_out]
    require_images([eng.docker_reference(config["services"][s]["image"]) for s in stack.services if not config["services"][s].get("build")])
    with eng.running(stack, config):
        _assert_healthy(stack, config)
        _assert_health_endpoints_answer_from_the_host(stack, config)
        _assert_built_containers_run_as_non_root(stack, case)
        SMOKE[case.example.name](stack)


@pytest.mark.parametrize(
    ("case", "service"),
    [(c, s) for c in STACK_CASES for s in c.left_out],
    ids=[f"{c.id}-{s}" for c in STACK_CASES for s in c.left_out],
)
def test_service_left_out_of_the_stack(case: StackCase, service: str) -> None:
    pytest.skip(f"{case.id}: service {service!r} is not started: {case.left_out[service]}")


def _assert_healthy(stack: eng.Stack, config: dict[str, Any]) -> None:
    for name in stack.services:
        state = stack.inspect(name)["State"]
        assert state["Status"] == "running", f"{name}: {state['Status']}\n{stack.diagnostics()}"
        healthcheck = config["services"][name].get("healthcheck", {})
        if healthcheck.get("test"):
            assert stack.health(name) == "healthy", f"{name}: health {stack.health(name)}\n{stack.diagnostics()}"
        elif healthcheck.get("disable"):
            # e.g. a `uses` service on an image whose HEALTHCHECK probes another program
            assert stack.health(name) == "none", f"{name}: the image's probe still runs: {stack.health(name)}"


def _assert_health_endpoints_answer_from_the_host(stack: eng.Stack, config: dict[str, Any]) -> None:
    checked = 0
    for name in stack.services:
        service = config["services"][name]
        test = " ".join(service.get("healthcheck", {}).get("test") or [])
        for port_text, path in HEALTH_URL.findall(test):
            port = int(port_text)
            urls = [f"http://{stack.ip(name)}:{port}{path}"]
            for p in service.get("ports") or []:
                if int(p["target"]) == port and p.get("published"):
                    urls.append(f"http://127.0.0.1:{p['published']}{path}")
            for url in urls:
                status, body = eng.http_get(url)
                assert 200 <= status < 400, f"{name}: GET {url} -> {status} {body[:200]!r}"
                checked += 1
    assert checked, "no HTTP health endpoint found to check"


def _assert_built_containers_run_as_non_root(stack: eng.Stack, case: StackCase) -> None:
    for name, uid in case.built.items():
        if name not in stack.services:
            continue
        user = stack.inspect(name)["Config"]["User"]
        assert user.split(":")[0] == str(uid), f"{name}: image user {user!r}, expected {uid}"
        assert stack.exec(name, "id", "-u").strip() == str(uid), f"{name}: `id -u` is not {uid}"
        names = {str(uid)}
        with contextlib.suppress(KeyError):
            names.add(pwd.getpwuid(uid).pw_name)
        processes = stack.process_users(name)
        assert processes and all(user in names for user, _ in processes), f"{name}: not every process runs as {uid}: {processes}"
