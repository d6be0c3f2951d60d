"""One folder per deployed component (infrastructure/<name>/ or platform/<name>/):
kustomization.yaml, HelmRelease(s) with their values files fed through a
kustomize configMapGenerator (a values change renames the ConfigMap, which
changes the HelmRelease and rolls the release), the component's CloudNativePG
database, its own manifests (Strimzi resources, the platform's SQL Jobs) and its
Vault Secrets Operator objects. What goes in is the component's (components/)."""

from __future__ import annotations

from typing import Any

from konoha_gen.artifact import Artifact
from konoha_gen.components import objects
from konoha_gen.components.base import Release
from konoha_gen.components.registry import definition
from konoha_gen.kube import Doc, dump, kustomization, obj
from konoha_gen.resolved import FLUX_NAMESPACE, Component, Platform

#: Teaches kustomize that HelmRelease.spec.valuesFrom names a ConfigMap, so the
#: generated name (with its content hash) is substituted there.
#: How often a failed install or upgrade is retried (HelmRelease spec.install/upgrade.strategy.retryInterval).
RETRY_INTERVAL = "2m"
KUSTOMIZE_CONFIG: Doc = {"nameReference": [{"kind": "ConfigMap", "version": "v1",
                                            "fieldSpecs": [{"path": "spec/valuesFrom/name", "kind": "HelmRelease"}]}]}


def emit(platform: Platform) -> list[Artifact]:
    artifacts: list[Artifact] = []
    for component in platform.components:
        if component.deployed:
            artifacts.extend(_folder(platform, component))
    return artifacts


def _folder(platform: Platform, component: Component) -> list[Artifact]:
    folder = component.folder
    files: list[Artifact] = []
    kind = definition(component.name)
    charts = kind.releases(platform, component)
    for release in charts:
        files.append(Artifact(f"{folder}/{release.values_file}", dump(release.values)))
        files.append(Artifact(f"{folder}/helmrelease-{release.name}.yaml",
                              dump(_helm_release(platform, component, release))))
    manifests = [*objects.databases(platform, component), *kind.manifests(platform, component),
                 *objects.ingresses(platform, component)]
    if manifests:
        files.append(Artifact(f"{folder}/manifests.yaml", dump(*manifests)))
    vault = [*kind.vault_objects(platform), *objects.vso_objects(platform, component)]
    if vault:
        files.append(Artifact(f"{folder}/vault.yaml", dump(*vault)))
    extra: dict[str, Any] = {"namespace": component.namespace}
    if charts:
        files.append(Artifact(f"{folder}/kustomizeconfig.yaml", dump(KUSTOMIZE_CONFIG)))
        extra["configMapGenerator"] = [{"name": r.values_configmap, "files": [f"values.yaml={r.values_file}"]}
                                       for r in charts]
        extra["configurations"] = ["kustomizeconfig.yaml"]
    resources = sorted(a.path.removeprefix(f"{folder}/") for a in files
                       if a.path.startswith(f"{folder}/helmrelease-")
                       or a.path.endswith(("/manifests.yaml", "/vault.yaml")))
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
    # A release often starts before its inputs exist (a Secret the Vault stage writes, a CRD of a layer still
    # installing). RemediateOnFailure would spend its retries and leave it Stalled until someone forces it;
    # RetryOnFailure (helm-controller, Flux 2.7+) retries every RETRY_INTERVAL until the inputs are there.
    strategy = {"name": "RetryOnFailure", "retryInterval": RETRY_INTERVAL}
    spec["install"] = {"crds": "CreateReplace", "strategy": strategy}
    spec["upgrade"] = {"crds": "CreateReplace", "strategy": dict(strategy)}
    if not definition(component.name).helm_wait:
        spec["install"]["disableWait"] = spec["upgrade"]["disableWait"] = True
    spec["valuesFrom"] = [{"kind": "ConfigMap", "name": release.values_configmap, "valuesKey": "values.yaml"}]
    return obj("helm.toolkit.fluxcd.io/v2", "HelmRelease", release.name, component.namespace, component=component.name,
               platform=platform, spec=spec)
