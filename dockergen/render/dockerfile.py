"""Render one ``ImagePlan`` into a multi-stage Dockerfile with the Jinja2 templates
(``render.dockerfile_template`` runs them).

The templates only lay out instructions; every decision (base image, commands, ports,
packages) is made here as data, and every value reaches the text through the quoting
filters of ``render.quote``.
"""

from __future__ import annotations

import dataclasses
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockergen import durations, presets
from dockergen.render import quote
from dockergen.resolve import ImagePlan, ResolvedHealthcheck
from dockergen.spec.model import PREDEFINED_ARGS, Build, BuildArg, Hooks, Node, Oci, Python

if TYPE_CHECKING:
    from dockergen.render.dockerfile_store import DockerfileStore


def render_dockerfile(
    plan: ImagePlan,
    header: str,
    templates: Path | None,
    build_args: tuple[str, ...] = (),
    oci: dict[str, Any] | None = None,
    *,
    probe: bool = False,
    store: DockerfileStore | None = None,
) -> str:
    """``build_args``: the names the environments pass to this build (each is declared);
    ``oci``: the prod image's annotations (``oci_labels``); ``probe``: ship ``dockergen-probe``
    (the Kubernetes liveness probe of HTTP healthchecks); ``store``: Dockerfiles rendered by
    an earlier run, reused when the template's whole input is the same."""
    context = {**dockerfile_context(plan, header, build_args), "oci": oci or oci_labels(None, None, plan), "probe": probe}
    name = f"{plan.build.family}.Dockerfile.j2"
    key = store.key(name, context) if store is not None else None
    if key is not None and (kept := store.get(key)) is not None:
        return kept
    from dockergen.render.dockerfile_template import run_template  # Jinja, only when a template runs

    text = run_template(name, context, templates, plan.dockerfile, plan.service)
    if key is not None:
        store.put(key, text)
    return text


def ships_probe(plan: ImagePlan) -> bool:
    """Whether the image can have ``dockergen-probe``: python builds and node builds served by node."""
    build = plan.build
    if build.family == "node":
        return build.node is None or build.node.serve == "node"
    return build.family == "python"


def base_image(plan: ImagePlan) -> tuple[str, tuple[str, str] | None]:
    """The first ``FROM``'s image and the global ``ARG`` it reads, ``(name, default)``: the
    official image's version, pinned to a patch release and overridable with a build arg.
    A ``base_image`` or ``digest`` names one image exactly: no ARG then."""
    build = plan.build
    if build.family == "python":
        arg, version, patches = "PYTHON_VERSION", (build.python or Python()).version, presets.PYTHON_PATCH_RELEASES
    else:
        arg, version, patches = "NODE_VERSION", (build.node or Node()).version, presets.NODE_PATCH_RELEASES
    if build.base_image:
        image = build.base_image
    elif build.digest:
        image = presets.BASE_IMAGES[(build.family, plan.flavour)].format(version=version)
    else:
        return presets.BASE_IMAGES[(build.family, plan.flavour)].format(version="${" + arg + "}"), (arg, patches.get(version, version))
    return (f"{image}@{build.digest}" if build.digest else image), None


def dockerfile_context(plan: ImagePlan, header: str, build_args: tuple[str, ...] = ()) -> dict[str, Any]:
    build = plan.build
    packages = build.packages
    stages = presets.TEMPLATE_STAGES.get(build.family, tuple(build.stage_list()))
    hooks = build.hooks or Hooks()
    common: dict[str, Any] = {
        "header": header,
        "flavour": plan.flavour,
        "user": build.user,
        "workdir": build.workdir,
        "env": sorted((build.env or {}).items()),
        "labels": sorted((build.labels or {}).items()),
        "runtime_packages": list(packages.runtime or []) if packages else [],
        "build_packages": list(packages.build or []) if packages else [],
        "healthcheck": _image_healthcheck(plan.healthcheck),
        "port": plan.container_port,
        "secrets": list(build.secrets or []),
        "names": {stage: build.stage_name(stage) for stage in stages},
        "args": stage_args(build, stages, build_args),
        "writable": list(build.writable or []),
        "prod_exclude": list(build.prod_exclude) if build.prod_exclude is not None else _default_prod_exclude(build),
        "hooks": {
            "system": hooks.system or [],
            "before_install": hooks.before_install or [],
            "after_install": hooks.after_install or [],
            "after_source": hooks.after_source or [],
            "stages": {stage: (hooks.stages or {}).get(build.stage_name(stage)) or (hooks.stages or {}).get(stage) or [] for stage in stages},
        },
    }
    if build.family == "generic":
        directives = build.directives or {}
        starts = {stage.item for stage in build.step_stages()}
        return {
            "header": header, "stages": build.stages or [], "args": common["args"], "global_args": build.global_args or [],
            "directives": directives, "escape": directives.get("escape", "\\"),
            # `steps` verbatim, a blank line above each stage as `stages` writes them.
            "steps": [(step, index in starts) for index, step in enumerate(build.steps or [])],
        }  # fmt: skip
    common["base_from"], common["version_arg"] = base_image(plan)
    # The image itself, the version filled in: what project templates may write after FROM.
    common["base_image"] = common["base_from"].replace("${" + common["version_arg"][0] + "}", common["version_arg"][1]) if common["version_arg"] else common["base_from"]
    if build.family == "python":
        py = build.python or Python()
        port = plan.container_port
        return {
            **common,
            "install": python_install(py),
            "dev_command": python_stage_command(py, port, "dev"),
            "test_command": py.test_command,
            "prod_command": python_stage_command(py, port, "prod"),
        }
    node = build.node or Node()
    pm = presets.PACKAGE_MANAGERS[node.package_manager]
    return {
        **common,
        "dev_port": build.port,
        "pm": pm,
        "pm_env": [*presets.COREPACK_ENV, *pm.env] if pm.corepack else [],
        "corepack_install": presets.COREPACK_PACKAGE if pm.corepack and _node_major(node) >= presets.NODE_WITHOUT_COREPACK else None,
        "install_files": list(node.install_files or []),
        "dev_command": node.dev_command or pm.dev_command,
        "test_command": node.test_command or pm.test_command,
        "build_script": node.build_script,
        "serve": node.serve,
        "output": node.output,
        "start": node.start,
        "nginx_image": presets.NGINX_IMAGE.format(version=node.nginx_version),
        "nginx_uid": presets.NGINX_UID,
    }


def oci_labels(oci: Oci | None, description: str | None, plan: ImagePlan) -> dict[str, Any]:
    """The prod stage's ``ARG``s and ``LABEL``s of the OCI annotations, ``{"args": [(name,
    default)], "labels": [(key, value as written)]}``; keys ``build.labels`` sets are left to it."""
    oci = oci or Oci()
    own = set(plan.build.labels or {})
    args, labels = [], []
    for field, arg in presets.OCI_ARGS:
        key = presets.OCI_PREFIX + field
        if key not in own:
            args.append((arg, getattr(oci, field, None) or ""))
            labels.append((key, quote.arg_reference(arg)))
    # A label is one line: a description written over several lines joins into one.
    summary = " ".join(description.split()) if description is not None else None
    fixed = [("title", plan.service), ("description", summary), *((f, getattr(oci, f)) for f in presets.OCI_FIXED)]
    for field, value in fixed:
        if value is not None and presets.OCI_PREFIX + field not in own:
            labels.append((presets.OCI_PREFIX + field, quote.double_quoted(value)))
    return {"args": args, "labels": sorted(labels)}


def stage_args(build: Build, stages: tuple[str, ...], build_args: tuple[str, ...]) -> dict[str, list[tuple[str, str | None]]]:
    """Stage -> the ``ARG``s declared right after its ``FROM``, ``(name, default)``: the
    build's own ``args`` (in their stages) and every name an environment passes."""
    declared: dict[str, BuildArg] = {}
    for name, value in sorted((build.args or {}).items()):
        declared[name] = value if isinstance(value, BuildArg) else BuildArg(default=value)
    for name in sorted(set(build_args) - set(declared) - set(presets.GLOBAL_ARGS) - {arg for _, arg in presets.OCI_ARGS} - PREDEFINED_ARGS):
        declared[name] = BuildArg()
    out: dict[str, list[tuple[str, str | None]]] = {stage: [] for stage in stages}
    for name, arg in declared.items():
        wanted = {build.builtin_stage(s) for s in arg.stages} if arg.stages is not None else set(stages)
        for stage in stages:
            if stage in wanted:
                out[stage].append((name, arg.default))
    return out


def test_manifests(py: Python) -> list[str]:
    """pip's files of the test stage: the dev requirements too (where pytest often is), then
    the test ones."""
    return [f for f in (py.dev_requirements, py.test_requirements) if f and f != PYPROJECT] if py.package_manager == "pip" else []


PYPROJECT = "pyproject.toml"


def python_install(py: Python) -> dict[str, Any]:
    """What the builder, dev and test stages copy and run to install into /opt/venv; the
    commands are dockergen's own words and the spec's file names, quoted here."""
    installer = presets.PYTHON_INSTALLERS[py.package_manager]
    if py.package_manager != "pip":
        tool = [installer.binary, *installer.install]
        everything = quote.command([installer.binary, *installer.install_all])
        return {
            "installer": installer, "venv": installer.tool != "uv", "manifests": copies(list(installer.manifests)),
            "runtime": quote.command(tool), "dev": ([], everything), "test": ([], everything),
        }  # fmt: skip
    pyproject = py.requirements == PYPROJECT
    runtime = f"{presets.PYPROJECT_REQUIREMENTS} > /tmp/requirements.txt && pip install -r /tmp/requirements.txt" if pyproject else (
        f"pip install -r {quote.word(py.requirements)}" if py.requirements else None
    )  # fmt: skip

    def extra(files: list[str]) -> tuple[list[tuple[list[str], str]], str | None]:
        words = [f"-r {quote.word(f)}" for f in files]
        if pyproject:  # every dependency group and extra of pyproject.toml too
            return copies(files), f"{presets.PYPROJECT_REQUIREMENTS} all > /tmp/requirements-all.txt && pip install -r /tmp/requirements-all.txt {' '.join(words)}".rstrip()
        return copies(files), f"pip install {' '.join(words)}" if words else None

    return {
        "installer": installer, "venv": True, "manifests": copies([py.requirements] if py.requirements else []), "runtime": runtime,
        "dev": extra([f for f in [py.dev_requirements] if f and f != PYPROJECT]), "test": extra(test_manifests(py)),
    }  # fmt: skip


def copies(files: list[str]) -> list[tuple[list[str], str]]:
    """COPY sources and destination, one instruction per folder: each file lands at the path
    the install names it by (`COPY requirements/dev.txt ./` would leave it at ./dev.txt)."""
    folders: dict[str, list[str]] = {}
    for relative in files:
        folder = posixpath.dirname(posixpath.normpath(relative))
        folders.setdefault(f"{folder}/" if folder else "./", []).append(relative)
    return [(group, folder) for folder, group in folders.items()]


def _default_prod_exclude(build: Build) -> list[str]:
    own = presets.PROD_EXCLUDE[build.family]
    py = (build.python or Python()) if build.family == "python" else None
    return [*own, *test_manifests(py)] if py is not None else list(own)


def _node_major(node: Any) -> int:
    return int(node.version.split(".")[0])


def python_stage_command(py: Python, port: int | None, stage: str) -> list[str] | None:
    """The CMD of a python build's dev or prod stage: its own command, else the server of
    `app` (which needs the port); None: the stage runs nothing."""
    if stage == "dev":
        return py.dev_command or _python_dev_command(py, port)
    return py.prod_command or _python_prod_command(py, port)


def _python_dev_command(py: Any, port: int | None) -> list[str] | None:
    if py.app is None or port is None:
        return None
    if py.interface == "wsgi":
        server = ["gunicorn", "--reload", "--bind", f"0.0.0.0:{port}", py.app]
    else:
        server = ["uvicorn", *_uvicorn_app(py.app), "--host", "0.0.0.0", "--port", str(port), "--reload"]
    if py.debug_port is None:
        return server
    return ["python", "-m", "debugpy", "--listen", f"0.0.0.0:{py.debug_port}", "-m", *server]


def _uvicorn_app(app: str) -> list[str]:
    """uvicorn's arguments for `python.app`: a factory (`pkg:create_app()`) is named without
    the call and flagged, where gunicorn takes the call as it is written."""
    return ["--factory", app.removesuffix("()")] if app.endswith("()") else [app]


# Flag of each `python.tuning` field, per production server.
_TUNING_FLAGS = {
    "gunicorn": {
        "timeout": "--timeout", "keep_alive": "--keep-alive", "max_requests": "--max-requests",
        "max_requests_jitter": "--max-requests-jitter", "graceful_timeout": "--graceful-timeout",
    },
    "uvicorn": {
        "keep_alive": "--timeout-keep-alive", "max_requests": "--limit-max-requests",
        "max_requests_jitter": "--limit-max-requests-jitter", "graceful_timeout": "--timeout-graceful-shutdown",
    },
}  # fmt: skip


def _python_prod_command(py: Any, port: int | None) -> list[str] | None:
    if py.app is None or port is None:
        return None
    uvicorn = py.server == "uvicorn" and py.interface == "asgi"
    tuning = [] if py.tuning is None else [
        part
        for name, flag in _TUNING_FLAGS["uvicorn" if uvicorn else "gunicorn"].items()
        if (value := getattr(py.tuning, name)) is not None
        for part in (flag, str(value))
    ]  # fmt: skip
    if uvicorn:
        return ["uvicorn", *_uvicorn_app(py.app), "--host", "0.0.0.0", "--port", str(port), "--workers", str(py.workers), *tuning]
    command = ["gunicorn", "--bind", f"0.0.0.0:{port}", "--workers", str(py.workers), "--access-logfile", "-", *tuning]
    if py.interface == "asgi":
        command += ["--worker-class", "uvicorn.workers.UvicornWorker"]
    return [*command, py.app]


def _image_healthcheck(hc: ResolvedHealthcheck | None) -> ResolvedHealthcheck | None:
    """Only probes that mean the same inside the image: no Compose ``$`` interpolation."""
    if hc is None or hc.disable or not hc.test:
        return hc if hc is not None and hc.disable else None
    if any("$" in part for part in hc.test) or hc.test[0] not in ("CMD", "CMD-SHELL"):
        return None
    # A timing Compose interpolates (`${HC_INTERVAL:-10s}`) is its default in the image.
    timing: dict[str, Any] = {k: durations.literal(v, default) for k, default in durations.DOCKER_DEFAULTS.items() if isinstance(v := getattr(hc, k), str)}
    if hc.retries is not None:
        timing["retries"] = durations.count(hc.retries)
    return dataclasses.replace(hc, **timing)
