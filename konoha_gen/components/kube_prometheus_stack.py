"""kube-prometheus-stack: Prometheus (and the monitor CRDs), a small Alertmanager (it receives Flux's rollout
failures, components/monitoring.py) and Grafana with its dashboards sidecar and an Alertmanager data source."""

from __future__ import annotations

from konoha_gen.components.base import ComponentDef, OidcDef, PodBudget, Release, ServiceDef, Values, WebUiDef, sso
from konoha_gen.components.chart_values import admin_group, fullname, oidc, resources, secret, setting
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.resolved import Component, Platform

NAME = "kube-prometheus-stack"
#: Its Grafana loads ConfigMaps carrying this label (values grafana.sidecar.dashboards).
DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_LABEL_VALUE = "1"
GRAFANA_SERVICE = f"{NAME}-grafana"
#: The chart's Alertmanager Service: templates/alertmanager/service.yaml names it <fullname>-alertmanager and
#: serves alertmanager.service.port (values.yaml default 9093); fullnameOverride pins <fullname> to NAME.
ALERTMANAGER_SERVICE = f"{NAME}-alertmanager"
ALERTMANAGER_PORT = 9093


def alertmanager_url(p: Platform) -> str:
    """The in-cluster base URL of the chart's Alertmanager."""
    return f"http://{ALERTMANAGER_SERVICE}.{p.component(NAME).namespace}.svc.cluster.local:{ALERTMANAGER_PORT}"


def values(p: Platform, c: Component) -> Values:
    grafana = p.spec.observability.grafana
    values: Values = {
        "fullnameOverride": NAME,
        "crds": {"enabled": True},
        # Small: it only holds Flux's rollout failures (the chart's default config routes to its null receiver,
        # so they are shown in its UI and Grafana, not sent anywhere); emptyDir storage, 120h retention.
        "alertmanager": {"enabled": True, "service": {"port": ALERTMANAGER_PORT},
                         "alertmanagerSpec": {"resources": resources("64Mi", "10m")}},
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
            "sidecar": {"dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "labelValue": DASHBOARD_LABEL_VALUE},
                        # the chart's own Alertmanager data source is rendered from a template the endpoint check
                        # cannot read; the same one is declared below with its address written out
                        "datasources": {"alertmanager": {"enabled": False}}},
            "additionalDataSources": [_alertmanager_datasource(p)],
            **_grafana_oidc(p),
        }
    return values


def _alertmanager_datasource(p: Platform) -> Values:
    """Grafana's Alertmanager data source (provisioning format: grafana.com/docs/grafana/latest/administration/
    provisioning/#data-sources), as the chart's templates/grafana/configmaps-datasources.yaml would write it."""
    return {"name": "Alertmanager", "type": "alertmanager", "uid": "alertmanager", "access": "proxy",
            "url": f"{alertmanager_url(p)}/", "editable": False,
            "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": False}}


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
    return ["vault-secrets-operator", *sso(spec)]


def _services(release: str, values: Values) -> list[tuple[str, tuple[int, ...]]]:
    """prometheus-operator serves every Prometheus through the governing Service prometheus-operated (and every
    Alertmanager through alertmanager-operated: web 9093, cluster mesh 9094; its pkg/alertmanager/statefulset.go);
    the chart adds <fullname>-prometheus and, with alertmanager.enabled (default true), <fullname>-alertmanager."""
    services: list[tuple[str, tuple[int, ...]]] = [
        ("prometheus-operated", (9090,)), (f"{fullname(NAME, release, values)}-prometheus", (9090,)),
        (setting(values, "grafana.fullnameOverride", f"{release}-grafana"),
         (int(setting(values, "grafana.service.port", 80)),))]
    if setting(values, "alertmanager.enabled", True):
        services += [("alertmanager-operated", (9093, 9094)),
                     (f"{fullname(NAME, release, values)}-alertmanager",
                      (int(setting(values, "alertmanager.service.port", ALERTMANAGER_PORT)),))]
    return services


COMPONENT = ComponentDef(
    name=NAME, title="Prometheus + Grafana", layer="observability", catalog=NAME,
    enabled=lambda spec: spec.observability.metrics.enabled, switch="spec.observability.metrics.enabled",
    depends_on=_depends_on,
    service=ServiceDef(9090, lambda platform: "prometheus-operated"),
    workloads=lambda spec: (("Deployment", GRAFANA_SERVICE),),
    web_ui=_web_ui,
    oidc=OidcDef("grafana", "Grafana", ("/login/generic_oauth",)),
    releases=lambda p, c: [Release(c.name, values(p, c))],
    # prometheus-community/helm-charts @ kube-prometheus-stack-88.5.3: charts/crds/crds/ (values crds.enabled: true)
    crds=tuple(f"monitoring.coreos.com/{kind}" for kind in (
        "Alertmanager", "AlertmanagerConfig", "PodMonitor", "Probe", "Prometheus", "PrometheusAgent", "PrometheusRule",
        "ScrapeConfig", "ServiceMonitor", "ThanosRuler")),
    chart_services=_services,
    budget=(PodBudget("Prometheus", "prometheus.prometheusSpec.resources",
                      replicas="prometheus.prometheusSpec.replicas"),
            PodBudget("operator", "prometheusOperator.resources")),
)
