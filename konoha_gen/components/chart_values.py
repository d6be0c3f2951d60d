"""Helpers the values builders share: Secrets by Vault path, databases, OIDC clients, resource blocks.

Credentials are never values: every secret a chart needs is named by the Secret that Vault Secrets
Operator writes (`Platform.secret_for`), and Service names are pinned with fullnameOverride (or the
chart's equivalent) so they match what resolve promised.
"""

from __future__ import annotations

from typing import Any

from konoha_gen.components.base import Values
from konoha_gen.resolved import Component, Database, OidcClient, Platform, Service


def service(c: Component) -> Service:
    assert c.service is not None
    return c.service


def secret(p: Platform, component: str, path: str) -> str:
    """The Secret VSO writes for `component` from Vault `path`."""
    name = p.secret_for(component, path).secret_name
    assert name is not None
    return name


def database(p: Platform, owner: str) -> Database:
    return next(d for d in p.databases if d.owner == owner)


def prometheus(p: Platform) -> bool:
    """Whether anything scrapes metrics: kube-prometheus-stack is deployed."""
    return p.has("kube-prometheus-stack")


def oidc(p: Platform, component: str) -> tuple[OidcClient, str, str] | None:
    """(client, its Secret, the realm's issuer URL inside the cluster) when the component logs in through Keycloak."""
    client = next((c for c in p.oidc_clients if c.component == component), None)
    if client is None:
        return None
    keycloak = p.component("keycloak").service
    assert keycloak is not None
    issuer = f"http://{keycloak.host}/realms/{p.spec.identity.keycloak.realm}"
    return client, secret(p, component, client.vault_path), issuer


def admin_group(p: Platform) -> str:
    """The realm group whose members administer the web UIs (the first of identity.keycloak.groups)."""
    groups = p.spec.identity.keycloak.groups
    return groups[0] if groups else "platform-admins"


def oidc_env(secret_name: str, prefix: str) -> list[Values]:
    """<prefix>_CLIENT_ID / <prefix>_CLIENT_SECRET from the VSO Secret Terraform fills from Keycloak."""
    return [{"name": f"{prefix}_CLIENT_{key.upper()}",
             "valueFrom": {"secretKeyRef": {"name": secret_name, "key": f"client-{key}"}}}
            for key in ("id", "secret")]


def resources(memory: str, cpu: str = "100m") -> Values:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}


def get(values: Any, dotted: str | tuple[str, ...], default: Any = None) -> Any:
    """A nested value by dotted path (or by keys, for keys that hold dots); `default` when a step is missing."""
    node: Any = values
    for key in dotted.split(".") if isinstance(dotted, str) else dotted:
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def setting(values: Values, dotted: str, default: Any) -> Any:
    """A chart setting as its templates read it: missing, null and "" all mean the chart's default."""
    node = get(values, dotted, default)
    return node if node not in (None, "") else default


def fullname(chart: str, release: str, values: Values) -> str:
    """Helm's conventional <chart>.fullname helper."""
    if values.get("fullnameOverride"):
        return str(values["fullnameOverride"])
    name = str(values.get("nameOverride") or chart)
    return release if name in release else f"{release}-{name}"
