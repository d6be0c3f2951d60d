"""One wiring, many configs: the lakehouse endpoints are computed once and every consumer follows them;
the endpoint wiring check (check/endpoints.py) fails naming both ends when a reference breaks."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from konoha_gen.artifact import Artifact
from konoha_gen.check.endpoints import check
from konoha_gen.components import registry
from konoha_gen.components.base import ComponentDef, ServiceDef
from konoha_gen.emit import emit_all
from konoha_gen.pipeline import compile_platform
from konoha_gen.resolved import Platform
from tests.conftest import SPEC
from tests.helpers import edit_spec

#: Every artifact that reads the object store, the metastore or the catalog name.
CONSUMERS = ("spark/etl.spark-defaults.conf", "spark/small.spark-defaults.conf",
             "platform/kyuubi/values-kyuubi-batch.yaml",
             "platform/kyuubi/values-kyuubi-interactive.yaml", "platform/trino/values-trino.yaml",
             "connectors/shop.iceberg-sink.json", "connectors/billing.iceberg-sink.json")


def _files(artifacts: list[Artifact]) -> dict[str, str]:
    return {a.path: a.content for a in artifacts}


def _replace(artifacts: list[Artifact], path: str, old: str, new: str) -> list[Artifact]:
    assert old in _files(artifacts)[path], (path, old)
    return [Artifact(a.path, a.content.replace(old, new), a.emitter) if a.path == path else a for a in artifacts]


def test_the_reference_platform_is_wired(platform: Platform, artifacts: list[Artifact]) -> None:
    assert check(platform, artifacts) == []


def test_renaming_the_object_store_and_metastore_services_in_one_place_moves_every_consumer(
        monkeypatch: pytest.MonkeyPatch, platform: Platform, artifacts: list[Artifact]) -> None:
    renamed = {"minio": "objects", "hive-metastore": "catalog-thrift"}

    def rename(definition: ComponentDef) -> ComponentDef:
        if definition.name not in renamed or definition.service is None:
            return definition
        service = ServiceDef(definition.service.port, lambda _platform: renamed[definition.name])
        return dataclasses.replace(definition, service=service)

    monkeypatch.setattr(registry, "COMPONENTS", tuple(rename(d) for d in registry.COMPONENTS))
    moved = compile_platform(SPEC)
    after = emit_all(moved)
    old_files, new_files = _files(artifacts), _files(after)
    for path in CONSUMERS:
        assert "minio.konoha-storage.svc" in old_files[path], path
        assert "hive-metastore.konoha-metastore.svc" in old_files[path], path
        assert "objects.konoha-storage.svc.cluster.local:9000" in new_files[path], path
        assert "thrift://catalog-thrift.konoha-metastore.svc.cluster.local:9083" in new_files[path], path
        assert "minio.konoha-storage.svc" not in new_files[path]
        assert "hive-metastore.konoha-metastore.svc" not in new_files[path]
    # The charts are told the new names, so the Services they create are the ones addressed: still wired.
    assert "fullnameOverride: objects" in new_files["platform/minio/values-minio.yaml"]
    assert "fullNameOverride: catalog-thrift" in new_files["platform/hive-metastore/values-hive-metastore.yaml"]
    assert check(moved, after) == []


def test_changing_the_catalog_and_warehouse_in_the_spec_moves_every_consumer(tmp_path: Path) -> None:
    def change(spec: Any) -> None:
        spec["spec"]["lakehouse"]["catalog"] = "lake"
        spec["spec"]["lakehouse"]["warehouse"] = "s3a://lakehouse/tables/"
        spec["spec"]["storage"]["objectStore"]["buckets"].append({"name": "lakehouse"})
        spec["spec"]["orchestration"]["airflow"]["connections"][1]["trino"] = "lake"
    path = tmp_path / "konoha.yaml"
    path.write_text(edit_spec(SPEC.read_text(), change))
    moved = compile_platform(path)
    files = _files(emit_all(moved))
    for conf in ("spark/etl.spark-defaults.conf", "spark/small.spark-defaults.conf"):
        assert "spark.sql.catalog.lake.warehouse=s3a://lakehouse/tables/" in files[conf]
        assert "spark.sql.defaultCatalog=lake" in files[conf]  # what dbt's Kyuubi sessions write into
    assert "catalogs:\n  lake: |\n    connector.name=iceberg" in files["platform/trino/values-trino.yaml"]
    for sink in ("connectors/shop.iceberg-sink.json", "connectors/billing.iceberg-sink.json"):
        assert '"iceberg.catalog": "lake"' in files[sink]
        assert '"iceberg.catalog.warehouse": "s3a://lakehouse/tables/"' in files[sink]  # the one warehouse URI
    assert "MERGE INTO `lake`.`raw`.`shop_public_orders` AS t" in files["platform/kyuubi/manifests.yaml"]
    assert "trino.konoha-access.svc.cluster.local:8080/lake" in files["platform/airflow/values-airflow.yaml"]
    assert check(moved, emit_all(moved)) == []


def test_a_broken_service_reference_names_both_ends(platform: Platform, artifacts: list[Artifact]) -> None:
    broken = _replace(artifacts, "platform/trino/values-trino.yaml", "thrift://hive-metastore.", "thrift://hive-metastor.")
    problems = check(platform, broken)
    assert len(problems) == 1
    assert problems[0].path == "platform/trino/values-trino.yaml"
    assert problems[0].message.startswith("refers to hive-metastor.konoha-metastore.svc:9083, but no artifact "
                                          "creates Service "
                                          "hive-metastor in namespace konoha-metastore (Services there: ")
    assert "hive-metastore (platform/hive-metastore/values-hive-metastore.yaml)" in problems[0].message


def test_a_wrong_port_names_the_service_and_the_artifact_creating_it(platform: Platform,
                                                                     artifacts: list[Artifact]) -> None:
    broken = _replace(artifacts, "platform/airflow/values-airflow.yaml", "konoha-compute.svc.cluster.local:10009",
                      "konoha-compute.svc.cluster.local:10000")
    assert [p.message for p in check(platform, broken)] == [
        "refers to kyuubi-batch-thrift-binary.konoha-compute.svc:10000, but Service "
        "kyuubi-batch-thrift-binary, created by "
        "platform/kyuubi/values-kyuubi-batch.yaml, exposes port(s) 10009"]


def test_moving_a_producer_breaks_its_consumers(platform: Platform, artifacts: list[Artifact]) -> None:
    broken = _replace(artifacts, "platform/kyuubi/values-kyuubi-batch.yaml", "port: 10009", "port: 10010")
    paths = {p.path for p in check(platform, broken)}
    # Airflow's connection URI and the platform's own SQL Jobs (SERVER share, no tenant) address it; dbt and the
    # tenants run on interactive, whose move breaks dbt's host/port keys and the tenants' JDBC URLs in out/README.md.
    assert paths == {"platform/airflow/values-airflow.yaml", "platform/kyuubi/manifests.yaml"}
    moved = _replace(artifacts, "platform/kyuubi/values-kyuubi-interactive.yaml", "port: 10009", "port: 10010")
    assert {"dbt/profiles.yml", "README.md"} <= {p.path for p in check(platform, moved)}


def test_an_unknown_bucket_is_reported(platform: Platform, artifacts: list[Artifact]) -> None:
    broken = _replace(artifacts, "spark/etl.spark-defaults.conf", "warehouse=s3a://warehouse/", "warehouse=s3a://wharehouse/")
    assert [(p.path, p.message) for p in check(platform, broken)] == [
        ("spark/etl.spark-defaults.conf", "refers to bucket 'wharehouse', which terraform/30-storage does not create "
                                          "(buckets: airflow-logs, warehouse)")]


def test_external_hosts_must_be_declared_sources(platform: Platform, artifacts: list[Artifact]) -> None:
    source = next(s for s in platform.sources if s.name == "shop")
    undeclared = dataclasses.replace(platform, sources=tuple(s for s in platform.sources if s.name != "shop"))
    messages = [p.message for p in check(undeclared, artifacts)]
    assert any(f"refers to {source.host.removesuffix('.cluster.local')}" in m for m in messages)
