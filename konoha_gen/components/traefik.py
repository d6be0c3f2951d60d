"""Traefik, the ingress controller every web UI is routed through."""

from __future__ import annotations

from konoha_gen.components.base import ComponentDef, PodBudget, Release, ServiceDef, Values
from konoha_gen.components.chart_values import fullname
from konoha_gen.resolved import Component, Platform


def values(p: Platform, c: Component) -> Values:
    ingress = p.spec.cluster.ingress
    return {
        "fullnameOverride": "traefik",
        "ingressClass": {"enabled": True, "isDefaultClass": True, "name": ingress.class_name},
        "providers": {"kubernetesIngress": {"enabled": True}, "kubernetesCRD": {"enabled": True}},
        "service": {"spec": {"type": "NodePort"} if p.spec.cluster.provider == "minikube" else {}},
    }


COMPONENT = ComponentDef(
    name="traefik", title="Traefik (ingress)", layer="operators", catalog="traefik",
    enabled=lambda spec: True, switch="always on",
    service=ServiceDef(80),
    releases=lambda p, c: [Release(c.name, values(p, c))],
    chart_services=lambda r, v: [(fullname("traefik", r, v), (80, 443))],
    budget=(PodBudget("proxy", replicas="deployment.replicas"),),
)
