"""spec.identity: Keycloak, the platform's single sign-on."""

from __future__ import annotations

from pydantic import Field

from konoha_gen.model.common import Name, SpecModel, Switchable, VaultRef, vault_ref


class Keycloak(Switchable):
    realm: Name = Field("konoha", description="realm holding the platform's users, groups and OIDC clients "
                                              "(default konoha)")
    admin: VaultRef = Field(vault_ref("vault:keycloak/admin"),
                            description="bootstrap admin credentials (keys username, password); default "
                                        "vault:keycloak/admin")
    groups: list[Name] = Field(default_factory=lambda: ["platform-admins"], description="realm groups (default "
                                                                                        "[platform-admins])")


class Identity(SpecModel):
    keycloak: Keycloak = Field(default_factory=Keycloak, description="Keycloak server and realm")
