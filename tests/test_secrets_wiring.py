"""Secrets end to end: VSO objects, Vault roles and policies, the wiring check and the secret scan."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from click.testing import CliRunner

from konoha_gen.artifact import Artifact
from konoha_gen.check import CheckOptions
from konoha_gen.check.k8s import SchemaSet, validate_text
from konoha_gen.check.secret_scan import scan
from konoha_gen.check.terraform import granted_reads, vault_roles_and_policies
from konoha_gen.check.wiring import check as wiring
from konoha_gen.cli import main
from konoha_gen.components.base import Release
from konoha_gen.resolved import Platform
from tests.conftest import ROOT, SPEC
from tests.helpers import edit_spec


def _replace(artifacts: list[Artifact], path: str, content: str) -> list[Artifact]:
    return [Artifact(a.path, content, a.emitter) if a.path == path else a for a in artifacts]


def test_the_reference_platform_is_wired(platform: Platform, artifacts: list[Artifact]) -> None:
    assert wiring(platform, artifacts) == []


def test_removing_a_vaultstaticsecret_fails_naming_the_consumer(platform: Platform, artifacts: list[Artifact]) -> None:
    path = "platform/minio/vault.yaml"
    docs = list(yaml.safe_load_all(next(a for a in artifacts if a.path == path).content))
    kept = [d for d in docs if not (d["kind"] == "VaultStaticSecret" and d["metadata"]["name"] == "minio-root")]
    assert len(kept) == len(docs) - 1
    problems = wiring(platform, _replace(artifacts, path, yaml.safe_dump_all(kept)))
    assert [(p.path, p.message) for p in problems] == [
        ("platform/minio/values-minio.yaml",
         "Secret 'minio-root' in namespace konoha-storage (at existingSecret) is produced by no VaultStaticSecret "
         "in that namespace and is not declared external"),
        # and the role now holds a grant nothing uses
        ("terraform/10-vault", "role konoha-minio is granted konoha/data/minio/root, which none of its "
         "VaultStaticSecrets reads (least privilege)")]


def test_a_secret_referenced_inside_a_yaml_string_is_wired_too(platform: Platform, artifacts: list[Artifact]) -> None:
    """keycloakx takes extraEnv as a YAML string; its secretKeyRefs count."""
    path = "platform/keycloak/vault.yaml"
    docs = [d for d in yaml.safe_load_all(next(a for a in artifacts if a.path == path).content)
            if d["metadata"]["name"] != "keycloak-admin"]
    messages = [p.message for p in wiring(platform, _replace(artifacts, path, yaml.safe_dump_all(docs)))]
    assert messages[:2] == [
        "Secret 'keycloak-admin' in namespace konoha-identity (at extraEnv.valueFrom.secretKeyRef) is produced by no "
        "VaultStaticSecret in that namespace and is not declared external"] * 2


def test_a_widened_policy_fails(platform: Platform, artifacts: list[Artifact]) -> None:
    path = "terraform/10-vault/vault.tf"
    text = next(a for a in artifacts if a.path == path).content
    widened = text.replace('    path "konoha/data/minio/root" {', '    path "konoha/data/sources/shop" {\n'
                           '      capabilities = ["read"]\n    }\n\n    path "konoha/data/minio/root" {', 1)
    assert widened != text
    problems = wiring(platform, _replace(artifacts, path, widened))
    assert [p.message for p in problems] == [
        "role konoha-minio is granted konoha/data/sources/shop, which none of its VaultStaticSecrets reads "
        "(least privilege)"]


def test_a_narrowed_policy_or_a_missing_role_fails(platform: Platform, artifacts: list[Artifact]) -> None:
    path = "terraform/10-vault/vault.tf"
    text = next(a for a in artifacts if a.path == path).content
    narrowed = text.replace('konoha/data/minio/root', 'konoha/data/minio/rot', 1)
    messages = [p.message for p in wiring(platform, _replace(artifacts, path, narrowed))]
    assert ("VaultStaticSecret minio-root reads konoha/data/minio/root, "
            "which the policies of role konoha-minio do not grant") in messages
    unbound = text.replace('role_name                        = "konoha-minio"', 'role_name                        = '
                                                                                '"konoha-minio2"')
    messages = [p.message for p in wiring(platform, _replace(artifacts, path, unbound))]
    assert "VaultAuth minio: role 'konoha-minio' is not defined in terraform/10-vault" in messages


def test_a_role_bound_to_another_service_account_fails(platform: Platform, artifacts: list[Artifact]) -> None:
    path = "terraform/10-vault/vault.tf"
    text = next(a for a in artifacts if a.path == path).content
    wrong = text.replace('bound_service_account_names      = ["trino-vault"]', 'bound_service_account_names      '
                                                                               '= ["default"]')
    messages = [p.message for p in wiring(platform, _replace(artifacts, path, wrong))]
    assert ("role konoha-trino is bound to ['default'] in ['konoha-access'], "
            "not exactly trino-vault in konoha-access") in messages


def test_policies_allow_exactly_what_each_workload_reads(platform: Platform, artifacts: list[Artifact]) -> None:
    """Policy evaluation: for each role, the KV paths its policies allow == the paths its workload reads."""
    roles, policies = vault_roles_and_policies([a for a in artifacts if a.path.startswith("terraform/10-vault/")])
    mount = platform.spec.secrets.vault.kv_mount
    reads: dict[str, set[str]] = {}
    for entry in platform.secrets:
        for reader in entry.readers:
            if reader.via_vso:
                reads.setdefault(f"{platform.name}-{reader.component}", set()).add(f"{mount}/data/{entry.path}")
    assert set(roles) == set(reads)
    for name, role in roles.items():
        allowed = set().union(*(policies[p] for p in role.policies))
        assert allowed == reads[name], name
        assert not any("*" in path or "+" in path for path in allowed)
        component = name.removeprefix(f"{platform.name}-")
        assert role.service_accounts == (f"{component}-vault",)
        assert role.namespaces == (platform.component(component).namespace,)


def test_policy_reading_ignores_paths_without_read() -> None:
    policy = 'path "kv/data/a" {\n  capabilities = ["read"]\n}\npath "kv/data/b" {\n  capabilities = ["list"]\n}\n'
    assert granted_reads(policy) == {"kv/data/a"}


def test_every_vso_object_validates_against_the_crd_schemas(platform: Platform, artifacts: list[Artifact]) -> None:
    schemas = SchemaSet("1.31")
    kinds: dict[str, int] = {}
    for artifact in artifacts:
        if artifact.path.endswith("/vault.yaml"):
            assert validate_text(artifact.path, artifact.content, schemas) == []
            for doc in yaml.safe_load_all(artifact.content):
                kinds[doc["kind"]] = kinds.get(doc["kind"], 0) + 1
    assert kinds["VaultConnection"] == 1
    assert kinds["VaultAuth"] == kinds["ServiceAccount"] == len(platform.vault_roles) == 9
    assert kinds["VaultStaticSecret"] == sum(r.via_vso for e in platform.secrets for r in e.readers)


def test_vaultstaticsecrets_restart_the_workloads_that_read_them(artifacts: list[Artifact]) -> None:
    docs = yaml.safe_load_all(next(a for a in artifacts if a.path == "platform/trino/vault.yaml").content)
    secret = next(d for d in docs if d["kind"] == "VaultStaticSecret")
    assert secret["spec"]["rolloutRestartTargets"] == [{"kind": "Deployment", "name": "trino-coordinator"},
                                                        {"kind": "Deployment", "name": "trino-worker"}]
    assert secret["spec"]["refreshAfter"] == "1h" and secret["spec"]["destination"]["name"] == "trino-minio-users-trino"


@pytest.mark.parametrize("module", ["00-cluster", "10-vault", "20-identity", "30-storage"])
def test_terraform_modules_are_fmt_clean_and_parse(module: str, tmp_path: Path, artifacts: list[Artifact]) -> None:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is required (it is on the development and CI machines)")
    files = [a for a in artifacts if a.path.startswith(f"terraform/{module}/")]
    assert files, f"the reference platform has no terraform/{module}"
    for artifact in files:
        (tmp_path / Path(artifact.path).name).write_text(artifact.content)
        hcl2.loads(artifact.content)
    fmt = subprocess.run(["terraform", "fmt", "-check", "-diff", str(tmp_path)], capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout


def test_generated_secrets_never_carry_values(artifacts: list[Artifact]) -> None:
    text = next(a for a in artifacts if a.path == "terraform/10-vault/secrets.tf").content
    assert 'resource "random_password" "minio_root"' in text
    assert "random_password.minio_root" in text and "data_json" in text


def test_keycloak_users_have_no_password_and_clients_write_vault(artifacts: list[Artifact]) -> None:
    text = next(a for a in artifacts if a.path == "terraform/20-identity/keycloak.tf").content
    parsed = hcl2.loads(text)
    users = [r for r in parsed["resource"] if '"keycloak_user"' in r]
    assert len(users) == 3
    for user in users:
        attributes = next(iter(next(iter(user.values())).values()))
        assert not {"initial_password", "password"} & set(attributes)
    assert 'name  = "oidc/grafana"' in text or '"oidc/grafana"' in text


def test_without_keycloak_no_keycloak_terraform(tmp_path: Path, spec_text: str) -> None:
    def off(data: dict[str, Any]) -> None:
        data["spec"]["identity"]["keycloak"]["enabled"] = False
        for tenant in data["spec"]["tenants"]:
            tenant["members"] = []

    spec = tmp_path / "konoha.yaml"
    spec.write_text(edit_spec(spec_text, off))
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(spec), "--out", str(out), "-q"]).exit_code == 0
    # no identity stage at all, and no other stage pins or configures Keycloak
    assert not (out / "terraform" / "20-identity").exists()
    assert sorted(p.name for p in (out / "terraform").iterdir()) == ["00-cluster", "10-vault", "30-storage"]
    for tf in sorted((out / "terraform").rglob("*.tf")):
        parsed = hcl2.loads(tf.read_text())
        blocks = [next(iter(b)).strip('"') for kind in ("resource", "data", "provider") for b in parsed.get(kind, [])]
        assert not [b for b in blocks if b.split("_")[0] == "keycloak"], tf
    assert "keycloak" not in (out / "terraform" / "10-vault" / "versions.tf").read_text()
    assert "keycloak" not in (out / "terraform" / "30-storage" / "versions.tf").read_text()
    assert "oidc" not in (out / "platform" / "minio" / "values-minio.yaml").read_text()


LEAKS = {
    "values.yaml": "auth:\n  rootPassword: Zx9kLm2Qp8wT\n",
    "token.yaml": "git:\n  token: ghp_1234567890abcdefghijABCDEFGHIJ123456\n",
    "catalog.yaml": "catalogs:\n  lake: |\n    s3.aws-secret-key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    "conf.properties": "s3.aws-secret-key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    "key.conf": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----\n",
    "vault.tf": 'provider "vault" {\n  token = "hvs.CAESIJ3lK9x2bQ7mTz8pR4vN1sW6yF0aE5cD"\n}\n',
    "connector.json": '{"config": {"database.password": "s3cr3t-P4ss"}}\n',
    "prepare.sql": "CREATE ROLE cdc LOGIN PASSWORD 'Sup3rS3cret!';\n",
    "aws.env": "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
    # no secretName beside it
    "s3.yaml": "s3:\n  bucket: lake\n  secretKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
}
REFERENCES = {
    "values.yaml": "existingSecret: minio-root\npasswordKey: password\nexistingClientSecretKey: client-secret\n"
                   "env:\n  - name: S\n    valueFrom:\n      secretKeyRef: {name: trino-minio, key: secret-key}\n",
    "catalog.yaml": "catalogs:\n  lake: |\n    s3.aws-secret-key=${ENV:S3_SECRET_KEY}\n",
    "connector.json": '{"config": {"database.password": "${file:/opt/kafka/external-configuration/shop/password}"}}\n',
    "spark.conf": "spark.hadoop.fs.s3a.secret.key=${env:S3_SECRET_KEY}\n",
    "vault.tf": 'resource "x" "y" {\n  password = random_password.a.result\n  token    = var.token\n}\n',
    "spec.yaml": "credentials: vault:sources/shop\n",
    "grafana.yaml": "envValueFrom:\n  GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET:\n    secretKeyRef: {name: grafana-oidc, "
                    "key: client-secret}\n",
    "airflow.yaml": "secret:\n  - envName: AIRFLOW_OIDC_CLIENT_SECRET\n    secretName: airflow-oidc-airflow\n"
                    "    secretKey: client-secret\n",
}


@pytest.mark.parametrize("name", sorted(LEAKS))
def test_the_secret_scan_catches_real_looking_credentials(name: str) -> None:
    problems = scan([Artifact(name, LEAKS[name])])
    assert problems, name
    for problem in problems:  # the finding never repeats the value
        assert not any(word in problem.message for word in ("Zx9k", "ghp_", "wJalr", "hvs.", "s3cr3t", "Sup3r", "AKIA"))


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_the_secret_scan_lets_references_through(name: str) -> None:
    assert scan([Artifact(name, REFERENCES[name])]) == []


def test_a_leaking_emitter_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from konoha_gen.components import registry, trino

    def leaky(*args: Any) -> dict[str, Any]:
        result = trino.values(*args)
        result["catalogs"]["iceberg"] += "s3.aws-secret-key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
        return result

    leaking = dataclasses.replace(trino.COMPONENT, releases=lambda p, c: [Release(c.name, leaky(p, c))])
    monkeypatch.setattr(registry, "COMPONENTS", tuple(leaking if d.name == "trino" else d for d in registry.COMPONENTS))
    result = CliRunner().invoke(main, ["build", str(SPEC), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "platform/trino/values-trino.yaml: error: [secret-scan]" in result.output
    assert "wJalr" not in result.output


def test_build_runs_the_wiring_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from konoha_gen.components import objects

    real = objects.vso_objects
    monkeypatch.setattr(objects, "vso_objects", lambda p, c: [d for d in real(p, c) if d["kind"] != "VaultStaticSecret"
                                                              or c.name != "metabase"])
    result = CliRunner().invoke(main, ["build", str(SPEC), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert ("platform/metabase/values-metabase.yaml: error: [wiring] Secret 'metabase-databases-metabase' in namespace "
            "konoha-access (at database.existingSecret)") in result.output
    _ = CheckOptions


def test_kafka_connect_reads_source_credentials_as_mounted_files(platform: Platform, artifacts: list[Artifact]) -> None:
    docs = list(yaml.safe_load_all(next(a for a in artifacts
                                        if a.path == "platform/kafka-connect/manifests.yaml").content))
    connect = next(d for d in docs if d["kind"] == "KafkaConnect")
    shop = platform.sources[0]
    assert connect["spec"]["config"]["config.providers.directory.class"] == \
        "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
    mounts = {m["name"]: m["mountPath"] for m in connect["spec"]["template"]["connectContainer"]["volumeMounts"]}
    assert platform.kafka is not None
    secret_dir = platform.kafka.secret_dir(shop.secret_name)
    assert mounts[shop.secret_name] == secret_dir == "/mnt/secrets/kafka-connect-sources-shop"
    # and the wiring check follows the volume to its VaultStaticSecret
    path = "platform/kafka-connect/vault.yaml"
    kept = [d for d in yaml.safe_load_all(next(a for a in artifacts if a.path == path).content)
            if d["metadata"]["name"] != shop.secret_name]
    messages = [p.message for p in wiring(platform, _replace(artifacts, path, yaml.safe_dump_all(kept)))]
    assert ("Secret 'kafka-connect-sources-shop' in namespace konoha-streaming (at spec.template.pod.volumes.secret) "
            "is produced by no VaultStaticSecret in that namespace and is not declared external") in messages


def test_minio_users_and_tenant_policies(platform: Platform, artifacts: list[Artifact]) -> None:
    text = next(a for a in artifacts if a.path == "terraform/30-storage/minio.tf").content
    parsed = hcl2.loads(text)
    users = {next(iter(r['"minio_iam_user"'])).strip('"') for r in parsed["resource"] if '"minio_iam_user"' in r}
    readers = {e.path.removeprefix("minio/users/").replace("-", "_") for e in platform.secrets
               if e.path.startswith("minio/users/")}
    assert users == readers == {"hive_metastore", "kafka_connect", "kyuubi", "trino"}
    # each user's keys are the ones terraform/10-vault generated into Vault, read back (never a literal)
    data = {next(iter(d['"vault_kv_secret_v2"'])).strip('"'): next(iter(d['"vault_kv_secret_v2"'].values()))
            for d in parsed["data"] if '"vault_kv_secret_v2"' in d}
    assert {name: block["name"].strip('"') for name, block in data.items()} == {
        f"minio_users_{user}": f"minio/users/{user.replace('_', '-')}" for user in readers}
    assert 'secret = data.vault_kv_secret_v2.minio_users_trino.data["secret-key"]' in text
    # tenants write only their namespaces' prefixes (Iceberg on Hive: <namespace>.db/)
    assert '"arn:aws:s3:::warehouse/marts.db/*"' in text
    analytics = text[text.index('resource "minio_iam_policy" "tenant_analytics"'):]
    analytics = analytics[: analytics.index("\n}\n")]
    assert "marts.db" in analytics and "raw.db" not in analytics and "staging.db" not in analytics
    assert 'expiration = "30d"' in text  # airflow-logs expireAfterDays: 30


def test_generated_database_logins_are_named_after_their_cnpg_owner() -> None:
    """CloudNativePG refuses a login Secret whose username is not bootstrap.initdb.owner: Terraform writes the
    owner as the username and generates only the password."""
    out = ROOT / "out"
    manifests = [d for f in sorted((out / "platform").glob("*/*.yaml")) if f.name in ("manifests.yaml", "vault.yaml")
                 for d in yaml.safe_load_all(f.read_text()) if d]
    clusters = [d for d in manifests if d["kind"] == "Cluster" and d["apiVersion"].startswith("postgresql.cnpg.io/")]
    statics = {(d["metadata"]["namespace"], d["spec"]["destination"]["name"]): d["spec"]["path"]
               for d in manifests if d["kind"] == "VaultStaticSecret"}
    parsed = hcl2.loads((out / "terraform" / "10-vault" / "secrets.tf").read_text())
    written = {next(iter(named.values()))["name"].strip('"'): next(iter(named.values()))["data_json"]
               for block in parsed["resource"] for kind, named in block.items() if kind == '"vault_kv_secret_v2"'}
    randomised = {next(iter(named)).strip('"'): next(iter(named.values()))["for_each"]
                  for block in parsed["resource"] for kind, named in block.items() if kind == '"random_password"'}
    assert len(clusters) == 4
    for cluster in clusters:
        initdb = cluster["spec"]["bootstrap"]["initdb"]
        path = statics[(cluster["metadata"]["namespace"], initdb["secret"]["name"])]
        assert path.startswith("databases/"), path
        usernames = re.findall(r'"username" = ("[^"]*"|[^,})]+)', written[path])
        assert usernames == [f'"{initdb["owner"]}"'], (path, written[path])  # a literal: the owner, not random
        assert re.search(r'"password" = random_password\.\w+\["password"\]\.result', written[path]), path
        resource = path.replace("/", "_").replace("-", "_")
        assert randomised[resource] == '${toset(["password"])}', path
    assert {c["spec"]["bootstrap"]["initdb"]["owner"] for c in clusters} == {"airflow", "hive_metastore", "keycloak",
                                                                             "metabase"}
