"""Vault Secrets Operator: writes the Kubernetes Secrets workloads read, from Vault, with each workload's own role.

The operator (and with it the VSO CRDs) is in the operators layer, so every VSO custom resource of a later
layer finds its CRD. The VaultConnection lives once, beside Vault (security layer); every reader's
ServiceAccount, VaultAuth and VaultStaticSecrets sit in the reader's own folder (components/objects.py).
"""

from __future__ import annotations

from konoha_gen.components.base import ComponentDef, PodBudget, Release, Values
from konoha_gen.components.chart_values import resources
from konoha_gen.kube import Doc, obj
from konoha_gen.resolved import Component, Platform

NAME = "vault-secrets-operator"
API = "secrets.hashicorp.com/v1beta1"
#: The VaultConnection every VaultAuth names, in the operator's namespace.
CONNECTION = "vault"
#: The audience of the ServiceAccount tokens VSO presents; Vault's roles bind it (terraform/10-vault).
AUDIENCE = "vault"
REFRESH = "1h"


def connection_ref(platform: Platform) -> str:
    return f"{platform.component('vault').namespace}/{CONNECTION}"


def connection(platform: Platform) -> Doc:
    vault = platform.component("vault").service
    assert vault is not None
    return obj(API, "VaultConnection", CONNECTION, platform.component("vault").namespace,
               component="vault", platform=platform,
               spec={"address": f"http://{vault.address}", "skipTLSVerify": False})


def values(p: Platform, c: Component) -> Values:
    vault_service = p.component("vault").service
    assert vault_service is not None
    return {
        "defaultVaultConnection": {"enabled": True, "address": f"http://{vault_service.address}",
                                   "skipTLSVerify": False},
        "controller": {"manager": {"resources": resources("256Mi")}},
    }


COMPONENT = ComponentDef(
    name=NAME, title="Vault Secrets Operator", layer="operators", catalog=NAME,
    enabled=lambda spec: True, switch="always on",
    releases=lambda p, c: [Release(c.name, values(p, c))],
    # hashicorp/vault-secrets-operator @ v1.4.1: chart/crds/
    crds=tuple(f"secrets.hashicorp.com/{kind}" for kind in (
        "VaultConnection", "VaultAuth", "VaultAuthGlobal", "VaultStaticSecret", "VaultDynamicSecret",
        "VaultPKISecret", "HCPAuth", "HCPVaultSecretsApp", "SecretTransformation", "CSISecrets")),
    budget=(PodBudget("controller", "controller.manager.resources", replicas="controller.replicas"),),
)
