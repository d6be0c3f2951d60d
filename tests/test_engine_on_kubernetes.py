"""Issue 13: what Kyuubi needs to start Spark engines in cluster mode, one warehouse URI, the event log, and a
metastore its Hive 2.3 clients can call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from konoha_gen.artifact import Artifact
from konoha_gen.catalog import CATALOG, METASTORE_CLIENTS, metastore_image_tag
from konoha_gen.errors import KonohaError
from konoha_gen.keys import spark_keys
from konoha_gen.pipeline import compile_platform
from konoha_gen.resolved import Platform
from tests.conftest import SPEC
from tests.helpers import edit_spec


def _by_path(artifacts: list[Artifact]) -> dict[str, Artifact]:
    return {a.path: a for a in artifacts}


def _conf(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def _kyuubi_values(artifacts: list[Artifact], platform: Platform) -> list[dict[str, Any]]:
    files = _by_path(artifacts)
    return [yaml.safe_load(files[f"platform/kyuubi/values-{server.release}.yaml"].content)
            for server in platform.kyuubi]


def _engine_conf(values: dict[str, Any]) -> dict[str, str]:
    """What an engine of the server is submitted with: the server's kyuubi-defaults.conf (its spark.* keys reach the
    engine) over the mounted spark-defaults.conf."""
    return {**_conf(values["sparkConf"]["files"]["spark-defaults.conf"]),
            **_conf(values["kyuubiConf"]["files"]["kyuubi-defaults.conf"])}


def test_kyuubi_engines_get_every_property_kyuubis_engine_on_kubernetes_docs_require(
        artifacts: list[Artifact], platform: Platform) -> None:
    """apache/kyuubi docs/deployment/engine_on_kubernetes.md: Master (spark.master=k8s://https://<host>:<port>),
    Deploy Mode's "minimum required configurations" (deployMode cluster, file.upload.path on S3 or HDFS, the driver's
    service account), the Docker Image section (spark.kubernetes.container.image) and the namespace the service
    account's role covers (ServiceAccount section)."""
    lake = platform.lakehouse
    assert lake is not None and platform.kyuubi
    for values, server in zip(_kyuubi_values(artifacts, platform), platform.kyuubi, strict=True):
        conf = _engine_conf(values)
        assert conf["spark.master"].startswith("k8s://https://")
        assert conf["spark.submit.deployMode"] == "cluster"
        assert conf["spark.kubernetes.file.upload.path"] == f"s3a://{lake.bucket}/spark-uploads/"
        assert conf["spark.kubernetes.authenticate.driver.serviceAccountName"] == server.engine_service_account
        assert values["serviceAccount"] == {"create": True, "name": server.engine_service_account}
        assert conf["spark.kubernetes.container.image"]
        assert conf["spark.kubernetes.namespace"] == server.service.namespace
        # Ivy resolves spark.jars.packages in the server and in each driver: into a directory user 185 can write
        assert conf["spark.jars.ivy"].startswith("/tmp/")


def test_the_kyuubi_server_reads_s3a_credentials_under_the_names_s3a_reads(
        artifacts: list[Artifact], platform: Platform) -> None:
    """spark-submit in the server uploads to S3A, whose EnvironmentVariableCredentialsProvider reads AWS_* names."""
    secret = platform.lake_secret("kyuubi").secret_name
    for values in _kyuubi_values(artifacts, platform):
        assert "envFrom" not in values
        env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in values["env"]}
        assert env == {"AWS_ACCESS_KEY_ID": {"name": secret, "key": "access-key"},
                       "AWS_SECRET_ACCESS_KEY": {"name": secret, "key": "secret-key"}}
        conf = _conf(values["sparkConf"]["files"]["spark-defaults.conf"])
        assert conf["spark.hadoop.fs.s3a.aws.credentials.provider"].endswith("EnvironmentVariableCredentialsProvider")


def test_kyuubi_rbac_has_the_verbs_spark_35_kubernetes_submission_uses(
        artifacts: list[Artifact], platform: Platform) -> None:
    """Spark 3.5 server-side-applies the driver's Service and ConfigMaps (KubernetesClientApplication.scala,
    forceConflicts().serverSideApply(): PATCH; kubeflow/spark-operator#1884, #2399) and the driver manages executor
    pods and PVCs; the verbs of kubeflow/spark-operator's Spark role (templates/spark/rbac.yaml)."""
    needed = {"create", "get", "list", "watch", "update", "patch", "delete", "deletecollection"}
    for values in _kyuubi_values(artifacts, platform):
        rules = values["rbac"]["rules"]
        for resource in ("pods", "services", "configmaps", "persistentvolumeclaims"):
            verbs = {v for r in rules if "" in r["apiGroups"] and resource in r["resources"] for v in r["verbs"]}
            assert needed <= verbs, (resource, sorted(needed - verbs))


def test_one_warehouse_uri_across_spark_the_sink_trino_and_the_metastore(
        artifacts: list[Artifact], platform: Platform) -> None:
    lake = platform.lakehouse
    assert lake is not None
    files = _by_path(artifacts)
    uris: set[str] = set()
    for path in (p for p in files if p.startswith("spark/") and p.endswith(".spark-defaults.conf")):
        uris |= {v for k, v in _conf(files[path].content).items() if k.endswith(".warehouse")}
    for path in (p for p in files if p.endswith(".iceberg-sink.json")):
        uris.add(json.loads(files[path].content)["config"]["iceberg.catalog.warehouse"])
    assert uris == {lake.warehouse} and lake.warehouse.startswith("s3a://")
    # Trino's Iceberg catalog on the metastore sets no warehouse: it reads every location from the metastore
    trino = yaml.safe_load(files["platform/trino/values-trino.yaml"].content)
    assert "warehouse" not in trino["catalogs"][lake.catalog]
    # the metastore's own default (OKDP metastore.sh: s3a://<warehouseDirectory>/hive-warehouse/) is in the same bucket
    hms = yaml.safe_load(files["platform/hive-metastore/values-hive-metastore.yaml"].content)
    assert hms["s3"]["warehouseDirectory"] == lake.bucket
    assert not [a.path for a in artifacts if "s3://" in a.content]


def test_spark_writes_event_logs_to_a_directory_terraform_creates(
        artifacts: list[Artifact], platform: Platform) -> None:
    lake = platform.lakehouse
    assert lake is not None
    files = _by_path(artifacts)
    for path in (p for p in files if p.endswith(".spark-defaults.conf")):
        conf = _conf(files[path].content)
        assert conf["spark.eventLog.enabled"] == "true"
        assert conf["spark.eventLog.dir"] == f"s3a://{lake.bucket}/spark-events/"
        assert {k for k in conf if k.startswith("spark.eventLog.")} <= spark_keys()
    minio = files["terraform/30-storage/minio.tf"].content
    assert 'object_name  = "spark-events/.keep"' in minio
    assert f"bucket_name  = minio_s3_bucket.{lake.bucket}.bucket" in minio


def test_the_metastore_runs_a_release_its_hive_2_clients_can_call(
        artifacts: list[Artifact], platform: Platform) -> None:
    pinned = CATALOG["hive-metastore"].app_version
    assert METASTORE_CLIENTS.allows(pinned) and not METASTORE_CLIENTS.allows("4.0.1")
    hms = yaml.safe_load(_by_path(artifacts)["platform/hive-metastore/values-hive-metastore.yaml"].content)
    assert hms["image"]["tag"] == metastore_image_tag(pinned) == "3.1.3-1.3.0"


def _compile(tmp_path: Path, version: str) -> Platform:
    def change(spec: Any) -> None:
        spec["spec"]["storage"]["metastore"]["version"] = version
    path = tmp_path / "konoha.yaml"
    path.write_text(edit_spec(SPEC.read_text(), change))
    return compile_platform(path)


def test_a_metastore_4_override_is_refused_naming_both_versions(tmp_path: Path) -> None:
    with pytest.raises(KonohaError) as caught:
        _compile(tmp_path, "4.0.1")
    message = str(caught.value)
    assert "spec.storage.metastore.version: Hive Metastore 4.0.1 cannot serve" in message
    assert "(Hive 2.3.x)" in message and "get_table" in message


def test_a_compatible_metastore_override_picks_its_image(tmp_path: Path) -> None:
    from konoha_gen.emit import emit_all

    files = _by_path(emit_all(_compile(tmp_path, "3.1.2")))
    hms = yaml.safe_load(files["platform/hive-metastore/values-hive-metastore.yaml"].content)
    assert hms["image"]["tag"] == "3.1.2"
