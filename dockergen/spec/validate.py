"""Validate loaded spec data against the model, reporting every problem with its position."""

from __future__ import annotations

import difflib
import functools
import re
import types
import typing
from collections import deque
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from dockergen.errors import DockergenError, Problem
from dockergen.render import yaml_out
from dockergen.spec import model
from dockergen.spec.load import LoadedSpec



def _all_field_names() -> set[str]:
    names: set[str] = set()
    for value in vars(model).values():
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
            for name, info in value.model_fields.items():
                names.add(info.alias or name)
    return names


def _field_names(cls: type[BaseModel]) -> dict[str, Any]:
    return {info.alias or name: info.annotation for name, info in cls.model_fields.items()}


def alternatives(annotation: Any) -> list[Any]:
    """The alternatives of an annotation: union members, with ``Annotated`` unwrapped."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return alternatives(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [alt for arg in typing.get_args(annotation) for alt in alternatives(arg)]
    return [annotation]


def _models_at(path: tuple[str | int, ...]) -> list[type[BaseModel]]:
    """The models that can sit at ``path`` of a spec (usually one)."""
    current: list[Any] = [model.Spec]
    for part in path:
        nxt: list[Any] = []
        for annotation in current:
            for alt in alternatives(annotation):
                origin = typing.get_origin(alt)
                if isinstance(alt, type) and issubclass(alt, BaseModel):
                    if isinstance(part, str) and part in _field_names(alt):
                        nxt.append(_field_names(alt)[part])
                elif origin is dict and isinstance(part, str):
                    nxt.append(typing.get_args(alt)[1])
                elif origin is list and isinstance(part, int):
                    nxt.append(typing.get_args(alt)[0])
        current = nxt
    found: list[type[BaseModel]] = []
    for annotation in current:
        for alt in alternatives(annotation):
            if isinstance(alt, type) and issubclass(alt, BaseModel) and alt not in found:
                found.append(alt)
    return found


def _nested_path(start: list[type[BaseModel]], key: str) -> str | None:
    """The shortest ``a.b.key`` below one of ``start`` (through model fields only)."""
    queue: deque[tuple[type[BaseModel], str]] = deque((cls, "") for cls in start)
    seen: set[type[BaseModel]] = set(start)
    while queue:
        cls, prefix = queue.popleft()
        fields = _field_names(cls)
        if prefix and key in fields:
            return f"{prefix}.{key}"
        for name, annotation in fields.items():
            for alt in alternatives(annotation):
                if isinstance(alt, type) and issubclass(alt, BaseModel) and alt not in seen:
                    seen.add(alt)
                    queue.append((alt, f"{prefix}.{name}" if prefix else name))
    return None


def _unknown_key_hint(path: tuple[str | int, ...], known: set[str]) -> str:
    key = str(path[-1]) if path else ""
    here = _models_at(path[:-1])
    local = sorted({name for cls in here for name in _field_names(cls)})
    close = difflib.get_close_matches(key, local, n=1, cutoff=0.7)
    if close:
        return f"did you mean `{close[0]}`?"
    nested = _nested_path(here, key)
    if nested:
        return f"did you mean `{nested}`?"
    close = difflib.get_close_matches(key, sorted(known - {key}), n=1, cutoff=0.7)
    if close and not here:
        return f"did you mean `{close[0]}`?"
    if 0 < len(local) <= 12:
        return f"allowed here: {', '.join(local)}"
    return "remove it, or check the reference spec in specs/"


def validate(loaded: LoadedSpec) -> model.Spec:
    unwritable = list(_unwritable(loaded.data))
    if unwritable:
        raise DockergenError([Problem(message, loaded.source.locate(path), path, hint) for path, message, hint in unwritable])
    try:
        return model.Spec.model_validate(loaded.data, context={})  # carries a Dockerfile's escape to its steps
    except ValidationError as exc:
        raise DockergenError(_problems(exc, loaded)) from None


_SURROGATE_HINT = "a YAML `\\u` escape names one code point: write the character itself, or `\\U0001F600` for one beyond U+FFFF"
# Compose, Docker and Kubernetes (Go) read a whole number into 64 bits; a larger one becomes a
# float that loses digits, or is refused (`invalid type float64 for ulimits`).
_INT64 = 2**63 - 1


def _unwritable(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """Values no generated file can carry: strings with a lone surrogate (UTF-8 has none),
    keys included, and whole numbers beyond 64 bits."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        for text, where in ((key, "key"), (value, "value")):
            if isinstance(text, str) and not text.isascii() and any("\ud800" <= char <= "\udfff" for char in text):  # ASCII: none, at C speed
                yield (*path, key), f"the {where} {text!r} holds a lone surrogate, which no UTF-8 file can carry", _SURROGATE_HINT
            elif type(text) is int and not -_INT64 - 1 <= text <= _INT64:
                yield (*path, key), f"the number {str(text)[:30]}{'...' if len(str(text)) > 30 else ''} is beyond 64 bits, which Compose, Docker and Kubernetes cannot read", "give a smaller number, or quote it to make it a string"
        yield from _unwritable(value, (*path, key))


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[str | int, ...]:
    """Keep the parts of pydantic's ``loc`` that are real keys; drop union member tags."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part not in node and not _is_tag(part):
            path.append(part)  # a missing or unknown key: still the user's path
            node = None
    return tuple(path)


def _is_tag(part: str) -> bool:
    return (
        any(c in part for c in "[]()")
        or part in {"str", "int", "float", "bool", "list", "dict", "none"}
        or part in _MODEL_NAMES  # a union member that is a model, e.g. `PortSpec`
    )


_MODEL_NAMES = {
    name for name, value in vars(model).items() if isinstance(value, type) and issubclass(value, BaseModel)
}


def _pattern_message(path: tuple[str | int, ...], pattern: str) -> str:
    """What a pattern means in words (``model.matching``): the field's own, else the named
    type's (``Name``, ``Duration`` ... in a list or as a mapping key)."""
    if path and isinstance(path[-1], str):
        for cls in _models_at(path[:-1]):
            info = next((i for n, i in cls.model_fields.items() if (i.alias or n) == path[-1]), None)
            extra = info.json_schema_extra if info is not None else None
            if isinstance(extra, dict) and "patternErrorMessage" in extra:
                return str(extra["patternErrorMessage"])
    return _pattern_messages().get(pattern, f"must match {pattern}")


@functools.cache
def _pattern_messages() -> dict[str, str]:
    """Each pattern of the model and its ``patternErrorMessage``, read from the JSON Schema
    (an optional field carries the message beside the ``anyOf`` that holds the pattern)."""
    found: dict[str, str] = {}

    def visit(node: Any, message: str | None) -> None:
        if isinstance(node, dict):
            message = node.get("patternErrorMessage", message)
            if "pattern" in node and message:
                found.setdefault(node["pattern"], message)
            for key, value in node.items():
                visit(value, message if key in ("anyOf", "oneOf", "allOf") else None)
        elif isinstance(node, list):
            for value in node:
                visit(value, message)

    visit(model.Spec.model_json_schema(), None)
    return found


def _literal_message(error: dict[str, Any]) -> str:
    """``must be one of: a, b (got 'x')`` and the closest allowed value, if one is close."""
    expected = str(error.get("ctx", {}).get("expected", ""))
    # pydantic quotes strings (`'a' or 'b'`) but not numbers (`1, 2 or 3`).
    allowed = re.findall(r"'((?:[^'\\]|\\.)*)'", expected) or [v for v in re.split(r", | or ", expected) if v]
    got = error.get("input")
    if len(allowed) == 1:
        text = f"must be {allowed[0]} (got {got!r})"
    else:
        text = f"must be one of: {', '.join(allowed)} (got {got!r})" if allowed else error["msg"]
    close = difflib.get_close_matches(str(got), allowed, n=1, cutoff=0.6) if isinstance(got, str) else []
    return text + (f"; did you mean {close[0]!r}?" if close else "")


def _string_type_message(got: Any, default: str) -> str:
    """A string field given a YAML number or boolean: the fix is quoting, and a float has
    already lost its text (``3.10`` is read as ``3.1``), so say so."""
    if isinstance(got, bool):
        return f"must be a string, and YAML read an unquoted {str(got).lower()} as a boolean: write the value in quotes"
    if isinstance(got, float):
        return f"must be a string, and YAML read an unquoted number ({got!r}): write the value in quotes as you mean it (unquoted 3.10 is the number 3.1)"
    if isinstance(got, int):
        return f"must be a string, and YAML read an unquoted number ({got!r}): write the value in quotes"
    return default


SHAPES = {
    "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping", "list_type": "a list",
    "string_type": "a string", "int_type": "a whole number", "int_parsing": "a whole number", "float_type": "a number",
    "float_parsing": "a number", "bool_type": "true or false", "bool_parsing": "true or false",
}  # fmt: skip
# Compose's list forms the spec writes as mappings (`- KEY=value`).
KEY_VALUE_LISTS = {"environment", "labels", "build_args"}


def _described(got: Any) -> str:
    if isinstance(got, bool):
        return str(got).lower()
    if isinstance(got, int | float):
        return f"the number {got!r}"
    if isinstance(got, str):
        return f"the text {got!r}"
    return {dict: "a mapping", list: "a list", type(None): "null"}.get(type(got), type(got).__name__)


def _shape_problem(path: tuple[str | int, ...], errors: list[dict[str, Any]]) -> tuple[str, str | None]:
    """A value of the wrong shape: which shapes the field takes and what it got, and for
    Compose's spellings of a field (`environment: [KEY=value]`, `build: .`) the spec's one."""
    wanted = list(dict.fromkeys(SHAPES[e["type"]] for e in errors))
    got = errors[0].get("input")
    message = f"must be {' or '.join(wanted)} (got {_described(got)})"
    field = next((part for part in reversed(path) if isinstance(part, str)), "")
    hint = None
    if field in KEY_VALUE_LISTS and isinstance(got, list) and all(isinstance(i, str) for i in got):
        pairs = [item.partition("=") for item in got]
        hint = "write Compose's `- KEY=value` list as a mapping: `" + field + ": {" + ", ".join(
            f"{yaml_out.flow_scalar(k)}: {yaml_out.flow_scalar(v)}" for k, _, v in pairs) + "}`"  # fmt: skip
    elif field == "build" and isinstance(got, str):
        hint = f"write `build: {{family: python, context: {yaml_out.flow_scalar(got)}}}`; the other families are node and generic (your own `stages`)"
    elif field == "healthcheck" and isinstance(got, str):
        hint = (f"write `healthcheck: {{http: {yaml_out.flow_scalar(got)}}}` (a route the app answers)" if got.startswith("/")
                else f"write `healthcheck: {{test: [CMD-SHELL, {yaml_out.flow_scalar(got)}]}}`, or `{{http: /route}}` for an HTTP probe")  # fmt: skip
    elif field == "healthcheck" and isinstance(got, list):
        hint = f"write `healthcheck: {{test: [{', '.join(yaml_out.flow_scalar(str(i)) for i in got)}]}}`"
    elif len(path) == 2 and path[0] == "services" and isinstance(got, str):
        hint = f"a service is a mapping of its settings, e.g. `{field}: {{image: {yaml_out.flow_scalar(got)}}}`"
    elif "a list" in wanted and "a string" not in wanted and isinstance(got, str | int | float):
        item = f"{got}:{got}" if field == "ports" and isinstance(got, int) else str(got)
        hint = f"write a list: `{field}: [{yaml_out.flow_scalar(item)}]`"
    return message, hint


def _problems(exc: ValidationError, loaded: LoadedSpec) -> list[Problem]:
    grouped: dict[tuple[str | int, ...], list[dict[str, Any]]] = {}
    for error in exc.errors():
        grouped.setdefault(_data_path(error["loc"], loaded.data), []).append(error)
    # A union (`list | dict`, ...) reports "should be a valid list" for the member the
    # user did not mean; when the member they did mean has a finding deeper down, that
    # finding is the useful one.
    for path in list(grouped):
        wrong_type_only = all(e["type"].endswith("_type") for e in grouped[path])
        deeper = any(len(other) > len(path) and other[: len(path)] == path for other in grouped)
        if wrong_type_only and deeper:
            del grouped[path]
    known = _all_field_names()
    problems = []
    for path, errors in grouped.items():
        kinds = {e["type"] for e in errors}
        hint = None
        if "extra_forbidden" in kinds:
            message = f"unknown key {str(path[-1]) if path else ''!r}"
            hint = _unknown_key_hint(path, known)
        elif "missing" in kinds:
            message = "required key is missing"
        elif kinds <= set(SHAPES) and kinds != {"string_type"}:
            message, hint = _shape_problem(path, errors)
        else:
            messages = []
            for e in errors:
                text = e["msg"]
                if e["type"] == "value_error":
                    text = text.removeprefix("Value error, ")
                if e["type"] == "string_pattern_mismatch":
                    text = f"{_pattern_message(path, e['ctx']['pattern'])} (got {e.get('input')!r})"
                if e["type"] == "literal_error":
                    text = _literal_message(e)
                if e["type"] == "string_type":
                    text = _string_type_message(e.get("input"), text)
                if text not in messages:
                    messages.append(text)
            message = "; or ".join(messages[:3])
        problems.append(Problem(message, loaded.source.locate(path), path, hint))
    problems.sort(key=lambda p: (p.location.line or 0, p.location.column or 0) if p.location else (0, 0))
    return problems
