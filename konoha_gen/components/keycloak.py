"""Keycloak: the realm every web UI logs in through (realm, groups, users and clients come from Terraform)."""

from __future__ import annotations

import yaml

from konoha_gen.components.base import ComponentDef, PodBudget, Release, ServiceDef, Values, WebUiDef
from konoha_gen.components.chart_values import database, fullname, resources, secret, service, setting
from konoha_gen.resolved import Component, Platform


def values(p: Platform, c: Component) -> Values:
    db = database(p, "keycloak")
    admin_secret = secret(p, "keycloak", p.spec.identity.keycloak.admin.path)
    env = [
        {"name": "KC_BOOTSTRAP_ADMIN_USERNAME",
         "valueFrom": {"secretKeyRef": {"name": admin_secret, "key": "username"}}},
        {"name": "KC_BOOTSTRAP_ADMIN_PASSWORD",
         "valueFrom": {"secretKeyRef": {"name": admin_secret, "key": "password"}}},
        {"name": "KC_DB_USERNAME", "valueFrom": {"secretKeyRef": {"name": db.credentials_secret, "key": "username"}}},
    ]
    return {
        "fullnameOverride": service(c).name.removesuffix("-http"),  # keycloakx names the Service <fullname>-http
        # The frontend URL is the HTTPS ingress host, so every token's issuer is that URL; requests from pods to the
        # Service get back-channel endpoints (token, certs, userinfo) on the Service address (hostname v2).
        "command": ["/opt/keycloak/bin/kc.sh", "start", "--http-port=8080", f"--hostname={p.web_ui('keycloak').url}",
                    "--hostname-backchannel-dynamic=true"],
        "http": {"relativePath": "/"},
        "proxy": {"enabled": True, "mode": "xforwarded"},
        "database": {"vendor": "postgres", "hostname": db.service.host, "port": db.service.port,
                     "database": db.database, "existingSecret": db.credentials_secret, "existingSecretKey": "password"},
        "dbchecker": {"enabled": True},
        "extraEnv": _yaml_list(env),
        "resources": resources("1Gi", "250m"),
    }


def _yaml_list(items: list[Values]) -> str:
    """keycloakx takes extraEnv as a templated YAML string."""
    return yaml.safe_dump(items, sort_keys=False, default_flow_style=False)


COMPONENT = ComponentDef(
    name="keycloak", title="Keycloak", layer="identity", catalog="keycloak",
    enabled=lambda spec: spec.identity.keycloak.enabled, switch="spec.identity.keycloak.enabled",
    depends_on=lambda spec: ["vault-secrets-operator", "cloudnative-pg"],
    service=ServiceDef(80, lambda platform: "keycloak-http"),
    workloads=lambda spec: (("StatefulSet", "keycloak"),),
    web_ui=lambda spec: WebUiDef("keycloak"),
    database_size=lambda spec: "2Gi",
    releases=lambda p, c: [Release(c.name, values(p, c))],
    chart_services=lambda r, v: [(f"{fullname('keycloakx', r, v)}-http", (int(setting(v, "service.httpPort", 80)),))],
    budget=(PodBudget("server", replicas="replicas"),),
)
