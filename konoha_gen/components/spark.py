"""Spark: configuration only (profiles, images); Kyuubi launches the engines on Kubernetes in cluster mode.

out/spark/<profile>.spark-defaults.conf per compute.spark.profiles[] entry, and the driver/executor pod
templates. The same texts are what each Kyuubi HelmRelease mounts (values sparkConf.files): the functions
here are the one source of both renderings.

Choices (DOMAIN-NOTES.md, Spark section): engines run in the Kyuubi namespace; dynamic allocation uses
shuffle tracking (no external shuffle service on Kubernetes) with a timeout so executors holding shuffle
data can scale down; the Iceberg catalog is the lakehouse catalog on the Hive Metastore; S3A talks to MinIO
with path-style access, and credentials come only from environment variables filled from the VSO Secret
(spark.kubernetes.{driver,executor}.secretKeyRef.*).

Iceberg's Spark runtime and S3A reach the engines through Ivy (spark.jars.packages, resolved into spark.jars.ivy
under /tmp) rather than an image with them baked in: the stock apache/spark image then runs as is and the versions
stay the catalogue's (catalog.py), at the cost of egress: the Kyuubi servers and every driver pod need Maven Central
(repo1.maven.org) when an engine starts. Spark resolves the packages in the driver before it fetches the uploaded
engine jar from S3A, and puts them on the submit classpath for that download (SparkSubmit.prepareSubmitEnvironment,
SPARK-33748 comment). compute.spark.image may name another image, but the packages are resolved all the same: a
cluster without egress is not supported yet.

Event logs go to s3a://<bucket>/spark-events/ (event_log_conf); no Spark History Server is deployed.
"""

from __future__ import annotations

from konoha_gen.catalog import AWS_SDK_BUNDLE_VERSION, HADOOP_AWS_VERSION, SCALA_VERSION
from konoha_gen.components.base import ComponentDef, Panel, ScrapeTarget
from konoha_gen.components.chart_values import prometheus
from konoha_gen.components.promql import selector
from konoha_gen.kube import dump, obj
from konoha_gen.model.compute import SparkProfile
from konoha_gen.quoting import properties_text
from konoha_gen.resolved import Component, LakehouseWiring, Platform

#: Where spark-submit (in the Kyuubi server pod) reads its conf files: the Kyuubi chart's sparkConf.dir.
SPARK_CONF_DIR = "/opt/spark/conf"
POD_TEMPLATES = {"driver": "driver-pod-template.yaml", "executor": "executor-pod-template.yaml"}
SPARK_UID = 185  # the spark user of the apache/spark images
#: Lakehouse-bucket prefixes of spark-submit's uploads (spark.kubernetes.file.upload.path) and the event logs.
UPLOAD_PREFIX = "spark-uploads"
EVENT_LOG_PREFIX = "spark-events"
#: spark.jars.ivy: a directory the spark user can write in any image (the apache/spark images give it no home).
IVY_DIR = "/tmp/.ivy2"
#: spark.metrics.namespace: driver metrics named metrics_spark_driver_* instead of after each application id.
METRICS_NAMESPACE = "spark"
#: Where the driver UI serves the PrometheusServlet sink and (spark.ui.prometheus.enabled) the executor metrics.
DRIVER_METRICS_PATH = "/metrics/prometheus"
EXECUTOR_METRICS_PATH = "/metrics/executors/prometheus"


def conf_lines(pairs: list[tuple[str, str]]) -> str:
    """A spark-defaults.conf / kyuubi-defaults.conf text: Spark and Kyuubi read it with java.util.Properties.load
    (UTF-8), so every key and value is escaped for that grammar (quoting.properties_text). Spark then trims each
    value's ends (Utils.getPropertiesFromFile)."""
    return properties_text(pairs)


def driver_namespace(platform: Platform) -> str:
    """Where Spark drivers run: Kyuubi launches them in its own namespace."""
    return platform.component("kyuubi" if platform.has("kyuubi") else "spark").namespace


def upload_path(lake: LakehouseWiring) -> str:
    return f"s3a://{lake.bucket}/{UPLOAD_PREFIX}/"


def event_log_dir(lake: LakehouseWiring) -> str:
    return f"s3a://{lake.bucket}/{EVENT_LOG_PREFIX}/"


def event_log_conf(lake: LakehouseWiring) -> list[tuple[str, str]]:
    """Every application's event log in the lakehouse bucket, so a finished or failed job leaves its history (read
    with a Spark History Server pointed at the same directory, spark.history.fs.logDirectory; none is deployed).
    Spark requires the directory to exist (EventLogFileWriter.requireLogBaseDirAsDirectory): Terraform's 30-storage
    stage writes a marker object into it (templates/terraform/30-storage/minio.tf.j2)."""
    return [("spark.eventLog.enabled", "true"),
            ("spark.eventLog.dir", event_log_dir(lake)),
            ("spark.eventLog.rolling.enabled", "true")]


def metrics_conf(platform: Platform) -> list[tuple[str, str]]:
    """spark-defaults.conf lines that expose a driver's metrics on its UI port (Spark 3.5 monitoring docs)."""
    if not prometheus(platform):
        return []
    return [("spark.ui.prometheus.enabled", "true"),
            ("spark.metrics.namespace", METRICS_NAMESPACE),
            ("spark.metrics.conf.*.sink.prometheusServlet.class", "org.apache.spark.metrics.sink.PrometheusServlet"),
            ("spark.metrics.conf.*.sink.prometheusServlet.path", DRIVER_METRICS_PATH)]


def spark_conf(platform: Platform, profile: SparkProfile) -> list[tuple[str, str]]:
    spark = platform.spec.compute.spark
    lake = platform.lakehouse
    assert lake is not None
    s3_secret = platform.lake_secret("kyuubi").secret_name if platform.has("kyuubi") else None
    image = spark.image or f"apache/spark:{spark.version}"
    minor = spark.version.rsplit(".", 1)[0]
    packages = ",".join([f"org.apache.iceberg:iceberg-spark-runtime-{minor}_{SCALA_VERSION}:{spark.iceberg_version}",
                         f"org.apache.hadoop:hadoop-aws:{HADOOP_AWS_VERSION}",
                         f"com.amazonaws:aws-java-sdk-bundle:{AWS_SDK_BUNDLE_VERSION}"])
    catalog = f"spark.sql.catalog.{lake.catalog}"
    conf = [
        ("spark.master", "k8s://https://kubernetes.default.svc:443"),
        ("spark.submit.deployMode", "cluster"),
        ("spark.kubernetes.namespace", driver_namespace(platform)),
        ("spark.kubernetes.container.image", image),
        *((f"spark.kubernetes.{role}.podTemplateFile", f"{SPARK_CONF_DIR}/{POD_TEMPLATES[role]}")
          for role in POD_TEMPLATES),
        *((f"spark.kubernetes.{role}.podTemplateContainerName", f"spark-kubernetes-{role}") for role in POD_TEMPLATES),
        # cluster mode uploads what spark-submit holds locally (Kyuubi's engine jar) here; the drivers fetch it back
        # (Kyuubi docs/deployment/engine_on_kubernetes.md: required; Spark's KubernetesUtils.uploadFileUri throws
        # without it). The Kyuubi server runs spark-submit, so it reads the lake Secret as AWS_* env (kyuubi.py).
        ("spark.kubernetes.file.upload.path", upload_path(lake)),
        ("spark.jars.packages", packages),
        # Ivy resolves spark.jars.packages in the Kyuubi server and again in every driver, whose user 185 has no home
        # directory (apache/spark-docker Dockerfile; kubeflow/spark-operator#2208): a writable cache instead
        ("spark.jars.ivy", IVY_DIR),
        ("spark.driver.cores", str(profile.driver.cores)),
        ("spark.driver.memory", profile.driver.memory),
        ("spark.executor.cores", str(profile.executor.cores)),
        ("spark.executor.memory", profile.executor.memory),
    ]
    conf += _executors(profile)
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
    conf += event_log_conf(lake)
    conf += metrics_conf(platform)  # the driver UI serves Prometheus metrics (PodMonitor spark-driver)
    conf += sorted(spark.conf.items())
    return conf


def _executors(profile: SparkProfile) -> list[tuple[str, str]]:
    allocation = profile.dynamic_allocation
    if allocation is None:
        instances = profile.executor.instances if profile.executor.instances is not None else 2
        return [("spark.executor.instances", str(instances))]
    initial = min(max(profile.executor.instances or allocation.min, allocation.min), allocation.max)
    return [
        ("spark.dynamicAllocation.enabled", "true"),
        ("spark.dynamicAllocation.shuffleTracking.enabled", "true"),
        ("spark.dynamicAllocation.shuffleTracking.timeout", "30min"),
        ("spark.dynamicAllocation.minExecutors", str(allocation.min)),
        ("spark.dynamicAllocation.maxExecutors", str(allocation.max)),
        ("spark.dynamicAllocation.initialExecutors", str(initial)),
    ]


def pod_template(platform: Platform, role: str) -> str:
    """The driver or executor pod template: what spark-defaults cannot say (non-root user, no Service
    links in the environment, hardened container). Spark merges it with the pod it builds; the
    container is the one podTemplateContainerName names."""
    template = obj("v1", "Pod", f"spark-{role}", None, component=f"spark-{role}", platform=platform, spec={
        "enableServiceLinks": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": SPARK_UID, "runAsGroup": SPARK_UID,
                            "fsGroup": SPARK_UID},
        "containers": [{"name": f"spark-kubernetes-{role}",
                        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
    })
    del template["metadata"]["name"]  # Spark names the pods
    return dump(template)


def pod_templates(platform: Platform) -> dict[str, str]:
    """File name -> text, as mounted into $SPARK_CONF_DIR of each Kyuubi server (values sparkConf.files)."""
    return {POD_TEMPLATES[role]: pod_template(platform, role) for role in POD_TEMPLATES}


def spark_defaults(platform: Platform, profile: SparkProfile) -> str:
    return conf_lines(spark_conf(platform, profile))


def profile(platform: Platform, name: str) -> SparkProfile:
    return next(p for p in platform.spec.compute.spark.profiles if p.name == name)


def scrape_targets(p: Platform, c: Component) -> list[ScrapeTarget]:
    """Spark on Kubernetes labels driver pods spark-role=driver; its UI port is `spark-ui`. Only Kyuubi launches
    drivers in the cluster: without it there is nothing to scrape."""
    if not p.has("kyuubi"):
        return []
    return [ScrapeTarget(c.name, "PodMonitor", "spark-driver", driver_namespace(p), (("spark-role", "driver"),),
                         "spark-ui", (DRIVER_METRICS_PATH, EXECUTOR_METRICS_PATH),
                         target_labels=("spark-app-selector",))]


def dashboard(p: Platform) -> tuple[str, list[Panel]]:
    """The driver UI's /metrics/executors/prometheus (Spark's PrometheusResource: metrics_executor_*) and
    /metrics/prometheus (PrometheusServlet: metrics_<spark.metrics.namespace>_driver_<source>_<name>_Value)."""
    ns = driver_namespace(p)
    s = selector(ns)
    executors = selector(ns, 'executor_id!="driver"')
    driver = f"metrics_{METRICS_NAMESPACE}_driver"
    app = "application_name"
    return "Spark", [
        Panel("Running applications",
              ((f"count(count by (application_id) (metrics_executor_totalCores{s}))", "apps"),), stat=True),
        Panel("Executors", ((f"count(metrics_executor_totalCores{executors})", "executors"),), stat=True),
        Panel("Active tasks", ((f"sum(metrics_executor_activeTasks{s})", "tasks"),), stat=True),
        Panel("Running stages", ((f"sum({driver}_DAGScheduler_stage_runningStages_Value{s})", "stages"),), stat=True),
        Panel("Active tasks by application",
              ((f"sum by ({app}) (metrics_executor_activeTasks{s})", f"{{{{{app}}}}}"),)),
        Panel("Tasks completed / failed /s",
              ((f"sum by ({app}) (rate(metrics_executor_completedTasks_total{s}[5m]))", f"completed {{{{{app}}}}}"),
               (f"sum by ({app}) (rate(metrics_executor_failedTasks_total{s}[5m]))", f"failed {{{{{app}}}}}")), "ops"),
        Panel("Storage memory used",
              ((f"sum by ({app}) (metrics_executor_memoryUsed_bytes{s})", f"{{{{{app}}}}}"),), "bytes"),
        Panel("Input and shuffle /s",
              ((f"sum by ({app}) (rate(metrics_executor_totalInputBytes_bytes_total{s}[5m]))", f"input {{{{{app}}}}}"),
               (f"sum by ({app}) (rate(metrics_executor_totalShuffleRead_bytes_total{s}[5m]))",
                f"shuffle read {{{{{app}}}}}"),
               (f"sum by ({app}) (rate(metrics_executor_totalShuffleWrite_bytes_total{s}[5m]))",
                f"shuffle write {{{{{app}}}}}")),
              "Bps"),
        Panel("Share of task time in GC",
              ((f"sum by ({app}) (rate(metrics_executor_totalGCTime_seconds_total{s}[5m])) / "
                f"sum by ({app}) (rate(metrics_executor_totalDuration_seconds_total{s}[5m]))", f"{{{{{app}}}}}"),),
              "percentunit"),
        Panel("Jobs and stages (drivers)",
              ((f"sum({driver}_DAGScheduler_job_activeJobs_Value{s})", "active jobs"),
               (f"sum({driver}_DAGScheduler_stage_waitingStages_Value{s})", "waiting stages"),
               (f"sum({driver}_DAGScheduler_stage_failedStages_Value{s})", "failed stages"))),
    ]


COMPONENT = ComponentDef(
    name="spark", title="Spark (profiles, images)", layer="compute", deployed=False,
    enabled=lambda spec: spec.compute.spark.enabled, switch="spec.compute.spark.enabled",
    scrape_targets=scrape_targets,
    dashboard=dashboard,
)
