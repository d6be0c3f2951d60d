"""terraform/00-cluster: the Minikube cluster (when spec.cluster.provider is
minikube) and the Flux bootstrap: the flux2 chart through the helm provider,
then the generated sync objects (clusters/<name>/flux-system/gotk-sync.yaml)
through the kubectl provider. Templates: templates/terraform/00-cluster/."""

from __future__ import annotations

import re

from konoha_gen.catalog import CATALOG
from konoha_gen.emit import Artifact
from konoha_gen.emit.flux import FLUX_NAMESPACE
from konoha_gen.resolve import Platform
from konoha_gen.templating import render

FILES = ("versions.tf", "providers.tf", "main.tf", "variables.tf", "outputs.tf")
_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def mebibytes(quantity: str) -> int:
    """A Kubernetes quantity ('16Gi', '60G', '512Mi') in whole MiB, as minikube's 'mb' takes it."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)", quantity)
    if match is None or match.group(2) not in _UNITS:
        raise ValueError(f"not a byte quantity: {quantity}")
    return int(float(match.group(1)) * _UNITS[match.group(2)] // 2**20)


def emit(platform: Platform) -> list[Artifact]:
    cluster = platform.spec.cluster
    flux = CATALOG["flux"]
    context = {
        "minikube": cluster.provider == "minikube",
        "cluster_name": platform.name,
        "kubernetes_version": f"v{cluster.kubernetes_version}.0",
        "cpus": cluster.nodes.cpus,
        "memory_mb": mebibytes(cluster.nodes.memory),
        "disk_mb": mebibytes(cluster.nodes.disk),
        "flux_chart_repo": flux.url,
        "flux_chart": flux.chart,
        "flux_chart_version": platform.spec.versions.get("flux", flux.version),
        "flux_namespace": FLUX_NAMESPACE,
        "sync_manifest": f"../../clusters/{platform.name}/flux-system/gotk-sync.yaml",
        "git_auth_secret": platform.git_auth_secret,
    }
    return [Artifact(f"terraform/00-cluster/{name}", render(f"terraform/00-cluster/{name}.j2", **context)) for name in FILES]
