"""The CloudNativePG operator: the PostgreSQL clusters of Keycloak, Hive Metastore, Metabase and Airflow."""

from __future__ import annotations

from konoha_gen.components.base import ComponentDef, PodBudget, Release, Values
from konoha_gen.components.chart_values import resources
from konoha_gen.resolved import Component, Platform


def values(p: Platform, c: Component) -> Values:
    return {"crds": {"create": True}, "config": {"clusterWide": True}, "resources": resources("256Mi")}


COMPONENT = ComponentDef(
    name="cloudnative-pg", title="CloudNativePG operator", layer="operators", catalog="cloudnative-pg",
    enabled=lambda spec: True, switch="always on",
    releases=lambda p, c: [Release(c.name, values(p, c))],
    # cloudnative-pg/charts @ cloudnative-pg-v0.29.0: templates/crds/crds.yaml (values crds.create: true)
    crds=tuple(f"postgresql.cnpg.io/{kind}" for kind in (
        "Backup", "Cluster", "ClusterImageCatalog", "Database", "FailoverQuorum", "ImageCatalog", "Pooler",
        "Publication", "ScheduledBackup", "Subscription")),
    budget=(PodBudget("operator", replicas="replicaCount"),
            PodBudget("PostgreSQL", "spec.resources", replicas="spec.instances", kind="Cluster")),
)
