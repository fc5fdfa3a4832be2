"""Render one ``ImagePlan`` into a multi-stage Dockerfile with the Jinja2 templates.

The templates only lay out instructions; every decision (base image, commands, ports,
packages) is made here as data, and every value reaches the text through the quoting
filters of ``render.quote``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

from dockergen import presets
from dockergen.errors import DockergenError
from dockergen.render import quote
from dockergen.resolve import ImagePlan, ResolvedHealthcheck
from dockergen.templates_dir import builtin_templates


# A step's own line breaks travel as NUL (which no step may contain) through the tidy pass:
# a heredoc's body is data, its blank lines and trailing spaces included.
_STEP_LINE_BREAK = "\0"


def _instruction(step: str) -> str:
    return quote.instruction(step).replace("\n", _STEP_LINE_BREAK)


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs in Jinja's per-user cache directory (0700, owner
    checked): compiling them was a fifth of a small project's render. Jinja keys each entry by
    the template's source checksum and its own and Python's versions, so an edited template
    or an upgrade recompiles. A cache that cannot be written never fails a render."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _template_cache() -> jinja2.BytecodeCache | None:
    try:
        return _TemplateCache(pattern="dockergen-%s.cache")
    except (OSError, RuntimeError):  # no safe per-user directory: compile every time
        return None


@functools.lru_cache(maxsize=8)
def template_environment(override_dir: str | None) -> jinja2.Environment:
    """One Jinja environment: user templates (if any) shadow the built-in ones."""
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(jinja2.FileSystemLoader(override_dir))
    loaders.append(jinja2.FileSystemLoader(str(builtin_templates())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # Dockerfiles, not HTML: values go through the quote filters instead
        bytecode_cache=_template_cache(),
    )
    env.filters.update(
        word=quote.word,
        arg_word=quote.arg_word,
        directive=quote.directive,
        dq=quote.double_quoted,
        key=quote.key,
        exec=quote.exec_form,
        command=quote.command,
        instruction=_instruction,
    )
    return env


def render_dockerfile(plan: ImagePlan, header: str, templates: Path | None, *, probe: bool = False) -> str:
    """``probe``: ship ``dockergen-probe`` (the Kubernetes liveness probe of HTTP healthchecks)."""
    context = {**dockerfile_context(plan, header), "probe": probe}
    env = template_environment(str(templates) if templates else None)
    name = f"{plan.build.family}.Dockerfile.j2"
    try:
        text = env.get_template(name).render(**context)
    except quote.UnsafeValue as exc:
        raise DockergenError.single(f"{plan.dockerfile}: {exc}", path=("services", plan.service, "build")) from None
    except jinja2.TemplateError as exc:
        where = f"{getattr(exc, 'filename', None) or name}:{getattr(exc, 'lineno', '?')}"
        raise DockergenError.single(f"template {where}: {exc.message}") from None
    return _tidy(text)


def ships_probe(plan: ImagePlan) -> bool:
    """Whether the image can have ``dockergen-probe``: python builds and node builds served by node."""
    build = plan.build
    if build.family == "node":
        return build.node is None or build.node.serve == "node"
    return build.family == "python"


def _tidy(text: str) -> str:
    """Collapse runs of blank lines left by optional blocks; end with one newline. Lines
    are what BuildKit reads as lines (``\n`` only: ``splitlines`` would also split on
    U+2028, turning a value into an instruction)."""
    lines: list[str] = []
    for line in text.rstrip(" \t\n").split("\n"):
        line = line.rstrip(" \t")
        if line == "" and (not lines or lines[-1] == ""):
            continue
        lines.append(line)
    return "\n".join(lines).replace(_STEP_LINE_BREAK, "\n") + "\n"


def base_image(plan: ImagePlan) -> str:
    build = plan.build
    if build.base_image:
        image = build.base_image
    else:
        version = build.python.version if build.family == "python" and build.python else None
        if build.family == "node":
            version = (build.node.version if build.node else "20")
        elif version is None:
            version = "3.12"
        image = presets.BASE_IMAGES[(build.family, plan.flavour)].format(version=version)
    return f"{image}@{build.digest}" if build.digest else image


def dockerfile_context(plan: ImagePlan, header: str) -> dict[str, Any]:
    build = plan.build
    packages = build.packages
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
    }
    if build.family == "generic":
        return {"header": header, "stages": build.stages, "global_args": build.global_args or [], "directives": build.directives or {}}
    common["base_image"] = base_image(plan)
    if build.family == "python":
        py = build.python or _default_python()
        port = plan.container_port
        return {
            **common,
            "requirements": py.requirements,
            "dev_requirements": py.dev_requirements,
            "test_requirements": py.test_requirements,
            "dev_command": py.dev_command or _python_dev_command(py, port),
            "test_command": py.test_command,
            "prod_command": py.prod_command or _python_prod_command(py, port),
        }
    node = build.node or _default_node()
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


def _default_python():  # type: ignore[no-untyped-def]
    from dockergen.spec.model import Python

    return Python()


def _default_node():  # type: ignore[no-untyped-def]
    from dockergen.spec.model import Node

    return Node()


def _node_major(node: Any) -> int:
    return int(node.version.split(".")[0])


def _python_dev_command(py: Any, port: int | None) -> list[str] | None:
    if py.app is None or port is None:
        return None
    if py.interface == "wsgi":
        server = ["gunicorn", "--reload", "--bind", f"0.0.0.0:{port}", py.app]
    else:
        server = ["uvicorn", py.app, "--host", "0.0.0.0", "--port", str(port), "--reload"]
    if py.debug_port is None:
        return server
    return ["python", "-m", "debugpy", "--listen", f"0.0.0.0:{py.debug_port}", "-m", *server]


def _python_prod_command(py: Any, port: int | None) -> list[str] | None:
    if py.app is None or port is None:
        return None
    if py.server == "uvicorn" and py.interface == "asgi":
        return ["uvicorn", py.app, "--host", "0.0.0.0", "--port", str(port), "--workers", str(py.workers)]
    command = ["gunicorn", "--bind", f"0.0.0.0:{port}", "--workers", str(py.workers), "--access-logfile", "-"]
    if py.interface == "asgi":
        command += ["--worker-class", "uvicorn.workers.UvicornWorker"]
    return [*command, py.app]


def _image_healthcheck(hc: ResolvedHealthcheck | None) -> ResolvedHealthcheck | None:
    """Only probes that mean the same inside the image: no Compose ``$`` interpolation."""
    if hc is None or hc.disable or not hc.test:
        return hc if hc is not None and hc.disable else None
    if any("$" in part for part in hc.test) or hc.test[0] not in ("CMD", "CMD-SHELL"):
        return None
    return hc
