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
from collections.abc import Iterable, Iterator, Mapping

from konoha_gen.diff.compare import FieldChange, ResourceChange, format_path
from konoha_gen.diff.findings import (
    AREAS,
    FLUX_KUSTOMIZE,
    SEVERITIES,
    Context,
    Finding,
    applied_files,
    count,
    field_summary,
    short_value,
    some,
    tree_folder,
    under,
)
from konoha_gen.diff.impact_terraform import ALL_ARGUMENTS, FORCE_NEW, STATEFUL_TERRAFORM, terraform
from konoha_gen.diff.resources import Resource, kustomization_of

__all__ = [
    "ALL_ARGUMENTS", "AREAS", "DANGEROUS_CONNECTOR_KEYS", "FORCE_NEW", "OPERATOR_ROLLS", "RESNAPSHOT", "SEVERITIES",
    "STATEFUL_KINDS", "STATEFUL_TERRAFORM", "WORKLOAD_KINDS", "Finding", "applied_files", "assess", "helm_upgrades",
    "tree_folder",
]

DANGEROUS_CONNECTOR_KEYS = {
    "slot.name": "a new replication slot starts at the current WAL position: changes between the old slot's "
                 "position and the new one are lost, and the old slot keeps retaining WAL on the source until dropped",
    "publication.name": "the connector reads another publication: tables missing from it are not captured, "
                        "and the old publication is left behind on the source",
    "topic.prefix": "every topic name changes and the connector's offsets are keyed by it: it snapshots again into "
                    "new topics (sinks see every row again) and the old topics are orphaned",
    "database.server.id": "the id the connector uses as a MySQL replica changes: if it collides with another replica "
                          "or connector, the server disconnects one of them and events are missed while they fight "
                          "over the binlog",
    "snapshot.mode": "changes what the connector does on its next start: it may snapshot every table again "
                     "(duplicates) or skip data it has not read",
    "table.include.list": "added tables are not snapshotted (only their new changes stream, unless an incremental "
                          "snapshot is signalled); removed tables stop streaming",
}
#: Dangerous keys whose change makes the source connector snapshot again on restart.
RESNAPSHOT = {"topic.prefix": "re-snapshot", "snapshot.mode": "re-snapshot"}

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
HELM_GROUP = "helm.toolkit.fluxcd.io"
VSO_GROUP = "secrets.hashicorp.com"


def assess(changes: list[ResourceChange], base: Mapping[str, bytes], head: Mapping[str, bytes],
           parsed: tuple[Mapping[str, Resource], Mapping[str, Resource]] | None = None) -> list[Finding]:
    """Every finding, deduplicated, most severe first within each area.

    `parsed`: the trees' resources when the caller has them (at least every YAML file), to avoid parsing twice.
    """
    context = Context(base, head, parsed)
    findings: set[Finding] = set()
    for rule in (_flux, _kubernetes, _helm, _workloads, _connectors, terraform, _files):
        findings.update(rule(changes, context))
    return sorted(findings, key=lambda f: (AREAS.index(f.area), SEVERITIES.index(f.severity),
                                           f.subject, f.action, f.reason))


def _flux(changes: list[ResourceChange], context: Context) -> Iterator[Finding]:
    by_kustomization: dict[str, list[str]] = {}
    for change in changes:
        files = {r.file for r in (change.old, change.new) if r is not None}
        for subject in sorted(set().union(*(context.appliers.get(f, set()) for f in files))):
            by_kustomization.setdefault(subject, []).append(change.resource.title)
    for subject, titles in by_kustomization.items():
        yield Finding("flux", f"Kustomization {subject}", "reconcile", "info",
                      f"applies {count(titles, 'change')}: {some(titles)}")


# --- Kubernetes objects -------------------------------------------------------------------------------------


def _kind(resource: Resource) -> tuple[str, str]:
    return resource.meta.get("group", ""), resource.meta.get("kind", "")


def _kubernetes(changes: list[ResourceChange], context: Context) -> Iterator[Finding]:
    for change in changes:
        resource = change.resource
        if resource.category != "kubernetes" or change.action != "removed":
            continue
        kind = _kind(resource)
        if kind in STATEFUL_KINDS:
            yield Finding("kubernetes", resource.title, "delete", "danger",
                          f"Flux prunes it: {STATEFUL_KINDS[kind]} is deleted")
        elif kind == (FLUX_KUSTOMIZE, "Kustomization") and resource.body.get("spec", {}).get("prune"):
            yield Finding("kubernetes", resource.title, "delete", "danger",
                          "it prunes: every object it applied is deleted")
        elif kind[0] == VSO_GROUP and kind[1] == "VaultStaticSecret":
            secret = resource.body.get("spec", {}).get("destination", {}).get("name", "")
            yield Finding("kubernetes", resource.title, "delete", "warning",
                          f"the Secret {secret} it writes goes away; anything still reading it fails")
        elif kind[0] != HELM_GROUP:
            yield Finding("kubernetes", resource.title, "delete", "info", "Flux prunes it")


# --- Helm ---------------------------------------------------------------------------------------------------


def _helm(changes: list[ResourceChange], context: Context) -> Iterator[Finding]:
    for subject, (action, reasons) in helm_upgrades(changes, context).items():
        severity = "warning" if action == "uninstall" else "info"
        yield Finding("helm", subject, action, severity, "; ".join(sorted(set(reasons))))


def helm_upgrades(changes: list[ResourceChange], context: Context) -> dict[str, tuple[str, list[str]]]:
    """HelmRelease title -> (install | upgrade | uninstall, reasons)."""
    found: dict[str, tuple[str, list[str]]] = {}
    for change in changes:
        resource = change.resource
        if resource.category == "kubernetes" and _kind(resource) == (HELM_GROUP, "HelmRelease"):
            action = {"added": "install", "removed": "uninstall"}.get(change.action, "upgrade")
            if action == "upgrade" and not any(under(f, ("spec",)) for f in change.fields):
                continue  # labels or annotations only: Flux updates the object, Helm does nothing
            reason = (field_summary(change.fields) if action == "upgrade"
                      else "new release" if action == "install" else "Flux uninstalls it")
            found.setdefault(resource.title, (action, []))[1].append(reason)
        elif resource.category == "helm-values" and change.action == "changed":
            for release in _releases_fed_by(resource.file, context):
                entry = found.setdefault(release.title, ("upgrade", []))
                entry[1].append(f"its values ({resource.file}) changed: {field_summary(change.fields)}")
    return found


def _releases_fed_by(values_file: str, context: Context) -> Iterator[Resource]:
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


def _workloads(changes: list[ResourceChange], context: Context) -> Iterator[Finding]:
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
        elif resource.meta.get("kind") in WORKLOAD_KINDS and any(under(f, ("spec", "template")) for f in change.fields):
            yield Finding("workload", resource.title, "roll", "info", "its pod template changed")
        elif kind in OPERATOR_ROLLS and any(under(f, ("spec",)) for f in change.fields):
            yield Finding("workload", resource.title, "roll", "info",
                          f"{OPERATOR_ROLLS[kind]}: {field_summary(change.fields)}")


def _secret_content(change: FieldChange) -> bool:
    """A VaultStaticSecret change that changes the Secret's content (not who gets restarted, not labels)."""
    return under(change, ("spec",)) and not under(change, ("spec", "rolloutRestartTargets"))


# --- Connectors ---------------------------------------------------------------------------------------------


def _connector_of(resource: Resource) -> tuple[str, tuple[str, ...]] | None:
    """(connector name, path of its config map) for a connector JSON or a KafkaConnector object."""
    if resource.category == "connector":
        return resource.meta["name"], ("config",)
    if resource.category == "kubernetes" and resource.meta.get("kind") == "KafkaConnector":
        return resource.meta["name"], ("spec", "config")
    return None


def _connectors(changes: list[ResourceChange], context: Context) -> Iterator[Finding]:
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
            yield Finding("connector", subject, "start", "info",
                          f"new connector{f' (snapshot.mode={mode})' if mode else ''}")
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
                          f"replaces {', '.join(renamed)} under a new name: a connector's offsets are keyed by its "
                          "name, so a source snapshots again and a sink re-reads its topics from the start "
                          "(duplicates)")


def _changed_connector(subject: str, config_path: tuple[str, ...], fields: Iterable[FieldChange]) -> Iterator[Finding]:
    restarts = []
    for change in fields:
        inside = under(change, config_path) and len(change.path) > len(config_path)
        key = change.path[len(config_path)] if inside else None
        if isinstance(key, str) and key in DANGEROUS_CONNECTOR_KEYS:
            yield Finding("connector", subject, RESNAPSHOT.get(key, "restart"), "danger",
                          f"{key} {short_value(change.old)} → {short_value(change.new)}: "
                          f"{DANGEROUS_CONNECTOR_KEYS[key]}")
        else:
            restarts.append(key if isinstance(key, str) else format_path(change.path))
    if restarts:
        yield Finding("connector", subject, "restart", "info", f"config changed: {some(sorted(set(restarts)))}")


# --- Files outside Flux and Terraform -----------------------------------------------------------------------


def _files(changes: list[ResourceChange], context: Context) -> Iterator[Finding]:
    for change in changes:
        resource = change.resource
        if resource.category == "sql":
            yield Finding("files", resource.file, "run", "warning",
                          "the source database needs this SQL (re-)run before its connector starts"
                          if change.action != "removed"
                          else "no longer generated; what it set up stays on the source database")
        elif resource.category == "dbt":
            yield Finding("files", resource.file, "update", "info",
                          "dbt runs use the new profiles: " + field_summary(change.fields))
