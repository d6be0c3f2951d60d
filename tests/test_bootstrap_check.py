"""The bootstrap check (check/bootstrap.py) catches each class of defect that kept the platform from coming up:
each test re-introduces one into the reference build and expects an error naming both ends."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from konoha_gen.artifact import Artifact
from konoha_gen.check.bootstrap import check
from konoha_gen.components import registry
from konoha_gen.errors import OutputError
from konoha_gen.pipeline import compile_spec
from konoha_gen.resolved import Platform
from tests.conftest import SPEC


def _files(artifacts: list[Artifact]) -> dict[str, str]:
    return {a.path: a.content for a in artifacts}


def _replace(artifacts: list[Artifact], path: str, old: str, new: str) -> list[Artifact]:
    assert old in _files(artifacts)[path], (path, old)
    return [Artifact(a.path, a.content.replace(old, new), a.emitter) if a.path == path else a for a in artifacts]


def _messages(platform: Platform, artifacts: list[Artifact]) -> list[str]:
    return [f"{p.path}: {p.message}" for p in check(platform, artifacts)]


def test_the_reference_platform_comes_up_in_order(platform: Platform, artifacts: list[Artifact]) -> None:
    assert _messages(platform, artifacts) == []


def test_class_1_a_custom_resource_whose_crd_comes_with_the_same_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """VSO back in the security layer, beside the VaultConnection and Vault's readers: kustomize-controller's
    dry-run of the layer fails on 'no matches for kind' before anything is applied."""
    vso = next(d for d in registry.COMPONENTS if d.name == "vault-secrets-operator")
    moved = dataclasses.replace(vso, layer="security")
    monkeypatch.setattr(registry, "COMPONENTS", tuple(moved if d is vso else d for d in registry.COMPONENTS))
    with pytest.raises(OutputError) as failure:
        compile_spec(SPEC)
    messages = [p.message for p in failure.value.problems if p.check == "bootstrap"]
    expected = ("needs the CRD of secrets.hashicorp.com/VaultConnection, which only the same step provides "
                "(HelmRelease konoha-security/vault-secrets-operator")
    assert any("VaultConnection" in m and expected in m for m in messages), messages


def test_class_2_a_database_login_that_is_not_its_owner(platform: Platform, artifacts: list[Artifact]) -> None:
    """A random username: CloudNativePG refuses the Secret ('wrong username ... expected ...')."""
    broken = _replace(artifacts, "terraform/10-vault/secrets.tf", '"username" = "keycloak"',
                      '"username" = random_password.databases_keycloak["username"].result')
    [message] = _messages(platform, broken)
    assert message.startswith("platform/keycloak/manifests.yaml: step identity: Cluster konoha-identity/keycloak-db "
                              "(owner keycloak, Secret keycloak-databases-keycloak) needs a login at Vault path "
                              "databases/keycloak with username keycloak (the database owner), which no step provides")


def test_class_3_a_terraform_stage_configuring_a_server_its_own_apply_enables(
        platform: Platform, artifacts: list[Artifact]) -> None:
    """Keycloak's configuration in the Vault stage: the provider logs in at plan time, but Keycloak only starts
    once that same stage has written its secrets."""
    merged = [Artifact(a.path.replace("terraform/20-identity/", "terraform/10-vault/identity-"), a.content, a.emitter)
              for a in artifacts]
    messages = _messages(platform, merged)
    assert any(m.startswith("terraform/10-vault/identity-providers.tf: step vault-config: provider keycloak, which "
                            "logs in when configured needs keycloak running, which only the later step identity "
                            "provides (HelmRelease konoha-identity/keycloak)") for m in messages), messages


def test_class_4_git_credentials_only_vso_would_write(platform: Platform, artifacts: list[Artifact]) -> None:
    """A private repository whose Secret 00-cluster does not write: Flux deploys VSO from that repository."""
    private = _replace(artifacts, f"clusters/{platform.name}/flux-system/gotk-sync.yaml", "    branch: main\n",
                       "    branch: main\n  secretRef:\n    name: flux-gitops-ssh\n")
    [message] = _messages(platform, private)
    assert message == (f"clusters/{platform.name}/flux-system/gotk-sync.yaml: step sources: GitRepository "
                       f"{platform.name} (Flux's first fetch) needs Secret flux-system/flux-gitops-ssh, which no "
                       "step provides")
    via_vso = [*private, Artifact("platform/vault/git.yaml", yaml.safe_dump(
        {"apiVersion": "secrets.hashicorp.com/v1beta1", "kind": "VaultStaticSecret",
         "metadata": {"name": "flux-gitops-ssh", "namespace": "flux-system"},
         "spec": {"path": "gitops/deploy-key", "destination": {"name": "flux-gitops-ssh"}}}))]
    via_vso = _replace(via_vso, "platform/vault/kustomization.yaml", "- vault.yaml\n", "- vault.yaml\n- git.yaml\n")
    messages = _messages(platform, via_vso)
    assert any("needs Secret flux-system/flux-gitops-ssh, which only the later step security provides "
               "(VaultStaticSecret (platform/vault/git.yaml))" in m for m in messages), messages


def test_class_5_a_helm_hook_under_flux_wait(platform: Platform, artifacts: list[Artifact]) -> None:
    """Airflow's migration as a Helm hook: the install waits for the hook, which waits for the install."""
    values = "platform/airflow/values-airflow.yaml"
    text = _files(artifacts)[values]
    hooked = re.sub(r"(migrateDatabaseJob:\n(?:  .*\n)*?  useHelmHooks: )false", r"\1true", text)
    assert hooked != text
    messages = _messages(platform, [Artifact(values, hooked) if a.path == values else a for a in artifacts])
    assert any(m.startswith("platform/airflow/helmrelease-airflow.yaml: HelmRelease konoha-orchestration/airflow runs "
                            "a Helm hook under Flux's wait: migrateDatabaseJob.useHelmHooks is True") for m in messages)


def test_a_layer_waited_for_before_a_layer_it_depends_on(platform: Platform, artifacts: list[Artifact]) -> None:
    swapped = _replace(artifacts, "bootstrap.sh", "STEPS=(cluster sources operators",
                       "STEPS=(cluster operators sources")
    assert "bootstrap.sh: step operators runs before step sources, whose Kustomization it dependsOn" in \
        _messages(platform, swapped)


def test_a_build_without_the_script_names_what_is_missing(platform: Platform, artifacts: list[Artifact]) -> None:
    assert _messages(platform, [a for a in artifacts if a.path != "bootstrap.sh"]) == [
        "bootstrap.sh: no bootstrap script: nothing says in which order the platform comes up"]


def test_dev_mode_needs_no_unseal_step(tmp_path: Path) -> None:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(SPEC.read_text().replace("mode: standalone ", "mode: dev        "))
    compiled = compile_spec(spec)
    script = next(a.content for a in compiled.artifacts if a.path == "bootstrap.sh")
    assert "vault-unseal" not in re.search(r"^STEPS=\((.*)\)$", script, re.MULTILINE).group(1)  # type: ignore[union-attr]


def test_the_design_example_comes_up_in_order_but_does_not_fit_a_laptop(tmp_path: Path) -> None:
    """shared/design's example (vendored in tests/data), given the two CDC build inputs it predates: its bootstrap
    order is sound, and the budget refuses it as it stands (its etl profile alone asks for 9 executors of 4g)."""
    from konoha_gen.check import CheckOptions
    from konoha_gen.check.budget import check as budget_check
    from konoha_gen.emit import emit_all
    from konoha_gen.pipeline import compile_platform
    from tests.helpers import edit_spec, later_inputs

    def complete(spec: dict[str, Any]) -> None:
        connect = spec["spec"]["streaming"].setdefault("connect", {})
        connect["image"] = "registry.example.com/data/cdc-connect"
        connect["artifacts"] = {"iceberg-sink": {"url": "https://artifacts.example.com/iceberg-sink-1.11.0.zip"}}
        later_inputs(spec)
    example = tmp_path / "konoha.yaml"
    example.write_text(edit_spec((Path(__file__).parent / "data" / "konoha.example.yaml").read_text(), complete))
    platform = compile_platform(example)
    artifacts = emit_all(platform)
    assert _messages(platform, artifacts) == []
    [overflow] = budget_check(platform, artifacts, CheckOptions())
    assert overflow.message.startswith("the pods request more than the cluster offers (cpu: requests 27.7 > 6.65")
    assert "kyuubi-batch Spark executors | 9 |" in overflow.message


def test_a_sink_writing_to_a_bucket_no_earlier_step_creates(platform: Platform, artifacts: list[Artifact]) -> None:
    text = _files(artifacts)["terraform/30-storage/minio.tf"]
    without = re.sub(r'resource "minio_s3_bucket" "warehouse" \{\n  bucket = "warehouse"\n\}\n', "", text)
    assert without != text
    messages = _messages(platform, [Artifact(a.path, without) if a.path.endswith("30-storage/minio.tf") else a
                                    for a in artifacts])
    assert "platform/kafka-connect/manifests.yaml: step streaming: KafkaConnector konoha-streaming/shop-iceberg-sink " \
           "needs bucket warehouse, which no step provides" in messages
