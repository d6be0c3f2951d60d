"""Kafka (Strimzi `kafka.strimzi.io/v1`): a KRaft cluster with one dual-role node pool and a KafkaTopic for
every topic a connector uses.

Every topic a connector writes or reads is a KafkaTopic here, and the broker does not auto-create topics,
so a topic nobody declared is a wiring error at build time rather than a surprise in the cluster. Kafka
Connect's own three topics are created by Connect itself (with the replication factors below).
"""

from __future__ import annotations

from konoha_gen.components.base import ComponentDef, Panel, PodBudget, ScrapeTarget, ServiceDef
from konoha_gen.components.chart_values import resources
from konoha_gen.components.jmx import metrics_config, metrics_ref
from konoha_gen.components.promql import job, selector
from konoha_gen.kube import Doc, obj
from konoha_gen.resolved import Component, KafkaWiring, Platform

API = "kafka.strimzi.io/v1"


def replication(platform: Platform) -> int:
    return min(platform.spec.streaming.kafka.brokers, 3)


def manifests(platform: Platform, component: Component) -> list[Doc]:
    kafka = platform.kafka
    if kafka is None:
        return []
    return [*metrics_config(platform, kafka, "kafka"), _node_pool(platform, kafka), _kafka(platform, kafka),
            *_topics(platform, kafka)]


def _node_pool(platform: Platform, kafka: KafkaWiring) -> Doc:
    pool = obj(API, "KafkaNodePool", "dual-role", kafka.namespace, component="kafka", platform=platform,
               spec={"replicas": platform.spec.streaming.kafka.brokers, "roles": ["controller", "broker"],
                     # Strimzi sets no requests when resources is absent; its heap is then sized from the limit
                     "resources": resources("768Mi", "200m"),
                     "storage": {"type": "jbod", "volumes": [
                         {"id": 0, "type": "persistent-claim", "size": platform.spec.streaming.kafka.storage,
                          "deleteClaim": False, "kraftMetadata": "shared"}]}})
    pool["metadata"]["labels"]["strimzi.io/cluster"] = kafka.cluster
    return pool


def _kafka(platform: Platform, kafka: KafkaWiring) -> Doc:
    factor = replication(platform)
    listeners = [{"name": "plain", "port": kafka.bootstrap.port, "type": "internal", "tls": False}]
    return obj(API, "Kafka", kafka.cluster, kafka.namespace, component="kafka", platform=platform,
               spec={"kafka": {"listeners": listeners,
                               "config": {"auto.create.topics.enable": False,
                                          "offsets.topic.replication.factor": factor,
                                          "transaction.state.log.replication.factor": factor,
                                          "transaction.state.log.min.isr": max(1, factor - 1),
                                          "default.replication.factor": factor,
                                          "min.insync.replicas": max(1, factor - 1)},
                               **metrics_ref(platform, kafka, "kafka")},
                     "entityOperator": {"topicOperator": {}, "userOperator": {}}})


def _topics(platform: Platform, kafka: KafkaWiring) -> list[Doc]:
    documents = []
    for topic in kafka.topics:
        # One partition: a table's events stay in source order, which the upsert MERGE relies on.
        spec: Doc = {"topicName": topic.topic, "partitions": 1, "replicas": replication(platform)}
        if topic.config:
            spec["config"] = dict(topic.config)
        doc = obj(API, "KafkaTopic", topic.resource_name, kafka.namespace, component="kafka",
                  platform=platform, spec=spec)
        doc["metadata"]["labels"]["strimzi.io/cluster"] = kafka.cluster
        doc["metadata"]["annotations"] = {"konoha.dev/purpose": topic.purpose}
        documents.append(doc)
    return documents


def scrape_targets(p: Platform, c: Component) -> list[ScrapeTarget]:
    """Strimzi's pod labels; the metricsConfig opens tcp-prometheus."""
    if p.kafka is None:
        return []
    return [ScrapeTarget(c.name, "PodMonitor", c.name, c.namespace,
                         (("strimzi.io/kind", "Kafka"), ("strimzi.io/cluster", p.kafka.cluster)),
                         "tcp-prometheus", ("/metrics",))]


def dashboard(p: Platform) -> tuple[str, list[Panel]]:
    """The names the JMX exporter rules in konoha_gen/data/ produce (Kafka, Kafka Connect, Debezium)."""
    ns = p.component("kafka").namespace
    s = selector(ns, job(p, "kafka"))
    all_topics = selector(ns, job(p, "kafka"), 'topic=""')  # the rules' aggregate series carry no topic label
    by_topic = selector(ns, job(p, "kafka"), 'topic!=""')
    p99 = selector(ns, job(p, "kafka"), 'quantile="0.99"')
    heap = selector(ns, job(p, "kafka"), 'area="heap"')
    panels = [
        Panel("Active controllers",
              ((f"sum(kafka_controller_kafkacontroller_activecontrollercount{s})", "controllers"),),
              stat=True),
        Panel("Partitions", ((f"sum(kafka_server_replicamanager_partitioncount{s})", "partitions"),), stat=True),
        Panel("Under-replicated partitions",
              ((f"sum(kafka_server_replicamanager_underreplicatedpartitions{s})", "under-replicated"),), stat=True),
        Panel("Offline partitions", ((f"sum(kafka_controller_kafkacontroller_offlinepartitionscount{s})", "offline"),),
              stat=True),
        Panel("Messages in /s by topic",
              ((f"sum by (topic) (rate(kafka_server_brokertopicmetrics_messagesin_total{by_topic}[5m]))", "{{topic}}"),
               ),
              "ops"),
        Panel("Bytes in / out /s", ((f"sum(rate(kafka_server_brokertopicmetrics_bytesin_total{all_topics}[5m]))", "in"),
                                    (f"sum(rate(kafka_server_brokertopicmetrics_bytesout_total{all_topics}[5m]))",
                                     "out")),
              "Bps"),
        Panel("Request time p99",
              ((f"max by (request) (kafka_network_requestmetrics_totaltimems{p99})", "{{request}}"),),
              "ms"),
        Panel("Idle share of request handlers and network processors",
              ((f"min(kafka_server_kafkarequesthandlerpool_requesthandleravgidle_percent{s})", "request handlers"),
               (f"min(kafka_network_socketserver_networkprocessoravgidle_percent{s})", "network processors")),
              "percentunit"),
        Panel("Broker heap used", ((f"sum by (pod) (jvm_memory_used_bytes{heap})", "{{pod}}"),), "bytes"),
    ]
    if p.has("kafka-connect"):
        panels += _connect_panels(p, ns)
    return "Kafka", panels


def _connect_panels(p: Platform, ns: str) -> list[Panel]:
    c = selector(ns, job(p, "kafka-connect"))
    panels = [
        Panel("Connectors", ((f"sum(kafka_connect_worker_connector_count{c})", "connectors"),), stat=True),
        Panel("Connect tasks", ((f"sum(kafka_connect_worker_task_count{c})", "tasks"),), stat=True),
        Panel("Connect tasks by state", ((f"sum by (connector, status) (kafka_connect_connector_task_status{c})",
                                          "{{connector}} {{status}}"),)),
        Panel("Records /s by connector",
              ((f"sum by (connector) (rate(kafka_connect_source_task_source_record_poll_total{c}[5m]))",
                "{{connector}} polled"),
               (f"sum by (connector) (rate(kafka_connect_sink_task_sink_record_read_total{c}[5m]))",
                "{{connector}} read")),
              "ops"),
        Panel("Record failures by connector",
              ((f"sum by (connector) (kafka_connect_task_error_total_record_failures{c})", "{{connector}}"),)),
    ]
    if p.sources:
        panels.append(Panel("CDC lag behind the source database",
                            ((f"max by (server) (debezium_streaming_millisecondsbehindsource{c})", "{{server}}"),),
                            "ms"))
    return panels


COMPONENT = ComponentDef(
    name="kafka", title="Kafka", layer="streaming", catalog="kafka",
    enabled=lambda spec: spec.streaming.kafka.enabled, switch="spec.streaming.kafka.enabled",
    depends_on=lambda spec: ["strimzi"],
    service=ServiceDef(9092, lambda platform: f"{platform}-kafka-bootstrap"),
    manifests=manifests,
    scrape_targets=scrape_targets,
    dashboard=dashboard,
    budget=(PodBudget("broker", "spec.resources", replicas="spec.replicas", kind="KafkaNodePool"),),
)
