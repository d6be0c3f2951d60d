"""MinIO: the object store holding the lakehouse warehouse (buckets, users and policies come from Terraform)."""

from __future__ import annotations

from collections.abc import Iterator

from konoha_gen.components.base import (
    ComponentDef,
    MetricsPort,
    OidcDef,
    Panel,
    PodBudget,
    Release,
    ScrapeTarget,
    ServiceDef,
    Values,
    WebUiDef,
    sso,
)
from konoha_gen.components.chart_values import fullname, get, oidc, prometheus, resources, secret, service, setting
from konoha_gen.components.promql import selector
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.resolved import Component, Database, Platform

CONSOLE_PORT = 9001


def values(p: Platform, c: Component) -> Values:
    store = p.spec.storage.object_store
    return {
        "fullnameOverride": service(c).name,  # the Service every consumer addresses (resolve)
        "mode": "standalone",
        "replicas": 1,
        "existingSecret": secret(p, "minio", store.credentials.path),  # keys rootUser, rootPassword (VSO maps them)
        "persistence": {"enabled": True, "size": store.size},
        "resources": resources("512Mi"),
        "users": [],  # the chart's default user carries a literal password; users come from Terraform
        "buckets": [],  # buckets, users and policies are Terraform's (terraform/30-storage)
        "policies": [],
        "svcaccts": [],
        **_oidc(p),
        **({"environment": {"MINIO_PROMETHEUS_AUTH_TYPE": "public"}} if prometheus(p) else {}),  # ServiceMonitor minio
    }


def _oidc(p: Platform) -> Values:
    login = oidc(p, "minio")
    if login is None:
        return {}
    client, secret_name, issuer = login
    return {"oidc": {"enabled": True, "configUrl": f"{issuer}/.well-known/openid-configuration",
                     "existingClientSecretName": secret_name, "existingClientIdKey": "client-id",
                     # MinIO reads policy names from this claim (cmd/sts-handlers.go); Terraform creates a policy
                     # named after every Keycloak group (terraform/30-storage/minio.tf)
                     "existingClientSecretKey": "client-secret", "claimName": "groups",
                     "scopes": "openid,profile,email", "redirectUri": client.redirect_uris[0],
                     "displayName": "Keycloak"}}


def root_secret_keys(spec: PlatformSpec, databases: tuple[Database, ...], path: str,
                     keys: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """The chart reads the root user from keys rootUser/rootPassword of its existingSecret."""
    if path != spec.storage.object_store.credentials.path:
        return ()
    return (("rootUser", "{{ get .Secrets \"username\" }}"), ("rootPassword", "{{ get .Secrets \"password\" }}"))


def scrape_targets(p: Platform, c: Component) -> list[ScrapeTarget]:
    """The API Service (the console Service shares app/release but not monitoring=true)."""
    return [ScrapeTarget(c.name, "ServiceMonitor", c.name, c.namespace,
                         (("app", "minio"), ("release", c.name), ("monitoring", "true")), "http",
                         ("/minio/v2/metrics/cluster",))]


def chart_metrics(release: str, namespace: str, values: Values, source: str) -> Iterator[MetricsPort]:
    if get(values, "environment.MINIO_PROMETHEUS_AUTH_TYPE") == "public" and not get(values, "tls.enabled", False):
        yield MetricsPort("Service", namespace, (("app", "minio"), ("release", release), ("monitoring", "true")),
                          "http",
                          frozenset({"/minio/v2/metrics/cluster", "/minio/v2/metrics/node"}), source)


def dashboard(p: Platform) -> tuple[str, list[Panel]]:
    """MinIO's v2 cluster metrics (docs/metrics/prometheus/list.md)."""
    s = selector(p.component("minio").namespace)
    return "MinIO", [
        Panel("Nodes online", ((f"max(minio_cluster_nodes_online_total{s})", "online"),), stat=True),
        Panel("Nodes offline", ((f"max(minio_cluster_nodes_offline_total{s})", "offline"),), stat=True),
        Panel("Usable capacity", ((f"max(minio_cluster_capacity_usable_total_bytes{s})", "total"),), "bytes",
              stat=True),
        Panel("Usable free", ((f"max(minio_cluster_capacity_usable_free_bytes{s})", "free"),), "bytes", stat=True),
        Panel("S3 requests /s by API", ((f"sum by (api) (rate(minio_s3_requests_total{s}[5m]))", "{{api}}"),), "ops"),
        Panel("S3 errors /s", ((f"sum(rate(minio_s3_requests_4xx_errors_total{s}[5m]))", "4xx"),
                               (f"sum(rate(minio_s3_requests_5xx_errors_total{s}[5m]))", "5xx")), "ops"),
        Panel("S3 traffic /s", ((f"sum(rate(minio_s3_traffic_received_bytes{s}[5m]))", "received"),
                                (f"sum(rate(minio_s3_traffic_sent_bytes{s}[5m]))", "sent")), "Bps"),
    ]


COMPONENT = ComponentDef(
    name="minio", title="MinIO", layer="storage", catalog="minio",
    enabled=lambda spec: spec.storage.object_store.enabled, switch="spec.storage.objectStore.enabled",
    # the console logs in through Keycloak: its client secret exists once Keycloak is configured
    depends_on=lambda spec: ["vault-secrets-operator", *sso(spec)],
    service=ServiceDef(9000),
    workloads=lambda spec: (("Deployment", "minio"),),
    # the chart's console Service: <fullname>-console
    web_ui=lambda spec: WebUiDef("minio-console", lambda minio: f"{minio}-console", CONSOLE_PORT),
    oidc=OidcDef("minio-console", "MinIO console", ("/oauth_callback",)),
    secret_shape=root_secret_keys,
    releases=lambda p, c: [Release(c.name, values(p, c))],
    scrape_targets=scrape_targets,
    dashboard=dashboard,
    chart_services=lambda r, v: [(fullname("minio", r, v), (int(setting(v, "service.port", 9000)),)),
                                 (f"{fullname('minio', r, v)}-console",
                                  (int(setting(v, "consoleService.port", CONSOLE_PORT)),))],
    chart_metrics=chart_metrics,
    budget=(PodBudget("server", replicas="replicas", replicas_when=("mode", "distributed")),),
)
