"""The endpoint wiring check (OUTPUT.md promise 6), over the artifacts only:

every in-cluster address an artifact refers to (`<service>.<namespace>.svc
[.cluster.local][:port]` in JDBC/thrift/HTTP URIs, S3 endpoints, catalog
URIs, Airflow connections, dbt hosts, Grafana datasources, connector
configs, and every Ingress backend) names a Service, and a port of it, that another artifact creates;
and every bucket an `s3://` / `s3a://` URI names is a bucket Terraform
creates.

Services are read off what would be applied: plain Service objects, the
Services Strimzi and CloudNativePG create for their resources, and the
Services each chart creates for its HelmRelease, computed from the release
name and its values file with the chart's own naming rules (each component's chart_services).
Addresses outside the platform are allowed only when the spec declares them
(CDC source databases) or they are the cluster's API server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

from konoha_gen.artifact import Artifact
from konoha_gen.catalog import CATALOG
from konoha_gen.check.k8s import is_kubernetes_file, kubernetes_objects, load_documents
from konoha_gen.components.base import ChartServices
from konoha_gen.components.registry import components
from konoha_gen.errors import OutputProblem
from konoha_gen.resolved import Platform

CHECK = "endpoints"
_ADDRESS = re.compile(r"(?<![A-Za-z0-9.-])([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)"
                      r"\.svc(?:\.cluster\.local)?"
                      r"(?::(\d+))?(?![A-Za-z0-9-])")
_BUCKET_URI = re.compile(r"s3a?://([a-z0-9][-a-z0-9.]*[a-z0-9])")
_WORD = re.compile(r"\w")


def bucket_names(text: str) -> list[str]:
    """The bucket of every s3:// or s3a:// URI in `text` (at a word boundary). The regex starts with its literal so
    the engine can skip ahead to it (with a leading \\b it tries every position: 40 times slower)."""
    return [match.group(1) for match in _BUCKET_URI.finditer(text)
            if match.start() == 0 or not _WORD.match(text, match.start() - 1)]


#: Always there: the API server Spark submits to.
BUILT_IN = {("kubernetes", "default"): (443,)}


@dataclass(frozen=True)
class Produced:
    ports: tuple[int, ...]
    by: str  # artifact path


def chart_services() -> dict[str, ChartServices]:
    """chart -> (release, values) -> [(Service name, ports)], each component's rules for its chart (components/)."""
    rules = {}
    for definition in components():
        if definition.chart_services is not None and definition.catalog is not None:
            chart = CATALOG[definition.catalog].chart
            if chart is not None:
                rules[chart] = definition.chart_services
    return rules


def check(platform: Platform, artifacts: list[Artifact]) -> list[OutputProblem]:
    services = _services(artifacts)
    external = {(host.split(".")[0], host.split(".")[1]) for host in (s.host for s in platform.sources)
                if ".svc" in host}
    problems: list[OutputProblem] = []
    for artifact in artifacts:
        for name, namespace, port in sorted(set(_addresses(artifact)), key=lambda a: (a[0], a[1], a[2] or 0)):
            if (name, namespace) in external or _built_in(name, namespace, port):
                continue
            problems.extend(_match(artifact.path, name, namespace, port, services))
    problems += _buckets(artifacts)
    return problems


def _built_in(name: str, namespace: str, port: int | None) -> bool:
    ports = BUILT_IN.get((name, namespace))
    return ports is not None and (port is None or port in ports)


def _match(path: str, name: str, namespace: str, port: int | None,
           services: dict[tuple[str, str], Produced]) -> Iterator[OutputProblem]:
    address = f"{name}.{namespace}.svc" + (f":{port}" if port else "")
    produced = services.get((name, namespace))
    if produced is None:
        there = sorted(f"{n} ({p.by})" for (n, ns), p in services.items() if ns == namespace)
        yield OutputProblem(path, f"refers to {address}, but no artifact creates Service {name} in namespace "
                                  f"{namespace} "
                                  f"(Services there: {', '.join(there) or 'none'})", CHECK)
    elif port is not None and port not in produced.ports:
        yield OutputProblem(path, f"refers to {address}, but Service {name}, created by {produced.by}, exposes "
                                  f"port(s) {', '.join(map(str, produced.ports))}", CHECK)


def _addresses(artifact: Artifact) -> Iterator[tuple[str, str, int | None]]:
    for line in artifact.content.splitlines():
        if ".svc" in line:  # the regex has no literal prefix to skip ahead with: look only where one can match
            for match in _ADDRESS.finditer(line):
                yield match.group(1), match.group(3), int(match.group(5)) if match.group(5) else None
    if artifact.path.endswith((".yml", ".yaml")) and "host" in artifact.content and "port" in artifact.content:
        # host (or hostname) and port as sibling keys (dbt profiles, database settings)
        try:
            documents = load_documents(artifact.content)
        except yaml.YAMLError:
            return
        yield from _host_port_pairs(documents)
    yield from _ingress_backends(artifact)


def _ingress_backends(artifact: Artifact) -> Iterator[tuple[str, str, int | None]]:
    """(Service, namespace, port) every Ingress routes to."""
    if not is_kubernetes_file(artifact.path) or "kind: Ingress" not in artifact.content:
        return
    for doc in load_documents(artifact.content):
        if not isinstance(doc, dict) or doc.get("kind") != "Ingress":
            continue
        namespace = str(doc["metadata"].get("namespace", ""))
        for rule in doc["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                service = path["backend"]["service"]
                yield str(service["name"]), namespace, service["port"].get("number")


def _host_port_pairs(node: Any) -> Iterator[tuple[str, str, int | None]]:
    if isinstance(node, dict):
        host, port = node.get("host", node.get("hostname")), node.get("port")
        if isinstance(host, str) and isinstance(port, int) and (match := _ADDRESS.fullmatch(host)):
            yield match.group(1), match.group(3), port
        for value in node.values():
            yield from _host_port_pairs(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _host_port_pairs(item)


def _services(artifacts: list[Artifact]) -> dict[tuple[str, str], Produced]:
    """(name, namespace) -> ports of every Service the artifacts create, directly or through an operator or chart."""
    by_path = {a.path: a for a in artifacts}
    rules = chart_services()
    services: dict[tuple[str, str], Produced] = {}

    def add(name: str, namespace: str, ports: tuple[int, ...], by: str) -> None:
        services[(name, namespace)] = Produced(ports, by)

    for artifact, doc in kubernetes_objects(artifacts):
        meta, spec, kind = doc.get("metadata") or {}, doc.get("spec") or {}, doc.get("kind")
        name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
        if kind == "Service":
            add(name, namespace, tuple(int(p["port"]) for p in spec.get("ports", [])), artifact.path)
        elif kind == "Kafka":
            add(f"{name}-kafka-bootstrap", namespace, tuple(int(li["port"]) for li in spec["kafka"]["listeners"]),
                artifact.path)
        elif kind == "KafkaConnect":
            add(f"{name}-connect-api", namespace, (8083,), artifact.path)
        elif kind == "Cluster" and str(doc.get("apiVersion", "")).startswith("postgresql.cnpg.io/"):
            for suffix in ("rw", "ro", "r"):
                add(f"{name}-{suffix}", namespace, (5432,), artifact.path)
        elif kind == "HelmRelease":
            chart = _chart_name(spec)
            release = str(spec.get("releaseName", name))
            values_path = str(PurePosixPath(artifact.path).parent / f"values-{release}.yaml")
            values_file = by_path.get(values_path)
            values: dict[str, Any] = (load_documents(values_file.content) or [{}])[0] or {} if values_file else {}
            if chart in rules:
                for service, ports in rules[chart](release, values):
                    add(service, namespace, ports, values_path if values_file else artifact.path)
    return services


def _chart_name(spec: dict[str, Any]) -> str:
    if "chartRef" in spec:  # OCIRepository named after the chart
        return str(spec["chartRef"]["name"])
    return PurePosixPath(str(spec.get("chart", {}).get("spec", {}).get("chart", ""))).name


def _buckets(artifacts: list[Artifact]) -> list[OutputProblem]:
    created = set()
    for artifact in artifacts:
        if artifact.path.startswith("terraform/") and artifact.path.endswith(".tf"):
            created.update(re.findall(r'resource\s+"minio_s3_bucket"\s+"[^"]+"\s*\{[^}]*?\bbucket\s*=\s*"([^"]+)"',
                                      artifact.content))
    problems = []
    for artifact in artifacts:
        if artifact.path.startswith("terraform/"):
            continue
        for bucket in sorted(set(bucket_names(artifact.content)) - created):
            problems.append(OutputProblem(artifact.path, f"refers to bucket '{bucket}', which terraform/30-storage "
                                                         "does not create "
                                                         f"(buckets: {', '.join(sorted(created)) or 'none'})", CHECK))
    return problems
