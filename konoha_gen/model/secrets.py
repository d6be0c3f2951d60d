"""spec.secrets: the Vault KV mount, its auth, and the secrets Terraform generates."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from konoha_gen.model.common import Name, SecretKey, SpecModel, VaultPath


class Vault(SpecModel):
    mode: Literal["dev", "standalone", "ha"] = Field(
        "standalone", description="standalone: one server with integrated storage (Raft) on a volume, initialised and "
                                  "unsealed by bootstrap.sh; ha: three Raft servers; dev: in memory, lost on every "
                                  "restart, no web UI (default standalone)")
    kv_mount: Name = Field("konoha", description="the one KV v2 mount holding every platform secret (default konoha)")
    kubernetes_auth_mount: Name = Field("kubernetes", description="mount path of the Kubernetes auth method "
                                                                  "(default kubernetes)")


class GeneratedSecret(SpecModel):
    path: VaultPath = Field(description="KV path under the mount, e.g. minio/root")
    keys: list[SecretKey] = Field(min_length=1,
                                  description="keys to fill with random values, e.g. [username, password]")
    length: int = Field(32, ge=16, le=128, description="length of each generated value (default 32)")


class Secrets(SpecModel):
    vault: Vault = Field(default_factory=Vault, description="Vault server and mounts")
    generate: list[GeneratedSecret] = Field(
        default_factory=list,
        description="secrets Terraform creates once with random values; they live in Vault and the Terraform state, "
                    "never in git")
    external: list[VaultPath] = Field(
        default_factory=list,
        description="KV paths an operator writes by hand (listed as manual in the inventory even if nothing "
                    "here reads them)")
