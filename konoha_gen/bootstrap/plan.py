"""The bootstrap sequence: which step runs when, what it waits for before it starts and what it makes Ready.

Flux applies the layers on its own, each once the layers it depends on are Ready; the steps that Flux cannot
take are interleaved where their inputs exist: Vault is initialised and unsealed once it runs, each Terraform
stage is applied once the server its providers talk to runs, and the secrets an operator writes by hand are
checked once Vault is configured. bootstrap.sh walks the steps in this order and waits for each exit
condition, so each step starts only when the one before it is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from konoha_gen.components import monitoring
from konoha_gen.resolved import FLUX_NAMESPACE, LAYERS, Platform
from konoha_gen.stages import CLUSTER, IDENTITY, STORAGE, VAULT, TerraformStage

SOURCES = "sources"
#: How long a step may take before bootstrap.sh stops and names it (seconds): pulling images on a laptop is slow.
LAYER_TIMEOUT = 1200
STAGE_TIMEOUT = 900


@dataclass(frozen=True)
class Step:
    name: str
    kind: str  # terraform | flux | vault-unseal | manual-secrets
    entry: str  # what must be Ready before it starts
    exit: str  # what it makes Ready
    timeout: int
    stage: TerraformStage | None = None  # kind terraform
    layer: str | None = None  # kind flux: the Kustomization


def layer_order() -> tuple[str, ...]:
    return (SOURCES, *LAYERS, monitoring.STAGE)


def layer_dependencies(platform: Platform) -> dict[str, list[str]]:
    """Layer -> layers it needs first, derived from the component graph (plus the sources)."""
    layer_of = {c.name: c.layer for c in platform.components}
    present = {c.layer for c in platform.components if c.deployed}
    needs: dict[str, set[str]] = {layer: {SOURCES} for layer in present}
    for component in platform.components:
        if component.layer not in needs:
            continue
        for dependency in component.depends_on:
            layer = layer_of[dependency]
            if layer != component.layer and layer in present:
                needs[component.layer].add(layer)
    needs[SOURCES] = set()
    if monitoring.has_stage(platform):  # monitors need the CRDs that the observability layer's chart installs
        needs[monitoring.STAGE] = {SOURCES, monitoring.AFTER}
    order = layer_order()
    return {layer: sorted(deps, key=order.index)
            for layer, deps in sorted(needs.items(), key=lambda i: order.index(i[0]))}


def manual_paths(platform: Platform) -> list[str]:
    """Vault paths an operator writes by hand that a workload reads through VSO: its VaultStaticSecret (and so its
    layer) is only healthy once the path exists, so the bootstrap checks them before the layers that read them."""
    return [e.path for e in platform.secrets if not e.generated and any(r.via_vso for r in e.readers)]


def steps(platform: Platform) -> list[Step]:
    """The whole sequence, in order."""
    layers = layer_dependencies(platform)
    layer_of = {c.name: c.layer for c in platform.components}
    after: dict[str, list[Step]] = {}  # layer -> the steps that follow it
    if platform.spec.secrets.vault.mode != "dev":
        after.setdefault(layer_of["vault"], []).append(Step(
            "vault-unseal", "vault-unseal", f"Kustomization {layer_of['vault']} Ready (Vault pods run, sealed)",
            "every Vault server initialised and unsealed (vault status)", STAGE_TIMEOUT))
    after.setdefault(layer_of["vault"], []).append(_stage(VAULT, "Vault unsealed", "KV mount, Kubernetes auth, "
                                                          "policies, roles and generated secrets in Vault"))
    if manual_paths(platform):
        after[layer_of["vault"]].append(Step(
            "manual-secrets", "manual-secrets", "Vault configured",
            f"the hand-written secrets exist in Vault: {', '.join(manual_paths(platform))}", 60))
    for stage in (IDENTITY, STORAGE):
        if stage.server in layer_of:
            what = "realm, groups, users, OIDC clients (secrets in Vault)" if stage is IDENTITY else \
                "buckets, service users, tenant groups"
            after.setdefault(layer_of[stage.server], []).append(
                _stage(stage, f"{stage.server} Ready (Kustomization {layer_of[stage.server]})", what))
    sequence = [_stage(CLUSTER, "minikube, terraform, kubectl and flux on PATH" if platform.spec.cluster.provider
                       == "minikube" else "kubectl context of the cluster (KONOHA_KUBE_CONTEXT)",
                       f"Flux controllers Available, GitRepository {platform.name} Ready")]
    for layer in _in_order(layers):
        needs = f"Kustomizations {', '.join(layers[layer])} Ready" if layers[layer] else "the cluster step done"
        sequence.append(Step(layer, "flux", needs,
                             f"Kustomization {FLUX_NAMESPACE}/{layer} Ready (every object of the layer healthy)",
                             LAYER_TIMEOUT, layer=layer))
        sequence += after.get(layer, [])
    return sequence


def _stage(stage: TerraformStage, entry: str, exit: str) -> Step:
    return Step(stage.step, "terraform", entry, f"{stage.folder} applied: {exit}", STAGE_TIMEOUT, stage=stage)


def _in_order(layers: dict[str, list[str]]) -> list[str]:
    """Layers dependencies first, ties in layer order (Flux applies them in any order that respects dependsOn)."""
    order = layer_order()
    done: list[str] = []
    pending = sorted(layers, key=order.index)
    while pending:
        ready = next(layer for layer in pending if set(layers[layer]) <= set(done))
        done.append(ready)
        pending.remove(ready)
    return done
