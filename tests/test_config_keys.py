"""Spark and Kyuubi keys against the upstream lists in konoha_gen/data/."""

from __future__ import annotations

from konoha_gen.keys import iceberg_catalog_keys, kyuubi_key_problem, kyuubi_keys, spark_key_problem, spark_keys
from tests.conftest import ROOT

CATALOGS = ("iceberg",)


def test_the_lists_are_real_and_exclude_removed_keys() -> None:
    assert len(spark_keys()) > 700 and len(kyuubi_keys()) > 300
    assert {"spark.executor.memory", "spark.dynamicAllocation.shuffleTracking.timeout",
            "spark.kubernetes.executor.deleteOnTermination", "spark.sql.shuffle.partitions"} <= spark_keys()
    # DOMAIN-NOTES: invented or removed keys seen in the wild
    assert "spark.kubernetes.driver.deleteOnTermination" not in spark_keys()
    assert spark_key_problem("spark.kubernetes.executorEnv.FOO", CATALOGS) is not None
    assert {"kyuubi.engine.share.level", "kyuubi.session.engine.idle.timeout"} <= kyuubi_keys()
    assert "kyuubi.ha.enabled" not in kyuubi_keys() and "kyuubi.session.engine.initialize.sql" not in kyuubi_keys()
    assert {"type", "uri", "warehouse", "catalog-impl"} <= iceberg_catalog_keys()


def test_prefix_families_and_catalog_properties() -> None:
    assert spark_key_problem("spark.hadoop.fs.s3a.endpoint", CATALOGS) is None
    assert spark_key_problem("spark.kubernetes.driver.secretKeyRef.AWS_ACCESS_KEY_ID", CATALOGS) is None
    assert spark_key_problem("spark.sql.catalog.iceberg.uri", CATALOGS) is None
    assert spark_key_problem("spark.sql.catalog.iceberg.hadoop.fs.s3a.endpoint", CATALOGS) is None
    assert spark_key_problem("spark.sql.catalog.iceberg.warehous", CATALOGS) == \
        "'spark.sql.catalog.iceberg.warehous': 'warehous' is not an Iceberg Spark catalog property (did you mean 'warehouse'?)"
    assert kyuubi_key_problem("kyuubi.engine.share.levle", CATALOGS) == \
        "'kyuubi.engine.share.levle' is not a Kyuubi configuration key (did you mean 'kyuubi.engine.share.level'?)"


def test_every_generated_conf_line_uses_real_keys() -> None:
    files = sorted((ROOT / "out" / "spark").glob("*.conf"))
    assert len(files) == 4
    for file in files:
        check = spark_key_problem if file.name.endswith("spark-defaults.conf") else kyuubi_key_problem
        for line in file.read_text().splitlines():
            if line and not line.startswith("#"):
                assert check(line.split("=", 1)[0], CATALOGS) is None, line


def test_spark_defaults_follow_the_profile_and_the_lakehouse() -> None:
    etl = dict(line.split("=", 1) for line in (ROOT / "out" / "spark" / "etl.spark-defaults.conf").read_text().splitlines()
               if not line.startswith("#"))
    assert etl["spark.dynamicAllocation.enabled"] == "true"
    assert etl["spark.dynamicAllocation.shuffleTracking.enabled"] == "true"  # no shuffle service on Kubernetes
    assert "spark.shuffle.service.enabled" not in etl
    assert (etl["spark.dynamicAllocation.minExecutors"], etl["spark.dynamicAllocation.maxExecutors"]) == ("1", "9")
    assert etl["spark.sql.catalog.iceberg.uri"] == "thrift://hive-metastore.konoha-metastore.svc.cluster.local:9083"
    assert etl["spark.hadoop.fs.s3a.path.style.access"] == "true"
    small = (ROOT / "out" / "spark" / "small.spark-defaults.conf").read_text()
    assert "spark.executor.instances=2\n" in small and "dynamicAllocation" not in small
    kyuubi = (ROOT / "out" / "spark" / "kyuubi-batch.kyuubi-defaults.conf").read_text()
    assert "kyuubi.engine.share.level=SERVER\n" in kyuubi
