"""The Jinja environment Dockerfile templates render in.

A project's template folder is input like the spec: ``check``, ``validate``, ``lint`` and
``doctor`` render it in CI on every pull request. So templates render in a sandbox that
runs no Python code of theirs and reads no file outside the template folders, and every
render is bounded: no amplification (``"x" * 10**9``, ``9 ** 9 ** 9``, ``center(10**9)``,
``"%999999999s"``), no runaway loop or recursion, no output beyond ``MAX_OUTPUT``.

On top of Jinja's ``ImmutableSandboxedEnvironment`` (no ``_``/``__`` attributes, no
``mro``, no mutation of lists and dicts): the only global is a bounded ``range``; a
template may read data and call macros, loop helpers and a few plain ``str``/``dict``
methods, nothing else (no ``format``); filters have their size arguments checked; and one
work budget per render is spent by every loop iteration, call and produced string.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import stat
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.loaders import split_template_path
from jinja2.runtime import BlockReference, LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_TEMPLATE_BYTES = 1_000_000
MAX_OUTPUT = 4_000_000  # characters of one rendered file
MAX_STRING = 1_000_000  # characters of any value a template computes
MAX_COUNT = 10_000  # a width, count or repetition argument
MAX_WORK = 1_000_000  # loop iterations + calls + produced characters / 64, per render
MAX_INT_BITS = 256

_SAFE_METHODS = {
    str: {
        "capitalize", "count", "endswith", "find", "isalnum", "isalpha", "isdigit", "islower", "isspace",
        "isupper", "join", "lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace",
        "rfind", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "title", "upper",
    },
    dict: {"get", "items", "keys", "values"},
    list: {"count", "index"},
    tuple: {"count", "index"},
}  # fmt: skip
_PRINTF_FIELD = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|[0-9]*)(?:\.(\*|[0-9]*))?")


class TemplateLimit(SecurityError):
    """A template went past one of the bounds of a render."""


class TemplateLoader(jinja2.BaseLoader):
    """Templates from one folder: no name may leave it, through ``..`` or a symbolic link,
    and only regular files are read (a FIFO would block the render)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory  # as given: error messages name templates by it
        self.root = os.path.realpath(directory)

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = os.path.join(self.directory, *split_template_path(template))  # refuses `..` parts
        real = os.path.realpath(path)
        if os.path.commonpath([real, self.root]) != self.root:
            raise jinja2.TemplateError(f"template {template!r} leaves the template folder (it links to {real})")
        try:
            info = os.stat(real)
        except OSError:
            raise jinja2.TemplateNotFound(template) from None
        if not stat.S_ISREG(info.st_mode):
            raise jinja2.TemplateError(f"template {template!r} is not a regular file")
        if info.st_size > MAX_TEMPLATE_BYTES:
            raise jinja2.TemplateError(f"template {template!r} is larger than {MAX_TEMPLATE_BYTES} bytes")
        # Opened without blocking and judged again by what was opened: a file swapped for a
        # FIFO after the stat above must not hang the render.
        with open(os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)), "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise jinja2.TemplateError(f"template {template!r} is not a regular file")
            data = handle.read(MAX_TEMPLATE_BYTES + 1)
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise jinja2.TemplateError(f"template {template!r} is not UTF-8 ({exc.reason} at byte {exc.start})") from None
        return source, path, lambda: os.path.exists(real) and os.stat(real).st_mtime == info.st_mtime


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles every ``for`` to iterate through the budget and every ``~`` to a bounded join."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        node.iter = nodes.Call(nodes.EnvironmentAttribute("budgeted"), [node.iter], [], None, None)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """One render at a time: ``render`` starts a fresh work budget."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, loader: jinja2.BaseLoader, filters: dict[str, Callable[..., Any]], bytecode_cache: jinja2.BytecodeCache | None = None) -> None:
        super().__init__(
            loader=loader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False, bytecode_cache=bytecode_cache
        )
        self.globals = {"range": self._range}
        self.filters = {name: _bounded_filter(self, name, f) for name, f in {**self.filters, **filters}.items() if name != "random"}
        self._work = 0

    def render(self, name: str, context: dict[str, Any]) -> str:
        self._work = 0
        out: list[str] = []
        size = 0
        for chunk in self.get_template(name).generate(**context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateLimit(f"the rendered file would be longer than {MAX_OUTPUT} characters")
            out.append(chunk)
        return "".join(out)

    def spend(self, units: int) -> None:
        self._work += units
        if self._work > MAX_WORK:
            raise TemplateLimit(f"the template does more than {MAX_WORK} steps of work (loops, calls, text)")

    def checked(self, value: Any) -> Any:
        if isinstance(value, (str, list, tuple, dict)):
            if len(value) > MAX_STRING:
                raise TemplateLimit(f"a value of more than {MAX_STRING} items or characters")
            self.spend(1 + len(value) // 64)
        elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise TemplateLimit(f"a number of more than {MAX_INT_BITS} bits")
        return value

    def budgeted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.spend(1)
            yield item

    def bounded_concat(self, parts: tuple[Any, ...]) -> str:
        if sum(len(part) if isinstance(part, str) else 64 for part in parts) > MAX_STRING:
            raise TemplateLimit(f"a string of more than {MAX_STRING} characters")
        return self.checked("".join(str(part) for part in parts))

    def _range(self, *args: int) -> Iterator[int]:
        return self.budgeted(range(*args))

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        # Data, macros and the loop's helpers; of other callables only plain str/dict methods.
        if not callable(value) or isinstance(value, (Macro, BlockReference)) or isinstance(obj, LoopContext):
            return True
        return attr in _SAFE_METHODS.get(type(obj), ())

    def wrap_str_format(self, value: Any) -> None:
        """No ``str.format``/``format_map``: a width field (``{:>999999999}``) is unbounded; ``~`` joins."""
        return None

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        __self.spend(1)
        if isinstance(__obj, LoopContext) and args:  # a recursive loop's next level
            args = (__self.budgeted(args[0]), *args[1:])
        if getattr(__obj, "__name__", None) == "replace" and isinstance(getattr(__obj, "__self__", None), str):
            _check_replace(__obj.__self__, args)
        return __self.checked(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return self.checked(super().call_binop(context, operator, left, right))


# Filters whose integer arguments are widths or counts of what they make.
_SIZED_FILTERS = {"batch", "center", "indent", "slice", "truncate", "wordwrap"}


def _bounded_filter(env: TemplateSandbox, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = [a for a in args if not isinstance(a, (jinja2.runtime.Context, nodes.EvalContext, jinja2.Environment))]
        subject, rest = (values[0], values[1:]) if values else (None, [])
        if name in _SIZED_FILTERS:
            for value in [*rest, *kwargs.values()]:
                if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_COUNT:
                    raise TemplateLimit(f"{name}({value}): over the limit of {MAX_COUNT}")
        if isinstance(subject, str):
            if name == "format":
                _check_printf(subject)
            elif name == "replace":
                _check_replace(subject, rest)
            elif name == "indent":
                width = kwargs.get("width", rest[0] if rest else 4)
                if (subject.count("\n") + 1) * (len(width) if isinstance(width, str) else int(width)) > MAX_STRING:
                    raise TemplateLimit("indent would make a string too long")
        if name == "join" and isinstance(subject, (list, tuple)):
            separator = kwargs.get("d", rest[0] if rest else "")
            if isinstance(separator, str) and len(separator) * len(subject) > MAX_STRING:
                raise TemplateLimit("join would make a string too long")
        return env.checked(function(*args, **kwargs))

    bounded.__name__ = getattr(function, "__name__", name)
    if hasattr(function, "jinja_pass_arg"):  # how Jinja passes it the context or environment
        bounded.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return bounded


def _check_replace(subject: str, args: Iterable[Any]) -> None:
    old, new, *_ = [*args, "", ""]
    if isinstance(old, str) and isinstance(new, str):
        grows = max(len(new) - len(old), 0) * (subject.count(old) if old else len(subject) + 1)
        if len(subject) + grows > MAX_STRING:
            raise TemplateLimit("replace would make a string too long")


def _check_printf(text: str) -> None:
    for width, precision in _PRINTF_FIELD.findall(text):
        for number in (width, precision):
            if number == "*" or (number and int(number) > MAX_COUNT):
                raise TemplateLimit(f"format width {number} is over the limit of {MAX_COUNT}")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    sized = (str, list, tuple)
    if operator == "*":
        if isinstance(left, sized) and isinstance(right, int) or isinstance(right, sized) and isinstance(left, int):
            length, times = (len(left), right) if isinstance(left, sized) else (len(right), left)
            if length * max(times, 0) > MAX_STRING:
                raise TemplateLimit(f"repeating would make a value of more than {MAX_STRING} items")
        elif isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TemplateLimit(f"a number of more than {MAX_INT_BITS} bits")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int):
        if right > MAX_INT_BITS or left.bit_length() * max(right, 0) > MAX_INT_BITS:
            raise TemplateLimit(f"a number of more than {MAX_INT_BITS} bits")
    elif operator == "%" and isinstance(left, str):
        _check_printf(left)
    elif operator == "+" and isinstance(left, sized) and isinstance(right, sized) and len(left) + len(right) > MAX_STRING:
        raise TemplateLimit(f"a value of more than {MAX_STRING} items or characters")


@functools.lru_cache(maxsize=1)
def compiler_fingerprint() -> str:
    """What compiled template code depends on besides its source: this module (the code
    generator and the sandbox's hooks) and Jinja's version."""
    with open(__file__, "rb") as handle:
        return hashlib.sha256(handle.read() + jinja2.__version__.encode()).hexdigest()[:16]


def template_line(exc: BaseException, root: str) -> tuple[str, int] | None:
    """The template file (under ``root``) and line a render error happened at: Jinja
    rewrites the traceback so that its frames name template lines."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename and os.path.realpath(frame.filename).startswith(root + os.sep) and frame.lineno:
            found = (frame.filename, frame.lineno)
    return found
