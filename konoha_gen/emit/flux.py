"""The Flux tree: clusters/<name>/ (sync objects and one Kustomization per layer),
layers/<layer>/ (namespace + the component folders of the layer) and
infrastructure/sources/ (every chart source, pinned from the catalogue)."""

from __future__ import annotations

from konoha_gen.artifact import Artifact
from konoha_gen.bootstrap.plan import SOURCES, layer_dependencies
from konoha_gen.kube import Doc, dump, kustomization, obj
from konoha_gen.resolved import FLUX_NAMESPACE, LAYERS, Platform


def emit(platform: Platform) -> list[Artifact]:
    return [*_cluster(platform), *_layers(platform), *_sources(platform)]


def _root(platform: Platform) -> str:
    return platform.spec.gitops.path.strip("/")


def _cluster(platform: Platform) -> list[Artifact]:
    gitops = platform.spec.gitops
    base = f"clusters/{platform.name}"
    repository: Doc = {"interval": gitops.interval, "url": gitops.url, "ref": {"branch": gitops.branch}}
    if platform.git_auth_secret:
        repository["secretRef"] = {"name": platform.git_auth_secret}
    sync = [
        obj("source.toolkit.fluxcd.io/v1", "GitRepository", platform.name, FLUX_NAMESPACE, component="flux",
            platform=platform, spec=repository),
        obj("kustomize.toolkit.fluxcd.io/v1", "Kustomization", platform.name, FLUX_NAMESPACE, component="flux",
            platform=platform, spec={"interval": gitops.interval, "path": f"./{_root(platform)}/{base}", "prune": True,
                                     "sourceRef": {"kind": "GitRepository", "name": platform.name}, "timeout": "5m"}),
    ]
    layers = [_layer_kustomization(platform, layer, deps) for layer, deps in layer_dependencies(platform).items()]
    files = [f"{layer}.yaml" for layer in layer_dependencies(platform)]
    return [
        Artifact(f"{base}/flux-system/gotk-sync.yaml", dump(*sync)),
        Artifact(f"{base}/flux-system/kustomization.yaml", dump(kustomization(["gotk-sync.yaml"]))),
        *(Artifact(f"{base}/{name}", dump(doc)) for name, doc in zip(files, layers, strict=True)),
        Artifact(f"{base}/kustomization.yaml", dump(kustomization(["flux-system", *files]))),
    ]


def _layer_kustomization(platform: Platform, layer: str, deps: list[str]) -> Doc:
    spec: Doc = {
        "interval": platform.spec.gitops.interval,
        "path": f"./{_root(platform)}/layers/{layer}",
        "prune": True,
        "wait": True,  # every object of the layer must be Ready before dependents start
        "timeout": "15m" if layer != SOURCES else "5m",
        "sourceRef": {"kind": "GitRepository", "name": platform.name},
    }
    if deps:
        spec["dependsOn"] = [{"name": dep} for dep in deps]
    return obj("kustomize.toolkit.fluxcd.io/v1", "Kustomization", layer, FLUX_NAMESPACE, component="flux",
               platform=platform, spec=spec)


def _layers(platform: Platform) -> list[Artifact]:
    artifacts = [Artifact(f"layers/{SOURCES}/kustomization.yaml",
                          dump(kustomization(["../../infrastructure/sources"])))]
    for layer in LAYERS:
        members = [c for c in platform.components if c.layer == layer and c.deployed]
        if not members:
            continue
        namespace = obj("v1", "Namespace", members[0].namespace, None, component=layer, platform=platform)
        artifacts.append(Artifact(f"layers/{layer}/namespace.yaml", dump(namespace)))
        resources = ["namespace.yaml", *(f"../../{c.folder}" for c in members)]
        artifacts.append(Artifact(f"layers/{layer}/kustomization.yaml", dump(kustomization(resources))))
    return artifacts


def _sources(platform: Platform) -> list[Artifact]:
    """One Flux source per chart origin: HelmRepository, OCIRepository (chart per repository) or GitRepository."""
    documents: dict[str, Doc] = {}
    for component in platform.components:
        upstream = component.upstream
        if upstream is None or upstream.chart is None or upstream.source_name is None or upstream.url is None:
            continue
        interval = "1h"
        if upstream.source_kind == "HelmRepository":
            spec: Doc = {"interval": interval, "url": upstream.url}
        elif upstream.source_kind == "OCIRepository":
            spec = {"interval": interval, "url": upstream.url, "ref": {"tag": upstream.version},
                    "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                                      "operation": "copy"}}
        else:
            spec = {"interval": interval, "url": upstream.url, "ref": {"tag": upstream.version},
                    "ignore": "/*\n!/charts/\n"}
        api = "source.toolkit.fluxcd.io/v1"
        documents[upstream.source_name] = obj(api, upstream.source_kind, upstream.source_name, FLUX_NAMESPACE,
                                              component="sources", platform=platform, spec=spec)
    ordered = [documents[name] for name in sorted(documents)]
    return [Artifact("infrastructure/sources/sources.yaml", dump(*ordered)),
            Artifact("infrastructure/sources/kustomization.yaml", dump(kustomization(["sources.yaml"])))]
