"""spec.cluster and spec.gitops: where the platform runs and where Flux reads it from."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from konoha_gen.model.common import (
    DnsSubdomain,
    GitRef,
    GitUrl,
    GoDuration,
    Hostname,
    Quantity,
    RepoPath,
    SpecModel,
    VaultRef,
)


@cache
def supported_kubernetes_versions() -> tuple[str, ...]:
    """The minor versions ("1.31") the installed kubernetes-validate ships strict schemas for, oldest first."""
    import kubernetes_validate.utils as kv

    minors = {tuple(int(part) for part in v.split(".")[:2]) for v in kv.all_versions()}
    return tuple(f"{major}.{minor}" for major, minor in sorted(minors))


def _check_kubernetes_version(value: str) -> str:
    supported = supported_kubernetes_versions()
    if value not in supported:
        raise PydanticCustomError(
            "kubernetes_version", "Kubernetes {value} has no OpenAPI schema to validate the output against: "
            "supported versions are {first} to {last}", {"value": value, "first": supported[0], "last": supported[-1]})
    return value


KubernetesVersion = Annotated[str, Field(pattern=r"^1\.[0-9]{2}$"), AfterValidator(_check_kubernetes_version)]


class Nodes(SpecModel):
    cpus: int = Field(8, ge=2, le=1024, description="CPUs of the Minikube node (default 8; minikube needs at least 2)")
    memory: Quantity = Field("16Gi", description="memory of the Minikube node (default 16Gi: the default platform's "
                                                 "requests fit it, see out/README.md \"Laptop budget\")")
    disk: Quantity = Field("40Gi", description="disk of the Minikube node (default 40Gi)")


class Capacity(SpecModel):
    cpu: Quantity = Field(description="CPU the platform's pods and Flux may request, e.g. \"16\" or 12500m")
    memory: Quantity = Field(description="memory the platform's pods and Flux may request, e.g. 48Gi")


class Ingress(SpecModel):
    class_name: DnsSubdomain = Field("traefik", description="IngressClass name (default traefik, the maintained "
                                                            "successor of ingress-nginx)")
    domain: Hostname = Field("konoha.local", description="DNS suffix of every web UI host, e.g. trino.<domain> "
                                                         "(default konoha.local)")


class Cluster(SpecModel):
    provider: Literal["minikube", "existing"] = Field(
        "minikube", description="minikube: Terraform creates the cluster; existing: use the current kube context "
                                "(default minikube)")
    kubernetes_version: KubernetesVersion = Field(
        "1.31", description="Kubernetes minor version, quoted, e.g. \"1.31\"; output is validated against its "
                            "OpenAPI schema")
    nodes: Nodes = Field(default_factory=Nodes, description="size of the Minikube node (minikube only)")
    ingress: Ingress = Field(default_factory=Ingress, description="ingress class and domain of the web UIs")
    capacity: Capacity | None = Field(
        None, description="provider existing only: what the cluster offers the platform (allocatable less what "
                          "else runs there); the build refuses a tree whose requests exceed it. Unset: the "
                          "budget is written to out/README.md but not checked. Minikube: nodes.cpus/memory")

    @model_validator(mode="after")
    def _capacity_is_for_existing_clusters(self) -> Cluster:
        if self.provider == "minikube" and self.capacity is not None:
            raise PydanticCustomError("capacity_minikube", "capacity is for provider existing: a minikube node offers "
                                      "nodes.cpus and nodes.memory", {})
        return self


class GitOps(SpecModel):
    url: GitUrl = Field(description="git repository Flux reconciles (https:// or ssh://; never with credentials in it)")
    branch: GitRef = Field("main", description="branch Flux follows (default main)")
    path: RepoPath = Field("out", description="folder of the generated tree inside that "
                                                                        "repository (default out)")
    interval: GoDuration = Field("1m", description="how often Flux polls the repository and reconciles (default 1m)")
    auth: VaultRef | None = Field(None, description="vault: reference to the deploy key or token for private "
                                                    "repositories")
