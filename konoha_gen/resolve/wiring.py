"""Step 2 and 5: how the data services reach each other: the lakehouse (catalog, warehouse, S3 endpoint,
metastore), the Kyuubi servers and dbt targets, Kafka and Kafka Connect, and every CDC source's names."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zlib
from types import MappingProxyType

from konoha_gen.catalog import CONNECT_PLUGINS, pinned
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.model.streaming import DEFAULT_PORTS, PluginArtifact, Source
from konoha_gen.quoting import spark_ident
from konoha_gen.resolve.problems import Problems
from konoha_gen.resolved import (
    CdcSource,
    CdcTable,
    Component,
    ConnectPlugin,
    DbtTarget,
    KafkaWiring,
    KyuubiServer,
    LakehouseWiring,
    SecretEntry,
    Service,
    Tenant,
    Topic,
    platform_sql_server,
    secret_for,
)

THRIFT_PORT = 10009
REST_PORT = 10099
CONNECT_PORT = 8083
CONTROL_TOPIC = "control-iceberg"


def process_lakehouse(spec: PlatformSpec, components: tuple[Component, ...]) -> LakehouseWiring | None:
    by_name = {c.name: c for c in components}
    if "minio" not in by_name or "hive-metastore" not in by_name:
        return None
    lake = spec.lakehouse
    warehouse = lake.warehouse if lake.warehouse.endswith("/") else lake.warehouse + "/"
    minio, hms = by_name["minio"].service, by_name["hive-metastore"].service
    assert minio is not None and hms is not None
    sql = "-- The lakehouse namespaces (lakehouse.namespaces); tables land in <warehouse>/<namespace>.db/.\n" + "".join(
        f"CREATE NAMESPACE IF NOT EXISTS {spark_ident(lake.catalog)}.{spark_ident(namespace)};\n"
        for namespace in lake.namespaces)
    return LakehouseWiring(
        catalog=lake.catalog,
        bucket=warehouse.removeprefix("s3a://").split("/", 1)[0],
        warehouse=warehouse,
        s3_endpoint=f"http://{minio.address}",
        metastore_uri=f"thrift://{hms.address}",
        namespaces=tuple(lake.namespaces),
        namespaces_sql=sql,
        namespaces_job=f"lakehouse-namespaces-{hashlib.sha256(sql.encode()).hexdigest()[:8]}",
    )


def process_kyuubi(spec: PlatformSpec, components: tuple[Component, ...]) -> tuple[KyuubiServer, ...]:
    """One release per server; the chart names its Services <release>-thrift-binary / <release>-rest."""
    kyuubi = next((c for c in components if c.name == "kyuubi"), None)
    if kyuubi is None:
        return ()
    return tuple(
        KyuubiServer(k.name, f"kyuubi-{k.name}", k.share_level, k.profile, k.idle_timeout, k.replicas,
                     Service(f"kyuubi-{k.name}-thrift-binary", kyuubi.namespace, THRIFT_PORT), REST_PORT,
                     f"kyuubi-{k.name}-spark")
        for k in spec.compute.kyuubi.servers)


def process_dbt(spec: PlatformSpec, components: tuple[Component, ...], kyuubi: tuple[KyuubiServer, ...],
                tenants: tuple[Tenant, ...]) -> tuple[DbtTarget, ...]:
    if not any(c.name == "dbt" for c in components):
        return ()
    servers = {k.name: k for k in kyuubi}
    writers = {namespace: t.name for t in reversed(tenants) for namespace in t.writes}
    return tuple(DbtTarget(p.name, p.server, servers[p.server].service.host, servers[p.server].service.port,
                           p.schema_, writers.get(p.schema_) if tenants else None)
                 for p in spec.modeling.dbt.projects)


def process_kafka(spec: PlatformSpec, platform: str, components: tuple[Component, ...],
                  sources: tuple[CdcSource, ...], problems: Problems) -> KafkaWiring | None:
    kafka = next((c for c in components if c.name == "kafka"), None)
    if kafka is None:
        return None
    assert kafka.service is not None
    connect = f"{platform}-cdc"
    plugins = _connect_plugins(spec, problems)
    return KafkaWiring(
        cluster=platform, namespace=kafka.namespace, bootstrap=kafka.service, connect=connect,
        connect_api=Service(f"{connect}-connect-api", kafka.namespace, CONNECT_PORT),
        connect_group=f"{connect}-connect",
        connect_topics=(f"{connect}-configs", f"{connect}-offsets", f"{connect}-status"),
        control_topic=CONTROL_TOPIC, image=_connect_image(spec, plugins, problems), plugins=plugins,
        topics=_topics(sources), metrics_configmap=MappingProxyType(
            {"kafka": f"{platform}-kafka-metrics", "kafka-connect": f"{connect}-connect-metrics"}))


def _topics(sources: tuple[CdcSource, ...]) -> tuple[Topic, ...]:
    """The topics the connectors need: one per captured table, heartbeats, MySQL schema history, the sink's
    control topic."""
    if not sources:
        return ()
    result: list[Topic] = []
    for source in sources:
        result.extend(Topic(t.topic, f"change events of {source.name} {t.table}") for t in source.tables)
        result.append(Topic(source.heartbeat_topic, f"Debezium heartbeats of {source.name}"))
        if source.schema_history_topic:
            # Debezium: one partition, never compacted, never expired; never shared or consumed by others.
            result.append(Topic(source.schema_history_topic, f"schema history of {source.name}",
                                (("cleanup.policy", "delete"), ("retention.ms", -1), ("retention.bytes", -1))))
    result.append(Topic(CONTROL_TOPIC, "Iceberg sink coordination (shared by every sink connector)"))
    return tuple(result)


def _connect_plugins(spec: PlatformSpec, problems: Problems) -> tuple[ConnectPlugin, ...]:
    """Exactly the plugins the sources need, each from the spec's artifact override or the catalogue."""
    overrides: dict[str, PluginArtifact] = {str(k): v for k, v in spec.streaming.connect.artifacts.items()}
    engines = sorted({source.engine for source in spec.streaming.sources})
    wanted = [f"debezium-{engine}" for engine in engines] + (["iceberg-sink"] if engines else [])
    plugins = []
    for name in wanted:
        plugin = CONNECT_PLUGINS[name]
        override = overrides.get(name)
        url = override.url if override else plugin.url(spec.versions)
        sha512 = override.sha512 if override else plugin.sha512
        if url is None:
            how = plugin.how_to_build.format(version=pinned(plugin.component, spec.versions))
            problems.error(("streaming", "connect"),
                           f"Kafka Connect needs the {plugin.title} plugin, which has no published artifact",
                           f"build it ({how}), host it and set streaming.connect.artifacts.{name}.url (and sha512)")
            continue
        plugins.append(ConnectPlugin(name, plugin.title, plugin.archive_type(url), url, sha512))
    return tuple(plugins)


def _connect_image(spec: PlatformSpec, plugins: tuple[ConnectPlugin, ...], problems: Problems) -> str:
    """<repository>:<tag>, the tag a digest of the plugin set so a plugin change builds and rolls a new image."""
    repository = spec.streaming.connect.image
    if repository is None:
        if plugins:
            problems.error(("streaming", "connect"), "Strimzi builds the Kafka Connect image with the "
                                                     "plugins and needs "
                           "a registry to push it to, one the nodes can pull from",
                           "set streaming.connect.image, e.g. registry.example.com/data/cdc-connect")
        return ""
    digest = hashlib.sha256(json.dumps([dataclasses.astuple(p) for p in plugins]).encode()).hexdigest()[:12]
    return f"{repository}:{digest}"


def process_sources(spec: PlatformSpec, platform: str, secrets: tuple[SecretEntry, ...],
                    kyuubi: tuple[KyuubiServer, ...],
                    problems: Problems) -> tuple[CdcSource, ...]:
    sources = []
    server_ids: dict[int, str] = {}
    slots: dict[str, str] = {}
    for index, src in enumerate(spec.streaming.sources):
        path = ("streaming", "sources", index)
        slot = publication = history = None
        server_id = None
        if src.engine == "postgres":
            ident = f"{platform}_{src.name}".replace("-", "_")
            slot = problems.check_length(src.slot or ident, (*path, "name"), "replication slot")
            publication = problems.check_length(src.publication or ident, (*path, "name"), "publication")
            if slot in slots:
                problems.error((*path, "slot" if src.slot else "name"),
                               f"replication slot '{slot}' is also used by source '{slots[slot]}'",
                               "each Debezium connector needs its own slot; set a distinct 'slot'")
            slots.setdefault(slot, src.name)
        else:
            server_id = src.server_id or 100000 + zlib.crc32(f"{platform}/{src.name}".encode()) % 900000
            if server_id in server_ids:
                problems.error((*path, "serverId" if src.server_id else "name"),
                               f"database.server.id {server_id} is also used by source '{server_ids[server_id]}' "
                               "(Debezium: must be unique among all MySQL replication clients)",
                               "set a distinct 'serverId'")
            server_ids.setdefault(server_id, src.name)
            history = f"{src.name}.schema-history"
        merge = _merge_server(spec, kyuubi, src, (*path, "target", "upsert"), problems) if src.target.upsert else None
        sources.append(CdcSource(
            name=src.name, engine=src.engine, host=src.host, port=src.port or DEFAULT_PORTS[src.engine],
            database=src.database, credentials_path=src.credentials.path,
            secret_name=secret_for(secrets, "kafka-connect", src.credentials.path).secret_name or "",
            snapshot=src.snapshot, topic_prefix=src.name,
            source_connector=f"{src.name}-source", sink_connector=f"{src.name}-iceberg-sink",
            slot=slot, publication=publication, server_id=server_id, schema_history_topic=history,
            heartbeat_topic=f"__debezium-heartbeat.{src.name}", namespace=src.target.namespace,
            upsert=src.target.upsert, tables=_tables(src), merge_server=merge,
        ))
    return tuple(sources)


def _merge_server(spec: PlatformSpec, kyuubi: tuple[KyuubiServer, ...], source: Source,
                  path: tuple[str | int, ...], problems: Problems) -> str | None:
    """The Kyuubi server whose Spark runs the upsert MERGE: that of a tenant writing the namespace,
    else the first SERVER-share server (one long-lived engine), else the first server."""
    if not kyuubi:
        problems.error(path, "upsert needs a Kyuubi server to run the MERGE that maintains the current-state tables "
                             "(the Iceberg sink only appends)",
                       "enable spec.compute.kyuubi with a server, or set upsert: false")
        return None
    writers = [t.kyuubi for t in spec.tenants if source.target.namespace in t.writes and t.kyuubi]
    shared = platform_sql_server(kyuubi)
    return writers[0] if writers else (shared.name if shared else None)


def _tables(source: Source) -> tuple[CdcTable, ...]:
    target = source.target
    result = []
    for table in source.tables:
        base = f"{target.namespace}.{source.name}_{table.replace('.', '_')}".replace("-", "_").lower()
        result.append(CdcTable(table, f"{source.name}.{table}", f"{base}_changelog" if target.upsert else base,
                               base if target.upsert else None, tuple(target.keys.get(table, ())),
                               tuple(target.partition_by.get(table, ()))))
    return tuple(result)
