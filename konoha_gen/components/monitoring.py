"""Monitoring: the scrape targets of the deployed components and the Flux stage that applies the monitors.

Why a stage of its own: the ServiceMonitor and PodMonitor CRDs come with the kube-prometheus-stack chart,
which the observability layer (the last one) installs. A monitor in any layer, that one included, fails the
layer's apply (no such kind yet); the monitoring stage depends on the observability layer, whose `wait`
holds it back until the chart (and its CRDs) is Ready. The charts' own monitor switches (kyuubi
metrics.podMonitor, trino serviceMonitor, ...) would put monitors into earlier layers, so they stay off; the
charts are only told to expose their metrics.

Rollout alerts: a Flux notification-controller Provider (type alertmanager) and an Alert for error events of
every Kustomization and HelmRelease live in the same stage. Their CRDs come with Flux itself
(terraform/00-cluster), so they could be applied earlier, but the Provider posts to the Alertmanager of
kube-prometheus-stack, which the observability layer installs: applied after it, the first event they route
finds Alertmanager running. A rollout failure that holds the observability layer back also holds back the
Alertmanager, so no earlier place would deliver more. The Alert lives beside Alertmanager and names each
source namespace: an eventSource without `namespace` means the Alert's own (notification-controller
docs/spec/v1beta3/alerts.md), `*` is no namespace wildcard, and cross-namespace sources are allowed because
the flux2 chart runs without multi-tenancy lockdown (values multitenancy.enabled false: no
--no-cross-namespace-refs).
"""

from __future__ import annotations

from konoha_gen.components.base import ScrapeTarget
from konoha_gen.components.chart_values import prometheus
from konoha_gen.components.registry import definition
from konoha_gen.resolved import FLUX_NAMESPACE, Platform

#: The Flux stage after the observability layer, and the folder it applies.
STAGE = "monitoring"
AFTER = "observability"
FOLDER = f"platform/{STAGE}"


def scrape_targets(platform: Platform) -> tuple[ScrapeTarget, ...]:
    """Every metrics endpoint of the deployed components, in component order; none without Prometheus."""
    if not prometheus(platform):
        return ()
    targets: list[ScrapeTarget] = []
    for component in platform.components:
        targets.extend(definition(component.name).scrape_targets(platform, component))
    return tuple(targets)


def alert_sources(platform: Platform) -> tuple[tuple[str, str], ...]:
    """(kind, namespace) of the Flux objects whose failed rollouts are alerted, none without Prometheus: the
    Kustomizations of the cluster folder (all in flux-system, emit/flux.py) and the HelmReleases of every
    deployed component with a chart, in the component's namespace (emit/components.py)."""
    if not prometheus(platform):
        return ()
    sources = [("Kustomization", FLUX_NAMESPACE)]
    for component in platform.components:
        if component.deployed and definition(component.name).releases(platform, component):
            sources.append(("HelmRelease", component.namespace))
    return tuple(dict.fromkeys(sources))


def has_stage(platform: Platform) -> bool:
    """Whether the monitoring stage has anything to apply."""
    return bool(scrape_targets(platform) or platform.dashboards or alert_sources(platform))


def namespace(platform: Platform) -> str:
    """Monitors and dashboards live beside Prometheus and Grafana."""
    return platform.component("kube-prometheus-stack").namespace
