"""Validation rules: all errors at once, positions, hints, secrets never echoed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from konoha_gen.cli import main
from tests.helpers import edit_spec, later_inputs


def _build(tmp_path: Path, text: str, *extra: str) -> tuple[int, str]:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(text)
    result = CliRunner().invoke(main, ["build", str(spec), "--out", str(tmp_path / "out"), *extra])
    return result.exit_code, result.output


def test_all_shape_errors_are_reported_at_once(tmp_path: Path, spec_text: str) -> None:
    text = (spec_text.replace("brokers: 1", "brokers: many")
            .replace("shareLevel: SERVER", "shareLevel: PER_USER")
            .replace("kvMount: konoha", "kvMount: Konoha_KV"))
    code, output = _build(tmp_path, text)
    assert code == 2
    assert "spec.streaming.kafka.brokers: input should be a valid integer" in output
    assert ("spec.compute.kyuubi.servers[1].shareLevel: "
            "input should be 'CONNECTION', 'USER', 'GROUP' or 'SERVER'") in output
    assert "spec.secrets.vault.kvMount: 'Konoha_KV' is not valid: a name must be a DNS-1123 label" in output
    assert "3 error(s); nothing was written" in output
    assert not (tmp_path / "out").exists()


def test_all_reference_errors_are_reported_at_once(tmp_path: Path, spec_text: str) -> None:
    text = spec_text.replace("profile: etl", "profile: etll").replace("kyuubi: interactive", "kyuubi: interactiv")
    code, output = _build(tmp_path, text)
    assert code == 2
    assert "unknown Spark profile 'etll' (did you mean 'etl'? valid: etl, small)" in output
    assert ("spec.tenants[0].kyuubi: unknown Kyuubi server 'interactiv' "
            "(did you mean 'interactive'? valid: batch, interactive)") in output


def test_errors_point_at_the_line_and_column_of_the_node(tmp_path: Path, spec_text: str) -> None:
    text = spec_text.replace("profile: etl", "profile: nope")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "profile: nope" in row)
    column = text.splitlines()[line - 1].index("nope") + 1
    code, output = _build(tmp_path, text)
    assert code == 2
    assert f"konoha.yaml:{line}:{column}: error: spec.compute.kyuubi.servers[1].profile:" in output


def test_unknown_key_gets_a_suggestion_at_the_key(tmp_path: Path, spec_text: str) -> None:
    text = spec_text.replace("kubernetesVersion:", "kubernetesVerison:")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "kubernetesVerison" in row)
    code, output = _build(tmp_path, text)
    assert code == 2
    assert (f":{line}:5: error: spec.cluster.kubernetesVerison: "
            "unknown key (did you mean 'kubernetesVersion'?)") in output
    assert "spec.cluster: required" not in output  # the default applies; no knock-on error


def test_plaintext_credentials_are_refused_without_echoing_them(tmp_path: Path, spec_text: str) -> None:
    secret = "S3cr3t-Pa55w0rd-9f8e7d"
    text = spec_text.replace("credentials: vault:sources/shop", f"credentials: {secret}")
    code, output = _build(tmp_path, text, "--format", "json")
    assert code == 2
    assert secret not in output
    error = json.loads(output)["errors"][0]
    assert error["path"] == "spec.streaming.sources[0].credentials"
    assert "plaintext credential refused" in error["message"]
    assert error["hint"] == ("store the value in Vault with `vault kv put konoha/sources/shop username=... "
                             "password=...` "
                             "and write `credentials: vault:sources/shop` here")


def test_a_duplicate_key_error_does_not_echo_values(tmp_path: Path, spec_text: str) -> None:
    text = spec_text.replace("credentials: vault:sources/billing",
                             "credentials: vault:sources/billing\n        credentials: hunter2-literal")
    code, output = _build(tmp_path, text)
    assert code == 2
    assert "duplicate key 'credentials'" in output
    assert "hunter2" not in output


def test_a_reference_to_a_disabled_component_is_an_error(tmp_path: Path, spec_text: str) -> None:
    def disable_kyuubi(data: dict) -> None:  # type: ignore[type-arg]
        data["spec"]["compute"]["kyuubi"]["enabled"] = False

    code, output = _build(tmp_path, edit_spec(spec_text, disable_kyuubi))
    assert code == 2
    assert "spec.tenants[0].kyuubi: refers to Kyuubi, which is disabled (spec.compute.kyuubi.enabled: false)" in output
    assert "spec.modeling.dbt.projects[0].server: refers to Kyuubi, which is disabled" in output
    assert "spec.orchestration.airflow.connections[0].kyuubi: refers to Kyuubi, which is disabled" in output


def test_a_generated_secret_must_have_the_keys_its_reader_needs(tmp_path: Path, spec_text: str) -> None:
    def drop_password(data: dict) -> None:  # type: ignore[type-arg]
        data["spec"]["secrets"]["generate"][0]["keys"] = ["username"]

    code, output = _build(tmp_path, edit_spec(spec_text, drop_password))
    assert code == 2
    assert "spec.storage.objectStore.credentials: vault:minio/root is generated without key(s) password" in output


def test_derived_names_that_collide_are_errors(tmp_path: Path, spec_text: str) -> None:
    def same_slot(data: dict) -> None:  # type: ignore[type-arg]
        shop = data["spec"]["streaming"]["sources"][0]
        twin = dict(shop)
        twin["name"] = "shop2"
        twin["slot"] = "konoha_shop"
        data["spec"]["streaming"]["sources"].append(twin)

    code, output = _build(tmp_path, edit_spec(spec_text, same_slot))
    assert code == 2
    assert "spec.streaming.sources[2].slot: replication slot 'konoha_shop' is also used by source 'shop'" in output


def test_json_format_lists_every_error(tmp_path: Path, spec_text: str) -> None:
    text = spec_text.replace("brokers: 1", "brokers: x").replace("replicas: 1", "replicas: y")
    code, output = _build(tmp_path, text, "--format", "json")
    assert code == 2
    paths = [e["path"] for e in json.loads(output)["errors"]]
    assert paths == ["spec.streaming.kafka.brokers", "spec.streaming.connect.replicas"]


def test_validate_accepts_the_design_example_given_the_two_cdc_build_inputs(tmp_path: Path) -> None:
    """The design example predates the CDC issue, which made two inputs necessary that nothing can default:
    the registry Strimzi pushes the Connect image to and the Iceberg sink runtime (Apache publishes no
    artifact). Later issues added what the spec must say (tests.helpers.later_inputs): these are refused first, as
    cross-section errors; with all of them the example validates."""
    example = Path(__file__).resolve().parent / "data" / "konoha.example.yaml"  # shared/design's, vendored
    result = CliRunner().invoke(main, ["validate", str(example), "--format", "json"])
    errors = json.loads(result.output)["errors"] if result.exit_code else []
    assert [e["path"] for e in errors] in ([], ["spec.tenants[0].quota"], [
        "spec.modeling.dbt.projects[0].server", "spec.streaming.sources[0].target.partitionBy.public.orders[0]",
        "spec.orchestration.airflow.connections", "spec.tenants[1].kyuubi"])

    def complete(spec: Any) -> None:
        connect = spec["spec"]["streaming"].setdefault("connect", {})
        connect["image"] = "registry.example.com/data/cdc-connect"
        connect["artifacts"] = {"iceberg-sink": {"url": "https://artifacts.example.com/iceberg-kafka-connect-runtime-hive-1.11.0.zip"}}
        later_inputs(spec)
    completed = tmp_path / "konoha.yaml"
    completed.write_text(edit_spec(example.read_text(), complete))
    result = CliRunner().invoke(main, ["validate", str(completed)])
    assert result.exit_code == 0, result.output


def test_supported_kubernetes_versions_are_those_with_strict_schemas_in_the_installed_package() -> None:
    """Issue 14 M5: the spec accepts exactly the minor versions kubernetes-validate ships strict schemas for."""
    import kubernetes_validate

    from konoha_gen.check.k8s import SchemaSet
    from konoha_gen.model.cluster import supported_kubernetes_versions

    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    strict = {".".join(p.name[1:].split(".")[:2]) for p in base.iterdir() if p.name.endswith("-local-strict")}
    supported = supported_kubernetes_versions()
    assert set(supported) == strict and len(supported) >= 2
    for version in supported:
        assert SchemaSet(version).core_dir.name == f"v{version}.0-local-strict"
