"""Prometheus JMX exporter configurations (konoha_gen/data/) and the Strimzi metricsConfig that serves them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from konoha_gen.components.chart_values import prometheus
from konoha_gen.kube import Doc, obj
from konoha_gen.resolved import KafkaWiring, Platform

DATA = Path(__file__).resolve().parent.parent / "data"
#: Prometheus JMX exporter configurations shipped in konoha_gen/data/ (each file says who reads it).
JMX_EXPORTER_CONFIGS = {"kafka": "kafka-metrics.yaml", "kafka-connect": "kafka-connect-metrics.yaml",
                        "trino": "trino-jmx-exporter.yaml"}
METRICS_KEY = "metrics-config.yml"


def jmx_exporter_config(name: str) -> str:
    """The text of a JMX exporter configuration (`kafka`, `kafka-connect`, `trino`) from konoha_gen/data/."""
    return _read(JMX_EXPORTER_CONFIGS[name])


@cache
def _read(file: str) -> str:
    return (DATA / file).read_text("utf-8")


def metrics_config(platform: Platform, kafka: KafkaWiring, component: str) -> list[Doc]:
    """The JMX exporter rules Strimzi serves on each pod's tcp-prometheus port, when Prometheus runs."""
    if not prometheus(platform):
        return []
    return [obj("v1", "ConfigMap", kafka.metrics_configmap[component], kafka.namespace, component=component,
                platform=platform, data={METRICS_KEY: jmx_exporter_config(component)})]


def metrics_ref(platform: Platform, kafka: KafkaWiring, component: str) -> Doc:
    if not prometheus(platform):
        return {}
    return {"metricsConfig": {"type": "jmxPrometheusExporter", "valueFrom": {
        "configMapKeyRef": {"name": kafka.metrics_configmap[component], "key": METRICS_KEY}}}}
