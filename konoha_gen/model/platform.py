"""The document root: apiVersion, kind, metadata, spec; and spec.tenants / spec.versions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from konoha_gen.catalog import CATALOG
from konoha_gen.model.access import Access
from konoha_gen.model.cluster import Cluster, GitOps
from konoha_gen.model.common import Identifier, LabelKey, LabelValue, Name, Quantity, SpecModel, Version
from konoha_gen.model.compute import Compute, Modeling
from konoha_gen.model.identity import Identity
from konoha_gen.model.observability import Observability
from konoha_gen.model.orchestration import Orchestration
from konoha_gen.model.secrets import Secrets
from konoha_gen.model.storage import Lakehouse, Storage
from konoha_gen.model.streaming import Streaming

API_VERSION = "konoha.dev/v1alpha1"


class Quota(SpecModel):
    cpu: Quantity = Field(description="CPU limit of the tenant's namespace (ResourceQuota)")
    memory: Quantity = Field(description="memory limit of the tenant's namespace (ResourceQuota)")


class Tenant(SpecModel):
    name: Name = Field(description="tenant name; its namespace and Keycloak group derive from it")
    members: list[Name] = Field(default_factory=list, description="Keycloak usernames")
    kyuubi: Name | None = Field(None, description="default Kyuubi server of the tenant")
    writes: list[Identifier] = Field(default_factory=list, description="lakehouse namespaces the tenant may write")
    quota: Quota | None = Field(None, description="reserved, refused for now: a tenant's Spark engines run in the "
                                                  "shared Kyuubi namespace, where a ResourceQuota cannot limit one "
                                                  "tenant")

    @field_validator("quota")
    @classmethod
    def _quota_not_enforceable(cls, quota: Quota | None) -> Quota | None:
        if quota is not None:
            raise PydanticCustomError(
                "quota_unenforced", "a tenant quota cannot be enforced yet: the tenant's Spark engines run in the "
                "shared Kyuubi namespace, so a ResourceQuota would not limit them; remove quota", {})
        return quota


class PlatformSpec(SpecModel):
    cluster: Cluster = Field(default_factory=Cluster, description="the Kubernetes cluster")
    gitops: GitOps = Field(description="the git repository Flux reconciles")
    secrets: Secrets = Field(default_factory=Secrets, description="Vault and the secrets inventory")
    identity: Identity = Field(default_factory=Identity, description="single sign-on")
    storage: Storage = Field(default_factory=Storage, description="object store and metastore")
    lakehouse: Lakehouse = Field(default_factory=Lakehouse, description="Iceberg catalog and namespaces")
    compute: Compute = Field(default_factory=Compute, description="Spark and Kyuubi")
    modeling: Modeling = Field(default_factory=Modeling, description="dbt")
    streaming: Streaming = Field(default_factory=Streaming, description="Kafka, Kafka Connect, CDC sources")
    orchestration: Orchestration = Field(default_factory=Orchestration, description="Airflow")
    access: Access = Field(default_factory=Access, description="Trino and Metabase")
    observability: Observability = Field(default_factory=Observability, description="Grafana and Prometheus")
    tenants: list[Tenant] = Field(default_factory=list, description="teams sharing the platform")
    versions: dict[str, Version] = Field(default_factory=dict,
                                     description="component -> version, overriding the pinned catalogue; components: "
                                                 + ", ".join(sorted(CATALOG)))


class Metadata(SpecModel):
    name: Name = Field(description="platform name; prefixes namespaces and the cluster folder")
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict, description="labels copied onto every generated "
                                                                     "Kubernetes object")


class PlatformDocument(SpecModel):
    """A konoha.yaml file."""

    api_version: Literal["konoha.dev/v1alpha1"] = Field(alias="apiVersion", description="konoha.dev/v1alpha1")
    kind: Literal["Platform"] = Field(description="Platform")
    metadata: Metadata = Field(description="name and labels")
    spec: PlatformSpec = Field(description="the platform")
