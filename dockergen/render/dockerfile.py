"""Render one ``ImagePlan`` into a multi-stage Dockerfile with the Jinja2 templates.

The templates only lay out instructions; every decision (base image, commands, ports,
packages) is made here as data, and every value reaches the text through the quoting
filters of ``render.quote``.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from jinja2.sandbox import SecurityError

from dockergen import presets
from dockergen.errors import DockergenError, Location
from dockergen.fingerprint import MARK
from dockergen.render import quote
from dockergen.render.sandbox import TemplateLimit, TemplateLoader, TemplateSandbox, compiler_fingerprint, template_line
from dockergen.resolve import ImagePlan, ResolvedHealthcheck
from dockergen.spec.model import PREDEFINED_ARGS, Build, BuildArg, Hooks, Node, Oci, Python
from dockergen.templates_dir import builtin_templates


# A step's own line breaks travel as NUL (which no step may contain) through the tidy pass:
# a heredoc's body is data, its blank lines and trailing spaces included.
_STEP_LINE_BREAK = "\0"


def _instruction(step: str, escape: str = "\\") -> str:
    return quote.instruction(step, escape).replace("\n", _STEP_LINE_BREAK)


def _build_step(step: str, escape: str = "\\") -> str:
    return quote.build_step(step, escape).replace("\n", _STEP_LINE_BREAK)


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs in Jinja's per-user cache directory (0700, owner
    checked): compiling them was a fifth of a small project's render. Jinja keys each entry by
    the template's source checksum and its own and Python's versions, so an edited template
    or an upgrade recompiles. A cache that cannot be written never fails a render.

    Code compiled by another compiler (an unsandboxed one, an older sandbox) is never reused:
    the key holds the sandbox compiler's own fingerprint, which the checksum does not."""

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(f"{compiler_fingerprint()}:{name}", filename)

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
def template_environment(override_dir: str | None) -> TemplateSandbox:
    """One sandboxed Jinja environment: user templates (if any) shadow the built-in ones."""
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(TemplateLoader(override_dir))
    loaders.append(TemplateLoader(builtin_templates()))
    return TemplateSandbox(
        jinja2.ChoiceLoader(loaders),
        # Dockerfiles, not HTML: no autoescape; values go through the quote filters instead.
        filters={
            "word": quote.word,
            "arg_word": quote.arg_word,
            "directive": quote.directive,
            "dq": quote.double_quoted,
            "key": quote.key,
            "exec": quote.exec_form,
            "command": quote.command,
            "instruction": _instruction,
            "build_step": _build_step,
            "image": _image,
        },
        bytecode_cache=_template_cache(),
    )


def render_dockerfile(
    plan: ImagePlan, header: str, templates: Path | None, build_args: tuple[str, ...] = (), oci: dict[str, Any] | None = None, *, probe: bool = False
) -> str:
    """``build_args``: the names the environments pass to this build (each is declared);
    ``oci``: the prod image's annotations (``oci_labels``); ``probe``: ship ``dockergen-probe``
    (the Kubernetes liveness probe of HTTP healthchecks)."""
    context = {**dockerfile_context(plan, header, build_args), "oci": oci or oci_labels(None, None, plan), "probe": probe}
    # Keyed by the absolute folder: a relative one means another folder from another directory.
    env = template_environment(os.path.abspath(templates) if templates else None)
    name = f"{plan.build.family}.Dockerfile.j2"
    try:
        text = env.render(name, context)
    except quote.UnsafeValue as exc:
        raise DockergenError.single(f"{plan.dockerfile}: {exc}", path=("services", plan.service, "build")) from None
    except jinja2.TemplateSyntaxError as exc:
        raise _template_error(exc.message or str(exc), _shown(exc.filename or name, templates), exc.lineno) from None
    except jinja2.TemplateNotFound as exc:
        raise _template_error(f"no template {exc.name!r} in the project's or the built-in templates", *_where(exc, templates, name)) from None
    except SecurityError as exc:
        hint = "templates render within fixed bounds of size and work" if isinstance(exc, TemplateLimit) else _SANDBOX_HINT
        raise _template_error(exc.message or str(exc), *_where(exc, templates, name), hint=hint) from None
    except jinja2.TemplateError as exc:
        raise _template_error(exc.message or str(exc), *_where(exc, templates, name)) from None
    except (ArithmeticError, LookupError, RecursionError, TypeError, ValueError) as exc:
        # Raised by a template's own expression (1/0, a missing key, a macro calling itself
        # forever): the template's fault, not dockergen's, when a project template is on the stack.
        where = template_line(exc, os.path.realpath(templates)) if templates else None
        if where is None:
            raise
        raise _template_error(f"{type(exc).__name__}: {exc}", _shown(where[0], templates), where[1]) from None
    text = _tidy(text)
    if MARK not in "".join(text.split("\n")[:5]):
        raise _template_error("the template does not write `{{ header }}` in its first lines (it marks the file as generated)", *_where(None, templates, name))
    escape, declared = _escape_directive(text) or "\\", context.get("escape", "\\")
    if escape != declared:
        raise _template_error(
            f"the template sets the escape character to {escape!r}, the spec to {declared!r}: the quoting of spec values follows the spec", *_where(None, templates, name)
        )
    return text


# A parser directive (`# escape=...`), as BuildKit reads the first lines of a Dockerfile.
_DIRECTIVE = re.compile(r"#[ \t]*([A-Za-z][A-Za-z0-9]*)[ \t]*=[ \t]*(.*?)[ \t]*")


def _escape_directive(text: str) -> str | None:
    for line in text.split("\n"):
        match = _DIRECTIVE.fullmatch(line)
        if match is None:
            return None
        if match[1].lower() == "escape":
            return match[2]
    return None


def _where(exc: BaseException | None, templates: Path | None, name: str) -> tuple[str, int | None]:
    found = template_line(exc, os.path.realpath(templates)) if templates and exc else None
    if found is None:
        return str(templates / name) if templates else name, None
    return _shown(found[0], templates), found[1]


def _shown(file: str, templates: Path | None) -> str:
    """A project template's path as the spec names its folder (the loader reads absolute paths)."""
    if templates is None or not os.path.isabs(file):
        return file
    relative = os.path.relpath(file, os.path.abspath(templates))
    return file if relative.startswith("..") else str(templates / relative)


_SANDBOX_HINT = "templates render sandboxed: they read the values dockergen passes, call macros and plain string methods, nothing else"


def _template_error(message: str, file: str, line: int | None, hint: str | None = None) -> DockergenError:
    return DockergenError.single(f"template {os.path.basename(file)}: {message}", location=Location(file, line), hint=hint)


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


def _image(value: str) -> str:
    """An image reference; ``${PYTHON_VERSION}``/``${NODE_VERSION}`` are dockergen's own."""
    quote.word(re.sub(r"\$\{(PYTHON|NODE)_VERSION\}", "v", value))
    return value


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
            "dev_command": py.dev_command or _python_dev_command(py, port),
            "test_command": py.test_command,
            "prod_command": py.prod_command or _python_prod_command(py, port),
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
            "installer": installer, "venv": installer.tool != "uv", "manifests": list(installer.manifests),
            "runtime": quote.command(tool), "dev": ([], everything), "test": ([], everything),
        }  # fmt: skip
    pyproject = py.requirements == PYPROJECT
    runtime = f"{presets.PYPROJECT_REQUIREMENTS} > /tmp/requirements.txt && pip install -r /tmp/requirements.txt" if pyproject else (
        f"pip install -r {quote.word(py.requirements)}" if py.requirements else None
    )  # fmt: skip

    def extra(files: list[str]) -> tuple[list[str], str | None]:
        words = [f"-r {quote.word(f)}" for f in files]
        if pyproject:  # every dependency group and extra of pyproject.toml too
            return files, f"{presets.PYPROJECT_REQUIREMENTS} all > /tmp/requirements-all.txt && pip install -r /tmp/requirements-all.txt {' '.join(words)}".rstrip()
        return files, f"pip install {' '.join(words)}" if words else None

    return {
        "installer": installer, "venv": True, "manifests": [py.requirements] if py.requirements else [], "runtime": runtime,
        "dev": extra([f for f in [py.dev_requirements] if f and f != PYPROJECT]), "test": extra(test_manifests(py)),
    }  # fmt: skip


def _default_prod_exclude(build: Build) -> list[str]:
    own = presets.PROD_EXCLUDE[build.family]
    py = (build.python or Python()) if build.family == "python" else None
    return [*own, *test_manifests(py)] if py is not None else list(own)


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
        return ["uvicorn", py.app, "--host", "0.0.0.0", "--port", str(port), "--workers", str(py.workers), *tuning]
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
    return hc
