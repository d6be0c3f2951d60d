"""The JSON Schema of konoha.yaml, for editors (yaml-language-server)."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from konoha_gen.model import PlatformDocument
from konoha_gen.model.common import VaultReference

SCHEMA_ID = "https://konoha.dev/schemas/v1alpha1/konoha.schema.json"


def json_schema() -> str:
    schema = PlatformDocument.model_json_schema(by_alias=True, mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def markdown_reference() -> str:
    """docs/spec-reference.md: every key of konoha.yaml with type, default and meaning."""
    lines = ["# konoha.yaml reference (v1alpha1)", "",
             "Generated from the spec models by `konoha-gen schema`; do not edit.", ""]
    seen: set[tuple[str, str]] = set()
    _document_model(PlatformDocument, "", lines, seen)
    return "\n".join(lines) + "\n"


def _document_model(model: type[BaseModel], path: str, lines: list[str], seen: set[tuple[str, str]]) -> None:
    title = path or "(document root)"
    lines += [f"## `{title}`", "", "| key | type | default | description |", "|---|---|---|---|"]
    nested: list[tuple[type[BaseModel], str]] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        default = "required" if field.is_required() else _default_text(field)
        lines.append(f"| `{key}` | {_type_text(field.annotation)} | {default} | {field.description or ''} |")
        for sub in _models_in(field.annotation):
            child = f"{path}.{key}" if path else key
            if typing.get_origin(field.annotation) is list or "list[" in str(field.annotation):
                child += "[]"
            nested.append((sub, child))
    lines.append("")
    for sub, child in nested:
        if (sub.__name__, child) not in seen:
            seen.add((sub.__name__, child))
            _document_model(sub, child, lines, seen)


def _default_text(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return "`" + json.dumps([v.model_dump(by_alias=True, exclude_defaults=True) for v in value]) + "`"
    return "`" + json.dumps(str(value) if isinstance(value, VaultReference) else value) + "`"


def _type_text(annotation: Any) -> str:
    """A readable type: list[Name] -> 'list of str', Literal['a', 'b'] -> "'a' or 'b'"."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_text(args[0])
    if annotation is VaultReference:  # written as the string it is parsed from
        return "str"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_text(a) for a in args if a is not type(None))
    if origin is typing.Literal:
        return " or ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {_type_text(args[0])}"
    if origin is dict:
        return f"map of {_type_text(args[0])} to {_type_text(args[1])}"
    return getattr(annotation, "__name__", str(annotation))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
