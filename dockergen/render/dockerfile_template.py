"""Run one Dockerfile template in the sandbox and check what it wrote.

Apart from ``render.dockerfile`` (which builds the templates' input) so that Jinja is
imported only when a Dockerfile is rendered, not when ``render.dockerfile_store`` has it.
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
import types
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from jinja2.sandbox import SecurityError

from dockergen.errors import DockergenError, Location
from dockergen.fingerprint import MARK
from dockergen.render import quote
from dockergen.render.sandbox import TemplateLimit, TemplateLoader, TemplateSandbox, compiler_fingerprint, template_line
from dockergen.render_cache import code_signature
from dockergen.templates_dir import builtin_templates


# A step's own line breaks travel as NUL (which no step may contain) through the tidy pass:
# a heredoc's body is data, its blank lines and trailing spaces included.
_STEP_LINE_BREAK = "\0"


def _instruction(step: str, escape: str = "\\") -> str:
    return quote.instruction(step, escape).replace("\n", _STEP_LINE_BREAK)


def _build_step(step: str, escape: str = "\\") -> str:
    return quote.build_step(step, escape).replace("\n", _STEP_LINE_BREAK)


# The escape character of the Dockerfile being rendered, for ``dq``: a macro imported without
# context (`{% import "_macros.j2" as m %}`) cannot see the template's `escape`.
_ESCAPE: contextvars.ContextVar[str] = contextvars.ContextVar("dockerfile_escape", default="\\")


@jinja2.pass_context  # never folded at compile time: the escape is the render's
def _double_quoted(_context: Any, value: object) -> str:
    return quote.double_quoted(value, _ESCAPE.get())


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs in Jinja's per-user cache directory (0700, owner
    checked): compiling them was a fifth of a small project's render. Jinja keys each entry by
    the template's source checksum and its own and Python's versions, so an edited template
    or an upgrade recompiles. A cache that cannot be written or read, or a damaged entry, never
    fails a render.

    Code compiled by another compiler (an unsandboxed one, an older sandbox) is never reused:
    the key holds the sandbox compiler's own fingerprint, which the checksum does not.

    Each entry is also kept in memory under the same key and checksum: the warm server's
    children find what its warm-up compiled (``warm.warm_up``) without reading the cache."""

    in_memory: dict[tuple[str, str], types.CodeType] = {}

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        # Compiled code calls a filter that takes the context differently: how each is called is
        # part of the key. And Jinja runs a filter on literal text once, when it compiles: the
        # result sits in the code, so dockergen's own code (its filters) is part of it too.
        return super().get_cache_key(f"{compiler_fingerprint()}:{code_signature()}:{_filter_calls()}:{name}", filename)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        known = self.in_memory.get((bucket.key, bucket.checksum))
        if known is not None:
            bucket.code = known
            return
        # Jinja lets a damaged entry's error through (a truncated file: pickle's
        # UnpicklingError, an internal error here): such an entry is a miss, compiled anew
        # and written over.
        try:
            super().load_bytecode(bucket)
        except Exception:
            bucket.reset()
        if bucket.code is not None:
            self.in_memory[bucket.key, bucket.checksum] = bucket.code

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.in_memory[bucket.key, bucket.checksum] = bucket.code
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
        filters=_filters(),
        bytecode_cache=_template_cache(),
    )


def _filters() -> dict[str, Any]:
    """The quote filters, the only way templates write spec values."""
    return {
        "word": quote.word, "arg_word": quote.arg_word, "directive": quote.directive, "dq": _double_quoted, "key": quote.key,
        "exec": quote.exec_form, "command": quote.command, "instruction": _instruction, "build_step": _build_step, "image": _image,
    }  # fmt: skip


@functools.lru_cache(maxsize=1)
def _filter_calls() -> str:
    return ",".join(f"{name}:{getattr(f, 'jinja_pass_arg', '')}" for name, f in sorted(_filters().items()))


def _image(value: str) -> str:
    """An image reference; ``${PYTHON_VERSION}``/``${NODE_VERSION}`` are dockergen's own."""
    quote.word(re.sub(r"\$\{(PYTHON|NODE)_VERSION\}", "v", value))
    return value



def run_template(name: str, context: dict[str, Any], templates: Path | None, dockerfile: str, service: str) -> str:
    """The Dockerfile the template ``name`` writes from ``context`` (``dockerfile`` and
    ``service`` locate a value the quoting refuses)."""
    # Keyed by the absolute folder: a relative one means another folder from another directory.
    env = template_environment(os.path.abspath(templates) if templates else None)
    escape_set = _ESCAPE.set(context.get("escape", "\\"))
    try:
        text = env.render(name, context)
    except quote.UnsafeValue as exc:
        raise DockergenError.single(f"{dockerfile}: {exc}", path=("services", service, "build")) from None
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
    finally:
        _ESCAPE.reset(escape_set)
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


