"""out/bootstrap.sh: the bootstrap sequence (konoha_gen/bootstrap/plan.py) as a script a person runs once."""

from __future__ import annotations

from typing import Any

from konoha_gen.artifact import Artifact
from konoha_gen.bootstrap.plan import LAYER_TIMEOUT, STAGE_TIMEOUT, manual_paths, steps
from konoha_gen.components.vault import replicas
from konoha_gen.resolved import FLUX_NAMESPACE, Platform
from konoha_gen.stages import CLUSTER, IDENTITY, STORAGE, VAULT, TerraformStage
from konoha_gen.templating import render

SCRIPT = "bootstrap.sh"


def emit(platform: Platform) -> list[Artifact]:
    return [Artifact(SCRIPT, render("bootstrap.sh.j2", **context(platform)))]


def _server(platform: Platform, stage: TerraformStage) -> dict[str, Any] | None:
    """Where a stage's provider server runs: namespace, Service and its port (None: not deployed)."""
    if stage.server is None or not platform.has(stage.server):
        return None
    service = platform.component(stage.server).service
    assert service is not None
    return {"namespace": service.namespace, "service": service.name, "port": service.port}


def context(platform: Platform) -> dict[str, Any]:
    vault = _server(platform, VAULT)
    assert vault is not None
    mode = platform.spec.secrets.vault.mode
    vault |= {"dev": mode == "dev", "kv_mount": platform.spec.secrets.vault.kv_mount,
              "pods": [f"vault-{i}" for i in range(replicas(platform))]}
    return {
        "platform": platform.name,
        "minikube": platform.spec.cluster.provider == "minikube",
        "git_auth": platform.git_auth_secret is not None,
        "flux_namespace": FLUX_NAMESPACE,
        "steps": steps(platform),
        "stages": {"cluster": CLUSTER.folder, "vault": VAULT.folder, "identity": IDENTITY.folder,
                   "storage": STORAGE.folder},
        "ports": {"vault": VAULT.local_port, "keycloak": IDENTITY.local_port, "minio": STORAGE.local_port},
        "timeouts": {"cluster": STAGE_TIMEOUT, "unseal": STAGE_TIMEOUT, "layer": LAYER_TIMEOUT},
        "vault": vault,
        "identity": _server(platform, IDENTITY),
        "storage": _server(platform, STORAGE),
        "manual": manual_paths(platform),
    }
