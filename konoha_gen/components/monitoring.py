"""Monitoring: the scrape targets of the deployed components and the Flux stage that applies the monitors.

Why a stage of its own: the ServiceMonitor and PodMonitor CRDs come with the kube-prometheus-stack chart,
which the observability layer (the last one) installs. A monitor in any layer, that one included, fails the
layer's apply (no such kind yet); the monitoring stage depends on the observability layer, whose `wait`
holds it back until the chart (and its CRDs) is Ready. The charts' own monitor switches (kyuubi
metrics.podMonitor, trino serviceMonitor, ...) would put monitors into earlier layers, so they stay off; the
charts are only told to expose their metrics.
"""

from __future__ import annotations

from konoha_gen.components.base import ScrapeTarget
from konoha_gen.components.chart_values import prometheus
from konoha_gen.components.registry import definition
from konoha_gen.resolved import Platform

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


def has_stage(platform: Platform) -> bool:
    """Whether the monitoring stage has anything to apply."""
    return bool(scrape_targets(platform) or platform.dashboards)


def namespace(platform: Platform) -> str:
    """Monitors and dashboards live beside Prometheus and Grafana."""
    return platform.component("kube-prometheus-stack").namespace
