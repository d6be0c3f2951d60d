"""The wiring check for Kafka Connect (OUTPUT.md promise 6), over the artifacts only:

1. each connector's REST JSON (out/connectors/) and its KafkaConnector carry
   the same class, tasks and config: one connector, two renderings;
2. each KafkaConnector names a KafkaConnect in its namespace that enables
   connector resources and whose build installs the connector's plugin;
3. each `${directory:<dir>:<key>}` reference points at a directory the
   KafkaConnect mounts from a Secret that a VaultStaticSecret in that
   namespace produces, inside the provider's allowed paths, and the key is
   one that Secret holds (the Vault path's keys in the secrets inventory);
4. every topic a connector writes or reads (Debezium's table topics,
   heartbeats and schema history, the sink's topics and control topic) is a
   KafkaTopic of the Kafka cluster the Connect cluster bootstraps from, and
   every topic a sink reads is written by some source connector.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from konoha_gen.artifact import Artifact
from konoha_gen.check.k8s import kubernetes_objects
from konoha_gen.errors import OutputProblem
from konoha_gen.keys import CONNECTOR_CLASSES
from konoha_gen.resolved import Platform

CHECK = "wiring"
_PROVIDER_REF = re.compile(r"\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}")  # Kafka's ConfigTransformer pattern
_BOOTSTRAP = re.compile(r"^(?P<cluster>[a-z0-9-]+)-kafka-bootstrap\.(?P<namespace>[a-z0-9-]+)"
                        r"\.svc(\.cluster\.local)?:\d+$")


@dataclass
class ConnectCluster:
    namespace: str
    name: str
    connector_resources: bool
    kafka: tuple[str, str] | None  # (namespace, Kafka cluster) it bootstraps from
    plugins: set[str] = field(default_factory=set)
    mounts: dict[str, str] = field(default_factory=dict)  # mountPath -> Secret name
    providers: dict[str, str] = field(default_factory=dict)  # alias -> class
    allowed_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Connector:
    path: str
    namespace: str
    name: str
    cluster: str
    connector_class: str
    tasks_max: int
    config: dict[str, str]


def check(platform: Platform, artifacts: list[Artifact]) -> list[OutputProblem]:
    clusters: dict[tuple[str, str], ConnectCluster] = {}
    connectors: list[Connector] = []
    topics: dict[tuple[str, str], set[str]] = {}
    statics: dict[tuple[str, str], str] = {}  # (namespace, Secret) -> Vault path under the mount
    for artifact, doc in kubernetes_objects(artifacts):
        meta, spec, kind = doc.get("metadata") or {}, doc.get("spec") or {}, doc.get("kind")
        namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        labels = meta.get("labels") or {}
        if kind == "KafkaConnect":
            clusters[(namespace, name)] = _connect_cluster(namespace, name, meta, spec)
        elif kind == "KafkaConnector":
            connectors.append(Connector(artifact.path, namespace, name, str(labels.get("strimzi.io/cluster", "")),
                                        str(spec.get("class", "")), int(spec.get("tasksMax", 1)),
                                        {str(k): str(v) for k, v in (spec.get("config") or {}).items()}))
        elif kind == "KafkaTopic":
            topics.setdefault((namespace, str(labels.get("strimzi.io/cluster", ""))), set()).add(
                str(spec.get("topicName", name)))
        elif kind == "VaultStaticSecret":
            statics[(namespace, spec["destination"]["name"])] = spec["path"]
    keys = {entry.path: set(entry.keys) for entry in platform.secrets}
    problems = _rest_bodies(artifacts, connectors)
    written: set[str] = set()
    reads: list[tuple[Connector, str]] = []
    for connector in connectors:
        where = f"KafkaConnector {connector.name}"
        cluster = clusters.get((connector.namespace, connector.cluster))
        if cluster is None or not cluster.connector_resources:
            problems.append(_problem(connector, f"{where}: KafkaConnect '{connector.cluster}' in {connector.namespace} "
                                                "does not exist "
                                                "or does not enable strimzi.io/use-connector-resources"))
            continue
        plugin = CONNECTOR_CLASSES.get(connector.connector_class)
        if plugin not in cluster.plugins:
            problems.append(_problem(connector, f"{where}: class {connector.connector_class} needs plugin "
                                                f"'{plugin}', which "
                                                f"KafkaConnect {cluster.name} does not build (plugins: "
                                                f"{sorted(cluster.plugins)})"))
        problems += [_problem(connector, f"{where}: {message}")
                     for message in _references(connector, cluster, statics, keys)]
        own_writes, own_reads = _topics(connector)
        written |= own_writes
        reads += [(connector, topic) for topic in own_reads]
        existing = topics.get(cluster.kafka, set()) if cluster.kafka else set()
        for topic in sorted(own_writes | own_reads):
            if topic not in existing:
                problems.append(_problem(connector, f"{where}: topic '{topic}' is not a KafkaTopic of Kafka cluster "
                                                    f"{cluster.kafka[1] if cluster.kafka else '?'} (topics are not "
                                                    "auto-created)"))
    for connector, topic in reads:
        if connector.config.get("topics") and topic in connector.config["topics"].split(",") and topic not in written:
            problems.append(_problem(connector, f"KafkaConnector {connector.name}: reads topic '{topic}', which no "
                                                "source connector writes"))
    return problems


def _problem(connector: Connector, message: str) -> OutputProblem:
    return OutputProblem(connector.path, message, CHECK)


def _connect_cluster(namespace: str, name: str, meta: dict[str, Any], spec: dict[str, Any]) -> ConnectCluster:
    annotations = meta.get("annotations") or {}
    bootstrap = _BOOTSTRAP.match(str(spec.get("bootstrapServers", "")).split(",")[0])
    config = spec.get("config") or {}
    template = spec.get("template") or {}
    volumes = {v["name"]: v["secret"]["secretName"] for v in (template.get("pod") or {}).get("volumes", [])
               if "secret" in v}
    mounts = {m["mountPath"].rstrip("/"): volumes[m["name"]]
              for m in (template.get("connectContainer") or {}).get("volumeMounts", []) if m["name"] in volumes}
    aliases = [a.strip() for a in str(config.get("config.providers", "")).split(",") if a.strip()]
    allowed = str(config.get("config.providers.directory.param.allowed.paths", ""))
    return ConnectCluster(
        namespace, name, str(annotations.get("strimzi.io/use-connector-resources", "")) == "true",
        (bootstrap.group("namespace"), bootstrap.group("cluster")) if bootstrap else None,
        {p["name"] for p in (spec.get("build") or {}).get("plugins", [])}, mounts,
        {alias: str(config.get(f"config.providers.{alias}.class", "")) for alias in aliases},
        tuple(p.strip().rstrip("/") for p in allowed.split(",") if p.strip()))


def _references(connector: Connector, cluster: ConnectCluster, statics: dict[tuple[str, str], str],
                keys: dict[str, set[str]]) -> Iterator[str]:
    for key, value in sorted(connector.config.items()):
        for alias, directory, item in _PROVIDER_REF.findall(value):
            if not cluster.providers.get(alias, "").endswith(".DirectoryConfigProvider"):
                yield (f"{key} uses config provider '{alias}', which KafkaConnect {cluster.name} "
                       "does not declare as a DirectoryConfigProvider")
                continue
            directory = directory.rstrip("/")
            if cluster.allowed_paths and not any(directory == p or directory.startswith(p + "/")
                                                 for p in cluster.allowed_paths):
                yield f"{key} reads {directory}, outside the provider's allowed.paths {list(cluster.allowed_paths)}"
            secret = cluster.mounts.get(directory)
            if secret is None:
                yield f"{key} reads directory {directory}, which KafkaConnect {cluster.name} mounts from no Secret"
                continue
            vault_path = statics.get((cluster.namespace, secret))
            if vault_path is None:
                yield f"{key} reads Secret '{secret}', which no VaultStaticSecret in {cluster.namespace} produces"
            elif item not in keys.get(vault_path, set()):
                yield f"{key} reads key '{item}' of Secret '{secret}', which Vault path {vault_path} does not hold " \
                      f"(keys: {sorted(keys.get(vault_path, set()))})"


def _topics(connector: Connector) -> tuple[set[str], set[str]]:
    """(topics the connector writes, topics it reads), from its own configuration."""
    config = connector.config
    plugin = CONNECTOR_CLASSES.get(connector.connector_class, "")
    if plugin.startswith("debezium-"):
        prefix = config.get("topic.prefix", "")
        tables = [t.replace("\\.", ".") for t in config.get("table.include.list", "").split(",") if t]
        writes = {f"{prefix}.{table}" for table in tables}
        if int(config.get("heartbeat.interval.ms", "0")) > 0:
            writes.add(f"{config.get('topic.heartbeat.prefix', '__debezium-heartbeat')}.{prefix}")
        if "schema.history.internal.kafka.topic" in config:
            writes.add(config["schema.history.internal.kafka.topic"])
        return writes, set()
    if plugin == "iceberg-sink":
        reads = {t for t in config.get("topics", "").split(",") if t}
        control = config.get("iceberg.control.topic", "control-iceberg")
        return {control}, reads | {control}
    return set(), set()


def _rest_bodies(artifacts: list[Artifact], connectors: list[Connector]) -> list[OutputProblem]:
    """Each out/connectors/*.json body equals its KafkaConnector; neither exists without the other."""
    by_name = {c.name: c for c in connectors}
    seen: set[str] = set()
    problems = []
    for artifact in artifacts:
        if not (artifact.path.startswith("connectors/") and artifact.path.endswith(".json")):
            continue
        body = json.loads(artifact.content)
        name = str(body.get("name", ""))
        seen.add(name)
        config = {str(k): str(v) for k, v in (body.get("config") or {}).items()}
        connector = by_name.get(name)
        if connector is None:
            problems.append(OutputProblem(artifact.path, f"connector '{name}' has no KafkaConnector of the same name",
                                          CHECK))
            continue
        rendered = {**connector.config, "connector.class": connector.connector_class,
                    "tasks.max": str(connector.tasks_max)}
        if config != rendered:
            differing = sorted(k for k in config.keys() | rendered.keys() if config.get(k) != rendered.get(k))
            problems.append(OutputProblem(artifact.path, f"connector '{name}' differs from its KafkaConnector "
                                                         f"in {differing}", CHECK))
    problems += [OutputProblem(c.path, f"KafkaConnector {c.name} has no out/connectors/ JSON body", CHECK)
                 for c in connectors if c.name not in seen]
    return problems
