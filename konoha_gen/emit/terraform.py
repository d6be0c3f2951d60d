"""Terraform, in apply order (templates: templates/terraform/):
- 00-cluster: the Minikube cluster (when spec.cluster.provider is minikube)
  and the Flux bootstrap: the flux2 chart through the helm provider, then the
  generated sync objects (clusters/<name>/flux-system/gotk-sync.yaml) through
  the kubectl provider;
- 10-vault: Vault (KV mount, Kubernetes auth, one policy + role per consuming
  workload, generated secrets), applied once Vault runs and is unsealed;
- 20-identity: Keycloak (realm, groups, users, OIDC clients whose secrets go to
  Vault), applied once Keycloak runs;
- 30-storage: MinIO (buckets, service users, tenant groups), once MinIO runs.
Each stage is its own root module: a provider logs in to its server when it is
configured, so no module may configure a server that its own apply enables
(konoha_gen/stages.py; bootstrap.sh applies them in order)."""

from __future__ import annotations

import re
from typing import Any

from konoha_gen.artifact import Artifact
from konoha_gen.catalog import TERRAFORM_PROVIDERS, TERRAFORM_VERSION, upstream
from konoha_gen.components.chart_values import admin_group
from konoha_gen.components.spark import EVENT_LOG_PREFIX
from konoha_gen.components.vault_secrets_operator import AUDIENCE
from konoha_gen.names import kv_api_path
from konoha_gen.resolved import FLUX_NAMESPACE, Platform
from konoha_gen.stages import CLUSTER, IDENTITY, STORAGE, VAULT, TerraformStage
from konoha_gen.templating import render
from konoha_gen.vault_grants import TerraformRole, VaultGrants, record

FILES = ("providers.tf", "main.tf", "variables.tf", "outputs.tf")
#: What a service reading and writing the lakehouse may do in the warehouse bucket.
LAKE_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts")
LAKE_BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads")
#: minikube_cluster addons. The provider reads minikube's enabled addons back, so an unset list makes the next
#: apply disable the two minikube enables by default (minikube docs, "Persistent Volumes": default-storageclass
#: and storage-provisioner back PVCs). registry: an in-cluster registry Strimzi can push the Connect image to.
MINIKUBE_ADDONS = ("default-storageclass", "storage-provisioner", "registry")
_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def mebibytes(quantity: str) -> int:
    """A Kubernetes quantity ('16Gi', '60G', '512Mi') in whole MiB, as minikube's 'mb' takes it."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)", quantity)
    if match is None or match.group(2) not in _UNITS:
        raise ValueError(f"not a byte quantity: {quantity}")
    return int(float(match.group(1)) * _UNITS[match.group(2)] // 2**20)


def identifier(text: str) -> str:
    """A Terraform resource name from a path or name: minio/users/kyuubi -> minio_users_kyuubi. HCL names a resource
    by a bare identifier (a letter or '_' first), which no quoting can make of anything else: a name that starts
    with a digit, as a DNS label may, gets a leading '_'."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return f"_{name}" if not name or name[0].isdigit() else name


def emit(platform: Platform) -> list[Artifact]:
    return [*_cluster(platform), *_vault(platform), *_identity(platform), *_storage(platform)]


def _render(stage: TerraformStage, files: dict[str, str], used: list[str], **context: Any) -> list[Artifact]:
    """The stage's files (name -> template) and its versions.tf pinning exactly the providers it uses."""
    context = {**context, "providers": TERRAFORM_PROVIDERS, "terraform_version": TERRAFORM_VERSION}
    artifacts = [Artifact(f"{stage.folder}/versions.tf", render("terraform/versions.tf.j2", used=used, **context))]
    return artifacts + [Artifact(f"{stage.folder}/{name}", render(template, **context))
                        for name, template in files.items()]


def _files(stage: TerraformStage, *names: str) -> dict[str, str]:
    return {name: f"terraform/{stage.folder.removeprefix('terraform/')}/{name}.j2" for name in names}


def _vault(platform: Platform) -> list[Artifact]:
    """Mount, Kubernetes auth, one policy + role per consuming workload, generated secrets."""
    vault = platform.spec.secrets.vault
    oidc_paths = {c.vault_path for c in platform.oidc_clients}
    policy_paths = {r.name: list(dict.fromkeys(kv_api_path(vault.kv_mount, path) for path in r.paths))
                    for r in platform.vault_roles}
    roles = [{"resource": identifier(r.component), "name": r.name, "namespace": r.namespace,
              "service_accounts": [r.service_account], "policy_paths": policy_paths[r.name], "audiences": [AUDIENCE]}
             for r in platform.vault_roles]
    generated = [{"resource": identifier(e.path), "path": e.path, "length": e.length, "fixed": dict(e.fixed),
                  "keys": [k for k in e.keys if k not in dict(e.fixed)], "all_keys": list(e.keys)}
                 for e in platform.secrets if e.generated and e.path not in oidc_paths]
    files = _files(VAULT, "providers.tf", "variables.tf", "vault.tf", "secrets.tf", "outputs.tf")
    artifacts = _render(VAULT, files, ["vault", *(["random"] if generated else [])],
                        kv_mount=vault.kv_mount, kubernetes_auth_mount=vault.kubernetes_auth_mount, roles=roles,
                        generated=generated, vault_address=f"http://{VAULT.address}")
    # vault.tf.j2 declares one policy per role, named after it, granting read on exactly its policy_paths
    record(next(a.content for a in artifacts if a.path == f"{VAULT.folder}/vault.tf"), VaultGrants(
        {r.name: TerraformRole(r.name, (r.service_account,), (r.namespace,), (r.name,)) for r in platform.vault_roles},
        {name: frozenset(paths) for name, paths in policy_paths.items()}))
    return artifacts


def _identity(platform: Platform) -> list[Artifact]:
    """Keycloak's realm, groups, users and OIDC clients (their secrets written to Vault), once Keycloak runs."""
    keycloak = _keycloak(platform)
    if keycloak is None:
        return []
    files = _files(IDENTITY, "providers.tf", "variables.tf", "keycloak.tf", "outputs.tf")
    return _render(IDENTITY, files, ["vault", "keycloak"], keycloak=keycloak,
                   kv_mount=platform.spec.secrets.vault.kv_mount, vault_address=f"http://{VAULT.address}",
                   keycloak_url=f"http://{IDENTITY.address}")


def _storage(platform: Platform) -> list[Artifact]:
    """MinIO's buckets, service users and tenant groups, once MinIO runs."""
    minio = _minio(platform)
    if not minio["minio"]:
        return []
    files = _files(STORAGE, "providers.tf", "variables.tf", "minio.tf", "outputs.tf")
    return _render(STORAGE, files, ["vault", "minio"], **minio, kv_mount=platform.spec.secrets.vault.kv_mount,
                   minio_root_path=platform.spec.storage.object_store.credentials.path,
                   vault_address=f"http://{VAULT.address}")


def _minio(platform: Platform) -> dict[str, Any]:
    """Buckets, one MinIO user + policy per lake service (credentials from Vault minio/users/<component>),
    one group + policy per tenant writing only its namespaces' prefixes (Iceberg/Hive: <namespace>.db/)."""
    if not platform.has("minio"):
        return {"minio": False, "buckets": [], "service_users": [], "tenants": [], "group_policies": [],
                "folders": [], "minio_server": ""}
    store = platform.spec.storage.object_store
    buckets = [{"resource": identifier(b.name), "name": b.name, "versioning": b.versioning,
                "expire_after_days": b.expire_after_days} for b in store.buckets]
    lake = platform.lakehouse
    service_users = []
    for entry in platform.secrets:
        if entry.path.startswith("minio/users/") and lake is not None:
            arn = f"arn:aws:s3:::{lake.bucket}"
            service_users.append({"resource": identifier(entry.path.removeprefix("minio/users/")),
                                  "secret_resource": identifier(entry.path), "path": entry.path,
                                  "statements": [{"actions": list(LAKE_BUCKET_ACTIONS), "resources": [arn]},
                                                 {"actions": list(LAKE_ACTIONS), "resources": [f"{arn}/*"]}]})
    prefix = lake.warehouse.removeprefix(f"s3a://{lake.bucket}").strip("/") if lake else ""
    tenants = [{"resource": identifier(t.name), "group": t.group, "bucket": lake.bucket,
                "prefixes": ["/".join(filter(None, [prefix, f"{ns}.db"])) for ns in t.writes]}
               for t in platform.tenants if t.writes and lake is not None]
    # Spark's event log directory must exist before an engine starts (components/spark.py event_log_conf): one
    # object under the prefix makes S3A see a directory
    folders = [{"resource": "spark_events", "bucket": identifier(lake.bucket), "key": f"{EVENT_LOG_PREFIX}/.keep",
                "content": "Spark event logs (spark.eventLog.dir)\n"}] if lake and platform.has("spark") else []
    return {"minio": True, "buckets": buckets, "service_users": service_users, "tenants": tenants, "folders": folders,
            "group_policies": _group_policies(platform, {str(t["group"]) for t in tenants}),
            "minio_server": STORAGE.address}


def _group_policies(platform: Platform, tenant_policies: set[str]) -> list[dict[str, Any]]:
    """A MinIO policy named after each Keycloak group that reaches the console's token and has none yet: the
    console reads its "groups" claim as a list of MinIO policy names and refuses a login when none of them is
    defined (minio cmd/sts-handlers.go: "None of the given policies are defined"). The admin group (the first)
    gets what the built-in consoleAdmin policy grants (admin:*, s3:* on everything); every other group reads
    the lakehouse bucket (or, without a lakehouse, the spec's buckets)."""
    if not platform.has("keycloak"):
        return []
    groups = [*platform.spec.identity.keycloak.groups, *(t.group for t in platform.tenants)]
    lake = platform.lakehouse
    buckets = [lake.bucket] if lake else [b.name for b in platform.spec.storage.object_store.buckets]
    arns = [f"arn:aws:s3:::{b}" for b in buckets]
    reader = [{"actions": ["s3:ListAllMyBuckets"], "resources": ["arn:aws:s3:::*"]}]
    if arns:
        reader += [{"actions": ["s3:ListBucket", "s3:GetBucketLocation"], "resources": arns},
                   {"actions": ["s3:GetObject"], "resources": [f"{arn}/*" for arn in arns]}]
    admin = [{"actions": ["admin:*"], "resources": []}, {"actions": ["s3:*"], "resources": ["arn:aws:s3:::*"]}]
    policies = []
    for name in dict.fromkeys(groups):
        if name not in tenant_policies:
            policies.append({"resource": identifier(name), "name": name, "admin": name == admin_group(platform),
                             "statements": admin if name == admin_group(platform) else reader})
    return policies


def _keycloak(platform: Platform) -> dict[str, Any] | None:
    if not platform.has("keycloak"):
        return None
    groups = {name: identifier(name) for name in platform.spec.identity.keycloak.groups}
    groups.update({t.group: identifier(t.group) for t in platform.tenants})
    member_of: dict[str, list[str]] = {}
    for tenant in platform.tenants:
        for member in tenant.members:
            member_of.setdefault(member, []).append(groups[tenant.group])
    return {
        "realm": platform.spec.identity.keycloak.realm,
        "admin_path": platform.spec.identity.keycloak.admin.path,
        "groups": [{"resource": resource, "name": name} for name, resource in groups.items()],
        "users": [{"resource": identifier(user), "username": user, "groups": member_of[user]}
                  for user in sorted(member_of)],
        "clients": [{"resource": identifier(c.client_id), "client_id": c.client_id, "name": c.name,
                     "redirect_uris": list(c.redirect_uris), "web_origins": list(c.web_origins),
                     "vault_path": c.vault_path} for c in platform.oidc_clients],
    }


def _cluster(platform: Platform) -> list[Artifact]:
    cluster = platform.spec.cluster
    flux = upstream("flux", platform.spec.versions)
    context = {
        "minikube": cluster.provider == "minikube",
        "cluster_name": platform.name,
        "kubernetes_version": f"v{cluster.kubernetes_version}.0",
        "cpus": cluster.nodes.cpus,
        "memory_mb": mebibytes(cluster.nodes.memory),
        "disk_mb": mebibytes(cluster.nodes.disk),
        "addons": list(MINIKUBE_ADDONS),
        "flux_chart_repo": flux.url,
        "flux_chart": flux.chart,
        "flux_chart_version": flux.version,
        "flux_namespace": FLUX_NAMESPACE,
        "sync_manifest": f"../../clusters/{platform.name}/flux-system/gotk-sync.yaml",
        "git_auth_secret": platform.git_auth_secret,
    }
    used = [*(["minikube"] if context["minikube"] else []), "helm", "kubectl"]
    return _render(CLUSTER, _files(CLUSTER, *FILES), used, **context)
