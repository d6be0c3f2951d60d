"""spec.orchestration: Apache Airflow."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from konoha_gen.model.common import (
    GitRef,
    GitUrl,
    Identifier,
    Name,
    RepoPath,
    SpecModel,
    Switchable,
    VaultRef,
    pattern_rule,
    vault_ref,
)
from konoha_gen.model.streaming import ImageRef

ImageTag = Annotated[str, pattern_rule("image_tag", r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
                                       "a Docker tag: letters, digits, _ . -, at most 128 characters, e.g. 3.2.0-1")]


class GitSource(SpecModel):
    url: GitUrl = Field(description="repository holding the DAGs")
    branch: GitRef = Field("main", description="branch (default main)")
    path: RepoPath = Field("dags", description="folder inside the repository (default dags)")
    auth: VaultRef | None = Field(None, description="vault: reference to an SSH private key for private repositories "
                                                    "(key gitSshKey unless named; needs an ssh:// or git@ URL)")
    known_hosts: str | None = Field(None, min_length=1, description="known_hosts lines of the Git server (public "
                                                                    "host keys); without them git-sync does not "
                                                                    "verify the server's SSH host key")

    @model_validator(mode="after")
    def _ssh_for_key(self) -> GitSource:
        if self.auth is not None and self.url.startswith("https://"):
            raise PydanticCustomError("git_ssh_url", "an SSH key (auth) needs an ssh:// or git@ URL", {})
        return self


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


class AirflowImage(SpecModel):
    repository: ImageRef = Field(description="repository of an image built FROM apache/airflow (the catalogue's "
                                             "Airflow version) with the provider packages the connections need")
    tag: ImageTag = Field(description="its tag; the chart's task pod template takes a tag, not a digest, so pin a "
                                      "tag you never move")


class Airflow(Switchable):
    executor: Literal["KubernetesExecutor", "CeleryExecutor", "LocalExecutor", "CeleryKubernetesExecutor"] = Field(
        "KubernetesExecutor", description="Airflow executor (default KubernetesExecutor)")
    dags: Dags | None = Field(None, description="where DAGs come from (git-sync)")
    connections: list[AirflowConnection] = Field(default_factory=list, description="connections to platform services")
    image: AirflowImage | None = Field(
        None, description="the Airflow image every Airflow pod and task runs (images.airflow and "
                          "images.pod_template); required with connections: hiveserver2:// (kyuubi) needs "
                          "apache-airflow-providers-apache-hive and trino:// apache-airflow-providers-trino, which the "
                          "stock image lacks")
    webserver_secret_key: VaultRef = Field(vault_ref("vault:airflow/webserver#secret-key"),
                                           description="Flask secret key (default vault:airflow/webserver#secret-key)")


class Orchestration(SpecModel):
    airflow: Airflow = Field(default_factory=Airflow, description="Apache Airflow")
