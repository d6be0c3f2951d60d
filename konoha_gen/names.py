"""Naming rules resolve and the emitters share: Vault paths a component reads, Secret and object names.

Each name is computed by one function here, so the two sides that must agree on it (the Vault path Terraform
writes and the VaultStaticSecret that reads it, the Secret VSO writes and the values that mount it) cannot drift.
"""

from __future__ import annotations

import hashlib

MAX_K8S_NAME = 63


def kv_api_path(mount: str, path: str) -> str:
    """The Vault API path of a KV v2 secret: what a policy grants and what VSO reads (`<mount>/data/<path>`)."""
    return f"{mount}/data/{path}"


def dashboard_configmap(name: str) -> str:
    """The ConfigMap holding dashboard `name` for Grafana's sidecar."""
    return f"grafana-dashboard-{name}"


#: How the inventory shows the keys of a tenant's spark.env: any number of session properties.
SESSION_CONF_KEYS = "<spark.* or kyuubi.* property>"


def session_conf_path(tenant: str) -> str:
    """The Vault path of a tenant's `spark.env`: Spark/Kyuubi session properties its members' sessions get."""
    return f"tenants/{tenant}/spark-env"


def session_conf_tenant(path: str) -> str | None:
    parts = path.split("/")
    return parts[1] if len(parts) == 3 and parts[0] == "tenants" and parts[2] == "spark-env" else None


def session_conf_file(tenant: str) -> str:
    """Kyuubi's FileSessionConfAdvisor reads kyuubi-session-<profile>.conf from its conf dir."""
    return f"kyuubi-session-{tenant}.conf"


def lake_user_path(component: str) -> str:
    """The Vault path of a lake service's MinIO credentials (Terraform creates the user from it)."""
    return f"minio/users/{component}"



def k8s_name(*parts: str) -> str:
    """Join parts with '-', keeping within 63 chars with a stable hash suffix."""
    name = "-".join(p for p in parts if p).replace("/", "-").replace("_", "-").replace(".", "-")
    if len(name) <= MAX_K8S_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_K8S_NAME - 9].rstrip('-')}-{digest}"


def secret_name(component: str, vault_path: str) -> str:
    """Name of the Secret VSO writes for `component` reading `vault_path`:
    minio reading minio/root -> minio-root; kafka-connect reading sources/shop
    -> kafka-connect-sources-shop."""
    if vault_path.split("/", 1)[0] == component:
        return k8s_name(vault_path)
    return k8s_name(component, vault_path)

