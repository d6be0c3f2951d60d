"""Flux itself: installed by terraform/00-cluster from the flux2 chart, not by a layer (so not in the registry)."""

from __future__ import annotations

#: fluxcd-community/helm-charts @ flux2-2.18.3 (Flux 2.8): the CRDs of its controllers (templates/*-crds.yaml).
CRDS = (
    *(f"source.toolkit.fluxcd.io/{kind}" for kind in (
        "GitRepository", "HelmRepository", "HelmChart", "OCIRepository", "Bucket", "ExternalArtifact")),
    "kustomize.toolkit.fluxcd.io/Kustomization",
    "helm.toolkit.fluxcd.io/HelmRelease",
    *(f"notification.toolkit.fluxcd.io/{kind}" for kind in ("Alert", "Provider", "Receiver")),
    *(f"image.toolkit.fluxcd.io/{kind}" for kind in ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation")),
)
