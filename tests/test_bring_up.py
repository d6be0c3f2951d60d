"""What the tree needs to really come up on Minikube and be reached from the laptop (issue 12)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import hcl2
import yaml
from click.testing import CliRunner

from konoha_gen.artifact import Artifact
from konoha_gen.cli import main
from konoha_gen.emit import emit_all
from konoha_gen.pipeline import compile_platform
from konoha_gen.resolved import Platform
from tests.helpers import edit_spec


def _files(artifacts: list[Artifact]) -> dict[str, str]:
    return {a.path: a.content for a in artifacts}


def _values(artifacts: list[Artifact], folder: str, release: str) -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(_files(artifacts)[f"{folder}/values-{release}.yaml"])
    return values


def _unquote(node: Any) -> Any:
    """python-hcl2 keeps the quotes of keys and strings."""
    if isinstance(node, dict):
        return {_unquote(k): _unquote(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unquote(v) for v in node]
    return node[1:-1] if isinstance(node, str) and len(node) >= 2 and node[0] == node[-1] == '"' else node


def _build(tmp_path: Path, spec_text: str, change: Any) -> tuple[Platform, list[Artifact]]:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(edit_spec(spec_text, change))
    platform = compile_platform(spec)
    return platform, emit_all(platform)


def test_airflow_jobs_run_outside_helm_hooks(artifacts: list[Artifact]) -> None:
    values = _values(artifacts, "platform/airflow", "airflow")
    for job in ("migrateDatabaseJob", "createUserJob"):
        assert values[job]["useHelmHooks"] is False
        assert values[job]["applyCustomEnv"] is False
    assert values["createUserJob"]["enabled"] is False


def test_minio_console_maps_groups_onto_same_named_policies(platform: Platform, artifacts: list[Artifact]) -> None:
    assert _values(artifacts, "platform/minio", "minio")["oidc"]["claimName"] == "groups"
    tf = _unquote(hcl2.loads(_files(artifacts)["terraform/30-storage/minio.tf"]))
    policies = {body["name"]: body for block in tf["resource"] for kind, named in block.items()
                if kind == "minio_iam_policy" for body in named.values()}
    groups = [*platform.spec.identity.keycloak.groups, *(t.group for t in platform.tenants)]
    assert len(groups) > 3 and not set(groups) - set(policies)
    admin = policies[platform.spec.identity.keycloak.groups[0]]["policy"]
    reader = policies[platform.spec.identity.keycloak.groups[1]]["policy"]
    assert "admin:*" in admin and "s3:*" in admin
    assert "admin:*" not in reader and "s3:PutObject" not in reader and "s3:GetObject" in reader


def test_hive_warehouse_directory_is_the_bucket(platform: Platform, artifacts: list[Artifact]) -> None:
    assert platform.lakehouse is not None
    directory = _values(artifacts, "platform/hive-metastore", "hive-metastore")["s3"]["warehouseDirectory"]
    assert directory == platform.lakehouse.bucket and "://" not in directory and "/" not in directory


def test_traefik_is_a_load_balancer_and_the_readme_lists_every_ui_host(platform: Platform,
                                                                         artifacts: list[Artifact]) -> None:
    assert _values(artifacts, "infrastructure/traefik", "traefik")["service"]["spec"]["type"] == "LoadBalancer"
    readme = _files(artifacts)["README.md"]
    assert "minikube tunnel" in readme
    hosts_lines = [line.split() for line in readme.splitlines() if line.startswith("<EXTERNAL-IP> ")]
    assert len(hosts_lines) == 1
    assert sorted(hosts_lines[0][1:]) == sorted(ui.host for ui in platform.web_uis)
    assert len(platform.web_uis) > 5


def test_readme_port_forwards_every_provider_address(platform: Platform, artifacts: list[Artifact]) -> None:
    files = _files(artifacts)
    readme = files["README.md"]
    forwards = dict(re.findall(r"port-forward service/(\S+) (\d+):\d+", readme))
    keycloak = platform.component("keycloak").service
    assert keycloak is not None and forwards[keycloak.name] == "8080"
    assert f"port-forward service/{keycloak.name} 8080:{keycloak.port}" in readme
    providers = "".join(text for path, text in files.items()  # the provider address defaults of every stage
                        if path.startswith("terraform/") and path.endswith("/variables.tf"))
    for port in forwards.values():
        assert f"127.0.0.1:{port}" in providers
    assert len(forwards) == 3


def test_minikube_keeps_its_default_addons(artifacts: list[Artifact]) -> None:
    tf = _unquote(hcl2.loads(_files(artifacts)["terraform/00-cluster/main.tf"]))
    cluster = next(block["minikube_cluster"]["this"] for block in tf["resource"] if "minikube_cluster" in block)
    assert {"default-storageclass", "storage-provisioner"} <= set(cluster["addons"])


def test_connect_push_secret_is_a_docker_config_secret(tmp_path: Path, spec_text: str) -> None:
    def change(data: Any) -> None:
        data["spec"]["streaming"]["connect"]["pushSecret"] = "vault:registry/push"
        data["spec"]["secrets"]["external"].append("registry/push")

    platform, artifacts = _build(tmp_path, spec_text, change)
    reader = platform.secret_for("kafka-connect", "registry/push")
    assert reader.secret_type == "kubernetes.io/dockerconfigjson"
    assert dict(reader.templates) == {".dockerconfigjson": '{{ get .Secrets "dockerconfigjson" }}'}
    manifests = [d for a in artifacts if a.path.startswith("platform/kafka-connect/")
                 for d in yaml.safe_load_all(a.content) if isinstance(d, dict)]
    connect = next(d for d in manifests if d.get("kind") == "KafkaConnect")
    assert connect["spec"]["build"]["output"]["pushSecret"] == reader.secret_name
    # the push credential is not mounted into the workers for connectors to read
    assert reader.secret_name and reader.secret_name not in json.dumps(connect["spec"]["template"])
    static = next(d for d in manifests if d.get("kind") == "VaultStaticSecret"
                  and d["spec"]["destination"]["name"] == reader.secret_name)
    assert static["spec"]["destination"]["type"] == "kubernetes.io/dockerconfigjson"


def test_a_private_dags_repository_builds(tmp_path: Path, spec_text: str) -> None:
    def change(data: Any) -> None:
        data["spec"]["orchestration"]["airflow"]["dags"]["git"] = {
            "url": "git@github.com:acme/konoha-dags.git", "auth": "vault:airflow/git#id_ed25519",
            "knownHosts": "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}
        data["spec"]["secrets"]["external"].append("airflow/git")

    spec = tmp_path / "konoha.yaml"
    spec.write_text(edit_spec(spec_text, change))
    result = CliRunner().invoke(main, ["build", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    sync = yaml.safe_load((tmp_path / "out/platform/airflow/values-airflow.yaml").read_text())["dags"]["gitSync"]
    platform = compile_platform(spec)
    reader = platform.secret_for("airflow", "airflow/git")
    assert sync["sshKeySecret"] == reader.secret_name
    assert sync["knownHosts"].startswith("github.com ssh-ed25519 ")
    assert dict(reader.templates) == {"gitSshKey": '{{ get .Secrets "id_ed25519" }}'}  # the key the chart reads


def test_an_ssh_key_needs_an_ssh_url(tmp_path: Path, spec_text: str) -> None:
    def change(data: Any) -> None:
        data["spec"]["orchestration"]["airflow"]["dags"]["git"]["auth"] = "vault:airflow/git"

    spec = tmp_path / "konoha.yaml"
    spec.write_text(edit_spec(spec_text, change))
    result = CliRunner().invoke(main, ["build", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code != 0 and "ssh://" in result.output
