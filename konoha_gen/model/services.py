"""spec.orchestration (Airflow), spec.access (Trino, Metabase), spec.observability (Grafana, metrics)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from konoha_gen.model.common import (
    Component,
    DataSize,
    GitUrl,
    Identifier,
    Name,
    PromDuration,
    Quantity,
    SpecModel,
    VaultRef,
)


class GitSource(SpecModel):
    url: GitUrl = Field(description="repository holding the DAGs")
    branch: str = Field("main", min_length=1, description="branch (default main)")
    path: str = Field("dags", description="folder inside the repository (default dags)")
    auth: VaultRef | None = Field(None, description="vault: reference to an SSH key for private repositories")


class Dags(SpecModel):
    git: GitSource = Field(description="git-sync source of the DAGs")


class AirflowConnection(SpecModel):
    id: Identifier = Field(description="Airflow connection id (AIRFLOW_CONN_<ID>)")
    kyuubi: Name | None = Field(None, description="a Kyuubi server to connect to")
    trino: Identifier | None = Field(None, description="a Trino catalog to connect to")

    @model_validator(mode="after")
    def _one_target(self) -> AirflowConnection:
        if (self.kyuubi is None) == (self.trino is None):
            raise PydanticCustomError("one_target", "a connection names exactly one target: kyuubi or trino", {})
        return self


class Airflow(Component):
    executor: Literal["KubernetesExecutor", "CeleryExecutor", "LocalExecutor", "CeleryKubernetesExecutor"] = Field(
        "KubernetesExecutor", description="Airflow executor (default KubernetesExecutor)")
    dags: Dags | None = Field(None, description="where DAGs come from (git-sync)")
    connections: list[AirflowConnection] = Field(default_factory=list, description="connections to platform services")
    webserver_secret_key: VaultRef = Field("vault:airflow/webserver#secret-key",
                                           description="Flask secret key (default vault:airflow/webserver#secret-key)")


class Orchestration(SpecModel):
    airflow: Airflow = Field(default_factory=Airflow, description="Apache Airflow")


class Node(SpecModel):
    memory: Quantity = Field("4Gi", description="pod memory (default 4Gi)")
    cpu: Quantity = Field("1", description="pod CPU request (default 1)")


class Trino(Component):
    workers: int = Field(2, ge=0, le=100, description="worker pods (default 2)")
    coordinator: Node = Field(default_factory=Node, description="coordinator pod size")
    worker: Node = Field(default_factory=Node, description="worker pod size")
    query_max_memory: DataSize = Field("4GB", description="query.max-memory (default 4GB)")


class Metabase(Component):
    pass


class Access(SpecModel):
    trino: Trino = Field(default_factory=Trino, description="Trino, interactive SQL over the lakehouse")
    metabase: Metabase = Field(default_factory=Metabase, description="Metabase BI on Trino")


Dashboard = Literal["kyuubi", "spark", "trino", "kafka", "airflow", "minio", "vault"]


class Grafana(Component):
    dashboards: list[Dashboard] = Field(default_factory=list, description="dashboards to ship as ConfigMaps")
    admin: VaultRef = Field("vault:grafana/admin", description="Grafana admin (keys username, password); default vault:grafana/admin")


class Metrics(Component):
    retention: PromDuration = Field("7d", description="Prometheus retention (default 7d)")


class Observability(SpecModel):
    grafana: Grafana = Field(default_factory=Grafana, description="Grafana")
    metrics: Metrics = Field(default_factory=Metrics, description="Prometheus (kube-prometheus-stack)")
