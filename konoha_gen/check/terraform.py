"""Reading generated Terraform back: Vault roles and policies as Terraform would apply them.

The wiring check compares these with the VSO objects. A vault.tf the emitter rendered is read from the record it
kept of that exact text (konoha_gen/vault_grants.py); any other text is parsed with python-hcl2.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from konoha_gen.artifact import Artifact
from konoha_gen.vault_grants import TerraformRole, recorded

_POLICY_PATH = re.compile(r'path\s+"(?P<path>[^"]+)"\s*\{(?P<body>[^}]*)\}')
_CAPABILITIES = re.compile(r'capabilities\s*=\s*\[(?P<list>[^\]]*)\]')
_REFERENCE = re.compile(r"^\$\{vault_policy\.(?P<resource>[A-Za-z0-9_-]+)\.name\}$")


def _unquote(value: Any) -> str:
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


@cache
def _parse(text: str) -> dict[str, Any]:
    import hcl2

    return dict(hcl2.loads(text))


def _resources(artifacts: list[Artifact], kind: str) -> dict[str, dict[str, Any]]:
    """resource name -> attributes, for every `resource "<kind>" "<name>"` block."""
    found: dict[str, dict[str, Any]] = {}
    for artifact in artifacts:
        if not artifact.path.endswith(".tf") or f'resource "{kind}"' not in artifact.content:
            continue  # parsing HCL is costly: only files that declare this kind
        for block in _parse(artifact.content).get("resource", []):
            for rtype, by_name in block.items():
                if _unquote(rtype) == kind:
                    found.update({_unquote(name): attrs for name, attrs in by_name.items()})
    return found


def granted_reads(policy_text: str) -> set[str]:
    """The API paths a Vault policy document grants `read` on (exact paths; globs are kept verbatim)."""
    grants = set()
    for match in _POLICY_PATH.finditer(policy_text):
        capabilities = _CAPABILITIES.search(match.group("body"))
        names = {c.strip().strip('"') for c in capabilities.group("list").split(",")} if capabilities else set()
        if "read" in names or "sudo" in names or "root" in names:
            grants.add(match.group("path"))
    return grants


def vault_roles_and_policies(artifacts: list[Artifact]) -> tuple[dict[str, TerraformRole], dict[str, set[str]]]:
    """(role name -> TerraformRole, policy name -> KV API paths it grants read on): as the emitter recorded them for
    a file's exact text (konoha_gen/vault_grants.py), else parsed."""
    roles, policies = parsed_roles_and_policies([a for a in artifacts if recorded(a.content) is None])
    for artifact in artifacts:
        grants = recorded(artifact.content)
        if grants is not None:
            roles.update(grants.roles)
            policies.update({name: set(paths) for name, paths in grants.policies.items()})
    return roles, policies


def parsed_roles_and_policies(artifacts: list[Artifact]) -> tuple[dict[str, TerraformRole], dict[str, set[str]]]:
    """The same, read off the HCL with python-hcl2."""
    policy_resources = _resources(artifacts, "vault_policy")
    policies = {_unquote(attrs["name"]): granted_reads(_unquote(attrs["policy"]))
                for attrs in policy_resources.values()}
    names_by_resource = {resource: _unquote(attrs["name"]) for resource, attrs in policy_resources.items()}
    roles = {}
    for attrs in _resources(artifacts, "vault_kubernetes_auth_backend_role").values():
        attached = []
        for item in attrs.get("token_policies", []):
            reference = _REFERENCE.match(str(item))
            attached.append(names_by_resource.get(reference.group("resource"), "?") if reference else _unquote(item))
        role = TerraformRole(_unquote(attrs["role_name"]),
                             tuple(_unquote(x) for x in attrs.get("bound_service_account_names", [])),
                             tuple(_unquote(x) for x in attrs.get("bound_service_account_namespaces", [])),
                             tuple(attached))
        roles[role.name] = role
    return roles, policies
