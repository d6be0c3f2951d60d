"""Spark, Kyuubi and Trino keys against the upstream lists in konoha_gen/data/."""

from __future__ import annotations

import pytest
import yaml

from konoha_gen.artifact import Artifact
from konoha_gen.check import run_checks
from konoha_gen.emit import emit_all
from konoha_gen.keys import (
    iceberg_catalog_keys,
    kyuubi_key_problem,
    kyuubi_keys,
    spark_key_problem,
    spark_keys,
    trino_catalog_key_problem,
)
from konoha_gen.pipeline import compile_platform
from tests.conftest import ROOT, SPEC

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
        "'spark.sql.catalog.iceberg.warehous': 'warehous' is not an Iceberg Spark catalog property " \
        "(did you mean 'warehouse'?)"
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
    etl = dict(line.split("=",
                          1) for line in (ROOT / "out" / "spark" / "etl.spark-defaults.conf").read_text().splitlines()
               if not line.startswith("#"))
    assert etl["spark.dynamicAllocation.enabled"] == "true"
    assert etl["spark.dynamicAllocation.shuffleTracking.enabled"] == "true"  # no shuffle service on Kubernetes
    assert "spark.shuffle.service.enabled" not in etl
    assert (etl["spark.dynamicAllocation.minExecutors"], etl["spark.dynamicAllocation.maxExecutors"]) == ("1", "1")
    assert etl["spark.sql.catalog.iceberg.uri"] == "thrift://hive-metastore.konoha-metastore.svc.cluster.local:9083"
    assert etl["spark.hadoop.fs.s3a.path.style.access"] == "true"
    small = (ROOT / "out" / "spark" / "small.spark-defaults.conf").read_text()
    assert "spark.executor.instances=1\n" in small and "dynamicAllocation" not in small
    kyuubi = (ROOT / "out" / "spark" / "kyuubi-batch.kyuubi-defaults.conf").read_text()
    assert "kyuubi.engine.share.level=SERVER\n" in kyuubi


@pytest.mark.parametrize(("key", "expected"), [
    ("s3.path-style-acess", "did you mean 's3.path-style-access'"),
    ("hive.metastore.urls", "did you mean 'hive.metastore.uri'"),
    ("hive.s3.aws-access-key", "refused"),  # the legacy S3 file system, gone since Trino 470
    ("fs.s3.enabled", "refused"),  # only from Trino 481
])
def test_trino_catalog_keys_catch_misspelt_and_removed_properties(key: str, expected: str) -> None:
    problem = trino_catalog_key_problem(key)
    assert problem is not None and expected in problem


def test_every_emitted_trino_catalog_property_is_known_and_a_misspelt_one_fails_the_build() -> None:
    platform = compile_platform(SPEC)
    artifacts = emit_all(platform)
    trino = next(a for a in artifacts if a.path == "platform/trino/values-trino.yaml")
    keys = [line.split("=", 1)[0] for line in yaml.safe_load(trino.content)["catalogs"]["iceberg"].splitlines()]
    assert "hive.metastore.uri" in keys and "fs.native-s3.enabled" in keys
    assert [k for k in keys if trino_catalog_key_problem(k)] == []
    broken = [Artifact(a.path, a.content.replace("s3.path-style-access=", "s3.path-style-acess="), a.emitter)
              if a is trino else a for a in artifacts]
    problems = [p for p in run_checks(platform, broken) if p.check == "keys"]
    assert [(p.path, p.message) for p in problems] == [(
        "platform/trino/values-trino.yaml",
        "catalog iceberg: 's3.path-style-acess' is not a Trino 480 Iceberg catalog property (did you mean "
        "'s3.path-style-access'?)")]
