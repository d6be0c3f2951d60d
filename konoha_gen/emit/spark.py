"""Spark and Kyuubi configuration files.

out/spark/<profile>.spark-defaults.conf per compute.spark.profiles[] entry and
out/spark/<release>.kyuubi-defaults.conf per Kyuubi server. The same texts are
what each Kyuubi HelmRelease mounts (values kyuubiConf.files / sparkConf.files):
the functions here are the one source of both renderings.

Choices (DOMAIN-NOTES.md, Spark and Kyuubi sections): engines run on
Kubernetes in cluster mode in the Kyuubi namespace; dynamic allocation uses
shuffle tracking (no external shuffle service on Kubernetes) with a timeout so
executors holding shuffle data can scale down; the Iceberg catalog is the
lakehouse catalog on the Hive Metastore; S3A talks to MinIO with path-style
access, and credentials come only from environment variables filled from the
VSO Secret (spark.kubernetes.{driver,executor}.secretKeyRef.*).
"""

from __future__ import annotations

from konoha_gen.emit import Artifact
from konoha_gen.emit.kube import dump, obj
from konoha_gen.emit.observability import spark_driver_namespace, spark_metrics_conf
from konoha_gen.model.compute import SparkProfile
from konoha_gen.resolve import KyuubiServer, Platform

SCALA = "2.12"
HADOOP_AWS = "3.3.4"  # the Hadoop that Spark 3.5 ships; the AWS SDK v1 bundle it was built with
AWS_SDK_BUNDLE = "1.12.262"
#: Where spark-submit (in the Kyuubi server pod) reads its conf files: the Kyuubi chart's sparkConf.dir.
SPARK_CONF_DIR = "/opt/spark/conf"
POD_TEMPLATES = {"driver": "driver-pod-template.yaml", "executor": "executor-pod-template.yaml"}
SPARK_UID = 185  # the spark user of the apache/spark images


def _lines(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"{key}={value}\n" for key, value in pairs)


def spark_conf(platform: Platform, profile: SparkProfile) -> list[tuple[str, str]]:
    spark = platform.spec.compute.spark
    lake = platform.lakehouse
    assert lake is not None
    namespace = spark_driver_namespace(platform)
    s3_secret = platform.lake_secret("kyuubi").secret_name if platform.has("kyuubi") else None
    image = spark.image or f"apache/spark:{spark.version}"
    packages = ",".join([f"org.apache.iceberg:iceberg-spark-runtime-{spark.version.rsplit('.', 1)[0]}_{SCALA}:{spark.iceberg_version}",
                         f"org.apache.hadoop:hadoop-aws:{HADOOP_AWS}", f"com.amazonaws:aws-java-sdk-bundle:{AWS_SDK_BUNDLE}"])
    catalog = f"spark.sql.catalog.{lake.catalog}"
    conf = [
        ("spark.master", "k8s://https://kubernetes.default.svc:443"),
        ("spark.submit.deployMode", "cluster"),
        ("spark.kubernetes.namespace", namespace),
        ("spark.kubernetes.container.image", image),
        *((f"spark.kubernetes.{role}.podTemplateFile", f"{SPARK_CONF_DIR}/{POD_TEMPLATES[role]}") for role in POD_TEMPLATES),
        *((f"spark.kubernetes.{role}.podTemplateContainerName", f"spark-kubernetes-{role}") for role in POD_TEMPLATES),
        ("spark.jars.packages", packages),
        ("spark.driver.cores", str(profile.driver.cores)),
        ("spark.driver.memory", profile.driver.memory),
        ("spark.executor.cores", str(profile.executor.cores)),
        ("spark.executor.memory", profile.executor.memory),
    ]
    allocation = profile.dynamic_allocation
    if allocation is None:
        conf.append(("spark.executor.instances", str(profile.executor.instances if profile.executor.instances is not None else 2)))
    else:
        conf += [
            ("spark.dynamicAllocation.enabled", "true"),
            ("spark.dynamicAllocation.shuffleTracking.enabled", "true"),
            ("spark.dynamicAllocation.shuffleTracking.timeout", "30min"),
            ("spark.dynamicAllocation.minExecutors", str(allocation.min)),
            ("spark.dynamicAllocation.maxExecutors", str(allocation.max)),
            ("spark.dynamicAllocation.initialExecutors",
             str(min(max(profile.executor.instances or allocation.min, allocation.min), allocation.max))),
        ]
    conf += [
        ("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"),
        (catalog, "org.apache.iceberg.spark.SparkCatalog"),
        (f"{catalog}.type", "hive"),
        (f"{catalog}.uri", lake.metastore_uri),
        (f"{catalog}.warehouse", lake.warehouse),
        ("spark.sql.defaultCatalog", lake.catalog),
        ("spark.hadoop.fs.s3a.endpoint", lake.s3_endpoint),
        ("spark.hadoop.fs.s3a.path.style.access", "true"),
        ("spark.hadoop.fs.s3a.connection.ssl.enabled", "false"),
        ("spark.hadoop.fs.s3a.aws.credentials.provider", "com.amazonaws.auth.EnvironmentVariableCredentialsProvider"),
    ]
    if s3_secret:
        for role in ("driver", "executor"):
            conf += [(f"spark.kubernetes.{role}.secretKeyRef.AWS_ACCESS_KEY_ID", f"{s3_secret}:access-key"),
                     (f"spark.kubernetes.{role}.secretKeyRef.AWS_SECRET_ACCESS_KEY", f"{s3_secret}:secret-key")]
    conf += spark_metrics_conf(platform)  # the driver UI serves Prometheus metrics (PodMonitor spark-driver)
    conf += sorted(spark.conf.items())
    return conf


def pod_template(platform: Platform, role: str) -> str:
    """The driver or executor pod template: what spark-defaults cannot say (non-root user, no Service
    links in the environment, hardened container). Spark merges it with the pod it builds; the
    container is the one podTemplateContainerName names."""
    template = obj("v1", "Pod", f"spark-{role}", None, component=f"spark-{role}", platform=platform, spec={
        "enableServiceLinks": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": SPARK_UID, "runAsGroup": SPARK_UID, "fsGroup": SPARK_UID},
        "containers": [{"name": f"spark-kubernetes-{role}",
                        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
    })
    del template["metadata"]["name"]  # Spark names the pods
    return dump(template)


def pod_templates(platform: Platform) -> dict[str, str]:
    """File name -> text, as mounted into $SPARK_CONF_DIR of each Kyuubi server (values sparkConf.files)."""
    return {POD_TEMPLATES[role]: pod_template(platform, role) for role in POD_TEMPLATES}


def spark_defaults(platform: Platform, profile: SparkProfile) -> str:
    return _lines(spark_conf(platform, profile))


def kyuubi_defaults(platform: Platform, server: KyuubiServer) -> str:
    conf = [
        ("kyuubi.frontend.protocols", "THRIFT_BINARY,REST"),
        ("kyuubi.frontend.thrift.binary.bind.port", str(server.service.port)),
        ("kyuubi.frontend.rest.bind.port", str(server.rest_port)),
        ("kyuubi.authentication", "NONE"),
        ("kyuubi.engine.type", "SPARK_SQL"),
        ("kyuubi.engine.share.level", server.share_level),
        ("kyuubi.session.engine.idle.timeout", server.idle_timeout),
        ("kyuubi.kubernetes.namespace", server.service.namespace),
        ("spark.kubernetes.authenticate.driver.serviceAccountName", server.engine_service_account),
    ]
    if platform.tenants:
        # Each tenant's spark.env (Vault tenants/<tenant>/spark-env, a file VSO writes into the conf dir) is a session
        # profile: a session that sets kyuubi.session.conf.profile=<tenant> gets its Spark overrides (dbt targets do).
        conf.append(("kyuubi.session.conf.advisor", "org.apache.kyuubi.session.FileSessionConfAdvisor"))
    return _lines(conf)


def profile(platform: Platform, name: str) -> SparkProfile:
    return next(p for p in platform.spec.compute.spark.profiles if p.name == name)


def emit(platform: Platform) -> list[Artifact]:
    if not platform.has("spark") or platform.lakehouse is None:
        return []
    artifacts = [Artifact(f"spark/{p.name}.spark-defaults.conf", spark_defaults(platform, p))
                 for p in platform.spec.compute.spark.profiles]
    artifacts += [Artifact(f"spark/{s.release}.kyuubi-defaults.conf", kyuubi_defaults(platform, s)) for s in platform.kyuubi]
    artifacts += [Artifact(f"spark/{name}", text) for name, text in pod_templates(platform).items()]
    return artifacts
