"""The spec's JSON Schema, each field described by the docstring written under it in
``model.py``.

The models are built without pydantic's ``use_attribute_docstrings``: it re-parses the
module's source for every class, a third of importing the models, which every command
pays for and only this one needs. The same docstrings are read here once, with the rule
pydantic applies (the string right after a field's annotation, in the class that
annotates it; an explicit ``description`` wins).
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

from pydantic import BaseModel

from dockergen.spec import model
from dockergen.spec.model import Spec


def spec_json_schema() -> dict[str, Any]:
    """``Spec``'s JSON Schema (by alias), with field descriptions."""
    schema = Spec.model_json_schema(by_alias=True)
    docs = _attribute_docstrings()
    for name, definition in [("Spec", schema), *schema.get("$defs", {}).items()]:
        cls = getattr(model, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            _describe(cls, definition.get("properties", {}), docs)
    return schema


def _describe(cls: type[BaseModel], properties: dict[str, Any], docs: dict[str, dict[str, str]]) -> None:
    for field, info in cls.model_fields.items():
        node = properties.get(info.alias or field)
        if node is None or "description" in node:
            continue
        # The class that (re)annotates the field last owns its docstring, or has none.
        owner = next(klass for klass in cls.__mro__ if field in klass.__dict__.get("__annotations__", {}))
        doc = docs.get(owner.__name__, {}).get(field)
        if doc:
            node["description"] = doc


def _attribute_docstrings() -> dict[str, dict[str, str]]:
    """Class name -> field -> the docstring under its annotation, for every class in ``model``."""
    found: dict[str, dict[str, str]] = {}
    for node in ast.parse(inspect.getsource(model)).body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields = found.setdefault(node.name, {})
        for statement, following in zip(node.body, node.body[1:]):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                fields[statement.target.id] = inspect.cleandoc(following.value.value)
    return found
