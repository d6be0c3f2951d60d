"""CDC on Strimzi: connectors (REST JSON and KafkaConnector), topics, the Connect build, key lists and the Connect
wiring."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from konoha_gen.artifact import Artifact
from konoha_gen.check import CheckOptions, run_checks
from konoha_gen.check.connect import check as connect_wiring
from konoha_gen.check.k8s import SchemaSet, validate_text
from konoha_gen.emit import emit_all
from konoha_gen.errors import KonohaError
from konoha_gen.keys import connector_problems
from konoha_gen.pipeline import compile_platform
from konoha_gen.resolved import Platform
from tests.conftest import SPEC
from tests.helpers import edit_spec


def _by_path(artifacts: list[Artifact]) -> dict[str, Artifact]:
    return {a.path: a for a in artifacts}


def _docs(artifact: Artifact, kind: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(artifact.content) if d and d.get("kind") == kind]


def _replace(artifacts: list[Artifact], path: str, content: str) -> list[Artifact]:
    return [Artifact(a.path, content, a.emitter) if a.path == path else a for a in artifacts]


def _compile(tmp_path: Path, change: Any) -> Platform:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(edit_spec(SPEC.read_text(), change))
    return compile_platform(spec)


CONNECT = "platform/kafka-connect/manifests.yaml"
KAFKA = "platform/kafka/manifests.yaml"


def test_one_debezium_source_and_one_iceberg_sink_per_source_in_both_renderings(artifacts: list[Artifact]) -> None:
    files = _by_path(artifacts)
    assert sorted(p for p in files if p.startswith("connectors/")) == [
        "connectors/billing.debezium.json", "connectors/billing.iceberg-sink.json",
        "connectors/shop.debezium.json", "connectors/shop.iceberg-sink.json"]
    resources = {d["metadata"]["name"]: d for d in _docs(files[CONNECT], "KafkaConnector")}
    assert sorted(resources) == ["billing-iceberg-sink", "billing-source", "shop-iceberg-sink", "shop-source"]
    for path in (p for p in files if p.startswith("connectors/")):
        body = json.loads(files[path].content)
        resource = resources[body["name"]]
        config = dict(body["config"])
        assert config.pop("connector.class") == resource["spec"]["class"]
        assert int(config.pop("tasks.max")) == resource["spec"]["tasksMax"]
        assert config == resource["spec"]["config"], path
        assert resource["metadata"]["labels"]["strimzi.io/cluster"] == "konoha-cdc"
        # Strimzi v1 refuses these inside spec.config (DOMAIN-NOTES.md, Strimzi v1 CRDs).
        assert not {"name", "connector.class", "tasks.max",
                    "connector.plugin.version"} & resource["spec"]["config"].keys()


def test_postgres_source_uses_pgoutput_its_own_slot_and_the_prepared_publication(artifacts: list[Artifact],
                                                                                 platform: Platform) -> None:
    config = json.loads(_by_path(artifacts)["connectors/shop.debezium.json"].content)["config"]
    shop = next(s for s in platform.sources if s.name == "shop")
    assert config["plugin.name"] == "pgoutput"
    assert (config["slot.name"], config["publication.name"]) == (shop.slot, shop.publication)
    assert (shop.slot, shop.publication) == ("konoha_shop", "konoha_shop")
    assert config["publication.autocreate.mode"] == "disabled"
    prepare = _by_path(artifacts)["sql/shop.prepare.sql"].content  # creates the publication the connector does not
    assert shop.publication is not None
    assert "CREATE PUBLICATION" in prepare and shop.publication in prepare
    assert config["topic.prefix"] == "shop"
    assert config["table.include.list"] == r"public\.customers,public\.orders,public\.products"
    assert re.fullmatch(config["table.include.list"].split(",")[1], "public.orders")
    assert not re.fullmatch(config["table.include.list"].split(",")[1], "public_orders")
    assert "slot.drop.on.stop" not in config and "database.server.name" not in config
    assert "include.schema.changes" not in config and "schema.history.internal.kafka.topic" not in config


def test_mysql_source_has_its_server_id_and_an_unshared_schema_history_topic(artifacts: list[Artifact],
                                                                             platform: Platform) -> None:
    config = json.loads(_by_path(artifacts)["connectors/billing.debezium.json"].content)["config"]
    billing = next(s for s in platform.sources if s.name == "billing")
    assert config["database.server.id"] == str(billing.server_id)
    assert config["schema.history.internal.kafka.topic"] == "billing.schema-history"
    assert config["schema.history.internal.kafka.bootstrap.servers"] == platform.kafka.bootstrap.address  # type: ignore[union-attr]
    history = next(d for d in _docs(_by_path(artifacts)[KAFKA], "KafkaTopic")
                   if d["spec"]["topicName"] == "billing.schema-history")
    assert history["spec"]["partitions"] == 1
    assert history["spec"]["config"]["retention.ms"] == -1


def test_sink_reads_the_lakehouse_wiring_and_routes_each_table(artifacts: list[Artifact], platform: Platform) -> None:
    config = json.loads(_by_path(artifacts)["connectors/shop.iceberg-sink.json"].content)["config"]
    lake = platform.lakehouse
    assert lake is not None
    assert (config["iceberg.catalog"], config["iceberg.catalog.uri"], config["iceberg.catalog.warehouse"],
            config["iceberg.catalog.s3.endpoint"]) == (lake.catalog, lake.metastore_uri, lake.warehouse,
                                                       lake.s3_endpoint)
    assert config["topics"] == "shop.public.customers,shop.public.orders,shop.public.products"
    assert config["iceberg.tables"] == ("raw.shop_public_customers_changelog,raw.shop_public_orders_changelog,"
                                        "raw.shop_public_products_changelog")
    assert config["iceberg.table.raw.shop_public_orders_changelog.route-regex"] == r"public\.orders"
    assert config["iceberg.table.raw.shop_public_orders_changelog.partition-by"] == "days(created_at)"
    # id-columns has no effect on the sink (connect-keys.txt [refused]): the keys drive konoha-gen's MERGE instead
    assert not [key for key in config if key.endswith(".id-columns")]
    assert config["transforms.debezium.type"] == "org.apache.iceberg.connect.transforms.DebeziumTransform"
    assert "iceberg.connect.group-id" not in config and "iceberg.tables.upsert-mode-enabled" not in config


def test_no_credential_value_in_any_connector(artifacts: list[Artifact]) -> None:
    for artifact in artifacts:
        if not artifact.path.startswith("connectors/"):
            continue
        config = json.loads(artifact.content)["config"]
        secret_keys = [k for k in config if re.search(r"password|user$|access-key|secret", k)]
        assert secret_keys, artifact.path
        for key in secret_keys:
            assert re.fullmatch(r"\$\{directory:/mnt/secrets/[a-z0-9-]+:[a-z-]+\}", config[key]), (artifact.path, key)


def test_topics_are_declared_and_never_auto_created(artifacts: list[Artifact]) -> None:
    kafka = _by_path(artifacts)[KAFKA]
    topics = {d["spec"]["topicName"]: d for d in _docs(kafka, "KafkaTopic")}
    assert set(topics) == {
        "shop.public.customers", "shop.public.orders", "shop.public.products", "__debezium-heartbeat.shop",
        "billing.billing.invoices", "__debezium-heartbeat.billing", "billing.schema-history", "control-iceberg"}
    assert topics["__debezium-heartbeat.shop"]["metadata"]["name"] == "debezium-heartbeat.shop"
    assert all(t["metadata"]["labels"]["strimzi.io/cluster"] == "konoha" for t in topics.values())
    assert all(t["spec"]["partitions"] == 1 for t in topics.values())  # source order per table (emit/merge.py)
    cluster = _docs(kafka, "Kafka")[0]
    assert cluster["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False


def test_connect_builds_exactly_the_plugins_the_sources_need(tmp_path: Path, artifacts: list[Artifact]) -> None:
    connect = _docs(_by_path(artifacts)[CONNECT], "KafkaConnect")[0]
    plugins = {p["name"]: p["artifacts"][0] for p in connect["spec"]["build"]["plugins"]}
    assert sorted(plugins) == ["debezium-mysql", "debezium-postgres", "iceberg-sink"]
    assert plugins["debezium-postgres"]["url"].endswith(
        "/3.6.1.Final/debezium-connector-postgres-3.6.1.Final-plugin.tar.gz")
    assert plugins["iceberg-sink"] == {"type": "zip", "url": "https://artifacts.acme.internal/kafka-connect/"
                                                             "iceberg-kafka-connect-runtime-hive-1.11.0.zip"}

    def postgres_only(spec: Any) -> None:
        del spec["spec"]["streaming"]["sources"][1]
        spec["spec"]["streaming"]["connect"]["artifacts"]["iceberg-sink"]["sha512"] = "ab" * 64
    only = _compile(tmp_path, postgres_only)
    assert only.kafka is not None
    assert [p.name for p in only.kafka.plugins] == ["debezium-postgres", "iceberg-sink"]
    assert only.kafka.plugins[1].sha512 == "ab" * 64
    connect = _docs(_by_path(emit_all(only))[CONNECT], "KafkaConnect")[0]
    assert connect["spec"]["build"]["plugins"][1]["artifacts"][0]["sha512sum"] == "ab" * 64
    # A different plugin set is a different image tag, so Strimzi rebuilds and rolls the workers.
    assert only.kafka.image != compile_platform(SPEC).kafka.image  # type: ignore[union-attr]


def test_the_iceberg_sink_runtime_and_an_image_registry_must_be_supplied(tmp_path: Path) -> None:
    def drop(spec: Any) -> None:
        del spec["spec"]["streaming"]["connect"]["artifacts"]
        del spec["spec"]["streaming"]["connect"]["image"]
    with pytest.raises(KonohaError) as caught:
        _compile(tmp_path, drop)
    message = str(caught.value)
    assert ("spec.streaming.connect: Kafka Connect needs the Apache Iceberg sink plugin, "
            "which has no published artifact") in message
    assert ("spec.streaming.connect: Strimzi builds the Kafka Connect image with the plugins "
            "and needs a registry") in message


def test_strimzi_resources_validate_against_the_crd_schemas(artifacts: list[Artifact]) -> None:
    schemas = SchemaSet("1.31")
    for path in (KAFKA, CONNECT):
        kinds = {d["kind"] for d in yaml.safe_load_all(_by_path(artifacts)[path].content)}
        assert kinds & {"KafkaTopic", "KafkaConnector", "KafkaConnect", "Kafka"}
        assert validate_text(path, _by_path(artifacts)[path].content, schemas) == []


# -- keys --------------------------------------------------------------------------------------------


def test_every_emitted_connector_key_is_known(artifacts: list[Artifact]) -> None:
    for artifact in artifacts:
        if artifact.path.startswith("connectors/"):
            config = json.loads(artifact.content)["config"]
            connector_class = config.pop("connector.class")
            config.pop("tasks.max")
            assert connector_problems(connector_class, config) == [], artifact.path


@pytest.mark.parametrize(("connector_class", "key", "expected"), [
    ("io.debezium.connector.postgresql.PostgresConnector", "slot.nmae", "did you mean 'slot.name'"),
    ("io.debezium.connector.postgresql.PostgresConnector", "database.server.name", "refused"),
    ("io.debezium.connector.postgresql.PostgresConnector", "include.schema.changes", "not a debezium-postgres "
                                                                                     "connector key"),
    ("io.debezium.connector.postgresql.PostgresConnector", "database.include.list", "not a debezium-postgres "
                                                                                    "connector key"),
    ("io.debezium.connector.mysql.MySqlConnector", "database.history.kafka.topic", "refused"),
    ("io.debezium.connector.mysql.MySqlConnector", "schema.history.internal.kafka.topik", "did you mean"),
    ("org.apache.iceberg.connect.IcebergSinkConnector", "iceberg.tables.upsert-mode-enabled", "refused"),
    ("org.apache.iceberg.connect.IcebergSinkConnector", "iceberg.control.group-id", "refused"),
    ("org.apache.iceberg.connect.IcebergSinkConnector", "iceberg.tables.auto-create-enable", "did you mean "
                                                                                             "'iceberg.tables.auto-create-enabled'"),
    ("org.apache.iceberg.connect.IcebergSinkConnector", "iceberg.table.raw.t.id-column",
     "not a per-table sink property"),
    ("org.apache.iceberg.connect.IcebergSinkConnector", "iceberg.table.raw.t.id-columns", "refused"),
    ("org.apache.iceberg.connect.IcebergSinkConnector", "iceberg.table.raw.other.partition-by", "which "
                                                                                               "iceberg.tables does "
                                                                                               "not list"),
    ("org.apache.iceberg.connect.IcebergSinkConnector", "transforms.unwrap.type",
     "which 'transforms' does not declare"),
    ("com.example.Unknown", "anything", "not one whose keys konoha-gen knows"),
])
def test_key_lists_catch_misspelt_removed_and_misplaced_keys(connector_class: str, key: str, expected: str) -> None:
    config = {"iceberg.tables": "raw.t", "transforms": "debezium", key: "x"}
    problems = connector_problems(connector_class, config)
    assert any(expected in p for p in problems), problems


def test_a_misspelt_connector_key_fails_the_build_checks(platform: Platform, artifacts: list[Artifact]) -> None:
    path = "connectors/shop.debezium.json"
    body = json.loads(_by_path(artifacts)[path].content)
    body["config"]["slot.nmae"] = body["config"].pop("slot.name")
    problems = run_checks(platform, _replace(artifacts, path, json.dumps(body, indent=2) + "\n"), CheckOptions())
    messages = [p.message for p in problems if p.path == path]
    assert any("slot.nmae" in m and "did you mean 'slot.name'" in m for m in messages)
    assert any("differs from its KafkaConnector" in m for m in messages)


# -- wiring ------------------------------------------------------------------------------------------


def test_connect_wiring_holds_for_the_reference_spec(platform: Platform, artifacts: list[Artifact]) -> None:
    assert connect_wiring(platform, artifacts) == []


def _edit_yaml(artifacts: list[Artifact], path: str, change: Any) -> list[Artifact]:
    docs = list(yaml.safe_load_all(_by_path(artifacts)[path].content))
    docs = [d for d in (change(d) for d in docs) if d is not None]
    return _replace(artifacts, path, yaml.safe_dump_all(docs, sort_keys=False))


def test_a_missing_topic_fails_naming_connector_and_topic(platform: Platform, artifacts: list[Artifact]) -> None:
    broken = _edit_yaml(artifacts, KAFKA,
                        lambda d: None if d.get("spec", {}).get("topicName") == "shop.public.orders" else d)
    messages = [p.message for p in connect_wiring(platform, broken)]
    assert any(m.startswith("KafkaConnector shop-source: topic 'shop.public.orders'") for m in messages)
    assert any(m.startswith("KafkaConnector shop-iceberg-sink: topic 'shop.public.orders'") for m in messages)


def test_an_unmounted_secret_or_missing_key_fails(platform: Platform, artifacts: list[Artifact]) -> None:
    def unmount(doc: dict[str, Any]) -> dict[str, Any]:
        if doc["kind"] == "KafkaConnect":
            mounts = doc["spec"]["template"]["connectContainer"]["volumeMounts"]
            doc["spec"]["template"]["connectContainer"]["volumeMounts"] = [m for m in mounts
                                                                           if "sources-shop" not in m["name"]]
        return doc
    messages = [p.message for p in connect_wiring(platform, _edit_yaml(artifacts, CONNECT, unmount))]
    assert any("shop-source: database.password reads directory /mnt/secrets/kafka-connect-sources-shop, which "
               "KafkaConnect "
               "konoha-cdc mounts from no Secret" in m for m in messages)

    def wrong_key(doc: dict[str, Any]) -> dict[str, Any]:
        if doc["kind"] == "KafkaConnector" and doc["metadata"]["name"] == "shop-source":
            doc["spec"]["config"]["database.password"] = "${directory:/mnt/secrets/kafka-connect-sources-shop:pass}"
        return doc
    messages = [p.message for p in connect_wiring(platform, _edit_yaml(artifacts, CONNECT, wrong_key))]
    expected = "reads key 'pass' of Secret 'kafka-connect-sources-shop', which Vault path sources/shop does not hold"
    assert any(expected in m for m in messages)


def test_a_removed_vault_static_secret_fails_the_connector(platform: Platform, artifacts: list[Artifact]) -> None:
    vault = "platform/kafka-connect/vault.yaml"
    broken = _edit_yaml(artifacts, vault,
                        lambda d: None if d["metadata"]["name"] == "kafka-connect-sources-billing" else d)
    messages = [p.message for p in connect_wiring(platform, broken)]
    assert any(m.startswith("KafkaConnector billing-source: database.password reads Secret "
                            "'kafka-connect-sources-billing', "
                            "which no VaultStaticSecret") for m in messages)


def test_a_plugin_not_built_fails(platform: Platform, artifacts: list[Artifact]) -> None:
    def drop_mysql(doc: dict[str, Any]) -> dict[str, Any]:
        if doc["kind"] == "KafkaConnect":
            doc["spec"]["build"]["plugins"] = [p for p in doc["spec"]["build"]["plugins"]
                                               if p["name"] != "debezium-mysql"]
        return doc
    messages = [p.message for p in connect_wiring(platform, _edit_yaml(artifacts, CONNECT, drop_mysql))]
    assert messages == ["KafkaConnector billing-source: class io.debezium.connector.mysql.MySqlConnector needs plugin "
                        "'debezium-mysql', which KafkaConnect konoha-cdc does not build (plugins: "
                        "['debezium-postgres', 'iceberg-sink'])"]


def test_a_json_body_without_its_kafka_connector_fails(platform: Platform, artifacts: list[Artifact]) -> None:
    broken = _edit_yaml(artifacts, CONNECT, lambda d: None if d["metadata"]["name"] == "shop-iceberg-sink" else d)
    problems = connect_wiring(platform, broken)
    assert [(p.path, p.message) for p in problems] == [
        ("connectors/shop.iceberg-sink.json", "connector 'shop-iceberg-sink' has no KafkaConnector of the same name")]


def test_every_debezium_connector_delivers_temporal_columns_as_connect_types(artifacts: list[Artifact]) -> None:
    """time.precision.mode=connect in both renderings of every source: the Iceberg sink maps only Connect's
    Date/Time/Timestamp to date/time/timestamptz; adaptive's MicroTimestamp would land as a long."""
    files = _by_path(artifacts)
    sources = [d for d in _docs(files[CONNECT], "KafkaConnector") if d["metadata"]["name"].endswith("-source")]
    assert sorted(d["metadata"]["name"] for d in sources) == ["billing-source", "shop-source"]
    for resource in sources:
        assert resource["spec"]["config"]["time.precision.mode"] == "connect"
    for path in ("connectors/billing.debezium.json", "connectors/shop.debezium.json"):
        assert json.loads(files[path].content)["config"]["time.precision.mode"] == "connect"


def test_a_declared_timestamp_column_partitions_the_changelog_and_the_merge(tmp_path: Path) -> None:
    """A MySQL DATETIME arrives as Connect Timestamp (timestamptz in Iceberg): days() on it is accepted and reaches
    the sink's partition-by and the MERGE's CTAS."""
    def change(spec: dict[str, Any]) -> None:
        billing = spec["spec"]["streaming"]["sources"][1]
        billing["target"]["partitionBy"] = {"billing.invoices": ["days(issued_at)", "hours(updated_at)"]}
        billing["target"]["columns"] = {"billing.invoices": {"issued_at": "date", "updated_at": "datetime"}}
    platform = _compile(tmp_path, change)
    files = _by_path(emit_all(platform))
    sink = json.loads(files["connectors/billing.iceberg-sink.json"].content)["config"]
    [partition_key] = [k for k in sink if k.endswith(".partition-by")]
    assert sink[partition_key] == "days(issued_at),hours(updated_at)"
    assert "PARTITIONED BY (days(`issued_at`), hours(`updated_at`))" in files["platform/kyuubi/manifests.yaml"].content
