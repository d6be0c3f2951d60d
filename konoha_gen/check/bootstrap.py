"""The bootstrap check: walked in the order out/bootstrap.sh runs its steps, every step finds what it needs
provided by an earlier one. Read off the artifacts, like the wiring checks:

- a Flux layer provides the CRDs of its charts (components' `crds`, Flux's own from 00-cluster), the servers its
  releases run, the Secrets its VaultStaticSecrets write; it requires a CRD for every custom resource it applies
  (kustomize-controller dry-runs the whole layer before applying any of it, so a CRD of the same layer is too
  late), the Vault paths and roles its VaultStaticSecrets read, and for a CloudNativePG Cluster a login whose
  username is its owner;
- a Terraform stage provides the Vault paths, database logins, roles and Secrets it writes; it requires the
  servers its providers log in to (at plan time), running and, for Vault, unsealed, and the paths it reads;
- vault-unseal provides an unsealed Vault; manual-secrets the paths an operator writes by hand;
- the first Flux fetch (the sources step) requires the GitRepository's Secret.

A requirement that no step provides, or that only the same step or a later one provides, is an error naming
both ends. Releases whose chart runs Helm hooks under Flux's wait (components' `hooks_under_wait`) and layers
ordered before a layer they depend on are errors too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from konoha_gen.artifact import Artifact
from konoha_gen.catalog import CATALOG
from konoha_gen.check.endpoints import bucket_names
from konoha_gen.check.k8s import load_documents
from konoha_gen.check.monitors import applied_files
from konoha_gen.components import flux
from konoha_gen.components.chart_values import get
from konoha_gen.components.registry import components
from konoha_gen.errors import OutputProblem
from konoha_gen.kube import strings
from konoha_gen.resolved import FLUX_NAMESPACE, Platform

CHECK = "bootstrap"
SCRIPT = "bootstrap.sh"
#: API groups the cluster serves without any CRD.
BUILT_IN_GROUPS = frozenset({"", "apps", "batch", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
                             "apiextensions.k8s.io", "autoscaling", "storage.k8s.io", "kustomize.config.k8s.io"})
#: Objects that write to the object store the moment they run (the Iceberg sink; a Job naming a bucket): the buckets
#: they name must exist by then. Servers that only reach it on a query start without it.
BUCKET_USERS = frozenset({"Job", "CronJob", "KafkaConnector"})
#: Terraform provider -> the component whose server it logs in to when configured.
PROVIDER_SERVERS = {"vault": "vault", "keycloak": "keycloak", "minio": "minio"}
Fact = tuple[str, ...]


@dataclass
class _Step:
    name: str
    index: int
    provides: dict[Fact, str] = field(default_factory=dict)  # fact -> what provides it (for messages)
    requires: list[tuple[Fact, str, str]] = field(default_factory=list)  # (fact, artifact, what needs it)


def check(platform: Platform, artifacts: list[Artifact]) -> list[OutputProblem]:
    texts = {a.path: a.content for a in artifacts}
    script = texts.get(SCRIPT)
    if script is None:
        return [OutputProblem(SCRIPT, "no bootstrap script: nothing says in which order the platform comes up", CHECK)]
    order = re.search(r"^STEPS=\((.*)\)$", script, re.MULTILINE)
    names = order.group(1).split() if order else []
    steps = [_Step(name, index) for index, name in enumerate(names)]
    stages = dict(re.findall(r"terraform_stage ([\w-]+) (terraform/[\w-]+)", script))
    kustomizations = _kustomizations(platform, texts)
    problems = _order(steps, kustomizations)
    for step in steps:
        if step.name in stages:
            _terraform(step, stages[step.name], texts)
        elif step.name in kustomizations:
            problems += _layer(step, kustomizations[step.name], platform, texts)
        elif step.name == "vault-unseal":
            step.provides[("unsealed", "vault")] = "bootstrap.sh step vault-unseal"
        elif step.name == "manual-secrets":
            listed = re.search(r"for path in ([^;]*); do", script)
            for path in listed.group(1).split() if listed else []:
                step.provides[("vault-path", path)] = "an operator (bootstrap.sh step manual-secrets)"
    if platform.spec.secrets.vault.mode == "dev":  # dev mode: in memory and unsealed from the start
        for step in steps:
            if ("running", "vault") in step.provides:
                step.provides[("unsealed", "vault")] = step.provides[("running", "vault")] + " (dev mode)"
    _git_credentials(steps, kustomizations, texts)
    return problems + [p for step in steps for p in _unmet(step, steps)]


def _kustomizations(platform: Platform, texts: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Flux Kustomization name -> spec, for the layers under clusters/<name>/."""
    found = {}
    for path, text in texts.items():
        if path.startswith(f"clusters/{platform.name}/") and path.endswith(".yaml") and "/flux-system/" not in path:
            for doc in load_documents(text):
                if isinstance(doc, dict) and doc.get("kind") == "Kustomization" and \
                        str(doc.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io"):
                    found[str(doc["metadata"]["name"])] = doc.get("spec") or {}
    return found


def _order(steps: list[_Step], kustomizations: dict[str, dict[str, Any]]) -> list[OutputProblem]:
    """A layer's step comes after the steps of the layers it dependsOn (Flux would not reconcile it before)."""
    index = {s.name: s.index for s in steps}
    problems = [OutputProblem(SCRIPT, f"Flux layer {name} has no step: bootstrap.sh never waits for it", CHECK)
                for name in kustomizations if name not in index]
    for name, spec in kustomizations.items():
        for dep in (str(d.get("name")) for d in spec.get("dependsOn", [])):
            if name in index and index.get(dep, len(steps)) > index[name]:
                problems.append(OutputProblem(SCRIPT, f"step {name} runs before step {dep}, whose Kustomization it "
                                                      "dependsOn", CHECK))
    return problems


def _terraform(step: _Step, folder: str, texts: dict[str, str]) -> None:
    for path, text in sorted(texts.items()):
        if not (path.startswith(f"{folder}/") and path.endswith(".tf")):
            continue
        for kind, name, body in _blocks(text):
            where = f"{kind} {name} ({path})"
            if kind == "provider" and name in PROVIDER_SERVERS:
                server = PROVIDER_SERVERS[name]
                step.requires.append((("running", server), path, f"provider {name}, which logs in when configured"))
                if server == "vault":
                    step.requires.append((("unsealed", "vault"), path, f"provider {name}"))
            elif kind == "resource vault_kv_secret_v2" and (vault_path := _attribute(body, "name")):
                step.provides[("vault-path", vault_path)] = where
                for value in re.findall(r'"username"\s*=\s*"([^"]+)"', body):  # a fixed login name
                    step.provides[("db-login", vault_path, value)] = where
            elif kind == "data vault_kv_secret_v2" and (vault_path := _attribute(body, "name")):
                step.requires.append((("vault-path", vault_path), path, where))
            elif kind == "resource vault_kubernetes_auth_backend_role" and (role := _attribute(body, "role_name")):
                step.provides[("vault-role", role)] = where
            elif kind == "resource helm_release" and _attribute(body, "chart") == CATALOG["flux"].chart:
                step.provides.update({("crd", crd): where for crd in flux.CRDS})
                step.provides[("running", "flux")] = where
            elif kind == "resource minio_s3_bucket" and (bucket := _attribute(body, "bucket")):
                step.provides[("bucket", bucket)] = where
            elif kind == "resource kubectl_manifest" and "kind       = \"Secret\"" in body:
                secret, namespace = _attribute(body, "name"), _attribute(body, "namespace")
                step.provides[("secret", f"{namespace}/{secret}")] = where


def _blocks(text: str) -> Iterator[tuple[str, str, str]]:
    """(kind, name, body) of the top-level HCL blocks: ('resource vault_policy', 'x', ...), ('provider', 'vault',
    ...)."""
    pattern = re.compile(r'^(resource|data) "([\w]+)" "([\w-]+)" \{$|^(provider) "([\w]+)" \{$', re.MULTILINE)
    matches = list(pattern.finditer(text))
    ends = [m.start() for m in matches[1:]] + [len(text)] * bool(matches)
    for match, end in zip(matches, ends, strict=True):
        body = text[match.end(): end]
        if match.group(4):
            yield "provider", match.group(5), body
        else:
            yield f"{match.group(1)} {match.group(2)}", match.group(3), body


def _attribute(body: str, name: str) -> str | None:
    found = re.search(rf'^\s*{name}\s*=\s*"([^"]*)"', body, re.MULTILINE)
    return found.group(1) if found else None


def _layer(step: _Step, spec: dict[str, Any], platform: Platform, texts: dict[str, str]) -> list[OutputProblem]:
    root = platform.spec.gitops.path.strip("/")
    folder = str(spec.get("path", "")).removeprefix("./").removeprefix(f"{root}/").rstrip("/")
    docs = [(path, doc) for path in applied_files(folder, texts) for doc in load_documents(texts[path])
            if isinstance(doc, dict) and doc.get("kind")]
    secrets_read = {}  # (namespace, Secret) -> Vault path, from the layer's VaultStaticSecrets
    auth_roles = {}
    for path, doc in docs:
        meta, body = doc.get("metadata") or {}, doc.get("spec") or {}
        namespace = str(meta.get("namespace", ""))
        if doc["kind"] == "VaultStaticSecret":
            secrets_read[(namespace, body["destination"]["name"])] = str(body["path"])
            step.provides[("secret", f"{namespace}/{body['destination']['name']}")] = f"VaultStaticSecret ({path})"
        elif doc["kind"] == "VaultAuth":
            auth_roles[(namespace, str(meta.get("name")))] = str(body["kubernetes"]["role"])
    problems = []
    for path, doc in docs:
        problems += _document(step, path, doc, platform, texts, secrets_read, auth_roles)
    return problems


def _document(step: _Step, path: str, doc: dict[str, Any], platform: Platform, texts: dict[str, str],
              secrets_read: dict[tuple[str, str], str], auth_roles: dict[tuple[str, str], str]) -> list[OutputProblem]:
    kind, meta, body = str(doc["kind"]), doc.get("metadata") or {}, doc.get("spec") or {}
    group = str(doc.get("apiVersion", "")).rpartition("/")[0]
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    what = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
    if group not in BUILT_IN_GROUPS:
        step.requires.append((("crd", f"{group}/{kind}"), path, what))
    if kind in BUCKET_USERS:  # they write to the object store as soon as they run
        for bucket in sorted(set(bucket_names("\n".join(strings(body))))):
            step.requires.append((("bucket", bucket), path, what))
    if kind == "HelmRelease":
        return _release(step, path, what, body, texts)
    if kind == "VaultStaticSecret":
        step.requires.append((("vault-path", str(body["path"])), path, what))
        role = auth_roles.get((namespace, str(body.get("vaultAuthRef", ""))))
        if role:
            step.requires.append((("vault-role", role), path, what))
    elif kind == "Cluster" and group == "postgresql.cnpg.io":
        initdb = (body.get("bootstrap") or {}).get("initdb") or {}
        secret = str((initdb.get("secret") or {}).get("name", ""))
        vault_path = secrets_read.get((namespace, secret))
        if vault_path:
            fact = ("db-login", vault_path, str(initdb.get("owner", "")))
            step.requires.append((fact, path, f"{what} (owner {initdb.get('owner')}, Secret {secret})"))
    return []


def _release(step: _Step, path: str, what: str, body: dict[str, Any], texts: dict[str, str]) -> list[OutputProblem]:
    """What a HelmRelease's chart provides, and whether its hooks would run under Flux's wait."""
    chart = _chart(body)
    folder = PurePosixPath(path).parent
    component = folder.name
    values_text = texts.get(f"{folder}/values-{body.get('releaseName', '')}.yaml", "")
    values = (load_documents(values_text) or ({},))[0] or {} if values_text else {}
    problems = []
    for definition in components():
        upstream = CATALOG.get(definition.catalog or "")
        if upstream is None or upstream.chart != chart:
            continue
        step.provides.update({("crd", crd): f"{what} (chart {chart})" for crd in definition.crds})
        step.provides[("running", component)] = what
        for hook in definition.hooks_under_wait:
            if get(values, hook.path, hook.default) != hook.value:
                problems.append(OutputProblem(path, f"{what} runs a Helm hook under Flux's wait: {hook.path} is "
                                                    f"{get(values, hook.path, hook.default)!r}, and the chart needs "
                                                    f"{hook.value!r} ({hook.source})", CHECK))
    return problems


def _chart(body: dict[str, Any]) -> str:
    chart = (body.get("chart") or {}).get("spec", {}).get("chart") or (body.get("chartRef") or {}).get("name", "")
    return PurePosixPath(str(chart)).name


def _git_credentials(steps: list[_Step], kustomizations: dict[str, dict[str, Any]], texts: dict[str, str]) -> None:
    """The GitRepository's Secret must exist before Flux's first fetch: the first layer step requires it."""
    first = next((s for s in steps if s.name in kustomizations), None)
    if first is None:
        return
    for path, text in texts.items():
        if not path.endswith("gotk-sync.yaml"):
            continue
        for doc in load_documents(text):
            reference = (doc.get("spec") or {}).get("secretRef") if isinstance(doc, dict) else None
            if reference and doc.get("kind") == "GitRepository":
                secret = reference["name"]
                first.requires.append((("secret", f"{FLUX_NAMESPACE}/{secret}"), path,
                                       f"GitRepository {doc['metadata']['name']} (Flux's first fetch)"))


def _unmet(step: _Step, steps: list[_Step]) -> Iterator[OutputProblem]:
    for fact, path, what in step.requires:
        providers = [(s, s.provides[fact]) for s in steps if fact in s.provides]
        if any(s.index < step.index for s, _ in providers):
            continue
        need = _describe(fact)
        if not providers:
            yield OutputProblem(path, f"step {step.name}: {what} needs {need}, which no step provides", CHECK)
        elif all(s.index == step.index for s, _ in providers):
            yield OutputProblem(path, f"step {step.name}: {what} needs {need}, which only the same step provides "
                                      f"({providers[0][1]}): it must come from an earlier step", CHECK)
        else:
            later, by = next((s, b) for s, b in providers if s.index > step.index)
            yield OutputProblem(path, f"step {step.name}: {what} needs {need}, which only the later step "
                                      f"{later.name} provides ({by})", CHECK)


def _describe(fact: Fact) -> str:
    kind, *rest = fact
    return {"crd": "the CRD of {}", "vault-path": "Vault path {}", "vault-role": "Vault role {}",
            "running": "{} running", "unsealed": "{} unsealed", "secret": "Secret {}",
            "db-login": "a login at Vault path {} with username {} (the database owner)",
            "bucket": "bucket {}"}[kind].format(*rest)
