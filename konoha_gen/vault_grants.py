"""The Vault roles and policies terraform/10-vault declares, as data: what the wiring check compares with the VSO
objects.

The emitter records them beside the vault.tf text it renders from them, so the check need not parse HCL (python-hcl2
costs more than the rest of a small build's checks); the check parses any text it has no record of.
tests/test_vault_grants.py holds the record and the parse of every generated vault.tf equal.
"""

from __future__ import annotations

from dataclasses import dataclass

from konoha_gen.artifact import below_header


@dataclass(frozen=True)
class TerraformRole:
    """A Vault Kubernetes-auth role as terraform/10-vault declares it."""

    name: str
    service_accounts: tuple[str, ...]
    namespaces: tuple[str, ...]
    policies: tuple[str, ...]


@dataclass(frozen=True)
class VaultGrants:
    roles: dict[str, TerraformRole]
    policies: dict[str, frozenset[str]]  # policy name -> the KV API paths it grants read on


_RECORDED: dict[str, VaultGrants] = {}


def record(text: str, grants: VaultGrants) -> None:
    """Note that the Terraform file `text` declares exactly `grants`."""
    _RECORDED[text] = grants


def recorded(text: str) -> VaultGrants | None:
    """The grants recorded for `text`, or for `text` below its generated-file header comment."""
    return _RECORDED.get(below_header(text))
