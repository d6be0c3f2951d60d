"""Metabase: dashboards over Trino. Its open-source edition has no OpenID Connect login, so no OIDC client."""

from __future__ import annotations

from konoha_gen.components.base import ComponentDef, PodBudget, Release, ServiceDef, Values, WebUiDef, sso
from konoha_gen.components.chart_values import database, fullname, resources, setting
from konoha_gen.model.platform import PlatformSpec
from konoha_gen.resolved import Component, Platform


def values(p: Platform, c: Component) -> Values:
    db = database(p, "metabase")
    return {
        "database": {"type": "postgres", "host": db.service.host, "port": db.service.port, "dbname": db.database,
                     "existingSecret": db.credentials_secret, "existingSecretUsernameKey": "username",
                     "existingSecretPasswordKey": "password"},
        "resources": resources("1Gi", "250m"),
    }


def _depends_on(spec: PlatformSpec) -> list[str]:
    return ["trino", "cloudnative-pg", "vault-secrets-operator", *sso(spec)]


COMPONENT = ComponentDef(
    name="metabase", title="Metabase", layer="access", catalog="metabase",
    enabled=lambda spec: spec.access.metabase.enabled, switch="spec.access.metabase.enabled",
    depends_on=_depends_on,
    service=ServiceDef(80),
    workloads=lambda spec: (("Deployment", "metabase"),),
    web_ui=lambda spec: WebUiDef("metabase"),
    database_size=lambda spec: "2Gi",
    releases=lambda p, c: [Release(c.name, values(p, c))],
    chart_services=lambda r, v: [(str(setting(v, "service.name", fullname("metabase", r, v))),
                                  (int(setting(v, "service.externalPort", 80)),))],
    budget=(PodBudget("server", replicas="replicaCount"),),
)
