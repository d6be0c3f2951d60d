"""spec.observability: Prometheus (kube-prometheus-stack) and Grafana."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from konoha_gen.model.common import PromDuration, SpecModel, Switchable, VaultRef, vault_ref

#: The dashboards konoha-gen ships (konoha_gen/emit/dashboards.py): one per component whose metrics it scrapes.
Dashboard = Literal["kyuubi", "spark", "trino", "kafka", "airflow", "minio"]


class Grafana(Switchable):
    dashboards: list[Dashboard] = Field(default_factory=list, description="Grafana dashboards to ship (ConfigMaps the "
                                        "Grafana sidecar loads), each for a component that is enabled")
    admin: VaultRef = Field(vault_ref("vault:grafana/admin"), description="Grafana admin (keys username, password); "
                                                                          "default vault:grafana/admin")


class Metrics(Switchable):
    retention: PromDuration = Field("7d", description="Prometheus retention (default 7d)")


class Observability(SpecModel):
    grafana: Grafana = Field(default_factory=Grafana, description="Grafana")
    metrics: Metrics = Field(default_factory=Metrics, description="Prometheus (kube-prometheus-stack)")
