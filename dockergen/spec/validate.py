"""Validate loaded spec data against the model, reporting every problem with its position."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from dockergen.errors import DockergenError, Problem
from dockergen.spec import model
from dockergen.spec.load import LoadedSpec

_MEMORY_HINT = "use Compose units: 512M, 1G (no `B`, e.g. 4G not 4GB)"


def _all_field_names() -> set[str]:
    names: set[str] = set()
    for value in vars(model).values():
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
            for name, info in value.model_fields.items():
                names.add(info.alias or name)
    return names


def validate(loaded: LoadedSpec) -> model.Spec:
    try:
        return model.Spec.model_validate(loaded.data)
    except ValidationError as exc:
        raise DockergenError(_problems(exc, loaded)) from None


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
    return any(c in part for c in "[]()") or part in {"str", "int", "float", "bool", "list", "dict", "none"}


def _problems(exc: ValidationError, loaded: LoadedSpec) -> list[Problem]:
    grouped: dict[tuple[str | int, ...], list[dict[str, Any]]] = {}
    for error in exc.errors():
        grouped.setdefault(_data_path(error["loc"], loaded.data), []).append(error)
    known = _all_field_names()
    problems = []
    for path, errors in grouped.items():
        kinds = {e["type"] for e in errors}
        hint = None
        if "extra_forbidden" in kinds:
            key = str(path[-1]) if path else ""
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.7)
            message = f"unknown key {key!r}"
            hint = f"did you mean `{close[0]}`?" if close else "remove it, or check the reference spec in specs/"
        elif "missing" in kinds:
            message = "required key is missing"
        else:
            messages = []
            for e in errors:
                text = e["msg"]
                if e["type"] == "string_pattern_mismatch":
                    text = f"{e.get('input')!r} does not match the expected format"
                if text not in messages:
                    messages.append(text)
            message = "; or ".join(messages[:3])
            if path and path[-1] == "memory":
                hint = _MEMORY_HINT
            elif any(e["type"] == "string_pattern_mismatch" and "(us|ms|s|m|h)" in str(e.get("ctx")) for e in errors):
                hint = "durations look like 30s, 1m30s, 500ms"
        problems.append(Problem(message, loaded.source.locate(path), path, hint))
    problems.sort(key=lambda p: (p.location.line or 0, p.location.column or 0) if p.location else (0, 0))
    return problems
