"""Kafka Connect (Strimzi): built with exactly the plugins the sources need, one Debezium source and one
Iceberg sink per CDC source.

`connectors()` is the one source of truth; it is rendered twice, as the Kafka Connect REST body in
out/connectors/<source>.<kind>.json (for `curl -X PUT .../connectors/<name>/config` and for review) and as a
Strimzi KafkaConnector in the kafka-connect component folder, which Flux applies.

Credentials never appear: the connectors read them with Kafka's DirectoryConfigProvider from the VSO-made
Secrets the KafkaConnect mounts (`${directory:<dir>:<key>}`). Every key emitted is checked against
konoha_gen/data/connect-keys.txt (the pinned Debezium, Kafka Connect and Iceberg releases) by the output check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

from konoha_gen.components.base import ComponentDef, PodBudget, ScrapeTarget, ServiceDef
from konoha_gen.components.chart_values import resources
from konoha_gen.components.jmx import metrics_config, metrics_ref
from konoha_gen.components.kafka import API, replication
from konoha_gen.kube import Doc, obj
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.resolved import CdcSource, Component, Database, KafkaWiring, Platform

JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
#: Debezium records keep their schema so the sink can create and evolve typed Iceberg tables.
CONVERTERS = MappingProxyType({"key.converter": JSON_CONVERTER, "key.converter.schemas.enable": "true",
                               "value.converter": JSON_CONVERTER, "value.converter.schemas.enable": "true"})
HEARTBEAT_MS = "10000"

#: time.precision.mode=connect makes Debezium emit Kafka Connect's own logical types (Date, Time, Timestamp), the
#: only temporal types the Iceberg sink maps (apache/iceberg kafka-connect SchemaUtils.SchemaGenerator.toIcebergType:
#: Date -> date, Time -> time, Timestamp -> timestamptz; anything else by its schema type: long, int, string).
#: The default, adaptive, emits io.debezium.time.MicroTimestamp/Timestamp/Date... (int64/int32 with Debezium names),
#: which land as long/int. connect truncates to milliseconds (Connect's types are java.util.Date).
TIME_PRECISION_MODE = "connect"
#: Per engine, the source column types whose values arrive temporal, and the Iceberg type the sink creates for each
#: under time.precision.mode=connect (debezium 3.6.1 JdbcValueConverters.schemaBuilder and the connector docs'
#: "temporal types" tables): zoned types are io.debezium.time.ZonedTimestamp/ZonedTime strings in every mode
#: (postgres TIMESTAMPTZ/TIMETZ; MySQL TIMESTAMP, which the binlog connector converts to UTC), MySQL YEAR an int32.
DELIVERED_TYPES: MappingProxyType[str, MappingProxyType[str, str]] = MappingProxyType({
    "postgres": MappingProxyType({"date": "date", "time": "time", "timestamp": "timestamptz",
                                  "timestamptz": "string", "timetz": "string"}),
    "mysql": MappingProxyType({"date": "date", "time": "time", "datetime": "timestamptz", "timestamp": "string",
                               "year": "int"}),
})
#: Iceberg's time transforms and the Iceberg types each accepts (Iceberg spec "Partition Transforms": year/month/day
#: on date and timestamp(tz), hour on timestamp(tz) only). The sink parses a partition-by entry with TRANSFORM below
#: (SchemaUtils.createPartitionSpec: year(s), month(s), day(s), hour(s), bucket, truncate, else
#: UnsupportedOperationException; no parentheses: identity); only the plural names, which Spark's PARTITIONED BY
#: also takes (the upsert MERGE's CTAS reuses the entries), are accepted.
TIME_TRANSFORMS = MappingProxyType({"years": ("date", "timestamptz"), "months": ("date", "timestamptz"),
                                    "days": ("date", "timestamptz"), "hours": ("timestamptz",)})
OTHER_TRANSFORMS = ("bucket", "truncate")
TRANSFORM = re.compile(r"(\w+)\((.+)\)")


@dataclass(frozen=True)
class Connector:
    name: str
    plugin: str  # connect-keys.txt section and Strimzi build plugin the class comes from
    connector_class: str
    config: MappingProxyType[str, str]  # everything but connector.class, tasks.max and name
    source: str
    tasks_max: int = 1

    def rest_body(self) -> dict[str, object]:
        """The Kafka Connect REST format: {"name": ..., "config": {...}}."""
        return {"name": self.name, "config": {"connector.class": self.connector_class, "tasks.max": str(self.tasks_max),
                                              **self.config}}

    @property
    def file_name(self) -> str:
        kind = "iceberg-sink" if self.plugin == "iceberg-sink" else "debezium"
        return f"connectors/{self.source}.{kind}.json"


def include_list(tables: list[str]) -> str:
    """Debezium include lists are anchored regular expressions: escape the dot so public.orders matches only itself."""
    return ",".join(re.escape(table) for table in tables)


def connectors(platform: Platform) -> list[Connector]:
    kafka = platform.kafka
    if kafka is None:
        return []
    result: list[Connector] = []
    for source in platform.sources:
        result.append(_debezium(kafka, source))
        result.append(_iceberg_sink(platform, kafka, source))
    return result


def _credentials(kafka: KafkaWiring, secret: str, key: str) -> str:
    return f"${{directory:{kafka.secret_dir(secret)}:{key}}}"


def _debezium(kafka: KafkaWiring, source: CdcSource) -> Connector:
    config: dict[str, str] = {
        "database.hostname": source.host,
        "database.port": str(source.port),
        "database.user": _credentials(kafka, source.secret_name, "username"),
        "database.password": _credentials(kafka, source.secret_name, "password"),
        "topic.prefix": source.topic_prefix,
        "table.include.list": include_list([t.table for t in source.tables]),
        "snapshot.mode": source.snapshot,
        "heartbeat.interval.ms": HEARTBEAT_MS,
        # Temporal columns as Connect's Date/Time/Timestamp, so the sink creates date/time/timestamptz columns that
        # time partition transforms accept (see TIME_PRECISION_MODE).
        "time.precision.mode": TIME_PRECISION_MODE,
        # The Iceberg sink cannot store a null-valued record; the delete event itself carries the row.
        "tombstones.on.delete": "false",
    }
    if source.engine == "postgres":
        assert source.slot and source.publication
        config |= {
            "database.dbname": source.database,
            "plugin.name": "pgoutput",
            "slot.name": source.slot,
            "publication.name": source.publication,
            # out/sql/<source>.prepare.sql creates the publication over exactly the captured tables, so the
            # replication user needs no table ownership (which 'filtered' would need to ALTER it).
            "publication.autocreate.mode": "disabled",
        }
        connector_class, plugin = "io.debezium.connector.postgresql.PostgresConnector", "debezium-postgres"
    else:
        assert source.server_id is not None and source.schema_history_topic
        config |= {
            "database.server.id": str(source.server_id),
            "database.include.list": include_list([source.database]),
            "schema.history.internal.kafka.topic": source.schema_history_topic,
            "schema.history.internal.kafka.bootstrap.servers": kafka.bootstrap.address,
            # Schema changes stay in the history topic; the sink reads row events only.
            "include.schema.changes": "false",
            # The replication user may SELECT only the captured tables (sql/<source>.prepare.sql), so the history
            # records only their DDL.
            "schema.history.internal.store.only.captured.tables.ddl": "true",
        }
        connector_class, plugin = "io.debezium.connector.mysql.MySqlConnector", "debezium-mysql"
    return Connector(source.source_connector, plugin, connector_class,
                     MappingProxyType(dict(sorted({**config, **CONVERTERS}.items()))), source.name)


def _iceberg_sink(platform: Platform, kafka: KafkaWiring, source: CdcSource) -> Connector:
    lake = platform.lakehouse
    assert lake is not None
    s3 = platform.lake_secret("kafka-connect")
    assert s3.secret_name
    config: dict[str, str] = {
        "topics": ",".join(t.topic for t in source.tables),
        # DebeziumTransform flattens the envelope into the row plus a _cdc struct (op, ts, offset, source, key):
        # the change log the upsert MERGE reads.
        "transforms": "debezium",
        "transforms.debezium.type": "org.apache.iceberg.connect.transforms.DebeziumTransform",
        "iceberg.tables": ",".join(t.sink_table for t in source.tables),
        # Static routing: each record goes only to the table whose route-regex matches its _cdc.source (schema.table).
        "iceberg.tables.route-field": "_cdc.source",
        "iceberg.tables.auto-create-enabled": "true",
        "iceberg.tables.evolve-schema-enabled": "true",
        # Shared by every sink; each connector keeps its own connect group (iceberg.connect.group-id stays unset).
        "iceberg.control.topic": kafka.control_topic,
        "iceberg.catalog": lake.catalog,
        "iceberg.catalog.type": "hive",
        "iceberg.catalog.uri": lake.metastore_uri,
        # the same s3a:// URI as Spark: a namespace the sink creates lands at <warehouse>/<ns>.db, which the metastore
        # mkdirs through Hadoop (no FileSystem for s3://); S3FileIO accepts s3a:// (S3URI's VALID_SCHEMES)
        "iceberg.catalog.warehouse": lake.warehouse,
        "iceberg.catalog.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        "iceberg.catalog.s3.endpoint": lake.s3_endpoint,
        "iceberg.catalog.s3.path-style-access": "true",
        "iceberg.catalog.s3.access-key-id": _credentials(kafka, s3.secret_name, "access-key"),
        "iceberg.catalog.s3.secret-access-key": _credentials(kafka, s3.secret_name, "secret-key"),
        "iceberg.catalog.client.region": "us-east-1",
    }
    for table in source.tables:
        prefix = f"iceberg.table.{table.sink_table}"
        config[f"{prefix}.route-regex"] = re.escape(table.table)
        if table.partition_by:
            config[f"{prefix}.partition-by"] = ",".join(table.partition_by)
    return Connector(source.sink_connector, "iceberg-sink", "org.apache.iceberg.connect.IcebergSinkConnector",
                     MappingProxyType(dict(sorted({**config, **CONVERTERS}.items()))), source.name)


def kafka_connector(platform: Platform, connector: Connector) -> Doc:
    """The same connector as a Strimzi KafkaConnector (class and tasksMax are fields of their own in v1)."""
    kafka = platform.kafka
    assert kafka is not None
    doc = obj(API, "KafkaConnector", connector.name, kafka.namespace, component="kafka-connect", platform=platform,
              spec={"class": connector.connector_class, "tasksMax": connector.tasks_max,
                    "autoRestart": {"enabled": True},
                    "state": "running", "config": dict(connector.config)})
    doc["metadata"]["labels"]["strimzi.io/cluster"] = kafka.connect
    return doc


def manifests(platform: Platform, component: Component) -> list[Doc]:
    kafka = platform.kafka
    if kafka is None:
        return []
    return [*metrics_config(platform, kafka, "kafka-connect"), _connect(platform, kafka),
            *(kafka_connector(platform, c) for c in connectors(platform))]


def _connect(platform: Platform, kafka: KafkaWiring) -> Doc:
    factor = replication(platform)
    configs, offsets, status = kafka.connect_topics
    # Credentials reach connectors as files: each VSO Secret Kafka Connect reads is mounted under
    # secrets_dir and read with Kafka's DirectoryConfigProvider (${directory:<dir>:<key>}).
    push = _push_secret(platform)
    secrets = sorted(r.secret_name for e in platform.secrets for r in e.readers
                     if r.component == "kafka-connect" and r.via_vso and r.secret_name and r.secret_name != push)
    spec: Doc = {
        "replicas": platform.spec.streaming.connect.replicas,
        "resources": resources("768Mi", "200m"),  # Strimzi sets no requests when resources is absent
        "bootstrapServers": kafka.bootstrap.address,
        "groupId": kafka.connect_group,
        "configStorageTopic": configs, "offsetStorageTopic": offsets, "statusStorageTopic": status,
        "config": {"config.storage.replication.factor": factor,
                   "offset.storage.replication.factor": factor,
                   "status.storage.replication.factor": factor,
                   "config.providers": "directory",
                   "config.providers.directory.class":
                       "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
                   "config.providers.directory.param.allowed.paths": kafka.secrets_dir},
        **metrics_ref(platform, kafka, "kafka-connect"),
    }
    if kafka.plugins:
        # Strimzi KafkaConnect build.output.pushSecret: a kubernetes.io/dockerconfigjson Secret (Strimzi docs,
        # "Building a new container image with connector plugins automatically")
        spec["build"] = {"output": {"type": "docker", "image": kafka.image,
                                    **({"pushSecret": push} if push else {})},
                         "plugins": [{"name": p.name, "artifacts": [
                             {"type": p.archive, "url": p.url, **({"sha512sum": p.sha512} if p.sha512 else {})}]}
                             for p in kafka.plugins]}
    spec["template"] = {
        "pod": {"volumes": [{"name": name, "secret": {"secretName": name}} for name in secrets]},
        "connectContainer": {"volumeMounts": [
            {"name": name, "mountPath": kafka.secret_dir(name), "readOnly": True} for name in secrets]},
    }
    connect = obj(API, "KafkaConnect", kafka.connect, kafka.namespace, component="kafka-connect",
                  platform=platform, spec=spec)
    connect["metadata"]["annotations"] = {"strimzi.io/use-connector-resources": "true"}
    return connect


def _push_secret(platform: Platform) -> str | None:
    """The Secret Strimzi pushes the built image with (streaming.connect.pushSecret), when the spec names one."""
    ref = platform.spec.streaming.connect.push_secret
    return platform.secret_for("kafka-connect", ref.path).secret_name if ref else None


def push_secret_keys(spec: PlatformSpec, databases: tuple[Database, ...], path: str,
                     keys: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """A kubernetes.io/dockerconfigjson Secret holds the Docker config JSON in key .dockerconfigjson."""
    ref = spec.streaming.connect.push_secret
    if ref is None or path != ref.path or len(keys) != 1:
        return ()
    (key,) = keys
    return ((".dockerconfigjson", "{{ get .Secrets " + f'"{key}"' + " }}"),)


def scrape_targets(p: Platform, c: Component) -> list[ScrapeTarget]:
    if p.kafka is None:
        return []
    return [ScrapeTarget(c.name, "PodMonitor", c.name, c.namespace,
                         (("strimzi.io/kind", "KafkaConnect"), ("strimzi.io/cluster", p.kafka.connect)),
                         "tcp-prometheus", ("/metrics",))]


def _depends_on(spec: PlatformSpec) -> list[str]:
    lake = ["hive-metastore", "minio"] if spec.streaming.sources else []
    return ["kafka", "strimzi", "vault-secrets-operator", *lake]


COMPONENT = ComponentDef(
    name="kafka-connect", title="Kafka Connect (Debezium, Iceberg sink)", layer="streaming",
    enabled=lambda spec: spec.streaming.connect.enabled and spec.streaming.kafka.enabled,
    switch="spec.streaming.connect.enabled",
    depends_on=_depends_on,
    service=ServiceDef(8083, lambda platform: f"{platform}-cdc-connect-api"),
    lake_user=True,
    secret_shape=push_secret_keys,
    manifests=manifests,
    scrape_targets=scrape_targets,
    budget=(PodBudget("Connect", "spec.resources", replicas="spec.replicas", kind="KafkaConnect"),),
)
