"""What a set of changes will do when it is merged: the reviewer's summary.

Rules, from the resources alone (no cluster, no Terraform state):
- Flux: a Kustomization reconciles changes when any file it applies changed;
  the files are found by walking its `spec.path` through kustomization.yaml
  resources, generators and configurations. Deleting one that prunes deletes
  everything it applied.
- Helm: a HelmRelease upgrades when it changed, or when a values file that a
  configMapGenerator feeds into its `valuesFrom` changed (the ConfigMap gets a
  new hashed name).
- Workloads roll: every rolloutRestartTarget of a changed VaultStaticSecret
  (VSO restarts them); workloads and Strimzi/CloudNativePG resources whose
  spec changed (their operators roll the pods). The known workloads of an
  upgrading HelmRelease (those named after it in its namespace) may roll: only
  the chart knows whether their pod template changes.
- Connectors (out/connectors/*.json and KafkaConnector objects): a changed key
  in DANGEROUS_CONNECTOR_KEYS loses or duplicates CDC data; any other change
  restarts the connector.
- Terraform: a removed address is destroyed, a changed identity argument
  (FORCE_NEW) replaces the object; stateful kinds (buckets, mounts, realms,
  generated secrets, the cluster) are flagged as dangerous. A changed variable
  default changes every resource of the module that reads it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from konoha_gen.diff.compare import MISSING, FieldChange, Item, ResourceChange, canonical, format_path
from konoha_gen.diff.resources import Resource, kustomization_of, parse_tree

SEVERITIES = ("danger", "warning", "info")
AREAS = ("connector", "terraform", "kubernetes", "flux", "helm", "workload", "files")

DANGEROUS_CONNECTOR_KEYS = {
    "slot.name": "a new replication slot starts at the current WAL position: changes between the old slot's "
                 "position and the new one are lost, and the old slot keeps retaining WAL on the source until dropped",
    "publication.name": "the connector reads another publication: tables missing from it are not captured, "
                        "and the old publication is left behind on the source",
    "topic.prefix": "every topic name changes and the connector's offsets are keyed by it: it snapshots again into "
                    "new topics (sinks see every row again) and the old topics are orphaned",
    "database.server.id": "the id the connector uses as a MySQL replica changes: if it collides with another replica "
                          "or connector, the server disconnects one of them and events are missed while they fight over the binlog",
    "snapshot.mode": "changes what the connector does on its next start: it may snapshot every table again "
                     "(duplicates) or skip data it has not read",
    "table.include.list": "added tables are not snapshotted (only their new changes stream, unless an incremental "
                          "snapshot is signalled); removed tables stop streaming",
}
#: Dangerous keys whose change makes the source connector snapshot again on restart.
RESNAPSHOT = {"topic.prefix": "re-snapshot", "snapshot.mode": "re-snapshot"}

STATEFUL_TERRAFORM = {
    "minio_s3_bucket": "the bucket and every object in it",
    "vault_mount": "the secrets engine and every secret stored under it",
    "keycloak_realm": "the realm with its users, groups, clients and sessions",
    "vault_auth_backend": "the auth method and every role under it; logins through it fail",
    "vault_kv_secret_v2": "the secret and all its versions",
    "random_password": "the generated value; anything that used it gets a new one",
    "random_string": "the generated value; anything that used it gets a new one",
    "minikube_cluster": "the cluster and everything running in it",
    "keycloak_user": "the user with their credentials",
    "keycloak_openid_client": "the client; its secret changes when it is created again",
    "minio_iam_user": "the user and its access keys",
    "helm_release": "the Helm release (for Flux: its controllers and CRDs, and with them every Flux object)",
}

ALL_ARGUMENTS = frozenset({"*"})
FORCE_NEW = {
    "minio_s3_bucket": frozenset({"bucket", "bucket_prefix", "object_locking"}),
    "minio_ilm_policy": frozenset({"bucket"}),
    "minio_iam_user": frozenset({"name"}),
    "minio_iam_group": frozenset({"name"}),
    "minio_iam_policy": frozenset({"name"}),
    "vault_mount": frozenset({"type", "local"}),
    "vault_auth_backend": frozenset({"type"}),
    "vault_kv_secret_v2": frozenset({"mount", "name"}),
    "vault_policy": frozenset({"name"}),
    "vault_kubernetes_auth_backend_role": frozenset({"backend", "role_name"}),
    "keycloak_realm": frozenset({"realm"}),
    "keycloak_group": frozenset({"realm_id", "parent_id"}),
    "keycloak_user": frozenset({"realm_id"}),
    "keycloak_openid_client": frozenset({"realm_id"}),
    "helm_release": frozenset({"name", "namespace"}),
    "random_password": ALL_ARGUMENTS,
    "random_string": ALL_ARGUMENTS,
    "minikube_cluster": ALL_ARGUMENTS,
}

STATEFUL_KINDS = {
    ("", "Namespace"): "every object in the namespace, volumes included",
    ("", "PersistentVolumeClaim"): "the volume and its data",
    ("postgresql.cnpg.io", "Cluster"): "the PostgreSQL cluster and its volumes",
    ("kafka.strimzi.io", "Kafka"): "the Kafka cluster, its topics and their data",
    ("kafka.strimzi.io", "KafkaNodePool"): "the brokers and their volumes",
    ("kafka.strimzi.io", "KafkaTopic"): "the topic and its data",
}
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
OPERATOR_ROLLS = {
    ("kafka.strimzi.io", "Kafka"): "Strimzi rolls the brokers",
    ("kafka.strimzi.io", "KafkaNodePool"): "Strimzi rolls the pool's brokers",
    ("kafka.strimzi.io", "KafkaConnect"): "Strimzi rolls the Connect workers (every connector restarts)",
    ("postgresql.cnpg.io", "Cluster"): "CloudNativePG restarts the instances where the change needs it",
}
FLUX_KUSTOMIZE = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
VSO_GROUP = "secrets.hashicorp.com"


@dataclass(frozen=True, order=True)
class Finding:
    area: str  # one of AREAS
    subject: str  # what is affected, as a reviewer names it
    action: str  # reconcile | install | upgrade | uninstall | roll | may roll | start | restart | re-snapshot | delete | create
    #              | update | replace | destroy | read | run
    severity: str  # danger | warning | info
    reason: str


def assess(changes: list[ResourceChange], base: Mapping[str, bytes], head: Mapping[str, bytes],
           parsed: tuple[Mapping[str, Resource], Mapping[str, Resource]] | None = None) -> list[Finding]:
    """Every finding, deduplicated, most severe first within each area.

    `parsed`: the trees' resources when the caller has them (at least every YAML file), to avoid parsing twice.
    """
    context = _Context(base, head, parsed)
    findings: set[Finding] = set()
    for rule in (_flux, _kubernetes, _helm, _workloads, _connectors, _terraform, _files):
        findings.update(rule(changes, context))
    return sorted(findings, key=lambda f: (AREAS.index(f.area), SEVERITIES.index(f.severity), f.subject, f.action, f.reason))


class _Context:
    """The two whole trees; their YAML resources parsed once (or handed over already parsed)."""

    def __init__(self, base: Mapping[str, bytes], head: Mapping[str, bytes],
                 parsed: tuple[Mapping[str, Resource], Mapping[str, Resource]] | None = None) -> None:
        self.base = base
        self.head = head
        self._parsed = parsed

    @cached_property
    def base_objects(self) -> Mapping[str, Resource]:
        return self._parsed[0] if self._parsed else parse_tree(self.base, _yaml_paths(self.base))

    @cached_property
    def head_objects(self) -> Mapping[str, Resource]:
        return self._parsed[1] if self._parsed else parse_tree(self.head, _yaml_paths(self.head))

    def objects(self) -> Iterator[Resource]:
        """Kubernetes objects of both trees (head first; base-only ones after)."""
        yield from (r for r in self.head_objects.values() if r.category == "kubernetes")
        yield from (r for k, r in self.base_objects.items() if r.category == "kubernetes" and k not in self.head_objects)

    @cached_property
    def appliers(self) -> dict[str, set[str]]:
        """file path -> the Flux Kustomizations (namespace/name) that apply it, in either tree."""
        found: dict[str, set[str]] = {}
        for contents, objects in ((self.base, self.base_objects), (self.head, self.head_objects)):
            for resource in objects.values():
                if resource.meta.get("group") == FLUX_KUSTOMIZE and resource.meta.get("kind") == "Kustomization":
                    subject = f"{resource.meta['namespace']}/{resource.meta['name']}"
                    for path in applied_files(str(resource.body.get("spec", {}).get("path", "")), contents):
                        found.setdefault(path, set()).add(subject)
        return found


def _yaml_paths(contents: Mapping[str, bytes]) -> list[str]:
    return [p for p in contents if p.endswith((".yaml", ".yml"))]


# --- Flux ---------------------------------------------------------------------------------------------------


def tree_folder(flux_path: str, contents: Mapping[str, bytes]) -> str | None:
    """A Flux Kustomization's spec.path (relative to the git repository) as a folder of this tree."""
    parts = [p for p in flux_path.split("/") if p not in ("", ".")]
    for start in range(len(parts)):
        folder = "/".join(parts[start:])
        if any(p.startswith(folder + "/") for p in contents):
            return folder
    return None


def applied_files(flux_path: str, contents: Mapping[str, bytes]) -> set[str]:
    folder = tree_folder(flux_path, contents)
    found: set[str] = set()
    if folder is not None:
        _walk(folder, contents, found, set())
    return found


def _walk(folder: str, contents: Mapping[str, bytes], found: set[str], seen: set[str]) -> None:
    if folder in seen:
        return
    seen.add(folder)
    kustomization = kustomization_of(folder, contents)
    if kustomization is None:  # Flux generates one: every manifest below the folder
        found.update(p for p in contents if p.startswith(folder + "/") and p.endswith((".yaml", ".yml", ".json")))
        return
    found.update(p for p in (f"{folder}/kustomization.yaml", f"{folder}/kustomization.yml") if p in contents)
    for entry in _kustomize_files(kustomization):
        path = posixpath.normpath(posixpath.join(folder, entry))
        if path in contents:
            found.add(path)
        elif any(p.startswith(path + "/") for p in contents):
            _walk(path, contents, found, seen)


def _kustomize_files(kustomization: Mapping[str, Any]) -> Iterator[str]:
    for key in ("resources", "components", "configurations", "patchesStrategicMerge", "crds"):
        yield from (str(v) for v in kustomization.get(key) or [] if isinstance(v, str))
    for key in ("configMapGenerator", "secretGenerator"):
        for generator in kustomization.get(key) or []:
            for entry in [*(generator.get("files") or []), *(generator.get("envs") or [])]:
                yield str(entry).split("=", 1)[-1]
    for patch in kustomization.get("patches") or []:
        if isinstance(patch, dict) and isinstance(patch.get("path"), str):
            yield patch["path"]


def _flux(changes: list[ResourceChange], context: _Context) -> Iterator[Finding]:
    by_kustomization: dict[str, list[str]] = {}
    for change in changes:
        files = {r.file for r in (change.old, change.new) if r is not None}
        for subject in sorted(set().union(*(context.appliers.get(f, set()) for f in files))):
            by_kustomization.setdefault(subject, []).append(change.resource.title)
    for subject, titles in by_kustomization.items():
        yield Finding("flux", f"Kustomization {subject}", "reconcile", "info", f"applies {_count(titles, 'change')}: {_some(titles)}")


# --- Kubernetes objects -------------------------------------------------------------------------------------


def _kind(resource: Resource) -> tuple[str, str]:
    return resource.meta.get("group", ""), resource.meta.get("kind", "")


def _kubernetes(changes: list[ResourceChange], context: _Context) -> Iterator[Finding]:
    for change in changes:
        resource = change.resource
        if resource.category != "kubernetes" or change.action != "removed":
            continue
        kind = _kind(resource)
        if kind in STATEFUL_KINDS:
            yield Finding("kubernetes", resource.title, "delete", "danger", f"Flux prunes it: {STATEFUL_KINDS[kind]} is deleted")
        elif kind == (FLUX_KUSTOMIZE, "Kustomization") and resource.body.get("spec", {}).get("prune"):
            yield Finding("kubernetes", resource.title, "delete", "danger", "it prunes: every object it applied is deleted")
        elif kind[0] == VSO_GROUP and kind[1] == "VaultStaticSecret":
            secret = resource.body.get("spec", {}).get("destination", {}).get("name", "")
            yield Finding("kubernetes", resource.title, "delete", "warning",
                          f"the Secret {secret} it writes goes away; anything still reading it fails")
        elif kind[0] != HELM_GROUP:
            yield Finding("kubernetes", resource.title, "delete", "info", "Flux prunes it")


# --- Helm ---------------------------------------------------------------------------------------------------


def _helm(changes: list[ResourceChange], context: _Context) -> Iterator[Finding]:
    for subject, (action, reasons) in helm_upgrades(changes, context).items():
        severity = "warning" if action == "uninstall" else "info"
        yield Finding("helm", subject, action, severity, "; ".join(sorted(set(reasons))))


def helm_upgrades(changes: list[ResourceChange], context: _Context) -> dict[str, tuple[str, list[str]]]:
    """HelmRelease title -> (install | upgrade | uninstall, reasons)."""
    found: dict[str, tuple[str, list[str]]] = {}
    for change in changes:
        resource = change.resource
        if resource.category == "kubernetes" and _kind(resource) == (HELM_GROUP, "HelmRelease"):
            action = {"added": "install", "removed": "uninstall"}.get(change.action, "upgrade")
            if action == "upgrade" and not any(_under(f, ("spec",)) for f in change.fields):
                continue  # labels or annotations only: Flux updates the object, Helm does nothing
            reason = _field_summary(change.fields) if action == "upgrade" else ("new release" if action == "install" else "Flux uninstalls it")
            found.setdefault(resource.title, (action, []))[1].append(reason)
        elif resource.category == "helm-values" and change.action == "changed":
            for release in _releases_fed_by(resource.file, context):
                entry = found.setdefault(release.title, ("upgrade", []))
                entry[1].append(f"its values ({resource.file}) changed: {_field_summary(change.fields)}")
    return found


def _releases_fed_by(values_file: str, context: _Context) -> Iterator[Resource]:
    folder, name = posixpath.split(values_file)
    kustomization = kustomization_of(folder, context.head) or {}
    generated = {str(g.get("name")) for g in kustomization.get("configMapGenerator") or []
                 if any(str(f).split("=", 1)[-1] == name for f in g.get("files") or [])}
    for resource in context.head_objects.values():
        if _kind(resource) != (HELM_GROUP, "HelmRelease") or posixpath.dirname(resource.file) != folder:
            continue
        sources = resource.body.get("spec", {}).get("valuesFrom") or []
        if any(s.get("kind") == "ConfigMap" and s.get("name") in generated for s in sources if isinstance(s, dict)):
            yield resource


# --- Workloads ----------------------------------------------------------------------------------------------


def _restart_targets(resource: Resource) -> list[tuple[str, str]]:
    targets = resource.body.get("spec", {}).get("rolloutRestartTargets") or []
    return [(str(t.get("kind", "")), str(t.get("name", ""))) for t in targets if isinstance(t, dict)]


def _workloads(changes: list[ResourceChange], context: _Context) -> Iterator[Finding]:
    certain = list(_certain_rolls(changes))
    yield from certain
    rolling = {f.subject for f in certain}
    known: set[tuple[str, str, str]] = set()  # (namespace, kind, name)
    for resource in context.objects():
        if _kind(resource) == (VSO_GROUP, "VaultStaticSecret"):
            known.update((resource.meta["namespace"], k, n) for k, n in _restart_targets(resource))
        elif resource.meta.get("kind") in WORKLOAD_KINDS:
            known.add((resource.meta["namespace"], resource.meta["kind"], resource.meta["name"]))
    for title, (action, _reasons) in helm_upgrades(changes, context).items():
        if action != "upgrade":
            continue
        namespace, release = title.split(" ", 1)[1].split("/", 1)
        for ns, kind_name, name in sorted(known):
            subject = f"{kind_name} {ns}/{name}"
            if ns == namespace and (name == release or name.startswith(release + "-")) and subject not in rolling:
                yield Finding("workload", subject, "may roll", "info",
                              f"HelmRelease {release} upgrades; its pods restart if the rendered pod template changed")


def _certain_rolls(changes: list[ResourceChange]) -> Iterator[Finding]:
    for change in changes:
        resource = change.resource
        if change.action != "changed" or resource.category != "kubernetes":
            continue
        namespace, kind = resource.meta["namespace"], _kind(resource)
        if kind == (VSO_GROUP, "VaultStaticSecret") and any(_secret_content(f) for f in change.fields):
            for target_kind, name in _restart_targets(resource):
                yield Finding("workload", f"{target_kind} {namespace}/{name}", "roll", "info",
                              f"VSO restarts it: its VaultStaticSecret {resource.meta['name']} changed")
        elif resource.meta.get("kind") in WORKLOAD_KINDS and any(_under(f, ("spec", "template")) for f in change.fields):
            yield Finding("workload", resource.title, "roll", "info", "its pod template changed")
        elif kind in OPERATOR_ROLLS and any(_under(f, ("spec",)) for f in change.fields):
            yield Finding("workload", resource.title, "roll", "info", f"{OPERATOR_ROLLS[kind]}: {_field_summary(change.fields)}")


def _under(change: FieldChange, prefix: tuple[str, ...]) -> bool:
    return tuple(change.path[: len(prefix)]) == prefix


def _secret_content(change: FieldChange) -> bool:
    """A VaultStaticSecret change that changes the Secret's content (not who gets restarted, not labels)."""
    return _under(change, ("spec",)) and not _under(change, ("spec", "rolloutRestartTargets"))


# --- Connectors ---------------------------------------------------------------------------------------------


def _connector_of(resource: Resource) -> tuple[str, tuple[str, ...]] | None:
    """(connector name, path of its config map) for a connector JSON or a KafkaConnector object."""
    if resource.category == "connector":
        return resource.meta["name"], ("config",)
    if resource.category == "kubernetes" and resource.meta.get("kind") == "KafkaConnector":
        return resource.meta["name"], ("spec", "config")
    return None


def _connectors(changes: list[ResourceChange], context: _Context) -> Iterator[Finding]:
    added: dict[str, str] = {}
    removed: dict[str, str] = {}
    for change in changes:
        found = _connector_of(change.resource)
        if found is None:
            continue
        name, config_path = found
        config = change.resource.body
        for part in config_path:
            config = config.get(part, {}) if isinstance(config, dict) else {}
        subject = f"connector {name}"
        if change.action == "added":
            added[name] = str(config.get("connector.class", ""))
            mode = config.get("snapshot.mode")
            yield Finding("connector", subject, "start", "info", f"new connector{f' (snapshot.mode={mode})' if mode else ''}")
        elif change.action == "removed":
            removed[name] = str(config.get("connector.class", ""))
            slot = config.get("slot.name")
            yield Finding("connector", subject, "delete", "warning", "stops capturing changes" + (
                f"; replication slot {slot} stays on the source and retains WAL until it is dropped" if slot else ""))
        else:
            yield from _changed_connector(subject, config_path, change.fields)
    for name, connector_class in sorted(added.items()):
        renamed = sorted(n for n, c in removed.items() if c == connector_class and connector_class)
        if renamed:
            yield Finding("connector", f"connector {name}", "start", "danger",
                          f"replaces {', '.join(renamed)} under a new name: a connector's offsets are keyed by its name, so a source "
                          "snapshots again and a sink re-reads its topics from the start (duplicates)")


def _changed_connector(subject: str, config_path: tuple[str, ...], fields: Iterable[FieldChange]) -> Iterator[Finding]:
    restarts = []
    for change in fields:
        key = change.path[len(config_path)] if _under(change, config_path) and len(change.path) > len(config_path) else None
        if isinstance(key, str) and key in DANGEROUS_CONNECTOR_KEYS:
            yield Finding("connector", subject, RESNAPSHOT.get(key, "restart"), "danger",
                          f"{key} {_value(change.old)} → {_value(change.new)}: {DANGEROUS_CONNECTOR_KEYS[key]}")
        else:
            restarts.append(key if isinstance(key, str) else format_path(change.path))
    if restarts:
        yield Finding("connector", subject, "restart", "info", f"config changed: {_some(sorted(set(restarts)))}")


# --- Terraform ----------------------------------------------------------------------------------------------

_FOR_EACH_SET = re.compile(r"^\$\{toset\(\[(?P<items>[^\]]*)\]\)\}$")


def _terraform(changes: list[ResourceChange], context: _Context) -> Iterator[Finding]:
    for change in changes:
        resource = change.resource
        if resource.category != "terraform":
            continue
        block, tf_type, address = resource.meta["block"], resource.meta["type"], resource.meta["address"]
        subject = resource.title
        if block == "resource":
            yield from _resource_change(change, tf_type, subject)
        elif block == "data" and change.action != "removed":
            yield Finding("terraform", subject, "read", "info", "data source changed")
        elif block == "variable" and change.action == "changed" and any(_under(f, ("default",)) for f in change.fields):
            yield from _variable_users(resource, address, change, context)
        elif block == "terraform" and change.action == "changed":
            versions = [f for f in change.fields if _under(f, ("required_providers",))]
            if versions:
                yield Finding("terraform", subject, "update", "warning", f"provider versions change: {_field_summary(versions)}")


def _resource_change(change: ResourceChange, tf_type: str, subject: str) -> Iterator[Finding]:
    stateful = STATEFUL_TERRAFORM.get(tf_type)
    if change.action == "added":
        yield Finding("terraform", subject, "create", "info", "new resource")
        return
    if change.action == "removed":
        assert change.old is not None
        guard = "; apply fails: lifecycle.prevent_destroy is set" if _prevents_destroy(change.old.body) else ""
        yield Finding("terraform", subject, "destroy", "danger" if stateful else "warning",
                      f"removed: destroys {stateful or 'it'}{guard}")
        return
    assert change.old is not None and change.new is not None
    yield from _instances_removed(change, tf_type, subject)
    arguments = sorted({str(f.path[0]) for f in change.fields if f.path and f.path[0] != "for_each"})
    if not arguments:
        return
    forcing = _forcing(tf_type, arguments)
    if forcing:
        yield Finding("terraform", subject, "replace", "danger" if stateful else "warning",
                      f"{', '.join(forcing)} cannot change in place: destroyed and created again"
                      + (f" ({stateful} is lost)" if stateful else "") + f"; {_field_summary(change.fields)}")
    else:
        yield Finding("terraform", subject, "update", "info", f"in place: {_field_summary(change.fields)}")


def _forcing(tf_type: str, arguments: Iterable[str]) -> list[str]:
    force_new = FORCE_NEW.get(tf_type, frozenset())
    return [a for a in arguments if force_new is ALL_ARGUMENTS or a in force_new]


def _prevents_destroy(body: Any) -> bool:
    lifecycle = body.get("lifecycle") if isinstance(body, dict) else None
    blocks = lifecycle if isinstance(lifecycle, list) else [lifecycle]
    return any(isinstance(b, dict) and b.get("prevent_destroy") is True for b in blocks)


def _instances_removed(change: ResourceChange, tf_type: str, subject: str) -> Iterator[Finding]:
    """`for_each = toset([...])` keys that went away: those instances are destroyed."""
    assert change.old is not None and change.new is not None
    before, after = _for_each_keys(change.old.body), _for_each_keys(change.new.body)
    if before is None or after is None:
        return
    stateful = STATEFUL_TERRAFORM.get(tf_type)
    address, module = change.resource.meta["address"], change.resource.meta["module"]
    for key in sorted(before - after):
        yield Finding("terraform", f'{address}["{key}"] ({module})', "destroy", "danger" if stateful else "warning",
                      f"for_each no longer has {key!r}: destroys {stateful or 'that instance'}")
    for key in sorted(after - before):
        yield Finding("terraform", f'{address}["{key}"] ({module})', "create", "info", f"for_each gains {key!r}")


def _for_each_keys(body: Any) -> set[str] | None:
    match = _FOR_EACH_SET.match(str(body.get("for_each", ""))) if isinstance(body, dict) else None
    if match is None:
        return None
    return {item.strip().strip('"') for item in match.group("items").split(",") if item.strip()}


def _variable_users(variable: Resource, address: str, change: ResourceChange, context: _Context) -> Iterator[Finding]:
    """Resources of the module whose arguments read the variable change with it."""
    module = variable.meta["module"]
    paths = [p for p in context.head if p.endswith(".tf") and posixpath.dirname(p) == module]
    pattern = re.compile(rf"\b{re.escape(address)}\b")
    old, new = next((f.old, f.new) for f in change.fields if _under(f, ("default",)))
    for resource in parse_tree(context.head, paths).values():
        if resource.meta.get("block") != "resource" or not isinstance(resource.body, dict):
            continue
        arguments = sorted(k for k, v in resource.body.items() if pattern.search(canonical(v)))
        if not arguments:
            continue
        tf_type, stateful = resource.meta["type"], STATEFUL_TERRAFORM.get(resource.meta["type"])
        via = f"{', '.join(arguments)} (from {address}: {_value(old)} → {_value(new)})"
        if _forcing(tf_type, arguments):
            yield Finding("terraform", resource.title, "replace", "danger" if stateful else "warning",
                          f"{via} cannot change in place: destroyed and created again" + (f" ({stateful} is lost)" if stateful else ""))
        else:
            yield Finding("terraform", resource.title, "update", "info", f"in place: {via}")


# --- Files outside Flux and Terraform -----------------------------------------------------------------------


def _files(changes: list[ResourceChange], context: _Context) -> Iterator[Finding]:
    for change in changes:
        resource = change.resource
        if resource.category == "sql":
            yield Finding("files", resource.file, "run", "warning",
                          "the source database needs this SQL (re-)run before its connector starts" if change.action != "removed"
                          else "no longer generated; what it set up stays on the source database")
        elif resource.category == "dbt":
            yield Finding("files", resource.file, "update", "info", "dbt runs use the new profiles: " + _field_summary(change.fields))


# --- wording ------------------------------------------------------------------------------------------------


def _value(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    text = value if isinstance(value, str) else canonical(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _changed_lines(path: str, old: Any, new: Any) -> str:
    """`path: -first removed line +first added line (+N more lines)` for a multi-line value."""
    before = old.splitlines() if isinstance(old, str) else []
    after = new.splitlines() if isinstance(new, str) else []
    removed = [line.strip() for line in before if line not in set(after) and line.strip()]
    added = [line.strip() for line in after if line not in set(before) and line.strip()]
    shown = [f"-{_value(removed[0])}"] if removed else []
    shown += [f"+{_value(added[0])}"] if added else []
    extra = len(removed) + len(added) - len(shown)
    return f"{path}: {' '.join(shown) or 'whitespace'}" + (f" (+{extra} more lines)" if extra > 0 else "")


def _summary_path(change: FieldChange) -> str:
    """A field's path; for one added or removed with a list item, the item (its leaves say the same)."""
    path = change.path
    if MISSING in (change.old, change.new):
        items = [i for i, part in enumerate(path) if isinstance(part, Item)]
        if items:
            path = path[: items[-1] + 1]
    return format_path(path)


def _field_summary(fields: Iterable[FieldChange], limit: int = 3) -> str:
    shown: list[str] = []
    for change in fields:
        if any(isinstance(v, str) and "\n" in v.strip("\n") for v in (change.old, change.new)):
            text = _changed_lines(format_path(change.path), change.old, change.new)
        elif change.old is MISSING:
            text = f"+{_summary_path(change)}"
        elif change.new is MISSING:
            text = f"-{_summary_path(change)}"
        else:
            text = f"{format_path(change.path)} {_value(change.old)} → {_value(change.new)}"
        if text not in shown:
            shown.append(text)
    more = f" (+{len(shown) - limit} more)" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more if shown else "no field changes"


def _count(items: list[str], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _some(items: list[str], limit: int = 3) -> str:
    unique = list(dict.fromkeys(items))
    more = f" and {len(unique) - limit} more" if len(unique) > limit else ""
    return ", ".join(unique[:limit]) + more

