"""Committed files derived from the code must be current; the schema must be useful."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from konoha_gen.cli import main
from konoha_gen.schema import json_schema, markdown_reference
from tests.conftest import ROOT, SPEC


def test_the_committed_json_schema_is_current() -> None:
    committed = (ROOT / "spec" / "konoha.schema.json").read_text()
    assert committed == json_schema(), "spec/konoha.schema.json is stale: run `konoha-gen schema`"


def test_the_committed_spec_reference_is_current() -> None:
    committed = (ROOT / "docs" / "spec-reference.md").read_text()
    assert committed == markdown_reference(), "docs/spec-reference.md is stale: run `konoha-gen schema`"


def test_the_spec_validates_against_the_json_schema_and_typos_do_not() -> None:
    schema = json.loads(json_schema())
    spec = YAML(typ="safe").load(SPEC.read_text())
    jsonschema.Draft202012Validator(schema).validate(spec)
    spec["spec"]["cluster"]["kubernetesVerison"] = "1.31"
    with pytest.raises(jsonschema.ValidationError, match="kubernetesVerison"):
        jsonschema.Draft202012Validator(schema).validate(spec)


def test_the_reference_documents_every_section_of_the_example() -> None:
    reference = markdown_reference()
    spec = YAML(typ="safe").load(SPEC.read_text())
    for section, body in spec["spec"].items():
        assert f"## `spec.{section}`" in reference or f"## `spec.{section}[]`" in reference
        if isinstance(body, dict):
            for key in body:
                assert f"`{key}`" in reference


def test_schema_to_stdout(tmp_path: object) -> None:
    result = CliRunner().invoke(main, ["schema", "-o", "-"])
    assert result.exit_code == 0
    assert result.output == json_schema()


def test_secrets_command_lists_the_inventory_shown_in_out_readme() -> None:
    result = CliRunner().invoke(main, ["secrets", str(SPEC), "--format", "json"])
    assert result.exit_code == 0, result.output
    listing = json.loads(result.output)
    readme = (ROOT / "out" / "README.md").read_text()
    assert listing["mount"] == "konoha"
    assert {s["path"] for s in listing["secrets"]} >= {"minio/root", "sources/shop", "sources/billing",
                                                       "keycloak/admin"}
    for entry in listing["secrets"]:
        assert entry["keys"] and entry["readers"] and entry["origin"] in ("generated", "manual")
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{entry['path']}` |"))
        assert row.endswith(f"| {entry['origin']} |")
        assert ", ".join(entry["keys"]) in row
        for reader in entry["readers"]:
            assert reader["component"] in row
    text = CliRunner().invoke(main, ["secrets", str(SPEC)]).output
    assert "konoha/sources/shop" in text and "manual" in text


def test_out_readme_graph_is_the_resolved_graph() -> None:
    graph = CliRunner().invoke(main, ["graph", str(SPEC)]).output
    assert graph.startswith("graph TD\n")
    # VSO (and its CRDs) comes first; Vault's folder holds the VaultConnection, and Keycloak reads from Vault.
    assert "  vault_secrets_operator --> vault\n" in graph
    assert "  vault --> keycloak\n" in graph
    assert "  vault --> vault_secrets_operator\n" not in graph
    assert graph in (ROOT / "out" / "README.md").read_text()


def test_graph_as_dot_has_the_same_edges_and_errors_stay_text(tmp_path: Path) -> None:
    dot = CliRunner().invoke(main, ["graph", str(SPEC), "--format", "dot"])
    assert dot.exit_code == 0 and dot.output.startswith('digraph "konoha" {')
    assert '  "vault-secrets-operator" -> "vault";\n' in dot.output
    assert '  "vault" -> "vault-secrets-operator";\n' not in dot.output
    broken = tmp_path / "konoha.yaml"
    broken.write_text(SPEC.read_text().replace("brokers: 1", "brokers: x"))
    result = CliRunner().invoke(main, ["graph", str(broken), "--format", "dot"])
    assert result.exit_code == 2 and "spec.streaming.kafka.brokers" in result.output
