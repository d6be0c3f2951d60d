"""Monitoring: one ServiceMonitor or PodMonitor per component that exposes metrics, and the Grafana
dashboards the spec names, in out/platform/monitoring/, applied by a Flux stage of their own
(clusters/<name>/monitoring.yaml -> layers/monitoring/).

Why a stage of their own: the ServiceMonitor and PodMonitor CRDs come with the kube-prometheus-stack
chart, which the observability layer (the last one) installs. A monitor in any layer, that one
included, fails the layer's apply (no such kind yet); the monitoring stage depends on the
observability layer, whose `wait` holds it back until the chart (and its CRDs) is Ready. The
charts' own monitor switches (kyuubi metrics.podMonitor, trino serviceMonitor, ...) would put monitors
into earlier layers, so they stay off; the charts are only told to expose their metrics.

The monitors live in the observability namespace beside Prometheus and select their targets with
namespaceSelector.matchNames; Prometheus picks up every monitor (kube-prometheus-stack values:
serviceMonitorSelectorNilUsesHelmValues/podMonitorSelectorNilUsesHelmValues false). The dashboards
are ConfigMaps with Grafana's sidecar label in Grafana's own namespace, so the sidecar needs no
cluster-wide search.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from konoha_gen.emit import Artifact
from konoha_gen.emit.kube import Doc, dump, kustomization, obj
from konoha_gen.resolve import Platform

#: The Flux stage after the observability layer, and the folder it applies.
STAGE = "monitoring"
AFTER = "observability"
FOLDER = f"platform/{STAGE}"
#: kube-prometheus-stack's Grafana loads ConfigMaps carrying this label (values grafana.sidecar.dashboards).
DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_LABEL_VALUE = "1"
MONITORING_API = "monitoring.coreos.com/v1"
DATA = Path(__file__).resolve().parent.parent / "data"
#: Prometheus JMX exporter configurations shipped in konoha_gen/data/ (each file says who reads it).
JMX_EXPORTER_CONFIGS = {"kafka": "kafka-metrics.yaml", "kafka-connect": "kafka-connect-metrics.yaml",
                        "trino": "trino-jmx-exporter.yaml"}
#: Ports the charts expose metrics on, pinned in their values (the monitors select the ports by name).
KYUUBI_METRICS_PORT = 10019
TRINO_JMX_REGISTRY_PORT = 9080  # trino-jmx-exporter.yaml's hostPort points here
TRINO_JMX_SERVER_PORT = 9081
TRINO_JMX_EXPORTER_PORT = 5556
#: spark.metrics.namespace: driver metrics named metrics_spark_driver_* instead of after each application id.
SPARK_METRICS_NAMESPACE = "spark"
#: Where the driver UI serves the PrometheusServlet sink and (spark.ui.prometheus.enabled) the executor metrics.
SPARK_DRIVER_METRICS_PATH = "/metrics/prometheus"
SPARK_EXECUTOR_METRICS_PATH = "/metrics/executors/prometheus"


@dataclass(frozen=True)
class ScrapeTarget:
    """One component's metrics endpoint and the monitor that selects it."""

    component: str
    kind: str  # PodMonitor | ServiceMonitor
    name: str
    namespace: str  # where the scraped pods / Services run
    match_labels: tuple[tuple[str, str], ...]
    port: str  # the named container port (PodMonitor) or Service port (ServiceMonitor)
    paths: tuple[str, ...]
    match_in: tuple[tuple[str, tuple[str, ...]], ...] = ()  # label key In values
    target_labels: tuple[str, ...] = ()  # pod / Service labels copied onto every series


def prometheus(platform: Platform) -> bool:
    """Whether anything scrapes metrics: kube-prometheus-stack is deployed."""
    return platform.has("kube-prometheus-stack")


def jmx_exporter_config(name: str) -> str:
    """The text of a JMX exporter configuration (`kafka`, `kafka-connect`, `trino`) from konoha_gen/data/."""
    return _read(JMX_EXPORTER_CONFIGS[name])


@cache
def _read(file: str) -> str:
    return (DATA / file).read_text("utf-8")


def spark_driver_namespace(platform: Platform) -> str:
    """Where Spark drivers run: Kyuubi launches them in its own namespace."""
    return platform.component("kyuubi" if platform.has("kyuubi") else "spark").namespace


def spark_metrics_conf(platform: Platform) -> list[tuple[str, str]]:
    """spark-defaults.conf lines that expose a driver's metrics on its UI port (Spark 3.5 monitoring docs)."""
    if not prometheus(platform):
        return []
    return [("spark.ui.prometheus.enabled", "true"),
            ("spark.metrics.namespace", SPARK_METRICS_NAMESPACE),
            ("spark.metrics.conf.*.sink.prometheusServlet.class", "org.apache.spark.metrics.sink.PrometheusServlet"),
            ("spark.metrics.conf.*.sink.prometheusServlet.path", SPARK_DRIVER_METRICS_PATH)]


def scrape_targets(platform: Platform) -> tuple[ScrapeTarget, ...]:
    """Every metrics endpoint of the deployed components, in component order; none without Prometheus."""
    if not prometheus(platform):
        return ()
    targets = []
    for component in platform.components:
        targets.extend(_targets(platform, component.name, component.namespace))
    return tuple(targets)


def _targets(p: Platform, name: str, namespace: str) -> list[ScrapeTarget]:
    if name == "kyuubi":  # the chart's kyuubi.selectorLabels; metrics.* values open the `prometheus` port
        releases = tuple(server.release for server in p.kyuubi)
        return [ScrapeTarget(name, "PodMonitor", name, namespace, (("app.kubernetes.io/name", "kyuubi"),), "prometheus",
                             ("/metrics",), (("app.kubernetes.io/instance", releases),), ("app.kubernetes.io/instance",))]
    if name == "spark":  # Spark on Kubernetes labels driver pods spark-role=driver; its UI port is `spark-ui`
        return [ScrapeTarget(name, "PodMonitor", "spark-driver", spark_driver_namespace(p), (("spark-role", "driver"),),
                             "spark-ui", (SPARK_DRIVER_METRICS_PATH, SPARK_EXECUTOR_METRICS_PATH),
                             target_labels=("spark-app-selector",))]
    if name == "trino":  # coordinator and worker Services both carry the jmx-exporter port
        return [ScrapeTarget(name, "ServiceMonitor", name, namespace,
                             (("app.kubernetes.io/name", "trino"), ("app.kubernetes.io/instance", name)), "jmx-exporter",
                             ("/metrics",), target_labels=("app.kubernetes.io/component",))]
    if name == "airflow":  # the chart's StatsD exporter Service
        return [ScrapeTarget(name, "ServiceMonitor", "airflow-statsd", namespace,
                             (("tier", "airflow"), ("component", "statsd"), ("release", name)), "statsd-scrape", ("/metrics",))]
    if name == "minio":  # the API Service (the console Service shares app/release but not monitoring=true)
        return [ScrapeTarget(name, "ServiceMonitor", name, namespace,
                             (("app", "minio"), ("release", name), ("monitoring", "true")), "http",
                             ("/minio/v2/metrics/cluster",))]
    if name in ("kafka", "kafka-connect") and p.kafka is not None:  # Strimzi's pod labels
        kind, cluster = ("Kafka", p.kafka.cluster) if name == "kafka" else ("KafkaConnect", p.kafka.connect)
        return [ScrapeTarget(name, "PodMonitor", name, namespace, (("strimzi.io/kind", kind), ("strimzi.io/cluster", cluster)),
                             "tcp-prometheus", ("/metrics",))]
    return []


def monitor(platform: Platform, target: ScrapeTarget) -> Doc:
    selector: Doc = {"matchLabels": dict(target.match_labels)}
    if target.match_in:
        selector["matchExpressions"] = [{"key": key, "operator": "In", "values": list(values)}
                                        for key, values in target.match_in]
    endpoints = [{"port": target.port, "path": path} for path in target.paths]
    spec: Doc = {"selector": selector, "namespaceSelector": {"matchNames": [target.namespace]}}
    if target.kind == "PodMonitor":
        spec["podMetricsEndpoints"] = endpoints
        if target.target_labels:
            spec["podTargetLabels"] = list(target.target_labels)
    else:
        spec["endpoints"] = endpoints
        if target.target_labels:
            spec["targetLabels"] = list(target.target_labels)
    return obj(MONITORING_API, target.kind, target.name, _namespace(platform), component=target.component,
               platform=platform, spec=spec)


def dashboard_configmap(platform: Platform, name: str) -> Doc:
    from konoha_gen.emit.dashboards import dashboard

    doc = obj("v1", "ConfigMap", f"grafana-dashboard-{name}", _namespace(platform), component="kube-prometheus-stack",
              platform=platform, data={f"{name}.json": json.dumps(dashboard(platform, name), indent=2, sort_keys=True) + "\n"})
    doc["metadata"]["labels"][DASHBOARD_LABEL] = DASHBOARD_LABEL_VALUE
    return doc


def dashboards(platform: Platform) -> tuple[str, ...]:
    """The dashboards to ship: those the spec names, when Grafana runs."""
    grafana = platform.spec.observability.grafana
    return tuple(grafana.dashboards) if prometheus(platform) and grafana.enabled else ()


def has_stage(platform: Platform) -> bool:
    """Whether the monitoring stage has anything to apply."""
    return bool(scrape_targets(platform) or dashboards(platform))


def _namespace(platform: Platform) -> str:
    return platform.component("kube-prometheus-stack").namespace


def emit(platform: Platform) -> list[Artifact]:
    if not has_stage(platform):
        return []
    files = []
    monitors = [monitor(platform, target) for target in scrape_targets(platform)]
    if monitors:
        files.append(Artifact(f"{FOLDER}/monitors.yaml", dump(*monitors)))
    boards = [dashboard_configmap(platform, name) for name in dashboards(platform)]
    if boards:
        files.append(Artifact(f"{FOLDER}/dashboards.yaml", dump(*boards)))
    resources = sorted(a.path.removeprefix(f"{FOLDER}/") for a in files)
    files.append(Artifact(f"{FOLDER}/kustomization.yaml", dump(kustomization(resources, namespace=_namespace(platform)))))
    files.append(Artifact(f"layers/{STAGE}/kustomization.yaml", dump(kustomization([f"../../{FOLDER}"]))))
    return files
