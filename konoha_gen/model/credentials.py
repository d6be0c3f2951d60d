"""Where the spec holds credentials, who reads each, and which keys they read.

The one list of credential fields: validation checks them against
`secrets.generate`, resolve turns them into the secrets inventory.
"""

from __future__ import annotations

from dataclasses import dataclass

from konoha_gen.model.common import VaultReference
from konoha_gen.model.platform import PlatformSpec

USER_PASS = ("username", "password")
#: The Vault key holding a Docker config JSON (the Secret gets it as .dockerconfigjson, which Vault paths avoid).
DOCKER_CONFIG_KEY = "dockerconfigjson"


@dataclass(frozen=True)
class CredentialField:
    path: tuple[str | int, ...]  # below `spec`
    ref: VaultReference
    keys: tuple[str, ...]  # keys the reader needs (when the ref names no key)
    readers: tuple[str, ...]  # component names that consume it


def credential_fields(s: PlatformSpec) -> list[CredentialField]:
    """Every credential field of an enabled component, in spec order."""
    fields: list[CredentialField] = []
    if s.gitops.auth:
        fields.append(CredentialField(("gitops", "auth"), s.gitops.auth, ("identity", "known_hosts"), ("flux",)))
    if s.identity.keycloak.enabled:
        fields.append(CredentialField(("identity", "keycloak", "admin"), s.identity.keycloak.admin, USER_PASS,
                                      ("keycloak", "terraform")))
    if s.storage.object_store.enabled:
        fields.append(CredentialField(("storage", "objectStore", "credentials"), s.storage.object_store.credentials,
                                      USER_PASS, ("minio", "terraform")))
    for index, source in enumerate(s.streaming.sources):
        fields.append(CredentialField(("streaming", "sources", index, "credentials"), source.credentials, USER_PASS,
                                      ("kafka-connect",)))
    connect = s.streaming.connect
    if connect.enabled and connect.push_secret:
        fields.append(CredentialField(("streaming", "connect", "pushSecret"), connect.push_secret,
                                      (DOCKER_CONFIG_KEY,), ("kafka-connect",)))
    airflow = s.orchestration.airflow
    if airflow.enabled:
        fields.append(CredentialField(("orchestration", "airflow", "webserverSecretKey"), airflow.webserver_secret_key,
                                      ("secret-key",), ("airflow",)))
        if airflow.dags and airflow.dags.git.auth:
            fields.append(CredentialField(("orchestration", "airflow", "dags", "git", "auth"), airflow.dags.git.auth,
                                          ("gitSshKey",), ("airflow",)))
    if s.observability.grafana.enabled:
        fields.append(CredentialField(("observability", "grafana", "admin"), s.observability.grafana.admin, USER_PASS,
                                      ("kube-prometheus-stack",)))
    return fields
