"""PromQL label selectors the dashboards share."""

from __future__ import annotations

from konoha_gen.resolved import Platform


def selector(namespace: str, *matchers: str) -> str:
    return "{" + ", ".join([f'namespace="{namespace}"', *matchers]) + "}"


def job(platform: Platform, monitor: str) -> str:
    """The job label prometheus-operator gives a monitor's targets: <monitor namespace>/<monitor name>."""
    return f'job="{platform.component("kube-prometheus-stack").namespace}/{monitor}"'
