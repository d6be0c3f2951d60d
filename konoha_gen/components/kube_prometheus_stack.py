"""kube-prometheus-stack: Prometheus (and the monitor CRDs) and Grafana with its dashboards sidecar."""

from __future__ import annotations

from konoha_gen.components.base import ComponentDef, OidcDef, PodBudget, Release, ServiceDef, Values, WebUiDef
from konoha_gen.components.chart_values import admin_group, fullname, oidc, resources, secret, setting
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.resolved import Component, Platform

NAME = "kube-prometheus-stack"
#: Its Grafana loads ConfigMaps carrying this label (values grafana.sidecar.dashboards).
DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_LABEL_VALUE = "1"
GRAFANA_SERVICE = f"{NAME}-grafana"


def values(p: Platform, c: Component) -> Values:
    grafana = p.spec.observability.grafana
    values: Values = {
        "fullnameOverride": NAME,
        "crds": {"enabled": True},
        "alertmanager": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "prometheus": {"prometheusSpec": {
            "retention": p.spec.observability.metrics.retention,
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "probeSelectorNilUsesHelmValues": False,
            "resources": resources("512Mi", "250m"),
        }},
        "grafana": {"enabled": grafana.enabled},
    }
    if grafana.enabled:
        values["grafana"] = {
            "enabled": True,
            "admin": {"existingSecret": secret(p, NAME, grafana.admin.path), "userKey": "username",
                      "passwordKey": "password"},
            # the dashboards konoha-gen ships are ConfigMaps with this label in Grafana's own namespace
            "sidecar": {"dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "labelValue": DASHBOARD_LABEL_VALUE}},
            **_grafana_oidc(p),
        }
    return values


def _grafana_oidc(p: Platform) -> Values:
    login = oidc(p, NAME)
    if login is None:
        return {}
    client, secret_name, issuer = login
    browser = f"{p.issuer}/protocol/openid-connect"
    admins = admin_group(p)
    return {
        "grafana.ini": {
            "server": {"root_url": client.web_origins[0]},
            "auth.generic_oauth": {
                "enabled": True, "name": "Keycloak", "allow_sign_up": True, "client_id": client.client_id,
                "scopes": "openid email profile", "auth_url": f"{browser}/auth",
                "token_url": f"{issuer}/protocol/openid-connect/token",
                "api_url": f"{issuer}/protocol/openid-connect/userinfo",
                "role_attribute_path": f"contains(groups[*], '{admins}') && 'Admin' || 'Viewer'",
            },
        },
        # Grafana reads any setting from GF_<SECTION>_<KEY>: the client secret comes from the VSO Secret.
        "envValueFrom": {"GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET": {"secretKeyRef": {"name": secret_name,
                                                                                 "key": "client-secret"}}},
    }


def _web_ui(spec: PlatformSpec) -> WebUiDef | None:
    return WebUiDef("grafana", lambda _: GRAFANA_SERVICE, 80) if spec.observability.grafana.enabled else None


def _depends_on(spec: PlatformSpec) -> list[str]:
    return ["vault-secrets-operator", *(["keycloak"] if spec.identity.keycloak.enabled else [])]


def _services(release: str, values: Values) -> list[tuple[str, tuple[int, ...]]]:
    """prometheus-operator serves every Prometheus through the governing Service prometheus-operated."""
    return [("prometheus-operated", (9090,)), (f"{fullname(NAME, release, values)}-prometheus", (9090,)),
            (setting(values, "grafana.fullnameOverride", f"{release}-grafana"),
             (int(setting(values, "grafana.service.port", 80)),))]


COMPONENT = ComponentDef(
    name=NAME, title="Prometheus + Grafana", layer="observability", catalog=NAME,
    enabled=lambda spec: spec.observability.metrics.enabled, switch="spec.observability.metrics.enabled",
    depends_on=_depends_on,
    service=ServiceDef(9090, lambda platform: "prometheus-operated"),
    workloads=lambda spec: (("Deployment", GRAFANA_SERVICE),),
    web_ui=_web_ui,
    oidc=OidcDef("grafana", "Grafana", ("/login/generic_oauth",)),
    releases=lambda p, c: [Release(c.name, values(p, c))],
    chart_services=_services,
    budget=(PodBudget("Prometheus", "prometheus.prometheusSpec.resources",
                      replicas="prometheus.prometheusSpec.replicas"),
            PodBudget("operator", "prometheusOperator.resources")),
)
