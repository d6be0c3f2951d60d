"""The shape of the code: a component lives in one module of konoha_gen/components/, emitters import no
other emitter, the import graph has no cycle, and no module outgrows a screenful of screens."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
import yaml

from konoha_gen.components import registry
from konoha_gen.components.base import ComponentDef, ServiceDef, VaultRead, WebUiDef
from konoha_gen.kube import Doc, obj
from konoha_gen.pipeline import build
from konoha_gen.resolved import Component, Platform
from tests.conftest import ROOT, SPEC

PACKAGE = ROOT / "konoha_gen"
#: Modules that are tables of upstream facts rather than code (none today; a data table may grow past the limit).
DATA_TABLES: frozenset[str] = frozenset()
MAX_LINES = 400


# -- a throw-away component, declared the way every component is ---------------------------------------
def _whoami_manifests(platform: Platform, component: Component) -> list[Doc]:
    assert component.service is not None
    labels = {"app": "whoami"}
    pod = {"metadata": {"labels": labels}, "spec": {"serviceAccountName": "whoami-vault", "containers": [
        {"name": "whoami", "image": "traefik/whoami:v1.10.3", "ports": [{"name": "http", "containerPort": 80}],
         "envFrom": [{"secretRef": {"name": platform.secret_for("whoami", "whoami/token").secret_name}}]}]}}
    return [obj("apps/v1", "Deployment", "whoami", component.namespace, component="whoami", platform=platform,
                spec={"replicas": 1, "selector": {"matchLabels": labels}, "template": pod}),
            obj("v1", "Service", component.service.name, component.namespace, component="whoami", platform=platform,
                spec={"selector": labels, "ports": [{"name": "http", "port": component.service.port}]})]


WHOAMI = ComponentDef(
    name="whoami", title="whoami (a throw-away web service)", layer="access",
    enabled=lambda spec: True, switch="always on",
    depends_on=lambda spec: ["vault-secrets-operator", "keycloak"],
    service=ServiceDef(80),
    workloads=lambda spec: (("Deployment", "whoami"),),
    web_ui=lambda spec: WebUiDef("whoami"),
    vault_reads=lambda spec: [VaultRead("whoami/token", frozenset({"token"}), generated=True)],
    manifests=_whoami_manifests,
)


def test_a_component_declared_in_one_module_flows_through_the_whole_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "COMPONENTS", (*registry.COMPONENTS, WHOAMI))
    out = tmp_path / "out"
    build(SPEC, out)  # every check of a real build passes: schemas, wiring, endpoints, secret scan

    def docs(path: str) -> list[Doc]:
        return [d for d in yaml.safe_load_all((out / path).read_text()) if d]

    kinds = {d["kind"]: d for d in docs("platform/whoami/manifests.yaml")}
    assert set(kinds) == {"Deployment", "Service", "Ingress"}
    assert kinds["Ingress"]["spec"]["rules"][0]["host"] == "whoami.konoha.local"
    assert kinds["Deployment"]["metadata"]["namespace"] == "konoha-access"  # its layer's namespace
    vault = {d["kind"]: d for d in docs("platform/whoami/vault.yaml")}
    assert vault["VaultStaticSecret"]["spec"]["path"] == "whoami/token"
    assert vault["VaultStaticSecret"]["spec"]["rolloutRestartTargets"] == [{"kind": "Deployment", "name": "whoami"}]
    assert "../../platform/whoami" in docs("layers/access/kustomization.yaml")[0]["resources"]
    layers = {d["name"] for d in docs("clusters/konoha/access.yaml")[0]["spec"]["dependsOn"]}
    # from its dependencies: VSO (operators), Vault (security: its VaultAuth names the VaultConnection there),
    # Keycloak (identity)
    assert {"operators", "security", "identity"} <= layers
    terraform = (out / "terraform" / "10-vault" / "vault.tf").read_text()
    assert '"konoha-whoami"' in terraform and "whoami/token" in terraform
    assert '"whoami/token"' in (out / "terraform" / "10-vault" / "secrets.tf").read_text()
    assert "`whoami/token`" in (out / "README.md").read_text()


def test_without_the_throw_away_component_nothing_of_it_is_built(tmp_path: Path) -> None:
    build(SPEC, tmp_path / "out")
    assert not (tmp_path / "out" / "platform" / "whoami").exists()


# -- imports -------------------------------------------------------------------------------------------------
def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every konoha_gen module `path` imports, at module level or inside a function."""
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules
            found.update(submodules)
            if len(submodules) < len(node.names):  # names defined in the module (or package __init__) itself
                found.add(node.module)
    return {name for name in found if name in modules and name != _module_name(path)}


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in PACKAGE.rglob("*.py")}


def test_emitters_import_no_other_emitter() -> None:
    emitters = {name for name in _graph() if name.startswith("konoha_gen.emit.")}
    for name in sorted(emitters):
        assert not (_graph()[name] & (emitters | {"konoha_gen.emit"})), name


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for child in sorted(graph[node]):
            if state.get(child) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(child):], child]))
            if child not in state:
                visit(child, [*trail, child])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_the_cycle_detector_finds_a_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    cyclic = {"konoha_gen.a": {"konoha_gen.b"}, "konoha_gen.b": {"konoha_gen.a"}}
    monkeypatch.setattr(f"{__name__}._graph", lambda: cyclic)
    with pytest.raises(AssertionError, match="import cycle"):
        test_the_import_graph_has_no_cycle()


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES and _module_name(p) not in DATA_TABLES}
    assert long == {}


def test_every_registered_component_has_a_module_of_its_own() -> None:
    modules = {p.stem.replace("_", "-") for p in (PACKAGE / "components").glob("*.py")}
    assert {c.name for c in registry.COMPONENTS} <= modules
    assert len({c.name for c in registry.COMPONENTS}) == len(registry.COMPONENTS)
    assert all(dataclasses.is_dataclass(c) for c in registry.COMPONENTS)


def test_trinos_port_is_one_fact_of_its_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing Trino's port in components/trino.py alone moves the chart's Service, the Ingress and every
    consumer, and the build's wiring checks still pass."""
    trino = next(d for d in registry.COMPONENTS if d.name == "trino")
    moved = dataclasses.replace(trino, service=ServiceDef(8081))
    monkeypatch.setattr(registry, "COMPONENTS", tuple(moved if d is trino else d for d in registry.COMPONENTS))
    out = tmp_path / "out"
    build(SPEC, out)
    airflow = (out / "platform/airflow/values-airflow.yaml").read_text()
    assert "trino.konoha-access.svc.cluster.local:8081/iceberg" in airflow
    assert yaml.safe_load((out / "platform/trino/values-trino.yaml").read_text())["service"] == {"port": 8081}
    ingress = next(d for d in yaml.safe_load_all((out / "platform/trino/manifests.yaml").read_text())
                   if d and d["kind"] == "Ingress")
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] == {"number": 8081}
