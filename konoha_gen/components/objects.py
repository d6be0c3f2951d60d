"""The objects every component gets from its resolved facts, whatever it is: its Vault Secrets Operator
objects, the Ingress of its web UI and its CloudNativePG database.

VSO: the ServiceAccount VSO authenticates as, its VaultAuth (the workload's own Vault role), and one
VaultStaticSecret per Vault path it reads, writing the Secret named in the inventory and restarting the
workloads that read it when it rotates.

Ingress: https://<name>.<domain>/ through the ingress controller. TLS terminates at Traefik's websecure
entry point. With no certificate named, Traefik serves its default (self-signed) one, which is enough on
Minikube; a real certificate goes into the Ingress' tls.secretName. HTTPS matters beyond privacy: Trino only
runs OAuth 2.0 login over HTTPS, and Keycloak's frontend URL (the token issuer) is https://keycloak.<domain>.
"""

from __future__ import annotations

from konoha_gen.components.chart_values import resources
from konoha_gen.components.vault_secrets_operator import API, AUDIENCE, REFRESH, connection_ref
from konoha_gen.kube import Doc, obj
from konoha_gen.resolved import Component, Platform

TRAEFIK_ANNOTATIONS = {"traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
                       "traefik.ingress.kubernetes.io/router.tls": "true"}


def vso_objects(platform: Platform, component: Component) -> list[Doc]:
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


def ingresses(platform: Platform, component: Component) -> list[Doc]:
    documents = []
    ingress = platform.spec.cluster.ingress
    for ui in (w for w in platform.web_uis if w.component == component.name):
        backend = {"service": {"name": ui.service.name, "port": {"number": ui.service.port}}}
        rule = {"host": ui.host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}
        doc = obj("networking.k8s.io/v1", "Ingress", ui.host.split(".")[0], ui.service.namespace,
                  component=component.name, platform=platform,
                  spec={"ingressClassName": ingress.class_name, "tls": [{"hosts": [ui.host]}], "rules": [rule]})
        if ingress.class_name == "traefik":
            doc["metadata"]["annotations"] = dict(TRAEFIK_ANNOTATIONS)
        documents.append(doc)
    return documents


def databases(platform: Platform, component: Component) -> list[Doc]:
    """The CloudNativePG Cluster of a component, bootstrapped from the VSO-made basic-auth Secret."""
    documents = []
    for db in platform.databases:
        if db.owner != component.name:
            continue
        # 256Mi: one small PostgreSQL per component (CloudNativePG sets no requests when spec.resources is absent)
        spec = {"instances": 1, "storage": {"size": db.size}, "resources": resources("256Mi"),
                "bootstrap": {"initdb": {"database": db.database, "owner": db.database,
                                         "secret": {"name": db.credentials_secret}}}}
        documents.append(obj("postgresql.cnpg.io/v1", "Cluster", db.name, db.namespace, component=component.name,
                             platform=platform, spec=spec))
    return documents
