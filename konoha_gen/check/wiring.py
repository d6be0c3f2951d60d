"""The wiring check for secrets (OUTPUT.md promise 6), over the artifacts only:

1. every Secret referenced anywhere in out/ (env secretKeyRef / envFrom
   secretRef, secret volumes, chart values that take an existing Secret,
   CloudNativePG bootstrap secrets, YAML embedded in string values) is
   produced by a VaultStaticSecret in the same namespace, or declared
   external (the GitOps credentials, created at bootstrap);
2. every VaultStaticSecret's VaultAuth exists in its namespace, and its role
   exists in terraform/10-vault bound to exactly that ServiceAccount and
   namespace;
3. the policy of each role grants read on exactly the KV paths its
   VaultStaticSecrets read: a missing path or any extra path fails.
Emitters are not consulted: what is checked is what would be applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

from konoha_gen.artifact import Artifact
from konoha_gen.check import monitors
from konoha_gen.check.k8s import SECRET_NAME_KEY, is_kubernetes_file, load_documents
from konoha_gen.check.terraform import vault_roles_and_policies
from konoha_gen.errors import OutputProblem
from konoha_gen.names import kv_api_path
from konoha_gen.quoting import properties_load
from konoha_gen.resolved import Platform
from konoha_gen.stages import VAULT
from konoha_gen.vault_grants import TerraformRole

CHECK = "wiring"


@dataclass(frozen=True)
class SecretUse:
    artifact: str
    namespace: str
    name: str
    where: str  # key path inside the document


def check(platform: Platform, artifacts: list[Artifact]) -> list[OutputProblem]:
    folders = {c.folder: c for c in platform.components}
    uses: list[SecretUse] = []
    produced: set[tuple[str, str]] = set(_external(platform))
    auths: dict[tuple[str, str], dict[str, Any]] = {}
    statics: list[tuple[str, dict[str, Any]]] = []
    for artifact in artifacts:
        if not artifact.path.endswith((".yaml", ".yml")):
            continue
        component = folders.get(str(PurePosixPath(artifact.path).parent))
        default_ns = component.namespace if component else ""
        try:
            documents = load_documents(artifact.content)
        except yaml.YAMLError:
            continue  # the structure check reports it
        for doc in documents:
            if not isinstance(doc, dict):
                continue
            namespace = str((doc.get("metadata") or {}).get("namespace",
                                                            default_ns)) if is_kubernetes_file(artifact.path) \
                else default_ns
            kind = doc.get("kind")
            if kind == "VaultStaticSecret" and is_kubernetes_file(artifact.path):
                produced.add((namespace, doc["spec"]["destination"]["name"]))
                statics.append((artifact.path, doc))
                continue
            if kind == "VaultAuth" and is_kubernetes_file(artifact.path):
                auths[(namespace, doc["metadata"]["name"])] = doc
                continue
            uses.extend(SecretUse(artifact.path, namespace, name, where) for name, where in _references(doc, ()))
    uses.extend(_spark_references(artifacts))
    problems = [OutputProblem(u.artifact, f"Secret '{u.name}' in namespace {u.namespace} (at {u.where}) is produced "
                              "by no VaultStaticSecret in that namespace and is not declared external", CHECK)
                for u in uses if (u.namespace, u.name) not in produced]
    problems += _check_vault(statics, auths, _terraform(artifacts))
    problems += monitors.check(platform, artifacts)  # ServiceMonitors/PodMonitors: order, selection, targets
    return problems


_SPARK_SECRET = re.compile(r"spark\.kubernetes\.(?:driver|executor)\.secretKeyRef\..+")


def _spark_references(artifacts: list[Artifact]) -> Iterator[SecretUse]:
    """Secrets named by spark.kubernetes.{driver,executor}.secretKeyRef.* (`<secret>:<key>`) in Spark conf files;
    they must exist in the namespace the Spark pods run in (spark.kubernetes.namespace of the same file)."""
    for artifact in artifacts:
        if not artifact.path.endswith(".conf"):
            continue
        conf = {key: value.strip() for key, value in properties_load(artifact.content).items()}  # Spark trims
        namespace = conf.get("spark.kubernetes.namespace") or "default"
        for key, value in conf.items():
            if _SPARK_SECRET.fullmatch(key) and ":" in value:
                yield SecretUse(artifact.path, namespace, value.split(":", 1)[0], key)


def _external(platform: Platform) -> Iterator[tuple[str, str]]:
    """Secrets created outside the tree: the GitOps credentials (needed before Flux can read anything)."""
    if platform.git_auth_secret:
        yield "flux-system", platform.git_auth_secret


def _references(node: Any, path: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(Secret name, key path) of every Secret a document refers to."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*path, str(key))
            if key in ("secretKeyRef", "secretRef") and isinstance(value, dict) and "name" in value:
                yield str(value["name"]), ".".join(here)
            elif key == "secret" and isinstance(value, dict) and ("secretName" in value or "name" in value):
                yield str(value.get("secretName", value.get("name"))), ".".join(here)
            elif SECRET_NAME_KEY.match(str(key)) and isinstance(value, str) and value:
                yield value, ".".join(here)
            else:
                yield from _references(value, here)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item, path)
    elif isinstance(node, str) and ("secretKeyRef" in node or "secretRef" in node):
        try:  # charts that take YAML as a string (keycloakx extraEnv)
            embedded = yaml.safe_load(node)
        except yaml.YAMLError:
            return
        if isinstance(embedded, dict | list):  # a plain string (e.g. a conf file) parses to itself
            yield from _references(embedded, path)


def _terraform(artifacts: list[Artifact]) -> tuple[dict[str, TerraformRole], dict[str, set[str]]]:
    """Roles and policies (policy name -> KV API paths with read) of terraform/10-vault."""
    return vault_roles_and_policies([a for a in artifacts if a.path.startswith(f"{VAULT.folder}/")])


def _check_vault(statics: list[tuple[str, dict[str, Any]]], auths: dict[tuple[str, str], dict[str, Any]],
                 terraform: tuple[dict[str, TerraformRole], dict[str, set[str]]]) -> list[OutputProblem]:
    roles, policies = terraform
    problems = []
    read_by_role: dict[str, set[str]] = {}
    for path, doc in statics:
        namespace = doc["metadata"].get("namespace", "")
        spec = doc["spec"]
        auth = auths.get((namespace, spec.get("vaultAuthRef", "")))
        name = doc["metadata"]["name"]
        if auth is None:
            problems.append(OutputProblem(path, f"VaultStaticSecret {name}: VaultAuth '{spec.get('vaultAuthRef')}' "
                                          f"does not exist in {namespace}", CHECK))
            continue
        kube = auth["spec"]["kubernetes"]
        role = roles.get(kube["role"])
        if role is None:
            problems.append(OutputProblem(path, f"VaultAuth {auth['metadata']['name']}: role '{kube['role']}' is not "
                                          f"defined in {VAULT.folder}", CHECK))
            continue
        if role.service_accounts != (kube["serviceAccount"],) or role.namespaces != (namespace,):
            problems.append(OutputProblem(path, f"role {role.name} is bound to {list(role.service_accounts)} in "
                                          f"{list(role.namespaces)}, not exactly {kube['serviceAccount']} "
                                          f"in {namespace}", CHECK))
        api_path = kv_api_path(spec["mount"], spec["path"])
        read_by_role.setdefault(role.name, set()).add(api_path)
        granted = set().union(*(policies.get(p, set()) for p in role.policies))
        if api_path not in granted:
            problems.append(OutputProblem(path, f"VaultStaticSecret {name} reads {api_path}, which the "
                                                "policies of role "
                                          f"{role.name} do not grant", CHECK))
    for role_name, reads in sorted(read_by_role.items()):
        role = roles[role_name]
        granted = set().union(*(policies.get(p, set()) for p in role.policies))
        for extra in sorted(granted - reads):
            problems.append(OutputProblem(VAULT.folder, f"role {role_name} is granted {extra}, which none "
                                          "of its VaultStaticSecrets reads (least privilege)", CHECK))
    return problems
