"""Vault Secrets Operator: writes the Kubernetes Secrets workloads read, from Vault, with each workload's own role.

The VaultConnection lives once, beside the operator; every reader's ServiceAccount, VaultAuth and
VaultStaticSecrets sit in the reader's own folder (components/objects.py).
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
#: The audience of the ServiceAccount tokens VSO presents; Vault's roles bind it (terraform/10-platform).
AUDIENCE = "vault"
REFRESH = "1h"


def connection_ref(platform: Platform) -> str:
    return f"{platform.component(NAME).namespace}/{CONNECTION}"


def connection(platform: Platform) -> Doc:
    vault = platform.component("vault").service
    assert vault is not None
    return obj(API, "VaultConnection", CONNECTION, platform.component(NAME).namespace,
               component=NAME, platform=platform,
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
    name=NAME, title="Vault Secrets Operator", layer="security", catalog=NAME,
    enabled=lambda spec: True, switch="always on",
    depends_on=lambda spec: ["vault"],
    releases=lambda p, c: [Release(c.name, values(p, c))],
    vault_objects=lambda p: [connection(p)],
    budget=(PodBudget("controller", "controller.manager.resources", replicas="controller.replicas"),),
)
