"""spec.cluster and spec.gitops: where the platform runs and where Flux reads it from."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from konoha_gen.model.common import GitUrl, GoDuration, Hostname, Quantity, SpecModel, VaultRef


class Nodes(SpecModel):
    cpus: int = Field(4, ge=2, description="CPUs of the Minikube node (default 4; minikube needs at least 2)")
    memory: Quantity = Field("8Gi", description="memory of the Minikube node (default 8Gi)")
    disk: Quantity = Field("40Gi", description="disk of the Minikube node (default 40Gi)")


class Ingress(SpecModel):
    class_name: str = Field("traefik", description="IngressClass name (default traefik, the maintained successor of "
                                                   "ingress-nginx)")
    domain: Hostname = Field("konoha.local", description="DNS suffix of every web UI host, e.g. trino.<domain> "
                                                         "(default konoha.local)")


class Cluster(SpecModel):
    provider: Literal["minikube", "existing"] = Field(
        "minikube", description="minikube: Terraform creates the cluster; existing: use the current kube context "
                                "(default minikube)")
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.[0-9]{2}$")] = Field(
        "1.31", description="Kubernetes minor version, quoted, e.g. \"1.31\"; output is validated against its "
                            "OpenAPI schema")
    nodes: Nodes = Field(default_factory=Nodes, description="size of the Minikube node (minikube only)")
    ingress: Ingress = Field(default_factory=Ingress, description="ingress class and domain of the web UIs")


class GitOps(SpecModel):
    url: GitUrl = Field(description="git repository Flux reconciles (https:// or ssh://; never with credentials in it)")
    branch: str = Field("main", min_length=1, description="branch Flux follows (default main)")
    path: str = Field("out", pattern=r"^[A-Za-z0-9._/-]+$", description="folder of the generated tree inside that "
                                                                        "repository (default out)")
    interval: GoDuration = Field("1m", description="how often Flux polls the repository and reconciles (default 1m)")
    auth: VaultRef | None = Field(None, description="vault: reference to the deploy key or token for private "
                                                    "repositories")
