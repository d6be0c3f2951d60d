"""Spark pod templates and the tenants' Vault-managed spark.env (Kyuubi session profiles)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from konoha_gen.artifact import Artifact
from konoha_gen.check.k8s import SchemaSet, validate_text
from konoha_gen.check.terraform import vault_roles_and_policies
from konoha_gen.emit import emit_all
from konoha_gen.pipeline import compile_platform
from konoha_gen.resolved import Platform
from tests.conftest import SPEC
from tests.helpers import edit_spec


@pytest.fixture(scope="module")
def files(artifacts: list[Artifact]) -> dict[str, str]:
    return {a.path: a.content for a in artifacts}


def _values(files: dict[str, str], release: str) -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(files[f"platform/kyuubi/values-{release}.yaml"])
    return values


def test_pod_templates_are_referenced_mounted_and_valid_pods(platform: Platform, files: dict[str, str]) -> None:
    schemas = SchemaSet(platform.spec.cluster.kubernetes_version, None)
    for role in ("driver", "executor"):
        text = files[f"spark/{role}-pod-template.yaml"]
        assert validate_text(f"spark/{role}-pod-template.yaml", text, schemas) == []
        pod = yaml.safe_load(text)
        assert pod["spec"]["containers"][0]["name"] == f"spark-kubernetes-{role}"
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        for conf in ("spark/etl.spark-defaults.conf", "spark/small.spark-defaults.conf"):
            assert f"spark.kubernetes.{role}.podTemplateFile=/opt/spark/conf/{role}-pod-template.yaml\n" in files[conf]
            assert f"spark.kubernetes.{role}.podTemplateContainerName=spark-kubernetes-{role}\n" in files[conf]
        for server in platform.kyuubi:  # spark-submit runs in the Kyuubi pod: the file must be in its SPARK_CONF_DIR
            mounted = _values(files, server.release)["sparkConf"]
            assert mounted["files"][f"{role}-pod-template.yaml"] == text.split("\n",
                                                                               1)[1]  # the same, without the header


def test_each_tenant_spark_env_is_a_vso_file_in_every_kyuubi_server(platform: Platform, files: dict[str, str]) -> None:
    statics = {d["metadata"]["name"]: d for d in yaml.safe_load_all(files["platform/kyuubi/vault.yaml"])
               if d["kind"] == "VaultStaticSecret"}
    for tenant in ("analytics", "ingestion"):
        secret = statics[f"kyuubi-tenants-{tenant}-spark-env"]
        assert secret["spec"]["path"] == f"tenants/{tenant}/spark-env"
        templates = secret["spec"]["destination"]["transformation"]["templates"]
        assert list(templates) == [f"kyuubi-session-{tenant}.conf"]
        for server in platform.kyuubi:
            values = _values(files, server.release)
            volume = next(v for v in values["volumes"] if v["name"] == f"session-{tenant}")
            assert volume["secret"] == {"secretName": f"kyuubi-tenants-{tenant}-spark-env", "optional": True}
            mount = next(m for m in values["volumeMounts"] if m["name"] == f"session-{tenant}")
            assert mount["mountPath"] == f"/opt/kyuubi/conf/kyuubi-session-{tenant}.conf"
            assert mount["subPath"] == f"kyuubi-session-{tenant}.conf"
            assert "kyuubi.session.conf.advisor=org.apache.kyuubi.session.FileSessionConfAdvisor\n" in \
                files[f"spark/{server.release}.kyuubi-defaults.conf"]
    roles, policies = vault_roles_and_policies([Artifact(p, c) for p, c in files.items()
                                                if p.startswith("terraform/10-vault/")])
    kyuubi = roles["konoha-kyuubi"]
    granted = set().union(*(policies[p] for p in kyuubi.policies))
    assert {"konoha/data/tenants/analytics/spark-env", "konoha/data/tenants/ingestion/spark-env"} <= granted


def test_the_template_renders_every_vault_key_as_a_property_line(files: dict[str, str]) -> None:
    static = next(d for d in yaml.safe_load_all(files["platform/kyuubi/vault.yaml"])
                  if d["kind"] == "VaultStaticSecret" and d["metadata"]["name"] == "kyuubi-tenants-analytics-spark-env")
    text = static["spec"]["destination"]["transformation"]["templates"]["kyuubi-session-analytics.conf"]["text"]
    assert text == "{{- range $key, $value := .Secrets }}{{ $key }}={{ $value }}\n{{ end }}"


def test_dbt_targets_use_the_profile_of_the_tenant_writing_their_schema(tmp_path: Path, files: dict[str, str]) -> None:
    profiles = yaml.safe_load(files["dbt/profiles.yml"])
    output = profiles["analytics"]["outputs"]["interactive"]
    assert output["schema"] == "marts"
    assert output["server_side_parameters"] == {"kyuubi.session.conf.profile": "analytics"}  # analytics writes marts

    def no_tenants(spec: Any) -> None:
        del spec["spec"]["tenants"]
        del spec["spec"]["identity"]
    path = tmp_path / "konoha.yaml"
    path.write_text(edit_spec(SPEC.read_text(), no_tenants))
    alone = {a.path: a.content for a in emit_all(compile_platform(path))}
    assert "server_side_parameters" not in alone["dbt/profiles.yml"]
    assert "FileSessionConfAdvisor" not in alone["spark/kyuubi-batch.kyuubi-defaults.conf"]
    assert "tenants/" not in alone["platform/kyuubi/vault.yaml"]


def test_kyuubi_runs_the_image_variant_that_carries_spark(platform: Platform, files: dict[str, str]) -> None:
    for server in platform.kyuubi:  # spark-submit runs in the Kyuubi pod; the plain image has no SPARK_HOME
        assert _values(files, server.release)["image"] == {"tag": "1.12.0-spark"}
