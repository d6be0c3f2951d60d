"""The monitor wiring check (OUTPUT.md promise 6), over the artifacts only. Every ServiceMonitor and
PodMonitor:

1. is applied by a Flux Kustomization that runs after the one applying the kube-prometheus-stack
   HelmRelease (whose chart installs the monitor CRDs), never by that one or an unrelated one;
2. is picked up by that Prometheus (its values leave the monitor selectors open, or the monitor
   carries the release label the chart's default selectors want);
3. scrapes namespaces the tree creates, and each endpoint names a port (and path) that something
   the tree deploys there exposes on pods / Services its selector matches.

What exposes which port is read off what would be applied, with the upstream rules: chart values
(kyuubi metrics.*, trino jmx.exporter.*, airflow statsd.*, minio's API Service), Strimzi resources
with a metricsConfig (tcp-prometheus) and Spark conf files that turn on the driver UI's Prometheus
endpoints (spark-ui). Emitters are not consulted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from konoha_gen.artifact import Artifact
from konoha_gen.catalog import CATALOG
from konoha_gen.check.k8s import kubernetes_objects, load_documents
from konoha_gen.components.base import MetricsPort
from konoha_gen.components.chart_values import get
from konoha_gen.components.registry import components
from konoha_gen.errors import OutputProblem
from konoha_gen.quoting import properties_load
from konoha_gen.resolved import Platform

CHECK = "wiring"
MONITOR_KINDS = ("ServiceMonitor", "PodMonitor")


#: A metrics port that some workload in the tree serves.
Exposure = MetricsPort


@dataclass(frozen=True)
class _Doc:
    path: str
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.doc.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str((self.doc.get("metadata") or {}).get("namespace", ""))


def check(platform: Platform, artifacts: list[Artifact]) -> list[OutputProblem]:
    docs = list(_documents(artifacts))
    problems = _check_metrics_configs(docs)
    monitors = [d for d in docs if d.kind in MONITOR_KINDS]
    if not monitors:
        return problems
    texts = {a.path: a.content for a in artifacts}
    problems += _check_order(platform, docs, monitors, texts)
    problems += _check_selected(docs, monitors, texts)
    namespaces = {d.name for d in docs if d.kind == "Namespace"}
    exposures = list(_exposures(docs, artifacts, texts))
    for monitor in monitors:
        problems += _check_targets(monitor, namespaces, exposures)
    return problems


def _documents(artifacts: list[Artifact]) -> Iterator[_Doc]:
    return (_Doc(artifact.path, doc) for artifact, doc in kubernetes_objects(artifacts))


def _check_metrics_configs(docs: list[_Doc]) -> list[OutputProblem]:
    """A Strimzi metricsConfig names a ConfigMap key that the tree creates in the resource's namespace."""
    configmaps = {(d.namespace, d.name): d.doc.get("data") or {} for d in docs if d.kind == "ConfigMap"}
    problems = []
    for d in docs:
        config = get(d.doc, "spec.kafka.metricsConfig" if d.kind == "Kafka" else "spec.metricsConfig") \
            if d.kind in ("Kafka", "KafkaConnect") else None
        ref = get(config or {}, "valueFrom.configMapKeyRef")
        if ref and ref.get("key") not in configmaps.get((d.namespace, ref.get("name")), {}):
            problems.append(OutputProblem(d.path, f"{d.kind} {d.name}: metricsConfig reads key '{ref.get('key')}' of "
                                          f"ConfigMap '{ref.get('name')}', which the tree does not create in "
                                          f"{d.namespace}",
                                          CHECK))
    return problems


# -- 1. order ----------------------------------------------------------------
def _check_order(platform: Platform, docs: list[_Doc], monitors: list[_Doc],
                 texts: dict[str, str]) -> list[OutputProblem]:
    stages = {d.name: d.doc["spec"] for d in docs
              if d.kind == "Kustomization" and d.doc.get("apiVersion", "").startswith(
        "kustomize.toolkit.fluxcd.io") and d.path.startswith("clusters/")}
    root = platform.spec.gitops.path.strip("/")
    applied_by: dict[str, str] = {}
    for name, spec in stages.items():
        folder = str(spec.get("path", "")).removeprefix("./").removeprefix(f"{root}/").rstrip("/")
        for file in applied_files(folder, texts):
            applied_by.setdefault(file, name)
    crds = {applied_by.get(d.path) for d in docs
            if d.kind == "HelmRelease" and _chart(d.doc) == "kube-prometheus-stack"}
    crds.discard(None)
    problems = []
    for path in sorted({m.path for m in monitors}):
        stage = applied_by.get(path)
        if stage is None:
            problems.append(OutputProblem(path, "monitors here are applied by no Flux Kustomization", CHECK))
        elif not crds:
            problems.append(OutputProblem(path, "no kube-prometheus-stack HelmRelease installs the monitor CRDs",
                                          CHECK))
        elif not any(_after(stage, crd, stages) for crd in crds if crd):
            problems.append(OutputProblem(path, f"applied by Flux Kustomization '{stage}', which does not run after "
                                          f"'{sorted(c for c in crds if c)[0]}' (its chart installs the monitor CRDs): "
                                          "the apply would fail on an unknown kind", CHECK))
    return problems


def applied_files(folder: str, texts: dict[str, str], seen: frozenset[str] = frozenset()) -> Iterator[str]:
    """Files a kustomize folder applies, following folder resources (kustomization.yaml only)."""
    text = texts.get(f"{folder}/kustomization.yaml")
    if text is None or folder in seen:
        return
    spec = (load_documents(text) or ({},))[0] or {}
    for resource in spec.get("resources", []):
        target = _normalise(f"{folder}/{resource}")
        if target in texts:
            yield target
        else:
            yield from applied_files(target, texts, seen | {folder})


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in PurePosixPath(path).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _after(stage: str, target: str, stages: dict[str, dict[str, Any]], seen: frozenset[str] = frozenset()) -> bool:
    """Whether Flux Kustomization `stage` depends, directly or not, on `target`."""
    deps = [str(d.get("name")) for d in stages.get(stage, {}).get("dependsOn", [])]
    return target in deps or any(_after(d, target, stages, seen | {stage}) for d in deps if d not in seen)


def _chart(release: dict[str, Any]) -> str:
    spec = release.get("spec", {})
    chart = (spec.get("chart") or {}).get("spec", {}).get("chart") or (spec.get("chartRef") or {}).get("name", "")
    return PurePosixPath(str(chart)).name


def _values(release: _Doc, texts: dict[str, str]) -> dict[str, Any]:
    text = texts.get(f"{PurePosixPath(release.path).parent}/values-{release.name}.yaml")
    values = (load_documents(text) or ({},))[0] if text else {}
    return values if isinstance(values, dict) else {}


# -- 2. selected by Prometheus -----------------------------------------------
def _check_selected(docs: list[_Doc], monitors: list[_Doc], texts: dict[str, str]) -> list[OutputProblem]:
    releases = [d for d in docs if d.kind == "HelmRelease" and _chart(d.doc) == "kube-prometheus-stack"]
    problems = []
    for release in releases:
        spec = get(_values(release, texts), "prometheus.prometheusSpec", {}) or {}
        release_name = str(release.doc["spec"].get("releaseName", release.name))
        for monitor in monitors:
            key = "serviceMonitor" if monitor.kind == "ServiceMonitor" else "podMonitor"
            open_selector = spec.get(f"{key}SelectorNilUsesHelmValues") is False and not spec.get(f"{key}Selector")
            labels = (monitor.doc.get("metadata") or {}).get("labels") or {}
            if not open_selector and labels.get("release") != release_name:
                problems.append(OutputProblem(monitor.path, f"{monitor.kind} {monitor.name} is not selected by "
                                                            "the Prometheus "
                                              f"of {release.path} (set "
                                              f"prometheus.prometheusSpec.{key}SelectorNilUsesHelmValues: "
                                              f"false, or label the monitor release={release_name})", CHECK))
    return problems


# -- 3. targets ------------------------------------------------------------------
def _exposures(docs: list[_Doc], artifacts: list[Artifact], texts: dict[str, str]) -> Iterator[Exposure]:
    for d in docs:
        if d.kind == "HelmRelease":
            yield from _chart_exposures(d, _values(d, texts))
        elif d.kind == "Kafka" and get(d.doc, "spec.kafka.metricsConfig"):
            yield _strimzi(d, "Kafka")
        elif d.kind == "KafkaConnect" and get(d.doc, "spec.metricsConfig"):
            yield _strimzi(d, "KafkaConnect")
    for artifact in artifacts:
        if artifact.path.endswith(".spark-defaults.conf"):
            yield from _spark(artifact)


def _chart_exposures(release: _Doc, values: dict[str, Any]) -> Iterator[Exposure]:
    """The metrics ports each chart's templates open, given its values (each component's chart_metrics)."""
    chart, name = _chart(release.doc), str(release.doc["spec"].get("releaseName", release.name))
    for definition in components():
        upstream = CATALOG.get(definition.catalog or "")
        if definition.chart_metrics is not None and upstream is not None and upstream.chart == chart:
            yield from definition.chart_metrics(name, release.namespace, values, release.path)


def _strimzi(resource: _Doc, kind: str) -> Exposure:
    return Exposure("Pod", resource.namespace, (("strimzi.io/kind", kind), ("strimzi.io/cluster", resource.name)),
                    "tcp-prometheus", frozenset({"/metrics"}), resource.path)


def _spark(artifact: Artifact) -> Iterator[Exposure]:
    """Driver pods (spark-role=driver) serve the PrometheusServlet path and, with spark.ui.prometheus.enabled,
    /metrics/executors/prometheus on their UI port, named spark-ui (Spark on Kubernetes)."""
    conf = {key: value.strip() for key, value in properties_load(artifact.content).items()}
    paths = set()
    for key, value in conf.items():
        if key.startswith("spark.metrics.conf.") and key.endswith(".class") and value.endswith(".PrometheusServlet"):
            path = conf.get(key.removesuffix(".class") + ".path")
            if path:
                paths.add(path)
    if conf.get("spark.ui.prometheus.enabled") == "true":
        paths.add("/metrics/executors/prometheus")
    if paths and conf.get("spark.ui.enabled", "true") == "true":
        yield Exposure("Pod", conf.get("spark.kubernetes.namespace", "default"), (("spark-role", "driver"),),
                       "spark-ui",
                       frozenset(paths), artifact.path)


def _check_targets(monitor: _Doc, namespaces: set[str], exposures: list[Exposure]) -> list[OutputProblem]:
    spec = monitor.doc.get("spec", {})
    where = f"{monitor.kind} {monitor.name}"
    watched = list((spec.get("namespaceSelector") or {}).get("matchNames", []))
    if not watched:
        return [OutputProblem(monitor.path, f"{where}: namespaceSelector.matchNames must name the scraped namespaces",
                              CHECK)]
    problems = [OutputProblem(monitor.path, f"{where}: namespace {ns} is created by no Namespace in the tree", CHECK)
                for ns in watched if ns not in namespaces]
    kind = "Service" if monitor.kind == "ServiceMonitor" else "Pod"
    selected = [e for e in exposures if e.kind == kind and e.namespace in watched
                and _matches(spec.get("selector") or {}, dict(e.labels))]
    endpoints = spec.get("endpoints" if kind == "Service" else "podMetricsEndpoints", [])
    for endpoint in endpoints:
        port, path = endpoint.get("port"), endpoint.get("path", "/metrics")
        if not any(e.port == port and path in e.paths for e in selected):
            problems.append(OutputProblem(monitor.path, f"{where}: no {kind.lower()} it selects in "
                                                        f"{', '.join(watched)} "
                                          f"serves port '{port}' path {path} (exposed: {_describe(selected)})", CHECK))
    return problems


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        if (operator == "In" and labels.get(key) not in values) or (operator == "NotIn" and labels.get(key) in values) \
                or (operator == "Exists" and key not in labels) or (operator == "DoesNotExist" and key in labels):
            return False
    return True


def _describe(exposures: list[Exposure]) -> str:
    return "; ".join(f"{e.port} {'/'.join(sorted(e.paths))} from {e.source}" for e in exposures) or "nothing"
