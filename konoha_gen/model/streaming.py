"""spec.streaming: Kafka, Kafka Connect and the Debezium CDC sources."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from konoha_gen.errors import shown
from konoha_gen.model.common import (
    DatabaseName,
    Hostname,
    Identifier,
    Name,
    PartitionField,
    Port,
    Quantity,
    SpecModel,
    SqlIdentifier,
    Switchable,
    TableName,
    VaultRef,
    check_url,
    pattern_rule,
)

# SnapshotMode enums of Debezium 3.6.1 (PostgresConnectorConfig / BinlogConnectorConfig).
POSTGRES_SNAPSHOT_MODES = ("always", "initial", "initial_only", "no_data", "when_needed", "configuration_based",
                           "custom", "recovery")
MYSQL_SNAPSHOT_MODES = ("initial", "initial_only", "when_needed", "no_data", "recovery", "always",
                        "configuration_based", "custom")
DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306}

SlotName = Annotated[str, pattern_rule(
    "slot_name", r"[a-z0-9_]{1,63}",
    "Debezium: 'Valid replication slot name must contain only digits, lowercase characters and underscores with "
    "length <= 63'")]
PublicationName = Annotated[str, pattern_rule(
    "publication_name", r"[a-z_][a-z0-9_]{0,62}",
    "a publication name is an unquoted Postgres identifier: [a-z_][a-z0-9_]*, at most 63 characters")]


class Kafka(Switchable):
    brokers: int = Field(1, ge=1, le=9, description="KRaft broker/controller nodes (default 1)")
    storage: Quantity = Field("20Gi", description="volume per broker (default 20Gi)")


ImageRef = Annotated[str, Field(max_length=255), pattern_rule(
    "image_ref", r"[a-z0-9]([-a-z0-9.:]*[a-z0-9])?(/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)+",
    "an image repository without tag, e.g. registry.example.com/team/cdc-connect")]
Sha512 = Annotated[str, pattern_rule("sha512", r"[0-9a-f]{128}", "a SHA-512 checksum is 128 lowercase hex digits")]
ArtifactUrl = Annotated[str, AfterValidator(check_url), pattern_rule("artifact_url", r"https://[^\s@]+\.(zip|tgz|tar\.gz|jar)",
                                          "an https:// URL of a .zip, .tgz, .tar.gz or .jar artifact, "
                                          "without credentials")]
PluginName = Literal["debezium-postgres", "debezium-mysql", "iceberg-sink"]


class PluginArtifact(SpecModel):
    url: ArtifactUrl = Field(description="where Strimzi downloads the plugin archive")
    sha512: Sha512 | None = Field(None, description="SHA-512 of the archive; Strimzi refuses a download that "
                                                    "does not match")


class Connect(Switchable):
    replicas: int = Field(1, ge=1, le=9, description="Kafka Connect workers (default 1)")
    image: ImageRef | None = Field(
        None, description="repository Strimzi pushes the Connect image with the plugins to and the nodes pull it from "
                          "(required with sources); the tag is derived from the plugin set")
    push_secret: VaultRef | None = Field(
        None, description="vault: reference to a Docker config JSON (key dockerconfigjson unless named) with the "
                          "credentials Strimzi pushes the Connect image with; it becomes a "
                          "kubernetes.io/dockerconfigjson Secret (build.output.pushSecret)")
    artifacts: dict[PluginName, PluginArtifact] = Field(
        default_factory=dict,
        description="plugin archives overriding the catalogue (debezium-postgres, debezium-mysql) or supplying one it "
                    "cannot pin: "
                    "iceberg-sink, whose runtime distribution Apache publishes no artifact for (build it, host it, "
                    "name it here)")


class Target(SpecModel):
    namespace: Identifier = Field(description="lakehouse namespace the tables land in")
    upsert: bool = Field(True, description="maintain current-state tables (true) or only the change log (false); "
                                           "default true")
    keys: dict[TableName, list[SqlIdentifier]] = Field(
        default_factory=dict, description="id columns per table (default: the table's primary key)")
    partition_by: dict[TableName, list[PartitionField]] = Field(
        default_factory=dict,
        description="Iceberg partition transforms per table: a column (identity), years(col), months(col), days(col), "
                    "hours(col), bucket/truncate; a time transform needs its column's type in columns")
    columns: dict[TableName, dict[SqlIdentifier, str]] = Field(
        default_factory=dict,
        description="source column types per table, in the source database's names (postgres: date, time, timestamp, "
                    "timestamptz, timetz; mysql: date, time, datetime, timestamp, year): required for every column a "
                    "time transform in partitionBy names. Debezium (time.precision.mode=connect) delivers date and "
                    "timestamp/datetime as Iceberg date and timestamptz; timestamptz, timetz and MySQL timestamp "
                    "arrive as strings, which no time transform accepts")


class Source(SpecModel):
    name: Name = Field(description="source name; Debezium topic.prefix and connector names derive from it")
    engine: Literal["postgres", "mysql"] = Field(description="postgres (pgoutput) or mysql (binlog)")
    host: Hostname = Field(description="database host")
    port: Port | None = Field(None, description="database port (default 5432 for postgres, 3306 for mysql)")
    database: DatabaseName = Field( description="database to capture")
    credentials: VaultRef = Field(description="replication user (keys username, password)")
    tables: list[TableName] = Field(min_length=1, description="tables to capture, schema.table")
    snapshot: str = Field("initial", description="Debezium snapshot.mode (default initial)")
    slot: SlotName | None = Field(None, description="postgres replication slot (default <platform>_<name>); "
                                                    "[a-z0-9_]{1,63}")
    publication: PublicationName | None = Field(None, description="postgres publication (default <platform>_<name>)")
    server_id: int | None = Field(None, ge=1, le=4294967295,
                                  description="mysql database.server.id, unique among replication clients (default: "
                                              "derived from name)")
    target: Target = Field(description="where and how the tables land in the lakehouse")

    @model_validator(mode="after")
    def _engine_rules(self) -> Source:
        modes = POSTGRES_SNAPSHOT_MODES if self.engine == "postgres" else MYSQL_SNAPSHOT_MODES
        if self.snapshot not in modes:
            raise PydanticCustomError(
                "snapshot_mode", "snapshot '{mode}' is not a Debezium 3.6 {engine} snapshot.mode; valid: {valid}",
                {"mode": shown(self.snapshot), "engine": self.engine, "valid": ", ".join(modes), "field": "snapshot"})
        if self.engine == "mysql" and (self.slot or self.publication):
            raise PydanticCustomError("engine_field", "slot and publication apply to postgres sources only",
                                      {"field": "slot" if self.slot else "publication", "at_key": True})
        if self.engine == "postgres" and self.server_id is not None:
            raise PydanticCustomError("engine_field", "serverId applies to mysql sources only",
                                      {"field": "serverId", "at_key": True})
        return self


class Streaming(SpecModel):
    kafka: Kafka = Field(default_factory=Kafka, description="Kafka on Strimzi (KRaft)")
    connect: Connect = Field(default_factory=Connect, description="Kafka Connect running Debezium and the Iceberg sink")
    sources: list[Source] = Field(default_factory=list, description="CDC sources, one Debezium connector and one "
                                                                    "Iceberg sink each")
