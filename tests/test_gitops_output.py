"""The generated GitOps tree against the real tools and upstream data:
kubectl kustomize, strict Kubernetes/CRD schemas, chart values, Terraform."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from click.testing import CliRunner

from konoha_gen.catalog import CHART_DATA_DIR, TERRAFORM_PROVIDERS
from konoha_gen.chart_data import VENDORED_CHARTS
from konoha_gen.check.k8s import SchemaSet, validate_text, validate_tree
from konoha_gen.check.values import check_values
from konoha_gen.cli import main
from konoha_gen.emit.terraform import identifier
from tests.conftest import ROOT, SPEC
from tests.helpers import edit_spec

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


def _blocks(parsed: dict[str, Any], kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, name, body) of every `kind` block ("resource", "data") of a python-hcl2 parse (labels unquoted)."""
    return [(rtype.strip('"'), name.strip('"'), body) for block in parsed.get(kind, [])
            for rtype, named in block.items() for name, body in named.items()]


def _blocks_of(stage: dict[str, dict[str, Any]], kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [block for parsed in stage.values() for block in _blocks(parsed, kind)]


def _stage(folder: Path) -> dict[str, dict[str, Any]]:
    return {f.name: hcl2.loads(f.read_text()) for f in sorted(folder.glob("*.tf"))}


def _configured_providers(stage: dict[str, dict[str, Any]]) -> set[str]:
    return {next(iter(block)).strip('"') for parsed in stage.values() for block in parsed.get("provider", [])}


def _used_providers(stage: dict[str, dict[str, Any]]) -> set[str]:
    """Providers a stage uses: those it configures, and those whose resources or data sources it declares."""
    types = {rtype for parsed in stage.values() for kind in ("resource", "data")
             for rtype, _, _ in _blocks(parsed, kind)}
    return _configured_providers(stage) | {rtype.split("_", 1)[0] for rtype in types}


def _pinned(stage: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str]]:
    assert "versions.tf" in stage, "a stage without versions.tf lets `terraform init` guess hashicorp/<name> sources"
    providers = stage["versions.tf"]["terraform"][0]["required_providers"][0]
    return {name: (spec["source"].strip('"'), spec["version"].strip('"')) for name, spec in providers.items()
            if isinstance(spec, dict)}


STAGES = ("00-cluster", "10-vault", "20-identity", "30-storage")


def test_terraform_resource_names_are_identifiers_terraform_accepts(tmp_path: Path) -> None:
    """Resource names are bare HCL identifiers (references name them unquoted, so no quoting can help): whatever
    the name they come from, even a DNS label starting with a digit, Terraform reads them back as names."""
    names = sorted({identifier(name) for name in ("1data", "minio/users/kyuubi", "a-b.c", "Δ", "")})
    (tmp_path / "main.tf").write_text("locals {\n" + "".join(f"  {n} = 1\n" for n in names) + "}\n"
                                      'output "names" {\n  value = [' + ", ".join(f"local.{n}" for n in names)
                                      + "]\n}\n")
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull}
    applied = subprocess.run(["terraform", "apply", "-auto-approve", "-input=false", "-no-color"], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=120)
    assert applied.returncode == 0, applied.stdout + applied.stderr


@pytest.mark.parametrize("provider", ["minikube", "existing"])
def test_terraform_is_fmt_clean_and_parses(provider: str, tmp_path: Path, spec_text: str) -> None:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is required (it is on the development and CI machines)")
    spec = tmp_path / "konoha.yaml"
    spec.write_text(spec_text.replace("provider: minikube", f"provider: {provider}"))
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(spec), "--out", str(out), "-q"]).exit_code == 0
    assert sorted(p.name for p in (out / "terraform").iterdir()) == list(STAGES)
    stages = {}
    for name in STAGES:
        module = out / "terraform" / name
        fmt = subprocess.run(["terraform", "fmt", "-check", "-diff", str(module)], capture_output=True, text=True)
        assert fmt.returncode == 0, fmt.stdout
        stages[name] = _stage(module)
    # every stage pins exactly the providers it uses, at the catalogue's versions
    for name, stage in stages.items():
        pinned = _pinned(stage)
        assert set(pinned) == _used_providers(stage), name
        assert pinned == {p: (TERRAFORM_PROVIDERS[p].source, TERRAFORM_PROVIDERS[p].version) for p in pinned}, name
    cluster = stages["00-cluster"]
    versions = {name: version for name, (_source, version) in _pinned(cluster).items()}
    assert versions == ({"minikube": "0.5.3", "helm": "3.1.1", "kubectl": "2.1.3"} if provider == "minikube"
                        else {"helm": "3.1.1", "kubectl": "2.1.3"})
    assert set(_pinned(stages["10-vault"])) == {"vault", "random"}
    assert set(_pinned(stages["20-identity"])) == {"vault", "keycloak"}
    assert set(_pinned(stages["30-storage"])) == {"vault", "minio"}
    resources = {rtype for rtype, _, _ in _blocks(cluster["main.tf"], "resource")}
    assert resources == ({"minikube_cluster", "helm_release", "kubectl_manifest"} if provider == "minikube"
                         else {"helm_release", "kubectl_manifest"})
    module = out / "terraform" / "00-cluster"
    main_tf = (module / "main.tf").read_text()
    assert '"2.18.3"' in main_tf and "../../clusters/konoha/flux-system/gotk-sync.yaml" in main_tf
    if provider == "minikube":  # nodes.memory 16Gi and disk 60Gi reach minikube in MiB
        variables = (module / "variables.tf").read_text()
        assert "default     = 16384" in variables and "default     = 61440" in variables


def _variables(stage: dict[str, dict[str, Any]]) -> set[str]:
    return {next(iter(v)).strip('"') for v in stage.get("variables.tf", {}).get("variable", [])}


def test_no_terraform_stage_configures_a_provider_for_a_server_its_own_apply_enables() -> None:
    """A provider logs in to its server when configured (at plan time): Vault runs before 10-vault, but Keycloak
    and MinIO start only once 10-vault has written their secrets, so only the later stages may configure them."""
    stages = {name: _stage(OUT / "terraform" / name) for name in STAGES}
    resources = {name: _blocks_of(stage, "resource") for name, stage in stages.items()}
    data = {name: _blocks_of(stage, "data") for name, stage in stages.items()}
    # 10-vault writes what Keycloak and MinIO start with, so it talks to no Keycloak or MinIO
    written = {body["name"].strip('"') for rtype, _, body in resources["10-vault"] if rtype == "vault_kv_secret_v2"}
    assert {"keycloak/admin", "minio/root"} <= written
    assert _configured_providers(stages["10-vault"]) == {"vault"}
    assert not [t for t, _, _ in resources["10-vault"] + data["10-vault"] if t.startswith(("keycloak_", "minio_"))]
    assert _configured_providers(stages["00-cluster"]) <= {"minikube", "helm", "kubectl"}
    # the later stages configure nothing in Vault: no mount, auth method, policy or role
    for name in ("20-identity", "30-storage"):
        vault_types = {t for t, _, _ in resources[name] if t.startswith("vault_")}
        assert not vault_types & {"vault_mount", "vault_auth_backend", "vault_kubernetes_auth_backend_config",
                                  "vault_kubernetes_auth_backend_role", "vault_policy"}, name
        assert {t for t, _, _ in data[name]} == {"vault_kv_secret_v2"}, name  # read-only Vault use
    # 20-identity writes only the client secrets Keycloak generates; 30-storage writes nothing to Vault
    identity_writes = [body["name"].strip('"') for t, _, body in resources["20-identity"] if t.startswith("vault_")]
    assert identity_writes and all(path.startswith("oidc/") for path in identity_writes)
    assert {t for t, _, _ in resources["20-identity"] if t.startswith("vault_")} == {"vault_kv_secret_v2"}
    assert not [t for t, _, _ in resources["30-storage"] if t.startswith("vault_")]
    # their admin logins come from Vault data sources, not from variables
    logins = {"20-identity": ("keycloak", "keycloak/admin", ("username", "password")),
              "30-storage": ("minio", "minio/root", ("minio_user", "minio_password"))}
    for name, (provider, path, fields) in logins.items():
        assert _configured_providers(stages[name]) == {"vault", provider}
        (block,) = [b for parsed in stages[name].values() for b in parsed.get("provider", [])
                    if next(iter(b)).strip('"') == provider]
        body = next(iter(block.values()))
        (source,) = [n for t, n, b in data[name] if b["name"].strip('"') == path]
        for key in fields:
            assert body[key].startswith(f"${{data.vault_kv_secret_v2.{source}.data["), (name, key)
        assert not [v for v in _variables(stages[name]) if "password" in v or "user" in v or "token" in v], name


def test_with_gitops_auth_00_cluster_writes_the_git_repository_secret_first(tmp_path: Path, spec_text: str) -> None:
    def private(data: Any) -> None:
        data["spec"]["gitops"]["auth"] = "vault:gitops/deploy-key"
        data["spec"]["secrets"].setdefault("external", []).append("gitops/deploy-key")

    spec = tmp_path / "konoha.yaml"
    spec.write_text(edit_spec(spec_text, private))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(spec), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    sync = list(yaml.safe_load_all((out / "clusters" / "konoha" / "flux-system" / "gotk-sync.yaml").read_text()))
    (repository,) = [d for d in sync if d and d["kind"] == "GitRepository"]
    secret = repository["spec"]["secretRef"]["name"]
    stage = _stage(out / "terraform" / "00-cluster")
    manifests = {name: body for t, name, body in _blocks_of(stage, "resource") if t == "kubectl_manifest"}
    assert set(manifests) == {"git_auth", "sync"}
    body = manifests["git_auth"]["yaml_body"]
    assert 'kind = "Secret"' in body
    metadata = re.search(r'metadata = \{name = "([^"]+)", namespace = "([^"]+)"\}', body)
    assert metadata is not None and metadata.groups() == (secret, "flux-system")
    # the key and known_hosts come from files the operator supplies, never from git or a literal
    assert "filebase64(var.git_identity_file)" in body and "filebase64(var.git_known_hosts_file)" in body
    assert {"git_identity_file", "git_known_hosts_file"} <= _variables(stage)
    assert manifests["git_auth"]["sensitive_fields"] == ['"data"']
    assert "${kubectl_manifest.git_auth}" in manifests["sync"]["depends_on"]  # Flux's first fetch finds it
    # without gitops.auth (the reference platform), 00-cluster writes no Secret and asks for no key
    reference = _stage(OUT / "terraform" / "00-cluster")
    assert [n for t, n, _ in _blocks_of(reference, "resource") if t == "kubectl_manifest"] == ["sync"]
    assert not {"git_identity_file", "git_known_hosts_file"} & _variables(reference)


def test_every_helmrelease_retries_install_and_upgrade_on_failure() -> None:
    releases = [d for f in sorted(OUT.rglob("helmrelease-*.yaml")) for d in yaml.safe_load_all(f.read_text())
                if d and d["kind"] == "HelmRelease"]
    assert len(releases) >= 13
    for release in releases:
        for action in ("install", "upgrade"):
            spec = release["spec"][action]
            assert spec["strategy"] == {"name": "RetryOnFailure", "retryInterval": "2m"}, release["metadata"]["name"]
            assert "remediation" not in spec, release["metadata"]["name"]  # RemediateOnFailure's retries run out


#: API groups the cluster serves without any CRD (the layers use these).
BUILT_IN_GROUPS = frozenset({"", "apps", "batch", "policy", "autoscaling", "networking.k8s.io",
                             "rbac.authorization.k8s.io", "storage.k8s.io"})
#: Flux's own kinds: their CRDs come with the flux2 chart that terraform/00-cluster installs, before any layer.
FLUX_GROUP_SUFFIX = ".toolkit.fluxcd.io"
#: The API groups whose CRDs each chart installs (upstream: the charts' crds/ folders and CRD templates).
CHART_CRD_GROUPS = {
    "vault-secrets-operator": {"secrets.hashicorp.com"},
    "cloudnative-pg": {"postgresql.cnpg.io"},
    "strimzi-kafka-operator": {"kafka.strimzi.io", "core.strimzi.io"},
    "kube-prometheus-stack": {"monitoring.coreos.com"},
    "traefik": {"traefik.io", "hub.traefik.io"},
}


def _chart(release: dict[str, Any]) -> str:
    spec = release["spec"]
    return str(spec["chartRef"]["name"] if "chartRef" in spec else spec["chart"]["spec"]["chart"].rsplit("/", 1)[-1])


def _ancestors(layer: str, needs: dict[str, list[str]]) -> set[str]:
    found: set[str] = set()
    todo = list(needs[layer])
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += needs[name]
    return found


def crd_order_problems(needs: dict[str, list[str]], applied: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Each custom resource a layer applies must have its CRD installed by a chart of a layer it depends on
    (directly or not): kustomize-controller dry-runs a whole layer first, so a CRD of the same layer is too late."""
    providers: dict[str, set[str]] = {}
    for layer, docs in applied.items():
        for doc in docs:
            if doc["kind"] == "HelmRelease":
                for group in CHART_CRD_GROUPS.get(_chart(doc), set()):
                    providers.setdefault(group, set()).add(layer)
    problems = []
    for layer, docs in applied.items():
        earlier = _ancestors(layer, needs)
        for doc in docs:
            group = doc["apiVersion"].rpartition("/")[0]
            if group in BUILT_IN_GROUPS or group.endswith(FLUX_GROUP_SUFFIX):
                continue
            if not providers.get(group, set()) & earlier:
                problems.append(f"{layer}: {doc['kind']} {doc['metadata']['name']} ({group}) has its CRD installed "
                                f"by {sorted(providers.get(group, set())) or 'no chart'}, not by a layer before it")
    return problems


def flux_layers() -> tuple[dict[str, list[str]], dict[str, list[dict[str, Any]]]]:
    """Layer -> the layers it depends on, and layer -> what `kubectl kustomize` of its path applies."""
    layers = [d for d in flux_kustomizations() if not d["spec"]["path"].endswith(f"/clusters/{d['metadata']['name']}")]
    needs = {d["metadata"]["name"]: [x["name"] for x in d["spec"].get("dependsOn", [])] for d in layers}
    applied = {}
    for doc in layers:
        local = ROOT / doc["spec"]["path"].removeprefix("./")
        built = subprocess.run(["kubectl", "kustomize", str(local)], capture_output=True, text=True, check=True).stdout
        applied[doc["metadata"]["name"]] = [d for d in yaml.safe_load_all(built) if d]
    return needs, applied


def test_every_custom_resource_finds_its_crd_in_an_earlier_layer() -> None:
    needs, applied = flux_layers()
    assert crd_order_problems(needs, applied) == []
    operators = {_chart(d) for d in applied["operators"] if d["kind"] == "HelmRelease"}
    assert "vault-secrets-operator" in operators
    vso_kinds = {(layer, d["kind"]) for layer, docs in applied.items() for d in docs
                 if d["apiVersion"].startswith("secrets.hashicorp.com/")}
    assert ("security", "VaultConnection") in vso_kinds and ("identity", "VaultAuth") in vso_kinds
    assert not [kind for layer, kind in vso_kinds if layer == "operators"]
    # and the rule fails where it should: the operator moved into the layer of the VaultConnection
    moved = {layer: [d for d in docs if not (d["kind"] == "HelmRelease" and _chart(d) == "vault-secrets-operator")]
             for layer, docs in applied.items()}
    moved["security"] += [d for d in applied["operators"] if d["kind"] == "HelmRelease"
                          and _chart(d) == "vault-secrets-operator"]
    assert crd_order_problems(needs, moved) == [
        "security: VaultConnection vault (secrets.hashicorp.com) has its CRD installed by ['security'], not by a layer "
        "before it"]


def test_airflow_connections_point_at_the_resolved_services() -> None:
    values = yaml.safe_load((OUT / "platform" / "airflow" / "values-airflow.yaml").read_text())
    env = {e["name"]: e["value"] for e in values["env"]}
    assert env == {
        "AIRFLOW_CONN_KYUUBI_BATCH": "hiveserver2://airflow@kyuubi-batch-thrift-binary.konoha-compute.svc.cluster.local:10009/default",
        "AIRFLOW_CONN_TRINO_ICEBERG": "trino://airflow@trino.konoha-access.svc.cluster.local:8080/iceberg",
    }


def test_airflow_runs_the_operator_built_image_with_the_connection_providers() -> None:
    """hiveserver2:// and trino:// need provider packages the stock image lacks: every Airflow pod runs the spec's
    image, the KubernetesExecutor's task pods too (images.pod_template does not fall back to images.airflow)."""
    values = yaml.safe_load((OUT / "platform" / "airflow" / "values-airflow.yaml").read_text())
    image = {"repository": "registry.acme.internal/data-platform/airflow", "tag": "3.2.0-hive-trino-1"}
    assert values["images"] == {"airflow": image, "pod_template": image}
