"""The wiring check reads the Vault roles and policies of a vault.tf the emitter rendered from the record the
emitter kept of that exact text (konoha_gen/vault_grants.py), instead of parsing the HCL. Sound only while the
record says what the text says: for the reference spec and every golden scenario, the record and python-hcl2's
reading of the generated terraform/10-vault must be equal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from konoha_gen.artifact import Artifact
from konoha_gen.check.terraform import parsed_roles_and_policies, vault_roles_and_policies
from konoha_gen.emit import emit_all
from konoha_gen.pipeline import compile_platform
from konoha_gen.vault_grants import recorded
from tests.conftest import ROOT, SPEC

SPECS = [SPEC, *sorted((ROOT / "tests" / "scenarios").glob("*/konoha.yaml"))]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.parent.name)
def test_the_recorded_grants_are_what_the_hcl_says(spec: Path) -> None:
    stage = [a for a in emit_all(compile_platform(spec)) if a.path.startswith("terraform/10-vault/")]
    assert any(recorded(a.content) for a in stage), "the emitter recorded no vault.tf"
    roles, policies = vault_roles_and_policies(stage)
    assert roles, "no role: the comparison would be empty"
    assert (roles, policies) == parsed_roles_and_policies(stage)


def test_a_text_without_a_record_is_parsed() -> None:
    text = ('resource "vault_policy" "p" {\n  name   = "x"\n  policy = <<-EOT\n    path "kv/data/a" {\n'
            '      capabilities = ["read"]\n    }\n  EOT\n}\n')
    roles, policies = vault_roles_and_policies([Artifact("terraform/10-vault/vault.tf", text)])
    assert (roles, policies) == ({}, {"x": {"kv/data/a"}})
