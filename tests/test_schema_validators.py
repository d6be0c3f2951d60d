"""The schema check asks jsonschema-rs first and jsonschema only about documents it finds invalid
(konoha_gen/check/k8s.py). That is sound only while the two give the same verdict: here they judge every
Kubernetes document of the reference spec and of every golden scenario, and thousands of mutations of them
(unknown fields, wrong types, values outside an enum, missing fields), and must agree on each.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from konoha_gen.check.k8s import SchemaSet, kubernetes_objects
from konoha_gen.emit import emit_all
from konoha_gen.pipeline import compile_platform
from tests.conftest import ROOT, SPEC

SPECS = [SPEC, *sorted((ROOT / "tests" / "scenarios").glob("*/konoha.yaml"))]
SCHEMAS = SchemaSet("1.31")


def documents(spec: Path) -> list[dict[str, Any]]:
    return [doc for _, doc in kubernetes_objects(emit_all(compile_platform(spec)))]


def verdicts(doc: dict[str, Any]) -> tuple[bool, bool]:
    """(jsonschema-rs says valid, jsonschema finds no error)."""
    schema = SCHEMAS._schema(doc["apiVersion"], doc["kind"])
    assert schema is not None, f"no schema for {doc['apiVersion']} {doc['kind']}"
    return schema.is_valid(doc), not any(True for _ in schema.iter_errors(doc))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.parent.name)
def test_both_validators_find_every_generated_document_valid(spec: Path) -> None:
    for doc in documents(spec):
        assert verdicts(doc) == (True, True), f"{doc['kind']} {doc['metadata'].get('name')}"


REFERENCE_DOCUMENTS = documents(SPEC)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _paths(item, (*path, index))
    return found


_REPLACEMENTS = st.sampled_from([None, True, 0, -1, 3.5, "", "x", "Always", [], {}, ["x"], {"unknown": 1}])


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_both_validators_agree_on_mutated_documents(data: st.DataObject) -> None:
    doc = copy.deepcopy(data.draw(st.sampled_from(REFERENCE_DOCUMENTS)))
    path = data.draw(st.sampled_from([p for p in _paths(doc) if len(p) >= 2]))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    action = data.draw(st.sampled_from(["replace", "delete", "add-unknown"]))
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == "add-unknown" and isinstance(parent, dict):
        parent["konohaUnknownField"] = data.draw(_REPLACEMENTS)
    else:
        parent[path[-1]] = data.draw(_REPLACEMENTS)
    fast, full = verdicts(doc)
    assert fast == full, f"{doc['kind']}: {action} at {path}: jsonschema-rs says {fast}, jsonschema {full}"
