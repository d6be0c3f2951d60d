"""The Strimzi operator: Kafka, its topics, Kafka Connect and the connectors as custom resources."""

from __future__ import annotations

from konoha_gen.components.base import ComponentDef, PodBudget, Release, Values
from konoha_gen.components.chart_values import resources
from konoha_gen.resolved import Component, Platform


def values(p: Platform, c: Component) -> Values:
    return {"watchAnyNamespace": True, "resources": resources("384Mi", "200m")}


COMPONENT = ComponentDef(
    name="strimzi", title="Strimzi operator", layer="operators", catalog="strimzi",
    enabled=lambda spec: spec.streaming.kafka.enabled, switch="spec.streaming.kafka.enabled",
    releases=lambda p, c: [Release(c.name, values(p, c))],
    # strimzi/strimzi-kafka-operator @ 1.2.0: helm-charts/helm3/strimzi-kafka-operator/crds/
    crds=(*(f"kafka.strimzi.io/{kind}" for kind in (
        "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "KafkaConnect", "KafkaConnector", "KafkaMirrorMaker2",
        "KafkaBridge", "KafkaRebalance")), "core.strimzi.io/StrimziPodSet"),
    budget=(PodBudget("operator", replicas="replicas"),),
)
