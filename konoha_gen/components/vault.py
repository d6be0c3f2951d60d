"""Vault: every credential of the platform, read by workloads through Vault Secrets Operator."""

from __future__ import annotations

from konoha_gen.components.base import ComponentDef, PodBudget, Release, ServiceDef, Values, WebUiDef
from konoha_gen.components.chart_values import fullname, resources, setting
from konoha_gen.resolved import Component, Platform


def values(p: Platform, c: Component) -> Values:
    mode = p.spec.secrets.vault.mode
    server: Values = {"resources": resources("256Mi")}
    if mode == "dev":
        server["dev"] = {"enabled": True}  # in-memory and auto-unsealed: laptops only
    elif mode == "standalone":
        server["standalone"] = {"enabled": True}
        server["dataStorage"] = {"enabled": True, "size": "2Gi"}
    else:
        server["ha"] = {"enabled": True, "replicas": 3, "raft": {"enabled": True}}
    return {"global": {"tlsDisable": True}, "injector": {"enabled": False},
            "csi": {"enabled": False}, "ui": {"enabled": True}, "server": server}


COMPONENT = ComponentDef(
    name="vault", title="Vault", layer="security", catalog="vault",
    enabled=lambda spec: True, switch="always on",
    service=ServiceDef(8200),
    web_ui=lambda spec: WebUiDef("vault"),
    releases=lambda p, c: [Release(c.name, values(p, c))],
    chart_services=lambda r, v: [(fullname("vault", r, v), (int(setting(v, "server.service.port", 8200)),))],
    # HA: server.ha.replicas pods (the chart default, 3, at values.yaml server.ha.replicas, when the values set none)
    budget=(PodBudget("server", "server.resources", replicas="server.ha.replicas",
                      replicas_when=("server.ha.enabled", True)),),
)
