"""One folder per deployed component (infrastructure/<name>/ or platform/<name>/):
kustomization.yaml, HelmRelease(s) with their values files fed through a
kustomize configMapGenerator (a values change renames the ConfigMap, which
changes the HelmRelease and rolls the release), the component's CloudNativePG
database and its plain manifests (Strimzi resources, the upsert MERGE CronJobs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from konoha_gen.emit import Artifact, ingress, kyuubi_sql, merge, strimzi, vso
from konoha_gen.emit.flux import FLUX_NAMESPACE
from konoha_gen.emit.kube import Doc, dump, kustomization, obj
from konoha_gen.emit.values import BUILDERS, Values, kyuubi
from konoha_gen.resolve import Component, Platform

#: Teaches kustomize that HelmRelease.spec.valuesFrom names a ConfigMap, so the
#: generated name (with its content hash) is substituted there.
KUSTOMIZE_CONFIG: Doc = {"nameReference": [{"kind": "ConfigMap", "version": "v1",
                                            "fieldSpecs": [{"path": "spec/valuesFrom/name", "kind": "HelmRelease"}]}]}


@dataclass(frozen=True)
class Release:
    name: str
    values: Values

    @property
    def values_file(self) -> str:
        return f"values-{self.name}.yaml"


def releases(platform: Platform, component: Component) -> list[Release]:
    if component.name == "kyuubi":
        return [Release(server.release, kyuubi(platform, component, server)) for server in platform.kyuubi]
    builder = BUILDERS.get(component.name)
    return [Release(component.name, builder(platform, component))] if builder else []


def emit(platform: Platform) -> list[Artifact]:
    artifacts: list[Artifact] = []
    for component in platform.components:
        if component.deployed:
            artifacts.extend(_folder(platform, component))
    return artifacts


def _folder(platform: Platform, component: Component) -> list[Artifact]:
    folder = component.folder
    files: list[Artifact] = []
    charts = releases(platform, component)
    for release in charts:
        files.append(Artifact(f"{folder}/{release.values_file}", dump(release.values)))
        files.append(Artifact(f"{folder}/helmrelease-{release.name}.yaml", dump(_helm_release(platform, component, release))))
    manifests = [*_database(platform, component), *strimzi.manifests(platform, component), *kyuubi_sql.manifests(platform, component),
                 *merge.manifests(platform, component), *ingress.manifests(platform, component)]
    if manifests:
        files.append(Artifact(f"{folder}/manifests.yaml", dump(*manifests)))
    vault = vso.objects(platform, component)
    if component.name == "vault-secrets-operator":
        vault.insert(0, vso.connection(platform))
    if vault:
        files.append(Artifact(f"{folder}/vault.yaml", dump(*vault)))
    extra: dict[str, Any] = {"namespace": component.namespace}
    if charts:
        files.append(Artifact(f"{folder}/kustomizeconfig.yaml", dump(KUSTOMIZE_CONFIG)))
        extra["configMapGenerator"] = [{"name": f"{r.name}-values", "files": [f"values.yaml={r.values_file}"]} for r in charts]
        extra["configurations"] = ["kustomizeconfig.yaml"]
    resources = sorted(a.path.removeprefix(f"{folder}/") for a in files
                       if a.path.startswith(f"{folder}/helmrelease-") or a.path.endswith(("/manifests.yaml", "/vault.yaml")))
    files.append(Artifact(f"{folder}/kustomization.yaml", dump(kustomization(resources, **extra))))
    return files


def _helm_release(platform: Platform, component: Component, release: Release) -> Doc:
    upstream = component.upstream
    assert upstream is not None and upstream.chart is not None and upstream.source_name is not None
    source = {"kind": upstream.source_kind, "name": upstream.source_name, "namespace": FLUX_NAMESPACE}
    spec: Doc = {"interval": platform.spec.gitops.interval, "releaseName": release.name, "timeout": "10m"}
    if upstream.source_kind == "OCIRepository":
        spec["chartRef"] = source
    elif upstream.source_kind == "GitRepository":
        spec["chart"] = {"spec": {"chart": upstream.chart_path, "sourceRef": source, "reconcileStrategy": "Revision"}}
    else:
        spec["chart"] = {"spec": {"chart": upstream.chart, "version": upstream.version, "sourceRef": source}}
    spec["install"] = {"crds": "CreateReplace", "remediation": {"retries": 3}}
    spec["upgrade"] = {"crds": "CreateReplace", "remediation": {"retries": 3}}
    spec["valuesFrom"] = [{"kind": "ConfigMap", "name": f"{release.name}-values", "valuesKey": "values.yaml"}]
    return obj("helm.toolkit.fluxcd.io/v2", "HelmRelease", release.name, component.namespace, component=component.name,
               platform=platform, spec=spec)


def _database(platform: Platform, component: Component) -> list[Doc]:
    """The CloudNativePG Cluster of a component, bootstrapped from the VSO-made basic-auth Secret."""
    documents = []
    for db in platform.databases:
        if db.owner != component.name:
            continue
        spec = {"instances": 1, "storage": {"size": db.size},
                "bootstrap": {"initdb": {"database": db.database, "owner": db.database,
                                         "secret": {"name": db.credentials_secret}}}}
        documents.append(obj("postgresql.cnpg.io/v1", "Cluster", db.name, db.namespace, component=component.name,
                             platform=platform, spec=spec))
    return documents
