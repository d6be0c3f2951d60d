"""Kyuubi: Spark as a multi-tenant SQL service, one Helm release per server (`compute.kyuubi.servers`).

Each release mounts the server's kyuubi-defaults.conf, its Spark profile's spark-defaults.conf and the
pod templates (components/spark.py), and each tenant's spark.env as a session profile.
"""

from __future__ import annotations

from collections.abc import Iterator

from konoha_gen.catalog import image_tag
from konoha_gen.components.base import (
    ComponentDef,
    MetricsPort,
    Panel,
    PodBudget,
    Release,
    ScrapeTarget,
    Values,
    VaultRead,
)
from konoha_gen.components.chart_values import get, prometheus, resources, secret, setting
from konoha_gen.components.kyuubi_sql import merge_jobs, namespaces_job
from konoha_gen.components.promql import job, selector
from konoha_gen.components.spark import conf_lines, pod_templates, profile, spark_defaults
from konoha_gen.kube import Doc
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.names import (
    SESSION_CONF_KEYS,
    lake_user_path,
    session_conf_file,
    session_conf_path,
    session_conf_tenant,
)
from konoha_gen.resolved import Component, Database, KyuubiServer, Platform

KYUUBI_CONF_DIR = "/opt/kyuubi/conf"  # the kyuubi chart's kyuubiConf.dir
METRICS_PORT = 10019
#: What the engines' service account (spark-submit in the server, then the driver) does in Kyuubi's namespace. Spark 3.5
#: creates the driver pod and server-side-applies its Service and ConfigMaps (KubernetesClientApplication.scala:
#: resourceList(...).forceConflicts().serverSideApply(), an HTTP PATCH; kubeflow/spark-operator#1884, #2399); the
#: driver creates, watches, labels and deletes executor pods and their PVCs (ExecutorPodsAllocator,
#: ExecutorPodsLifecycleManager). The verbs are the Spark role of kubeflow/spark-operator
#: (charts/spark-operator-chart/templates/spark/rbac.yaml).
ENGINE_RESOURCES = ("pods", "services", "configmaps", "persistentvolumeclaims")
ENGINE_VERBS = ("create", "get", "list", "watch", "update", "patch", "delete", "deletecollection")


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
    return conf_lines(conf)


def values(p: Platform, server: KyuubiServer) -> Values:
    s3 = secret(p, "kyuubi", lake_user_path("kyuubi"))
    return {
        "kyuubiConf": {"files": {"kyuubi-defaults.conf": kyuubi_defaults(p, server)}},
        "sparkConf": {"files": {"spark-defaults.conf": spark_defaults(p, profile(p, server.profile)),
                                **pod_templates(p)}},
        "replicaCount": server.replicas,
        # The `-spark` variant carries the Spark distribution (SPARK_HOME) spark-submit needs to launch engines;
        # the plain tag the chart defaults to has none.
        "image": {"tag": f"{image_tag('kyuubi', p.spec.versions)}-spark"},
        "serviceAccount": {"create": True, "name": server.engine_service_account},
        "rbac": {"create": True, "rules": [
            {"apiGroups": [""], "resources": list(ENGINE_RESOURCES), "verbs": list(ENGINE_VERBS)}]},
        "server": {"thriftBinary": {"enabled": True, "port": server.service.port},
                   "thriftHttp": {"enabled": False},
                   "rest": {"enabled": True, "port": server.rest_port}},
        # spark-submit in the server uploads the engine jar to S3A (spark.kubernetes.file.upload.path), whose
        # EnvironmentVariableCredentialsProvider reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: the lake Secret's
        # keys under those names (the chart's `env`, values.yaml; envFrom would name them access-key / secret-key)
        "env": [{"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": s3, "key": "access-key"}}},
                {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": s3, "key": "secret-key"}}}],
        **_session_confs(p),
        "resources": resources("512Mi", "250m"),  # the server only; Spark engines are pods of their own
        "metrics": _metrics(p),
    }


def _session_confs(p: Platform) -> Values:
    """Each tenant's spark.env file, mounted into Kyuubi's conf dir as session profile <tenant>. Optional:
    Kyuubi starts before an operator writes the Vault path; VSO restarts it when the Secret changes."""
    tenants = [t.name for t in p.tenants]
    if not tenants:
        return {}
    secrets = {t: secret(p, "kyuubi", session_conf_path(t)) for t in tenants}
    return {"volumes": [{"name": f"session-{t}", "secret": {"secretName": secrets[t], "optional": True}}
                        for t in tenants],
            "volumeMounts": [{"name": f"session-{t}", "mountPath": f"{KYUUBI_CONF_DIR}/{session_conf_file(t)}",
                              "subPath": session_conf_file(t), "readOnly": True} for t in tenants]}


def _metrics(p: Platform) -> Values:
    """Kyuubi's Prometheus reporter on the `prometheus` container port, which konoha-gen's PodMonitor scrapes.
    The chart's own PodMonitor/ServiceMonitor stay off: their CRDs come in a later stage (emit/observability.py)."""
    if not prometheus(p):
        return {"enabled": False}
    return {"enabled": True, "reporters": "PROMETHEUS", "prometheusPort": METRICS_PORT,
            "podMonitor": {"enabled": False}, "serviceMonitor": {"enabled": False}}


def session_reads(spec: PlatformSpec) -> list[VaultRead]:
    """Each tenant's Spark overrides, read by the Kyuubi servers (FileSessionConfAdvisor); written by hand."""
    if not spec.compute.kyuubi.servers:
        return []
    return [VaultRead(session_conf_path(t.name), frozenset({SESSION_CONF_KEYS}), generated=False) for t in spec.tenants]


def session_conf_template(spec: PlatformSpec, databases: tuple[Database, ...], path: str,
                          keys: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """Every key of a tenant's spark-env is a session property: the Secret holds them as one conf file."""
    tenant = session_conf_tenant(path)
    if tenant is None:
        return ()
    return ((session_conf_file(tenant), "{{- range $key, $value := .Secrets }}{{ $key }}={{ $value }}\n{{ end }}"),)


def scrape_targets(p: Platform, c: Component) -> list[ScrapeTarget]:
    """The chart's kyuubi.selectorLabels; metrics.* values open the `prometheus` port."""
    releases = tuple(server.release for server in p.kyuubi)
    return [ScrapeTarget(c.name, "PodMonitor", c.name, c.namespace, (("app.kubernetes.io/name", "kyuubi"),),
                         "prometheus", ("/metrics",), (("app.kubernetes.io/instance", releases),),
                         ("app.kubernetes.io/instance",))]


def chart_metrics(release: str, namespace: str, values: Values, source: str) -> Iterator[MetricsPort]:
    reporters = str(get(values, "metrics.reporters", "PROMETHEUS")).replace(" ", "").split(",")
    if get(values, "metrics.enabled", True) and "PROMETHEUS" in reporters:
        yield MetricsPort("Pod", namespace,
                          (("app.kubernetes.io/name", "kyuubi"), ("app.kubernetes.io/instance", release)),
                          "prometheus", frozenset({"/metrics"}), source)


def dashboard(p: Platform) -> tuple[str, list[Panel]]:
    """Kyuubi's Prometheus reporter (Dropwizard names with '.' -> '_', docs/monitor/metrics.md)."""
    ns = p.component("kyuubi").namespace
    s = selector(ns)
    by = "app_kubernetes_io_instance"  # the PodMonitor copies the release label onto every series
    up = selector(ns, job(p, "kyuubi"))
    p99 = selector(ns, 'quantile="0.99"')
    return "Kyuubi", [
        Panel("Servers up", ((f"sum(up{up})", "up"),), stat=True),
        Panel("Open connections", ((f"sum(kyuubi_connection_opened{s})", "open"),), stat=True),
        Panel("Open operations", ((f"sum(kyuubi_operation_opened{s})", "open"),), stat=True),
        Panel("Active backend threads", ((f"sum(kyuubi_exec_pool_threads_active{s})", "active"),), stat=True),
        Panel("Open connections by server", ((f"sum by ({by}) (kyuubi_connection_opened{s})", f"{{{{{by}}}}}"),)),
        Panel("Connections /s", ((f"sum by ({by}) (rate(kyuubi_connection_total{s}[5m]))", f"opened {{{{{by}}}}}"),
                                 (f"sum by ({by}) (rate(kyuubi_connection_failed{s}[5m]))", f"failed {{{{{by}}}}}")),
              "ops"),
        Panel("Operations /s", ((f"sum by ({by}) (rate(kyuubi_operation_total{s}[5m]))", f"{{{{{by}}}}}"),), "ops"),
        Panel("Spark engines started / timed out (per hour)",
              ((f"sum by ({by}) (increase(kyuubi_engine_total{s}[1h]))", f"started {{{{{by}}}}}"),
               (f"sum by ({by}) (increase(kyuubi_engine_timeout{s}[1h]))", f"timed out {{{{{by}}}}}"))),
        Panel("executeStatement latency (p99)",
              ((f"max by ({by}) (kyuubi_backend_service_execute_statement_ms{p99})", f"{{{{{by}}}}}"),), "ms"),
    ]


def _manifests(p: Platform, c: Component) -> list[Doc]:
    return [*namespaces_job(p, c), *merge_jobs(p, c)]


COMPONENT = ComponentDef(
    name="kyuubi", title="Kyuubi", layer="compute", catalog="kyuubi",
    # Without servers there is nothing to run, scrape or chart: the component deploys nothing (M4, issue 14).
    enabled=lambda spec: spec.compute.kyuubi.enabled and bool(spec.compute.kyuubi.servers),
    switch="spec.compute.kyuubi.enabled",
    off_reason=lambda spec: ("spec.compute.kyuubi.servers is empty, so Kyuubi deploys nothing"
                             if spec.compute.kyuubi.enabled else "spec.compute.kyuubi.enabled: false"),
    depends_on=lambda spec: ["spark", "hive-metastore", "minio", "vault-secrets-operator"],
    workloads=lambda spec: tuple(("StatefulSet", f"kyuubi-{k.name}") for k in spec.compute.kyuubi.servers),
    lake_user=True,
    vault_reads=session_reads,
    secret_shape=session_conf_template,
    releases=lambda p, c: [Release(server.release, values(p, server)) for server in p.kyuubi],
    manifests=_manifests,
    scrape_targets=scrape_targets,
    dashboard=dashboard,
    chart_services=lambda r, v: [(f"{r}-thrift-binary", (int(setting(v, "server.thriftBinary.port", 10009)),)),
                                 (f"{r}-rest", (int(setting(v, "server.rest.port", 10099)),))],
    chart_metrics=chart_metrics,
    budget=(PodBudget("server", replicas="replicaCount"),
            PodBudget("Spark engine", spark_conf=("sparkConf", "files", "spark-defaults.conf")),
            # beeline: the namespaces Job and the MERGE CronJobs, counted together (the CronJobs share a schedule)
            PodBudget("beeline Job", "spec.template.spec.containers", kind="Job"),
            PodBudget("beeline CronJob", "spec.jobTemplate.spec.template.spec.containers", kind="CronJob")),
)
