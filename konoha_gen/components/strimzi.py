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
    budget=(PodBudget("operator", replicas="replicas"),),
)
