"""Rollout alerts: Flux's notification-controller routes failed Kustomizations and HelmReleases to the
Alertmanager that kube-prometheus-stack runs, which Grafana shows; validated like every other document."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from konoha_gen.artifact import Artifact
from konoha_gen.chart_data import VENDORED_CHARTS
from konoha_gen.check.endpoints import chart_services
from konoha_gen.check.endpoints import check as endpoints
from konoha_gen.check.k8s import SchemaSet, kubernetes_objects, validate_text
from konoha_gen.check.options import CheckOptions
from konoha_gen.check.output import chart_values, schemas
from konoha_gen.check.values import check_values
from konoha_gen.emit import emit_all
from konoha_gen.pipeline import compile_platform
from konoha_gen.resolved import Platform
from tests.conftest import SPEC
from tests.helpers import edit_spec

ALERTS = "platform/monitoring/alerts.yaml"
KPS_VALUES = "platform/kube-prometheus-stack/values-kube-prometheus-stack.yaml"
NOTIFICATION = "notification.toolkit.fluxcd.io/v1beta3"
# notification-controller docs/spec/v1beta3/providers.md (Alertmanager): the address is the API v2 alerts URL.
_ALERTMANAGER_URL = re.compile(r"^http://([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)/api/v2/alerts/$")


def _docs(artifacts: list[Artifact], path: str) -> list[dict[str, Any]]:
    found = [a for a in artifacts if a.path == path]
    return [d for d in yaml.safe_load_all(found[0].content) if d] if found else []


def _one(artifacts: list[Artifact], kind: str) -> dict[str, Any]:
    [doc] = [d for _, d in kubernetes_objects(artifacts) if d.get("kind") == kind and d["apiVersion"] == NOTIFICATION]
    return doc


def _replace(artifacts: list[Artifact], path: str, docs: list[dict[str, Any]]) -> list[Artifact]:
    return [Artifact(a.path, yaml.safe_dump_all(docs, sort_keys=False), a.emitter) if a.path == path else a
            for a in artifacts]


def _compile(tmp_path: Path, change: Any) -> tuple[Platform, list[Artifact]]:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(edit_spec(SPEC.read_text("utf-8"), change))
    platform = compile_platform(spec)
    return platform, emit_all(platform)


def test_the_provider_posts_to_the_alertmanager_service_the_chart_creates(artifacts: list[Artifact]) -> None:
    provider = _one(artifacts, "Provider")
    assert provider["spec"]["type"] == "alertmanager"
    match = _ALERTMANAGER_URL.match(provider["spec"]["address"])
    assert match, provider["spec"]["address"]
    service, namespace, port = match.group(1), match.group(2), int(match.group(3))
    [release] = [d for _, d in kubernetes_objects(artifacts)
                 if d["kind"] == "HelmRelease" and d["spec"].get("chart", {}).get("spec", {}).get("chart")
                 == "kube-prometheus-stack"]
    values = _docs(artifacts, KPS_VALUES)[0]
    assert values["alertmanager"]["enabled"] is True
    created = dict(chart_services()["kube-prometheus-stack"](release["spec"]["releaseName"], values))
    assert namespace == release["metadata"]["namespace"]
    assert service == "kube-prometheus-stack-alertmanager" and created[service] == (port,) == (9093,)


def test_the_alert_covers_kustomizations_and_helmreleases_in_every_namespace_holding_one(
        artifacts: list[Artifact]) -> None:
    held = {(d["kind"], d["metadata"]["namespace"]) for _, d in kubernetes_objects(artifacts)
            if (d["kind"], d["apiVersion"]) in {("Kustomization", "kustomize.toolkit.fluxcd.io/v1"),
                                                ("HelmRelease", "helm.toolkit.fluxcd.io/v2")}}
    assert ("Kustomization", "flux-system") in held and ("HelmRelease", "konoha-access") in held
    alert, provider = _one(artifacts, "Alert"), _one(artifacts, "Provider")
    sources = alert["spec"]["eventSources"]
    assert {s["name"] for s in sources} == {"*"}
    assert {(s["kind"], s["namespace"]) for s in sources} == held and len(sources) == len(held)
    assert alert["spec"]["eventSeverity"] == "error"
    assert alert["spec"]["providerRef"] == {"name": provider["metadata"]["name"]}
    assert alert["metadata"]["namespace"] == provider["metadata"]["namespace"] == "konoha-observability"


def test_the_alerts_are_applied_by_the_monitoring_stage(artifacts: list[Artifact]) -> None:
    assert "alerts.yaml" in _docs(artifacts, "platform/monitoring/kustomization.yaml")[0]["resources"]
    [stage] = _docs(artifacts, "clusters/konoha/monitoring.yaml")
    assert {"name": "observability"} in stage["spec"]["dependsOn"]  # Alertmanager is up before events are routed
    assert [a.path for a in artifacts if "kind: Alert\n" in a.content or "kind: Provider\n" in a.content] == [ALERTS]


def test_alertmanager_is_small_and_grafana_reads_it(artifacts: list[Artifact]) -> None:
    values = _docs(artifacts, KPS_VALUES)[0]
    assert values["alertmanager"]["alertmanagerSpec"]["resources"]["requests"]["memory"] == "64Mi"
    grafana = values["grafana"]
    [source] = [s for s in grafana["additionalDataSources"] if s["type"] == "alertmanager"]
    assert source["jsonData"]["implementation"] == "prometheus"
    assert source["url"] + "api/v2/alerts/" == _one(artifacts, "Provider")["spec"]["address"]
    assert grafana["sidecar"]["datasources"]["alertmanager"] == {"enabled": False}  # no second, implicit one


def test_provider_and_alert_validate_against_the_vendored_schemas(platform: Platform,
                                                                  artifacts: list[Artifact]) -> None:
    text = next(a for a in artifacts if a.path == ALERTS).content
    assert validate_text(ALERTS, text, SchemaSet("1.31")) == []
    assert schemas(platform, artifacts, CheckOptions()) == []
    provider, alert = _docs(artifacts, ALERTS)
    provider["spec"]["url"] = provider["spec"].pop("address")
    alert["spec"]["eventSeverity"] = "warning"
    alert["spec"]["eventSources"][0]["kind"] = "Namespace"
    problems = validate_text(ALERTS, yaml.safe_dump_all([provider, alert]), SchemaSet("1.31"))
    assert sorted((p.kind, p.field) for p in problems) == [
        ("Alert", "spec.eventSeverity"), ("Alert", "spec.eventSources.0.kind"), ("Provider", "spec")]
    assert "'url' was unexpected" in next(p.message for p in problems if p.kind == "Provider")


def test_the_endpoint_check_refuses_a_provider_without_alertmanager(platform: Platform,
                                                                     artifacts: list[Artifact]) -> None:
    assert endpoints(platform, artifacts) == []
    values = _docs(artifacts, KPS_VALUES)[0]
    values["alertmanager"]["enabled"] = False
    problems = endpoints(platform, _replace(artifacts, KPS_VALUES, [values]))
    assert {p.path for p in problems} == {ALERTS, KPS_VALUES}  # the Provider and Grafana's data source
    assert all("no artifact creates Service kube-prometheus-stack-alertmanager" in p.message for p in problems)


def test_grafana_keys_of_the_parent_chart_pass_and_typos_do_not(platform: Platform, artifacts: list[Artifact]) -> None:
    assert chart_values(platform, artifacts, CheckOptions()) == []
    values = {"grafana": {"additionalDataSources": [], "sidecar": {"datasources": {"alertmanager": {"enabled": False},
                                                                                   "alertmanagr": {}}},
                          "additionalDataSourcez": []}}
    assert check_values(VENDORED_CHARTS, "kube-prometheus-stack", values) == [
        "grafana.sidecar.datasources.alertmanagr: key not in grafana's values.yaml",
        "grafana.additionalDataSourcez: key not in grafana's values.yaml"]


def test_without_prometheus_there_are_no_alerting_objects(tmp_path: Path) -> None:
    def off(spec: Any) -> None:
        spec["spec"]["observability"] = {"metrics": {"enabled": False}, "grafana": {"enabled": False}}

    platform, artifacts = _compile(tmp_path, off)
    kinds = {d["kind"] for _, d in kubernetes_objects(artifacts) if d["apiVersion"] == NOTIFICATION}
    assert kinds == set() and ALERTS not in {a.path for a in artifacts}
    assert endpoints(platform, artifacts) == []


def test_grafana_off_keeps_the_alerts_without_a_data_source(tmp_path: Path) -> None:
    def off(spec: Any) -> None:
        spec["spec"]["observability"]["grafana"] = {"enabled": False}

    platform, artifacts = _compile(tmp_path, off)
    assert [d["kind"] for d in _docs(artifacts, ALERTS)] == ["Provider", "Alert"]
    assert "additionalDataSources" not in _docs(artifacts, KPS_VALUES)[0]["grafana"]
    assert endpoints(platform, artifacts) == []
