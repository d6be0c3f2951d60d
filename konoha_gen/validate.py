"""Stage 2: plain data -> PlatformDocument, every problem as a located Diagnostic.

Type and shape errors come from pydantic and are mapped back to the user's
file; rules that span several sections (cross-references, uniqueness,
disabled components) are checked in `references.py` once the shape is valid.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from konoha_gen.errors import Diagnostic, KonohaError
from konoha_gen.load import LoadedSpec, PathKey, format_path
from konoha_gen.model import PlatformDocument
from konoha_gen.model.common import VaultReference
from konoha_gen.references import check_references

#: Keys a consumer reads from each credential field, by field name.
CREDENTIAL_KEYS = {"credentials": "username=... password=...", "admin": "username=... password=...",
                   "webserverSecretKey": "secret-key=...", "auth": "identity=... known_hosts=..."}


def validate(loaded: LoadedSpec) -> PlatformDocument:
    """Validate the loaded spec; raise KonohaError listing every problem found."""
    try:
        document = PlatformDocument.model_validate(loaded.data)
    except ValidationError as exc:
        diagnostics = [_diagnostic(loaded, error) for error in exc.errors(include_url=False, include_input=False)]
        raise KonohaError(sorted(set(diagnostics))) from None
    problems = check_references(document, loaded)
    if problems:
        raise KonohaError(sorted(set(problems)))
    return document


def _diagnostic(loaded: LoadedSpec, error: ErrorDetails) -> Diagnostic:
    loc = tuple(error["loc"])
    kind = error["type"]
    context = error.get("ctx") or {}
    if "field" in context:  # a model-level rule about one field: point at that field
        loc = (*loc, context["field"])
        if context.get("at_key"):
            return loaded.diagnostic(loc, error["msg"], key=True)
    if "[key]" in loc:  # a bad mapping key: point at the key itself
        path = loc[: loc.index("[key]")]
        return loaded.diagnostic(path, f"invalid key: {error['msg']}", key=True)
    if kind == "extra_forbidden":
        return loaded.diagnostic(loc, "unknown key", _suggest(loc), key=True)
    if kind == "missing":
        parent = loc[:-1]
        return loaded.diagnostic(loc, "required key is missing", f"add '{loc[-1]}' under {_name(parent)}",
                                 key=bool(parent))
    if kind == "plaintext_secret":
        return loaded.diagnostic(loc, "plaintext credential refused: this field takes only a vault: reference",
                                 _vault_hint(loaded, loc))
    if kind == "plaintext_secret_url":
        return loaded.diagnostic(loc, "plaintext credentials embedded in a URL are refused",
                                 "remove user:password@ or the token parameter; give the credential as a vault: "
                                 "reference (auth)")
    message = error["msg"]
    hint = ""
    if kind == "string_type" and isinstance(_raw(loaded, loc), (int, float)):
        hint = "quote the value to make it a string"
    return loaded.diagnostic(loc, message[0].lower() + message[1:], hint)


def _name(path: PathKey) -> str:
    return format_path(path) if path else "the top level"


def _raw(loaded: LoadedSpec, loc: PathKey) -> Any:
    node: Any = loaded.data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _vault_hint(loaded: LoadedSpec, loc: PathKey) -> str:
    mount = _raw(loaded, ("spec", "secrets", "vault", "kvMount")) or "konoha"
    field = str(loc[-1])
    parent = _raw(loaded, loc[:-1])
    owner = parent.get("name") if isinstance(parent, dict) and isinstance(parent.get("name"), str) else None
    parts = [str(part) for part in loc[1:-1] if isinstance(part, str)]
    default = _field_default(loc)
    # the documented default reference (e.g. vault:minio/root), else one named after where the field sits
    fallback = "/".join(filter(None, [parts[-1] if parts else "platform", owner])).lower()
    suggested = default.path if default is not None else fallback
    keys = CREDENTIAL_KEYS.get(field, "value=...")
    return (f"store the value in Vault with `vault kv put {mount}/{suggested} {keys}` "
            f"and write `{field}: vault:{suggested}` here")


def _field_default(loc: PathKey) -> VaultReference | None:
    """The default vault: reference of the credential field at `loc`, if it has one."""
    model = _model_at(loc[:-1])
    field = next((f for name, f in model.model_fields.items() if loc[-1] in (name, f.alias)), None) if model else None
    default = field.default if field is not None else None
    return default if isinstance(default, VaultReference) else None


def _suggest(loc: PathKey) -> str:
    allowed = _allowed_keys(loc[:-1])
    if not allowed:
        return "remove it"
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "valid keys here: " + ", ".join(sorted(allowed))


def _allowed_keys(loc: PathKey) -> list[str]:
    model = _model_at(loc)
    return [f.alias or name for name, f in model.model_fields.items()] if model else []


def _model_at(loc: PathKey) -> type[BaseModel] | None:
    """The model class that validates the mapping at `loc`, found by walking field annotations."""
    annotation: Any = PlatformDocument
    for part in loc:
        model = _model_of(annotation)
        if model is None:
            annotation = _item_type(annotation)
            continue
        field = next((f for name, f in model.model_fields.items() if part in (name, f.alias)), None)
        if field is None:
            return None
        annotation = field.annotation
    return _model_of(annotation)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            model = _model_of(arg)
            if model is not None:
                return model
    return None


def _item_type(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    return args[-1] if args else None
