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
        # LoadBalancer (the chart's default): on Minikube `minikube tunnel` gives it an EXTERNAL-IP the laptop
        # reaches (minikube docs, "Accessing apps": LoadBalancer access); a NodePort is not reachable from there
        # with the docker driver on macOS/Windows.
        "service": {"spec": {"type": "LoadBalancer"}},
    }


COMPONENT = ComponentDef(
    name="traefik", title="Traefik (ingress)", layer="operators", catalog="traefik",
    enabled=lambda spec: True, switch="always on",
    service=ServiceDef(80),
    # Helm's wait holds a LoadBalancer Service until it has an address (helm pkg/kube/ready.go serviceReady), which
    # on minikube only `minikube tunnel` gives: the ingress controller must not hold the operators layer for it.
    helm_wait=False,
    releases=lambda p, c: [Release(c.name, values(p, c))],
    # traefik/traefik-helm-chart @ v41.3.0: traefik/crds/ (traefik.io)
    crds=tuple(f"traefik.io/{kind}" for kind in (
        "IngressRoute", "IngressRouteTCP", "IngressRouteUDP", "Middleware", "MiddlewareTCP", "ServersTransport",
        "ServersTransportTCP", "TLSOption", "TLSStore", "TraefikService")),
    chart_services=lambda r, v: [(fullname("traefik", r, v), (80, 443))],
    budget=(PodBudget("proxy", replicas="deployment.replicas"),),
)
