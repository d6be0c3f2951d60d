"""The JSON Schema of konoha.yaml, for editors (yaml-language-server)."""

from __future__ import annotations

import json

from konoha_gen.model import PlatformDocument

SCHEMA_ID = "https://konoha.dev/schemas/v1alpha1/konoha.schema.json"


def json_schema() -> str:
    schema = PlatformDocument.model_json_schema(by_alias=True, mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
