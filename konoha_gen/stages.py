"""The Terraform stages of the bootstrap, in apply order, and how their providers reach their servers.

One root module per stage, because a provider must reach a running server at plan time: Vault is configured
once it runs (10-vault); Keycloak (20-identity) and MinIO (30-storage) once they run, which they can only do
after the Vault stage has written their secrets. bootstrap.sh opens a port-forward from `local_port` to the
component's Service for the stage's providers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TerraformStage:
    step: str  # its name in the bootstrap sequence
    folder: str  # under out/
    server: str | None  # the component whose Service its providers talk to (None: the cluster itself)
    local_port: int | None = None  # where bootstrap.sh forwards that Service to

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.local_port}"


CLUSTER = TerraformStage("cluster", "terraform/00-cluster", None)
VAULT = TerraformStage("vault-config", "terraform/10-vault", "vault", 8200)
IDENTITY = TerraformStage("identity-config", "terraform/20-identity", "keycloak", 8080)
STORAGE = TerraformStage("storage-config", "terraform/30-storage", "minio", 9000)
STAGES = (CLUSTER, VAULT, IDENTITY, STORAGE)
