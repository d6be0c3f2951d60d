"""Every component konoha-gen knows, in declaration order.

Adding a component is adding its module to this package and its COMPONENT to this list (and, when it is
deployed by a chart, its pin to catalog.py). Resolve orders components by their dependencies; this order
is only the one in which OIDC clients and web UIs are listed (keycloak.tf keeps it).
"""

from __future__ import annotations

from konoha_gen.components import (
    airflow,
    cloudnative_pg,
    dbt,
    hive_metastore,
    kafka,
    kafka_connect,
    keycloak,
    kube_prometheus_stack,
    kyuubi,
    metabase,
    minio,
    spark,
    strimzi,
    traefik,
    trino,
    vault,
    vault_secrets_operator,
)
from konoha_gen.components.base import ComponentDef

COMPONENTS: tuple[ComponentDef, ...] = (
    traefik.COMPONENT,
    cloudnative_pg.COMPONENT,
    strimzi.COMPONENT,
    vault.COMPONENT,
    vault_secrets_operator.COMPONENT,
    keycloak.COMPONENT,
    kube_prometheus_stack.COMPONENT,
    minio.COMPONENT,
    hive_metastore.COMPONENT,
    kafka.COMPONENT,
    kafka_connect.COMPONENT,
    spark.COMPONENT,
    kyuubi.COMPONENT,
    dbt.COMPONENT,
    trino.COMPONENT,
    metabase.COMPONENT,
    airflow.COMPONENT,
)


def components() -> tuple[ComponentDef, ...]:
    """The registry as it stands (read at call time, so a test can add a component)."""
    return COMPONENTS


def definition(name: str) -> ComponentDef:
    return next(c for c in components() if c.name == name)


def with_dashboards() -> dict[str, ComponentDef]:
    """Dashboard name (observability.grafana.dashboards) -> the component that fills it."""
    return {c.name: c for c in components() if c.dashboard is not None}
