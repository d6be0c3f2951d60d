"""Strimzi resources (kafka.strimzi.io/v1): the KRaft Kafka with its node pool and
topics in the kafka folder; the KafkaConnect, built with exactly the plugins
the sources need, and its KafkaConnectors in the kafka-connect folder.

Every topic a connector writes or reads is a KafkaTopic here, and the broker
does not auto-create topics, so a topic nobody declared is a wiring error at
build time rather than a surprise in the cluster. Kafka Connect's own three
topics are created by Connect itself (with the replication factors below).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from konoha_gen.emit import connectors
from konoha_gen.emit.kube import Doc, obj
from konoha_gen.emit.observability import jmx_exporter_config, prometheus
from konoha_gen.resolve import Component, KafkaWiring, Platform


@dataclass(frozen=True)
class Topic:
    topic: str
    purpose: str
    config: dict[str, str | int] = field(default_factory=dict)

    @property
    def resource_name(self) -> str:
        """KafkaTopic names are DNS subdomains; spec.topicName keeps the real name."""
        return re.sub(r"^[^a-z0-9]+", "", self.topic.lower().replace("_", "-"))


def topics(platform: Platform) -> list[Topic]:
    """The topics the connectors need: one per captured table, heartbeats, MySQL schema history, the sink's control topic."""
    kafka = platform.kafka
    if kafka is None or not platform.sources:
        return []
    result: list[Topic] = []
    for source in platform.sources:
        result.extend(Topic(t.topic, f"change events of {source.name} {t.table}") for t in source.tables)
        result.append(Topic(source.heartbeat_topic, f"Debezium heartbeats of {source.name}"))
        if source.schema_history_topic:
            # Debezium: one partition, never compacted, never expired; never shared or consumed by others.
            result.append(Topic(source.schema_history_topic, f"schema history of {source.name}",
                                {"cleanup.policy": "delete", "retention.ms": -1, "retention.bytes": -1}))
    result.append(Topic(kafka.control_topic, "Iceberg sink coordination (shared by every sink connector)"))
    return result


def _replication(platform: Platform) -> int:
    return min(platform.spec.streaming.kafka.brokers, 3)


def manifests(platform: Platform, component: Component) -> list[Doc]:
    kafka = platform.kafka
    if kafka is None:
        return []
    if component.name == "kafka":
        return [*_metrics_config(platform, kafka, "kafka"), _node_pool(platform, kafka), _kafka(platform, kafka),
                *_topics(platform, kafka)]
    if component.name == "kafka-connect":
        return [*_metrics_config(platform, kafka, "kafka-connect"), _connect(platform, kafka),
                *(connectors.kafka_connector(platform, c) for c in connectors.connectors(platform))]
    return []


METRICS_KEY = "metrics-config.yml"


def _metrics_name(kafka: KafkaWiring, component: str) -> str:
    return f"{kafka.cluster if component == 'kafka' else kafka.connect}-{component}-metrics".replace("-kafka-connect-", "-connect-")


def _metrics_config(platform: Platform, kafka: KafkaWiring, component: str) -> list[Doc]:
    """The JMX exporter rules (konoha_gen/data/) Strimzi serves on each pod's tcp-prometheus port, when Prometheus runs."""
    if not prometheus(platform):
        return []
    return [obj("v1", "ConfigMap", _metrics_name(kafka, component), kafka.namespace, component=component, platform=platform,
                data={METRICS_KEY: jmx_exporter_config(component)})]


def _metrics_ref(platform: Platform, kafka: KafkaWiring, component: str) -> Doc:
    if not prometheus(platform):
        return {}
    return {"metricsConfig": {"type": "jmxPrometheusExporter", "valueFrom": {
        "configMapKeyRef": {"name": _metrics_name(kafka, component), "key": METRICS_KEY}}}}


def _node_pool(platform: Platform, kafka: KafkaWiring) -> Doc:
    pool = obj("kafka.strimzi.io/v1", "KafkaNodePool", "dual-role", kafka.namespace, component="kafka", platform=platform,
               spec={"replicas": platform.spec.streaming.kafka.brokers, "roles": ["controller", "broker"],
                     "storage": {"type": "jbod", "volumes": [
                         {"id": 0, "type": "persistent-claim", "size": platform.spec.streaming.kafka.storage,
                          "deleteClaim": False, "kraftMetadata": "shared"}]}})
    pool["metadata"]["labels"]["strimzi.io/cluster"] = kafka.cluster
    return pool


def _kafka(platform: Platform, kafka: KafkaWiring) -> Doc:
    replication = _replication(platform)
    return obj("kafka.strimzi.io/v1", "Kafka", kafka.cluster, kafka.namespace, component="kafka", platform=platform,
               spec={"kafka": {"listeners": [{"name": "plain", "port": kafka.bootstrap.port, "type": "internal", "tls": False}],
                               "config": {"auto.create.topics.enable": False,
                                          "offsets.topic.replication.factor": replication,
                                          "transaction.state.log.replication.factor": replication,
                                          "transaction.state.log.min.isr": max(1, replication - 1),
                                          "default.replication.factor": replication,
                                          "min.insync.replicas": max(1, replication - 1)},
                               **_metrics_ref(platform, kafka, "kafka")},
                     "entityOperator": {"topicOperator": {}, "userOperator": {}}})


def _topics(platform: Platform, kafka: KafkaWiring) -> list[Doc]:
    documents = []
    for topic in topics(platform):
        # One partition: a table's events stay in source order, which the upsert MERGE relies on (emit/merge.py).
        spec: Doc = {"topicName": topic.topic, "partitions": 1, "replicas": _replication(platform)}
        if topic.config:
            spec["config"] = topic.config
        doc = obj("kafka.strimzi.io/v1", "KafkaTopic", topic.resource_name, kafka.namespace, component="kafka",
                  platform=platform, spec=spec)
        doc["metadata"]["labels"]["strimzi.io/cluster"] = kafka.cluster
        doc["metadata"]["annotations"] = {"konoha.dev/purpose": topic.purpose}
        documents.append(doc)
    return documents


def _connect(platform: Platform, kafka: KafkaWiring) -> Doc:
    replication = _replication(platform)
    configs, offsets, status = kafka.connect_topics
    # Credentials reach connectors as files: each VSO Secret Kafka Connect reads is mounted under
    # secrets_dir and read with Kafka's DirectoryConfigProvider (${directory:<dir>:<key>}).
    secrets = sorted(r.secret_name for e in platform.secrets for r in e.readers
                     if r.component == "kafka-connect" and r.via_vso and r.secret_name)
    spec: Doc = {
        "replicas": platform.spec.streaming.connect.replicas,
        "bootstrapServers": kafka.bootstrap.address,
        "groupId": kafka.connect_group,
        "configStorageTopic": configs, "offsetStorageTopic": offsets, "statusStorageTopic": status,
        "config": {"config.storage.replication.factor": replication,
                   "offset.storage.replication.factor": replication,
                   "status.storage.replication.factor": replication,
                   "config.providers": "directory",
                   "config.providers.directory.class": "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
                   "config.providers.directory.param.allowed.paths": kafka.secrets_dir},
        **_metrics_ref(platform, kafka, "kafka-connect"),
    }
    if kafka.plugins:
        spec["build"] = {"output": {"type": "docker", "image": kafka.image},
                         "plugins": [{"name": p.name, "artifacts": [
                             {"type": p.archive, "url": p.url, **({"sha512sum": p.sha512} if p.sha512 else {})}]}
                             for p in kafka.plugins]}
    spec["template"] = {
        "pod": {"volumes": [{"name": name, "secret": {"secretName": name}} for name in secrets]},
        "connectContainer": {"volumeMounts": [
            {"name": name, "mountPath": kafka.secret_dir(name), "readOnly": True} for name in secrets]},
    }
    connect = obj("kafka.strimzi.io/v1", "KafkaConnect", kafka.connect, kafka.namespace, component="kafka-connect",
                  platform=platform, spec=spec)
    connect["metadata"]["annotations"] = {"strimzi.io/use-connector-resources": "true"}
    return connect
