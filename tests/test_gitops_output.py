"""The generated GitOps tree against the real tools and upstream data:
kubectl kustomize, strict Kubernetes/CRD schemas, chart values, Terraform."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from click.testing import CliRunner

from konoha_gen.catalog import CHART_DATA_DIR
from konoha_gen.check.k8s import SchemaSet, validate_text, validate_tree
from konoha_gen.check.values import VENDORED_CHARTS, check_values
from konoha_gen.cli import main
from tests.conftest import ROOT, SPEC

OUT = ROOT / "out"


def flux_kustomizations() -> list[dict[str, Any]]:
    docs = []
    for file in sorted((OUT / "clusters").rglob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(file.read_text()) if d and d.get("kind") == "Kustomization"
                 and d["apiVersion"].startswith("kustomize.toolkit.fluxcd.io")]
    return docs


def test_every_flux_kustomization_path_builds_with_kubectl_kustomize() -> None:
    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is required (it is on the development and CI machines)")
    paths = sorted({d["spec"]["path"] for d in flux_kustomizations()})
    assert len(paths) >= 10
    for path in paths:
        local = ROOT / path.removeprefix("./")  # spec.gitops.path is "out": paths are relative to the repo root
        result = subprocess.run(["kubectl", "kustomize", str(local)], capture_output=True, text=True)
        assert result.returncode == 0, f"{path}: {result.stderr}"
        assert "kind:" in result.stdout


def test_a_values_change_renames_the_configmap_the_helmrelease_reads() -> None:
    built = subprocess.run(["kubectl", "kustomize", str(OUT / "platform" / "trino")], capture_output=True, text=True,
                           check=True).stdout
    docs = list(yaml.safe_load_all(built))
    configmap = next(d for d in docs if d["kind"] == "ConfigMap")
    release = next(d for d in docs if d["kind"] == "HelmRelease")
    assert re.fullmatch(r"trino-values-[a-z0-9]{10}", configmap["metadata"]["name"])
    assert release["spec"]["valuesFrom"][0]["name"] == configmap["metadata"]["name"]


def test_flux_dependency_graph_is_acyclic_and_resolves() -> None:
    layers = {d["metadata"]["name"]: [x["name"] for x in d["spec"].get("dependsOn", [])]
              for d in flux_kustomizations() if d["metadata"]["name"] != "konoha"}
    for name, deps in layers.items():
        assert set(deps) <= set(layers), f"{name} depends on unknown {set(deps) - set(layers)}"
    done: list[str] = []
    while len(done) < len(layers):
        ready = [n for n, deps in layers.items() if n not in done and set(deps) <= set(done)]
        assert ready, f"cycle among {set(layers) - set(done)}"
        done += sorted(ready)
    assert done[0] == "sources"
    assert layers["security"] == ["sources", "operators"]
    assert "metastore" in layers["access"] and "metastore" in layers["compute"]
    for doc in flux_kustomizations():
        spec = doc["spec"]
        assert spec["prune"] is True and spec["interval"] == "1m" and spec["timeout"]
        if doc["metadata"]["name"] in layers:  # the layers; the root only applies them
            assert spec.get("wait") is True or spec.get("healthChecks")


def test_every_document_validates_strictly_against_upstream_schemas() -> None:
    count, problems = validate_tree(OUT, SchemaSet("1.31"))
    assert [p.format() for p in problems] == []
    assert count >= 80


def test_an_unknown_field_in_a_helmrelease_is_rejected() -> None:
    text = (OUT / "platform" / "trino" / "helmrelease-trino.yaml").read_text()
    assert validate_text("hr.yaml", text, SchemaSet("1.31")) == []
    broken = text.replace("  releaseName: trino\n", "  releaseName: trino\n  valuesFile: values.yaml\n")
    problems = validate_text("hr.yaml", broken, SchemaSet("1.31"))
    assert [p.format() for p in problems] == [
        "hr.yaml:0: HelmRelease/trino: spec: Additional properties are not allowed ('valuesFile' was unexpected)"]


def test_core_kinds_are_validated_strictly_and_a_kind_without_schema_fails() -> None:
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  labelz: {}\n"
    problems = validate_text("ns.yaml", namespace, SchemaSet("1.31"))
    assert len(problems) == 1 and problems[0].field == "metadata" and "labelz" in problems[0].message
    unknown = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
    [problem] = validate_text("w.yaml", unknown, SchemaSet("1.31"))
    assert problem.message.startswith("no schema for example.com/v1 Widget")


def test_build_refuses_output_with_an_unknown_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from konoha_gen.emit import components

    real = components._helm_release

    def typo(*args: Any) -> dict[str, Any]:
        doc = real(*args)
        doc["spec"]["intervall"] = "5m"
        return doc

    monkeypatch.setattr(components, "_helm_release", typo)
    result = CliRunner().invoke(main, ["build", str(SPEC), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert ("platform/trino/helmrelease-trino.yaml: error: [schema] 0: HelmRelease/trino: spec: "
            "Additional properties are not allowed ('intervall' was unexpected)") in result.output
    assert not (tmp_path / "out").exists()


def test_validate_output_command_reports_documents_and_throughput() -> None:
    result = CliRunner().invoke(main, ["validate", str(SPEC), "--output", str(OUT)])
    assert result.exit_code == 0, result.output
    assert re.search(r"\d+ documents, 0 problem\(s\), Kubernetes 1\.31 \(\d+ documents/s\)", result.output)


def values_files() -> list[Path]:
    return sorted(OUT.rglob("values-*.yaml"))


@pytest.mark.parametrize("file", values_files(), ids=lambda p: p.name)
def test_every_values_file_passes_its_chart_check(file: Path) -> None:
    charts = VENDORED_CHARTS
    values = yaml.safe_load(file.read_text())
    assert check_values(charts, CHART_DATA_DIR[file.parent.name], values) == []


#: One misspelt key per chart, where the chart's schema or values.yaml must catch it.
MISSPELT = {
    "vault": ("server", "dev", "enabeld"),
    "vault-secrets-operator": ("defaultVaultConnection", "adress"),
    "minio": ("persistance",),
    "hive-metastore": ("db", "hots"),
    "cloudnative-pg": ("crds", "craete"),
    "strimzi": ("watchAnyNamespaces",),
    "kyuubi": ("server", "thriftBinary", "prot"),
    "airflow": ("dags", "gitSync", "branchh"),
    "trino": ("server", "worker"),
    "metabase": ("databse",),
    "keycloak": ("database", "hostnme"),
    "kube-prometheus-stack": ("prometheus", "prometheusSpec", "retension"),
    "traefik": ("ingressClass", "isDefault"),
}


def test_every_chart_has_a_misspelling_case() -> None:
    assert set(MISSPELT) == {f.parent.name for f in values_files()}


@pytest.mark.parametrize("component", sorted(MISSPELT))
def test_a_misspelt_key_is_caught_per_chart(component: str) -> None:
    charts = VENDORED_CHARTS
    file = next(f for f in values_files() if f.parent.name == component)
    values = yaml.safe_load(file.read_text())
    *parents, leaf = MISSPELT[component]
    node = values
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = "x"
    problems = check_values(charts, CHART_DATA_DIR[component], values)
    assert problems and any(leaf in p for p in problems), problems


def test_grafana_subchart_values_are_checked_against_the_grafana_chart() -> None:
    charts = VENDORED_CHARTS
    values = {"grafana": {"enabled": True, "admin": {"existingSecret": "g"}, "adminPasword": "x"}}
    assert check_values(charts, "kube-prometheus-stack", values) == ["grafana.adminPasword: key not in "
                                                                     "grafana's values.yaml"]


def _leaves(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, (*path, str(key)))]
    if isinstance(node, list):
        return [leaf for item in node for leaf in _leaves(item, path)]
    return [(path, node)]


def test_no_credential_literal_in_out() -> None:
    """Charts' plaintext secret keys are never set; credentials appear only as Secret references."""
    charts = VENDORED_CHARTS
    catalog = {e["dir"]: e for e in json.loads((charts / "catalog.json").read_text())["charts"]}
    for file in values_files():
        chart = CHART_DATA_DIR[file.parent.name]
        plaintext = {tuple(k.split(" ")[0].replace("[]", "").split(".")) for k in catalog[chart]["plaintext_keys"]}
        for path, _value in _leaves(yaml.safe_load(file.read_text())):
            assert path not in plaintext, f"{file}: sets plaintext key {'.'.join(path)}"
    from konoha_gen.artifact import Artifact
    from konoha_gen.check.secret_scan import scan

    files = [Artifact(f.relative_to(OUT).as_posix(), f.read_text()) for f in sorted(OUT.rglob("*"))
             if f.is_file() and f.name != "konoha.lock.json"]
    assert len(files) > 100
    assert [p.format() for p in scan(files)] == []


@pytest.mark.parametrize("provider", ["minikube", "existing"])
def test_terraform_is_fmt_clean_and_parses(provider: str, tmp_path: Path, spec_text: str) -> None:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is required (it is on the development and CI machines)")
    spec = tmp_path / "konoha.yaml"
    spec.write_text(spec_text.replace("provider: minikube", f"provider: {provider}"))
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(spec), "--out", str(out), "-q"]).exit_code == 0
    module = out / "terraform" / "00-cluster"
    fmt = subprocess.run(["terraform", "fmt", "-check", "-diff", str(module)], capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout
    parsed = {f.name: hcl2.loads(f.read_text()) for f in sorted(module.glob("*.tf"))}
    providers = parsed["versions.tf"]["terraform"][0]["required_providers"][0]
    versions = {name: spec["version"].strip("\"") for name, spec in providers.items() if isinstance(spec, dict)}
    assert versions == ({"minikube": "0.5.3", "helm": "3.1.1", "kubectl": "2.1.3"} if provider == "minikube"
                        else {"helm": "3.1.1", "kubectl": "2.1.3"})
    resources = {next(iter(r)).strip('"') for r in parsed["main.tf"]["resource"]}
    assert resources == ({"minikube_cluster", "helm_release", "kubectl_manifest"} if provider == "minikube"
                         else {"helm_release", "kubectl_manifest"})
    main_tf = (module / "main.tf").read_text()
    assert '"2.18.3"' in main_tf and "../../clusters/konoha/flux-system/gotk-sync.yaml" in main_tf
    if provider == "minikube":  # nodes.memory 16Gi and disk 60Gi reach minikube in MiB
        variables = (module / "variables.tf").read_text()
        assert "default     = 16384" in variables and "default     = 61440" in variables


def test_airflow_connections_point_at_the_resolved_services() -> None:
    values = yaml.safe_load((OUT / "platform" / "airflow" / "values-airflow.yaml").read_text())
    env = {e["name"]: e["value"] for e in values["env"]}
    assert env == {
        "AIRFLOW_CONN_KYUUBI_BATCH": "hiveserver2://airflow@kyuubi-batch-thrift-binary.konoha-compute.svc.cluster.local:10009/default",
        "AIRFLOW_CONN_TRINO_ICEBERG": "trino://airflow@trino.konoha-access.svc.cluster.local:8080/iceberg",
    }
