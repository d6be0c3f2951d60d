"""Web UIs behind HTTPS Ingresses and their single sign-on against the Keycloak realm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import yaml

from konoha_gen.artifact import Artifact
from konoha_gen.check import run_checks
from konoha_gen.check.endpoints import check as endpoints
from konoha_gen.emit import emit_all
from konoha_gen.pipeline import compile_platform
from konoha_gen.resolved import Platform
from tests.helpers import edit_spec


def _files(artifacts: list[Artifact]) -> dict[str, str]:
    return {a.path: a.content for a in artifacts}


def _values(artifacts: list[Artifact], component: str) -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(_files(artifacts)[f"platform/{component}/values-{component}.yaml"])
    return values


def _unquote(node: Any) -> Any:
    """python-hcl2 keeps the quotes of keys and strings."""
    if isinstance(node, dict):
        return {_unquote(k): _unquote(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unquote(v) for v in node]
    return node[1:-1] if isinstance(node, str) and len(node) >= 2 and node[0] == node[-1] == '"' else node


def _ingresses(artifacts: list[Artifact]) -> dict[str, dict[str, Any]]:
    found = {}
    for artifact in artifacts:
        if artifact.path.startswith("platform/") and artifact.path.endswith("/manifests.yaml"):
            for doc in yaml.safe_load_all(artifact.content):
                if doc and doc["kind"] == "Ingress":
                    found[doc["spec"]["rules"][0]["host"]] = doc
    return found


def test_every_web_ui_has_an_https_ingress_to_its_service(artifacts: list[Artifact]) -> None:
    ingresses = _ingresses(artifacts)
    expected = {"vault.konoha.local": ("konoha-security", "vault", 8200),
                "keycloak.konoha.local": ("konoha-identity", "keycloak-http", 80),
                "minio-console.konoha.local": ("konoha-storage", "minio-console", 9001),
                "trino.konoha.local": ("konoha-access", "trino", 8080),
                "metabase.konoha.local": ("konoha-access", "metabase", 80),
                "airflow.konoha.local": ("konoha-orchestration", "airflow-api-server", 8080),
                "grafana.konoha.local": ("konoha-observability", "kube-prometheus-stack-grafana", 80)}
    assert set(ingresses) == set(expected)
    for host, (namespace, service, port) in expected.items():
        ingress = ingresses[host]
        assert ingress["metadata"]["namespace"] == namespace
        assert ingress["spec"]["ingressClassName"] == "traefik"
        assert ingress["spec"]["tls"] == [{"hosts": [host]}]
        assert ingress["metadata"]["annotations"]["traefik.ingress.kubernetes.io/router.entrypoints"] == "websecure"
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        assert backend == {"name": service, "port": {"number": port}}


def test_an_ingress_to_a_wrong_port_fails_the_endpoint_check(platform: Platform, artifacts: list[Artifact]) -> None:
    path = "platform/trino/manifests.yaml"
    broken = [Artifact(a.path, a.content.replace("number: 8080", "number: 8081"), a.emitter) if a.path == path else a
              for a in artifacts]
    assert [(p.path, p.message) for p in endpoints(platform, broken)] == [
        (path, "refers to trino.konoha-access.svc:8081, but Service trino, created by "
               "platform/trino/values-trino.yaml, "
               "exposes port(s) 8080")]


def test_keycloak_names_one_https_issuer_and_answers_pods_on_its_service(platform: Platform,
                                                                         artifacts: list[Artifact]) -> None:
    assert platform.issuer == "https://keycloak.konoha.local/realms/konoha"
    command = _values(artifacts, "keycloak")["command"]
    assert "--hostname=https://keycloak.konoha.local" in command and "--hostname-backchannel-dynamic=true" in command


def test_a_client_with_a_groups_claim_per_web_ui_except_metabase(platform: Platform, artifacts: list[Artifact]) -> None:
    terraform = _unquote(hcl2.loads(_files(artifacts)["terraform/20-identity/keycloak.tf"]))
    clients = {name: body for block in terraform["resource"] for kind, named in block.items()
               if kind == "keycloak_openid_client"
               for name, body in named.items()}
    redirects = {c["client_id"]: c["valid_redirect_uris"] for c in clients.values()}
    assert redirects == {"grafana": ["https://grafana.konoha.local/login/generic_oauth"],
                         "minio-console": ["https://minio-console.konoha.local/oauth_callback"],
                         "trino": ["https://trino.konoha.local/oauth2/callback"],
                         "airflow": ["https://airflow.konoha.local/auth/oauth-authorized/keycloak"]}
    mappers = [body for block in terraform["resource"] for kind, named in block.items()
               if kind == "keycloak_openid_group_membership_protocol_mapper" for body in named.values()]
    assert len(mappers) == len(clients) and all(m["claim_name"] == "groups" and m["full_path"] is False
                                                for m in mappers)
    assert not any(c.component == "metabase" for c in platform.oidc_clients)  # OSS Metabase has no OIDC login


def test_trino_web_ui_logs_in_through_the_realm(platform: Platform, artifacts: list[Artifact]) -> None:
    values = _values(artifacts, "trino")
    properties = dict(line.split("=", 1) for line in values["additionalConfigProperties"])
    assert properties["web-ui.authentication.type"] == "oauth2"
    assert "http-server.authentication.type" not in properties  # in-cluster clients (Airflow, Metabase) keep the API
    assert properties["http-server.process-forwarded"] == "true"  # HTTPS ends at the ingress
    assert properties["http-server.authentication.oauth2.issuer"] == platform.issuer
    assert properties["http-server.authentication.oauth2.token-url"].startswith(
        "http://keycloak-http.konoha-identity.svc.cluster.local/realms/konoha/")
    assert properties["internal-communication.shared-secret"] == "${ENV:TRINO_INTERNAL_SHARED_SECRET}"
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in values["env"] if "valueFrom" in e}
    assert env["TRINO_OIDC_CLIENT_SECRET"] == {"name": "trino-oidc-trino", "key": "client-secret"}
    assert env["TRINO_INTERNAL_SHARED_SECRET"] == {"name": "trino-internal-communication", "key": "shared-secret"}
    secrets = _files(artifacts)["terraform/10-vault/secrets.tf"]
    assert '"trino/internal-communication"' in secrets  # Terraform generates it; it never reaches git


def test_a_misspelt_trino_config_property_fails_the_build(platform: Platform, artifacts: list[Artifact]) -> None:
    path = "platform/trino/values-trino.yaml"
    broken = [Artifact(a.path, a.content.replace("- web-ui.authentication.type=", "- web-ui.authentication.typ="),
                       a.emitter)
              if a.path == path else a for a in artifacts]
    problems = [p.message for p in run_checks(platform, broken) if p.check == "keys"]
    assert problems == ["additionalConfigProperties: 'web-ui.authentication.typ' is not a Trino 480 config "
                        "property konoha-gen "
                        "knows (did you mean 'web-ui.authentication.type'?)"]


def test_airflow_api_server_logs_in_through_the_realm(platform: Platform, artifacts: list[Artifact]) -> None:
    values = _values(artifacts, "airflow")
    config = values["apiServer"]["apiServerConfig"]
    compile(config, "webserver_config.py", "exec")  # valid Python
    assert "AUTH_TYPE = AUTH_OAUTH" in config and '"name": "keycloak"' in config
    assert 'AUTH_ROLES_MAPPING = {"platform-admins": ["Admin"]}' in config
    assert f'"authorize_url": "{platform.issuer}/protocol/openid-connect/auth"' in config
    assert "client_secret\": os.environ[\"AIRFLOW_OIDC_CLIENT_SECRET\"]" in config
    assert values["secret"] == [
        {"envName": "AIRFLOW_OIDC_CLIENT_ID", "secretName": "airflow-oidc-airflow", "secretKey": "client-id"},
        {"envName": "AIRFLOW_OIDC_CLIENT_SECRET", "secretName": "airflow-oidc-airflow", "secretKey": "client-secret"}]


def test_grafana_sends_browsers_to_the_https_issuer(platform: Platform, artifacts: list[Artifact]) -> None:
    ini = _values(artifacts, "kube-prometheus-stack")["grafana"]["grafana.ini"]
    assert ini["server"]["root_url"] == "https://grafana.konoha.local"
    assert ini["auth.generic_oauth"]["auth_url"] == f"{platform.issuer}/protocol/openid-connect/auth"


def test_a_dev_vault_has_no_web_ui_and_keeps_its_data_in_memory(tmp_path: Path, spec_text: str) -> None:
    """dev mode's root token is the well-known "root": its UI is never exposed."""
    def dev(data: Any) -> None:
        data["spec"]["secrets"]["vault"]["mode"] = "dev"

    spec = tmp_path / "konoha.yaml"
    spec.write_text(edit_spec(spec_text, dev))
    artifacts = emit_all(compile_platform(spec))
    ingresses = _ingresses(artifacts)
    assert "vault.konoha.local" not in ingresses
    assert not [d for a in artifacts if a.path.startswith("platform/vault/") and a.path.endswith(".yaml")
                for d in yaml.safe_load_all(a.content) if d and d.get("kind") == "Ingress"]
    assert "keycloak.konoha.local" in ingresses  # the other web UIs keep theirs
    server = _values(artifacts, "vault")["server"]
    assert server["dev"] == {"enabled": True}
    assert "ha" not in server and "dataStorage" not in server


def test_the_reference_vault_is_standalone_and_keeps_its_web_ui(platform: Platform, artifacts: list[Artifact]) -> None:
    assert platform.spec.secrets.vault.mode == "standalone"  # the default, and what spec/konoha.yaml says
    assert "vault.konoha.local" in _ingresses(artifacts)
    assert "dev" not in _values(artifacts, "vault")["server"]
