"""Monitoring: a monitor per component that exposes metrics, applied after the CRDs exist and picked up
by Prometheus; Grafana dashboards per spec name, valid, over metric names the platform really exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from konoha_gen.artifact import Artifact
from konoha_gen.check.wiring import check as wiring
from konoha_gen.components import jmx
from konoha_gen.emit import emit_all
from konoha_gen.pipeline import compile_platform
from konoha_gen.resolved import Platform
from tests.conftest import SPEC
from tests.helpers import edit_spec

MONITORS = "platform/monitoring/monitors.yaml"
DASHBOARDS = "platform/monitoring/dashboards.yaml"
DATA = Path(jmx.__file__).resolve().parent.parent / "data"


def _docs(artifacts: list[Artifact], path: str) -> list[dict[str, Any]]:
    found = [a for a in artifacts if a.path == path]
    return [d for d in yaml.safe_load_all(found[0].content) if d] if found else []


def _values(artifacts: list[Artifact], release: str) -> dict[str, Any]:
    return _docs(artifacts, f"platform/{release}/values-{release}.yaml")[0]


def _compile(tmp_path: Path, change: Any) -> tuple[Platform, list[Artifact]]:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(edit_spec(SPEC.read_text("utf-8"), change))
    platform = compile_platform(spec)
    return platform, emit_all(platform)


def _replace(artifacts: list[Artifact], path: str, docs: list[dict[str, Any]]) -> list[Artifact]:
    return [Artifact(a.path, yaml.safe_dump_all(docs, sort_keys=False), a.emitter) if a.path == path else a
            for a in artifacts]


# -- monitors ------------------------------------------------------------------
def test_one_monitor_per_component_that_exposes_metrics(platform: Platform, artifacts: list[Artifact]) -> None:
    monitors = {d["metadata"]["name"]: d for d in _docs(artifacts, MONITORS)}
    expected = {"minio": ("ServiceMonitor", "minio", "http", "/minio/v2/metrics/cluster"),
                "spark-driver": ("PodMonitor", "spark", "spark-ui", "/metrics/prometheus"),
                "kyuubi": ("PodMonitor", "kyuubi", "prometheus", "/metrics"),
                "trino": ("ServiceMonitor", "trino", "jmx-exporter", "/metrics"),
                "airflow-statsd": ("ServiceMonitor", "airflow", "statsd-scrape", "/metrics"),
                "kafka": ("PodMonitor", "kafka", "tcp-prometheus", "/metrics"),
                "kafka-connect": ("PodMonitor", "kafka-connect", "tcp-prometheus", "/metrics")}
    assert set(monitors) == set(expected)
    for name, (kind, component, port, path) in expected.items():
        doc = monitors[name]
        endpoints = doc["spec"]["endpoints" if kind == "ServiceMonitor" else "podMetricsEndpoints"]
        assert doc["kind"] == kind and doc["metadata"]["labels"]["app.kubernetes.io/component"] == component
        assert doc["metadata"]["namespace"] == "konoha-observability"  # beside Prometheus
        assert doc["spec"]["namespaceSelector"] == {"matchNames": [platform.component(component).namespace]}
        assert {"port": port, "path": path} in endpoints
    spark = monitors["spark-driver"]["spec"]
    assert spark["selector"] == {"matchLabels": {"spark-role": "driver"}}
    assert {e["path"] for e in spark["podMetricsEndpoints"]} == {"/metrics/prometheus", "/metrics/executors/prometheus"}
    kyuubi = monitors["kyuubi"]["spec"]["selector"]["matchExpressions"]
    assert kyuubi == [{"key": "app.kubernetes.io/instance", "operator": "In",
                       "values": ["kyuubi-interactive", "kyuubi-batch"]}]


def test_the_charts_are_told_to_expose_what_the_monitors_scrape(artifacts: list[Artifact]) -> None:
    for server in ("interactive", "batch"):
        values = _docs(artifacts, f"platform/kyuubi/values-kyuubi-{server}.yaml")[0]
        assert values["metrics"] == {"enabled": True, "reporters": "PROMETHEUS", "prometheusPort": 10019,
                                     "podMonitor": {"enabled": False}, "serviceMonitor": {"enabled": False}}
    trino = _values(artifacts, "trino")
    assert trino["jmx"]["enabled"] and trino["jmx"]["exporter"]["enabled"]
    assert trino["serviceMonitor"] == {"enabled": False}
    exporter = yaml.safe_load(trino["jmx"]["exporter"]["configProperties"])
    assert exporter["hostPort"] == f"localhost:{trino['jmx']['registryPort']}"
    assert _values(artifacts, "airflow")["statsd"] == {"enabled": True}
    assert _values(artifacts, "minio")["environment"] == {"MINIO_PROMETHEUS_AUTH_TYPE": "public"}
    conf = next(a for a in artifacts if a.path == "spark/etl.spark-defaults.conf").content
    for line in ("spark.ui.prometheus.enabled=true", "spark.metrics.namespace=spark",
                 "spark.metrics.conf.*.sink.prometheusServlet.class=org.apache.spark.metrics.sink.PrometheusServlet",
                 "spark.metrics.conf.*.sink.prometheusServlet.path=/metrics/prometheus"):
        assert f"\n{line}\n" in conf


def test_monitors_are_applied_by_a_stage_after_the_observability_layer(artifacts: list[Artifact]) -> None:
    [stage] = _docs(artifacts, "clusters/konoha/monitoring.yaml")
    assert stage["kind"] == "Kustomization" and stage["spec"]["path"] == "./out/layers/monitoring"
    assert [d["name"] for d in stage["spec"]["dependsOn"]] == ["sources", "observability"]
    assert stage["spec"]["wait"] is True
    assert "monitoring.yaml" in _docs(artifacts, "clusters/konoha/kustomization.yaml")[0]["resources"]
    assert _docs(artifacts, "layers/monitoring/kustomization.yaml")[0]["resources"] == ["../../platform/monitoring"]
    for artifact in artifacts:  # no layer applies a monitor: the CRDs arrive with the observability layer
        if artifact.path.startswith("layers/") and artifact.path != "layers/monitoring/kustomization.yaml":
            assert "platform/monitoring" not in artifact.content, artifact.path
        if artifact.path != MONITORS:
            assert "kind: ServiceMonitor" not in artifact.content and "kind: PodMonitor" not in artifact.content


def test_prometheus_selects_every_monitor(artifacts: list[Artifact]) -> None:
    spec = _values(artifacts, "kube-prometheus-stack")["prometheus"]["prometheusSpec"]
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert spec["podMonitorSelectorNilUsesHelmValues"] is False
    assert not {"serviceMonitorSelector", "podMonitorSelector", "serviceMonitorNamespaceSelector",
                "podMonitorNamespaceSelector"} & set(spec)  # nil selectors: every monitor in every namespace


# -- dashboards ------------------------------------------------------------------
def test_one_dashboard_configmap_per_spec_name_with_the_sidecar_label(platform: Platform,
                                                                      artifacts: list[Artifact]) -> None:
    configmaps = _docs(artifacts, DASHBOARDS)
    names = list(platform.spec.observability.grafana.dashboards)
    assert names == ["kyuubi", "spark", "trino", "kafka", "airflow"]
    assert [c["metadata"]["name"] for c in configmaps] == [f"grafana-dashboard-{n}" for n in names]
    sidecar = _values(artifacts, "kube-prometheus-stack")["grafana"]["sidecar"]["dashboards"]
    assert "searchNamespace" not in sidecar  # the ConfigMaps live in Grafana's own namespace
    for configmap in configmaps:
        assert configmap["metadata"]["labels"][sidecar["label"]] == sidecar["labelValue"] == "1"
        assert configmap["metadata"]["namespace"] == platform.component("kube-prometheus-stack").namespace


def _dashboard(artifacts: list[Artifact], name: str) -> dict[str, Any]:
    configmap = next(c for c in _docs(artifacts, DASHBOARDS) if c["metadata"]["name"] == f"grafana-dashboard-{name}")
    return dict(json.loads(configmap["data"][f"{name}.json"]))


_METRIC = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{")


def _metrics(board: dict[str, Any]) -> set[str]:
    return {m for p in board["panels"] for t in p["targets"] for m in _METRIC.findall(t["expr"])}


@pytest.mark.parametrize("name", ["kyuubi", "spark", "trino", "kafka", "airflow"])
def test_dashboards_are_valid_and_every_panel_queries_metrics(artifacts: list[Artifact], name: str) -> None:
    board = _dashboard(artifacts, name)
    assert board["uid"] == f"konoha-{name}" and len(board["uid"]) <= 40 and board["schemaVersion"] >= 36
    assert board["templating"]["list"][0]["type"] == "datasource"
    panels = board["panels"]
    assert len(panels) >= 6 and len({p["id"] for p in panels}) == len(panels)
    assert {p["type"] for p in panels} == {"stat", "timeseries"}
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and panel["targets"]
        for target in panel["targets"]:
            assert _METRIC.search(target["expr"]), (panel["title"], target["expr"])
            assert target["expr"].count("(") == target["expr"].count(")")


def _rule_names(file: str) -> list[re.Pattern[str]]:
    """The metric names a JMX exporter config can produce, as patterns ($n -> any name part)."""
    config = yaml.safe_load((DATA / file).read_text())
    names = []
    for rule in config["rules"]:
        name = rule["name"].lower() if config.get("lowercaseOutputName") else rule["name"]
        names.append(re.compile(re.sub(r"\\\$\d", "[A-Za-z0-9_]+", re.escape(name)) + "$"))
    return names


#: Names each source exports (see konoha_gen/emit/dashboards.py for where they come from).
UPSTREAM = {
    "kyuubi": {"up", "kyuubi_connection_opened", "kyuubi_connection_total", "kyuubi_connection_failed",
               "kyuubi_operation_opened", "kyuubi_operation_total", "kyuubi_engine_total", "kyuubi_engine_timeout",
               "kyuubi_exec_pool_threads_active", "kyuubi_backend_service_execute_statement_ms"},
    "spark": {"metrics_executor_totalCores", "metrics_executor_activeTasks", "metrics_executor_completedTasks_total",
              "metrics_executor_failedTasks_total", "metrics_executor_memoryUsed_bytes",
              "metrics_executor_totalInputBytes_bytes_total", "metrics_executor_totalShuffleRead_bytes_total",
              "metrics_executor_totalShuffleWrite_bytes_total", "metrics_executor_totalGCTime_seconds_total",
              "metrics_executor_totalDuration_seconds_total",
              "metrics_spark_driver_DAGScheduler_stage_runningStages_Value",
              "metrics_spark_driver_DAGScheduler_stage_waitingStages_Value",
              "metrics_spark_driver_DAGScheduler_stage_failedStages_Value",
              "metrics_spark_driver_DAGScheduler_job_activeJobs_Value"},
    "airflow": {"airflow_scheduler_heartbeat", "airflow_executor_running_tasks", "airflow_executor_queued_tasks",
                "airflow_executor_open_slots", "airflow_ti_successes", "airflow_ti_failures",
                "airflow_dagrun_duration_count",
                "airflow_dagrun_duration_sum", "airflow_dagrun_failed_count", "airflow_pool_open_slots",
                "airflow_pool_starving_tasks", "airflow_dag_processing_total_parse_time"},
}


@pytest.mark.parametrize("name", ["kyuubi", "spark", "trino", "kafka", "airflow"])
def test_dashboards_query_only_names_their_sources_export(artifacts: list[Artifact], name: str) -> None:
    used = _metrics(_dashboard(artifacts, name))
    if name in UPSTREAM:
        assert used <= UPSTREAM[name], used - UPSTREAM[name]
        return
    files = {"trino": ["trino-jmx-exporter.yaml"], "kafka": ["kafka-metrics.yaml", "kafka-connect-metrics.yaml"]}[name]
    rules = [pattern for file in files for pattern in _rule_names(file)]
    exporter_builtin = {"jvm_memory_used_bytes"}  # the JMX exporter agent's own JVM metrics
    unmatched = {m for m in used if m not in exporter_builtin and not any(r.match(m) for r in rules)}
    assert unmatched == set()
    assert "kafka_server_brokertopicmetrics_messagesin_total" in used or name != "kafka"


def _export(file: str, mbean: str) -> str | None:
    """What the JMX exporter names an MBean attribute under a config's first matching rule (pattern wrapped
    as ^.*(?:pattern).*$, $n substituted, lower-cased if configured, then sanitised)."""
    config = yaml.safe_load((DATA / file).read_text())
    for rule in config["rules"]:
        match = re.match(f"^.*(?:{rule['pattern']}).*$", mbean)
        if match:
            name = match.expand(re.sub(r"\$(\d)", r"\\\1", rule["name"]))
            name = name.lower() if config.get("lowercaseOutputName") else name
            return re.sub(r"[^a-zA-Z0-9:_]", "_", name)
    return None


@pytest.mark.parametrize(("file", "mbean", "name"), [
    ("kafka-metrics.yaml", "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec, topic=orders><>Count",
     "kafka_server_brokertopicmetrics_messagesin_total"),
    ("kafka-metrics.yaml", "kafka.server<type=BrokerTopicMetrics, name=BytesOutPerSec><>Count",
     "kafka_server_brokertopicmetrics_bytesout_total"),
    ("kafka-metrics.yaml", "kafka.server<type=ReplicaManager, name=UnderReplicatedPartitions><>Value",
     "kafka_server_replicamanager_underreplicatedpartitions"),
    ("kafka-metrics.yaml", "kafka.controller<type=KafkaController, name=ActiveControllerCount><>Value",
     "kafka_controller_kafkacontroller_activecontrollercount"),
    ("kafka-metrics.yaml", "kafka.network<type=RequestMetrics, name=TotalTimeMs, request=Produce><>99thPercentile",
     "kafka_network_requestmetrics_totaltimems"),
    ("kafka-connect-metrics.yaml", "kafka.connect<type=source-task-metrics, connector=shop-source, "
                                   "task=0><>source-record-poll-total",
     "kafka_connect_source_task_source_record_poll_total"),
    ("kafka-connect-metrics.yaml", "kafka.connect<type=connector-task-metrics, connector=shop-source, "
                                   "task=0><>status: running",
     "kafka_connect_connector_task_status"),
    ("kafka-connect-metrics.yaml", "debezium.postgres<type=connector-metrics, context=streaming, "
                                   "server=shop><>MilliSecondsBehindSource",
     "debezium_streaming_millisecondsbehindsource"),
    ("trino-jmx-exporter.yaml", "trino.execution<name=QueryManager><>RunningQueries: 3",
     "trino_execution_QueryManager_RunningQueries"),
    ("trino-jmx-exporter.yaml", "trino.execution<name=QueryManager><>FailedQueries.TotalCount: 7",
     "trino_execution_QueryManager_FailedQueries_TotalCount"),
    ("trino-jmx-exporter.yaml", "trino.memory<type=ClusterMemoryPool, name=general><>FreeDistributedBytes: 1",
     "trino_memory_ClusterMemoryPool_general_FreeDistributedBytes"),
    ("trino-jmx-exporter.yaml", "java.lang<type=Memory><HeapMemoryUsage>used: 1024",
     "java_lang_Memory_HeapMemoryUsage_used"),
])
def test_jmx_exporter_rules_name_the_documented_mbeans_as_the_dashboards_expect(file: str, mbean: str,
                                                                                name: str) -> None:
    assert _export(file, mbean) == name


# -- switches ----------------------------------------------------------------------
def test_disabling_a_component_removes_its_monitor_and_dashboard(tmp_path: Path) -> None:
    def no_airflow(spec: Any) -> None:
        spec["spec"]["orchestration"]["airflow"]["enabled"] = False
        spec["spec"]["observability"]["grafana"]["dashboards"].remove("airflow")

    platform, artifacts = _compile(tmp_path, no_airflow)
    assert "airflow-statsd" not in {d["metadata"]["name"] for d in _docs(artifacts, MONITORS)}
    assert "grafana-dashboard-airflow" not in {d["metadata"]["name"] for d in _docs(artifacts, DASHBOARDS)}
    assert wiring(platform, artifacts) == []


def test_without_prometheus_there_is_no_monitoring_stage_and_nothing_exposes_metrics(tmp_path: Path) -> None:
    def off(spec: Any) -> None:
        spec["spec"]["observability"] = {"metrics": {"enabled": False}, "grafana": {"enabled": False}}

    platform, artifacts = _compile(tmp_path, off)
    paths = {a.path for a in artifacts}
    assert not {p for p in paths if "monitoring" in p}
    assert "monitoring.yaml" not in _docs(artifacts, "clusters/konoha/kustomization.yaml")[0]["resources"]
    assert "prometheus" not in next(a for a in artifacts if a.path == "spark/etl.spark-defaults.conf").content
    assert _docs(artifacts, "platform/kyuubi/values-kyuubi-batch.yaml")[0]["metrics"] == {"enabled": False}
    assert "jmx" not in _values(artifacts, "trino") and _values(artifacts, "airflow")["statsd"] == {"enabled": False}
    assert wiring(platform, artifacts) == []


def test_grafana_off_keeps_the_monitors_and_ships_no_dashboards(tmp_path: Path) -> None:
    _, artifacts = _compile(tmp_path, lambda s: s["spec"]["observability"].update({"grafana": {"enabled": False}}))
    assert _docs(artifacts, MONITORS) and not _docs(artifacts, DASHBOARDS)
    resources = _docs(artifacts, "platform/monitoring/kustomization.yaml")[0]["resources"]
    assert resources == ["alerts.yaml", "monitors.yaml"]  # the rollout alerts stay (tests/test_alerting.py)


# -- the wiring check ------------------------------------------------------------
def test_the_reference_monitors_are_wired(platform: Platform, artifacts: list[Artifact]) -> None:
    assert wiring(platform, artifacts) == []


def test_a_monitor_applied_with_the_observability_layer_is_refused(platform: Platform,
                                                                   artifacts: list[Artifact]) -> None:
    [stage] = _docs(artifacts, "clusters/konoha/monitoring.yaml")
    stage["spec"]["dependsOn"] = [{"name": "sources"}]
    problems = wiring(platform, _replace(artifacts, "clusters/konoha/monitoring.yaml", [stage]))
    assert [(p.path, p.message) for p in problems] == [
        (MONITORS, "applied by Flux Kustomization 'monitoring', which does not run after 'observability' (its chart "
                   "installs the monitor CRDs): the apply would fail on an unknown kind")]


def test_a_wrong_port_path_or_namespace_is_refused(platform: Platform, artifacts: list[Artifact]) -> None:
    docs = _docs(artifacts, MONITORS)
    trino = next(d for d in docs if d["metadata"]["name"] == "trino")
    trino["spec"]["endpoints"][0]["port"] = "http-metrics"
    spark = next(d for d in docs if d["metadata"]["name"] == "spark-driver")
    spark["spec"]["podMetricsEndpoints"][0]["path"] = "/metrics/json"
    airflow = next(d for d in docs if d["metadata"]["name"] == "airflow-statsd")
    airflow["spec"]["namespaceSelector"]["matchNames"] = ["konoha-airflow"]
    messages = [p.message for p in wiring(platform, _replace(artifacts, MONITORS, docs))]
    assert len(messages) == 4
    assert "ServiceMonitor airflow-statsd: namespace konoha-airflow is created by no Namespace in the tree" in messages
    assert any(m.startswith("ServiceMonitor airflow-statsd: no service it selects in konoha-airflow serves port "
                            "'statsd-scrape'") for m in messages)
    assert any(m.startswith("ServiceMonitor trino: no service it selects in konoha-access serves port 'http-metrics' "
                            "path /metrics (exposed: jmx-exporter /metrics from platform/trino/helmrelease-trino.yaml")
               for m in messages)
    assert any(m.startswith("PodMonitor spark-driver: no pod it selects in konoha-compute serves port 'spark-ui' "
                            "path /metrics/json") for m in messages)


def test_a_chart_no_longer_exposing_metrics_is_caught(platform: Platform, artifacts: list[Artifact]) -> None:
    values = _values(artifacts, "trino")
    del values["jmx"]
    problems = wiring(platform, _replace(artifacts, "platform/trino/values-trino.yaml", [values]))
    assert [p.message for p in problems] == [
        "ServiceMonitor trino: no service it selects in konoha-access serves port 'jmx-exporter' path /metrics "
        "(exposed: nothing)"]


def test_prometheus_that_does_not_select_the_monitors_is_caught(platform: Platform, artifacts: list[Artifact]) -> None:
    values = _values(artifacts, "kube-prometheus-stack")
    del values["prometheus"]["prometheusSpec"]["podMonitorSelectorNilUsesHelmValues"]
    problems = wiring(platform, _replace(artifacts, "platform/kube-prometheus-stack/values-kube-prometheus-stack.yaml",
                                         [values]))
    pod_monitors = {f"PodMonitor {d['metadata']['name']}" for d in _docs(artifacts, MONITORS)
                    if d["kind"] == "PodMonitor"}
    assert {"PodMonitor kyuubi", "PodMonitor spark-driver"} <= pod_monitors
    assert {p.message.split(" is not selected")[0] for p in problems} == pod_monitors


def _without_metrics_config(artifacts: list[Artifact]) -> list[Artifact]:
    """The Kafka and KafkaConnect resources without their metricsConfig."""
    for path, kind in (("platform/kafka/manifests.yaml", "Kafka"),
                       ("platform/kafka-connect/manifests.yaml", "KafkaConnect")):
        docs = _docs(artifacts, path)
        resource = next(d for d in docs if d["kind"] == kind)
        (resource["spec"]["kafka"] if kind == "Kafka" else resource["spec"]).pop("metricsConfig")
        artifacts = _replace(artifacts, path, docs)
    return artifacts


def test_kafka_monitors_need_the_strimzi_metrics_config(platform: Platform, artifacts: list[Artifact]) -> None:
    """Strimzi opens tcp-prometheus only for a Kafka / KafkaConnect with a metricsConfig whose ConfigMap
    (the JMX exporter rules) the tree creates: the Kafka PodMonitors are refused without it."""
    kafka = next(d for d in _docs(artifacts, "platform/kafka/manifests.yaml") if d["kind"] == "Kafka")
    reference = kafka["spec"]["kafka"]["metricsConfig"]["valueFrom"]["configMapKeyRef"]
    rules = next(d for d in _docs(artifacts, "platform/kafka/manifests.yaml") if d["kind"] == "ConfigMap")
    assert (rules["metadata"]["name"], reference["key"]) == (reference["name"], "metrics-config.yml")
    assert rules["data"]["metrics-config.yml"] == jmx.jmx_exporter_config("kafka")
    assert wiring(platform, artifacts) == []
    problems = wiring(platform, _without_metrics_config(artifacts))
    assert sorted(p.message.split(":")[0] for p in problems) == ["PodMonitor kafka", "PodMonitor kafka-connect"]
    dangling = _replace(artifacts, "platform/kafka/manifests.yaml",
                        [d for d in _docs(artifacts, "platform/kafka/manifests.yaml") if d["kind"] != "ConfigMap"])
    assert [p.message for p in wiring(platform, dangling)] == [
        "Kafka konoha: metricsConfig reads key 'metrics-config.yml' of ConfigMap 'konoha-kafka-metrics', "
        "which the tree "
        "does not create in konoha-streaming"]


def test_the_jmx_exporter_configs_parse() -> None:
    for name in ("kafka", "kafka-connect", "trino"):
        config = yaml.safe_load(jmx.jmx_exporter_config(name))
        assert config["rules"] and all({"pattern", "name"} <= set(rule) for rule in config["rules"])
        assert "{{" not in jmx.jmx_exporter_config(name)  # the trino chart passes it through tpl


def test_every_dashboard_the_spec_accepts_is_built() -> None:
    from typing import get_args

    from konoha_gen.components.registry import with_dashboards
    from konoha_gen.model.observability import Dashboard

    assert set(get_args(Dashboard)) == set(with_dashboards())
