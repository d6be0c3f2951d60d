"""Vault Secrets Operator objects of a component: the ServiceAccount VSO
authenticates as, its VaultAuth (the workload's own Vault role), and one
VaultStaticSecret per Vault path it reads, writing the Secret named in the
inventory and restarting the workloads that read it when it rotates.
The VaultConnection lives once, beside the operator."""

from __future__ import annotations

from konoha_gen.emit.kube import Doc, obj
from konoha_gen.resolve import Component, Platform

API = "secrets.hashicorp.com/v1beta1"
CONNECTION = "vault"
AUDIENCE = "vault"
REFRESH = "1h"


def connection_ref(platform: Platform) -> str:
    return f"{platform.component('vault-secrets-operator').namespace}/{CONNECTION}"


def connection(platform: Platform) -> Doc:
    vault = platform.component("vault").service
    assert vault is not None
    return obj(API, "VaultConnection", CONNECTION, platform.component("vault-secrets-operator").namespace,
               component="vault-secrets-operator", platform=platform,
               spec={"address": f"http://{vault.address}", "skipTLSVerify": False})


def objects(platform: Platform, component: Component) -> list[Doc]:
    """ServiceAccount + VaultAuth + VaultStaticSecrets of one component (none if it reads nothing)."""
    role = next((r for r in platform.vault_roles if r.component == component.name), None)
    if role is None:
        return []
    docs = [
        obj("v1", "ServiceAccount", role.service_account, role.namespace, component=component.name, platform=platform),
        obj(API, "VaultAuth", component.name, role.namespace, component=component.name, platform=platform, spec={
            "vaultConnectionRef": connection_ref(platform),
            "method": "kubernetes",
            "mount": platform.spec.secrets.vault.kubernetes_auth_mount,
            "kubernetes": {"role": role.name, "serviceAccount": role.service_account, "audiences": [AUDIENCE]},
        }),
    ]
    for entry in platform.secrets:
        reader = next((r for r in entry.readers if r.component == component.name and r.via_vso), None)
        if reader is None or reader.secret_name is None:
            continue
        destination: Doc = {"name": reader.secret_name, "create": True, "overwrite": False, "type": reader.secret_type}
        if reader.templates:
            destination["transformation"] = {"templates": {key: {"text": text} for key, text in reader.templates}}
        spec: Doc = {"vaultAuthRef": component.name, "mount": platform.spec.secrets.vault.kv_mount, "type": "kv-v2",
                     "path": entry.path, "refreshAfter": REFRESH, "hmacSecretData": True, "destination": destination}
        if component.workloads:
            spec["rolloutRestartTargets"] = [{"kind": kind, "name": name} for kind, name in component.workloads]
        docs.append(obj(API, "VaultStaticSecret", reader.secret_name, role.namespace, component=component.name,
                        platform=platform, spec=spec))
    return docs
