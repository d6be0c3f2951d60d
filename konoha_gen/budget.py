"""The laptop budget: what every workload of the tree requests against what the cluster offers.

Pods whose requests exceed the node's allocatable stay Pending, so the sum is checked on every build
(check/budget.py) and written into out/README.md. What is counted is declared per component
(`ComponentDef.budget`, konoha_gen/components/): requests are read from the generated values files and
manifests, else from the vendored chart's values.yaml at the same path (the chart default, named as the row's
source). Kyuubi servers count the Spark engine each may start at its profile's maximum: one engine per server
(USER, GROUP and CONNECTION share levels may start one per user, group or connection; those extra engines
are the tenants' quotas' business, not the laptop's).

The node: provider minikube offers cluster.nodes.cpus/memory, less RESERVE (kube-system and Flux, which
no values file of the tree declares, plus headroom for what runs outside pods); provider existing offers
cluster.capacity, less Flux only (capacity is what the platform may request); without cluster.capacity the
table is written but nothing is refused (konoha-gen cannot know the size of someone else's cluster).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

from konoha_gen.artifact import Artifact
from konoha_gen.catalog import CHART_DATA_DIR
from konoha_gen.chart_data import default_values
from konoha_gen.components.base import PodBudget
from konoha_gen.components.chart_values import get
from konoha_gen.components.registry import components
from konoha_gen.kube import load_documents
from konoha_gen.quantity import MI, cpu_text, memory_bytes, memory_text, millicores, spark_bytes
from konoha_gen.quoting import properties_load
from konoha_gen.resolved import Platform

#: Requests of the pods minikube itself runs in kube-system (Kubernetes 1.31, kubeadm's static pod manifests:
#: kube-apiserver 250m, kube-controller-manager 200m, kube-scheduler 100m, etcd 100m + 100Mi; the CoreDNS
#: Deployment 100m + 70Mi; kube-proxy and storage-provisioner request nothing).
KUBE_SYSTEM = ("750m", "170Mi")
#: Memory the node's processes use outside any pod's requests (kubelet, containerd, the OS of the minikube
#: node; minikube sets no kube-reserved/system-reserved, so allocatable is the whole node).
HEADROOM = ("0", "512Mi")
#: Spark 3.5 (docs/running-on-kubernetes.md, spark.kubernetes.memoryOverheadFactor 0.1 for JVM jobs;
#: core/config MEMORY_OVERHEAD_MIN_MIB 384): a pod requests heap + max(384 MiB, factor x heap).
SPARK_OVERHEAD_FACTOR = 0.1
SPARK_OVERHEAD_MIN = 384 * MI


@dataclass(frozen=True)
class Line:
    component: str
    workload: str
    pods: int
    cpu: int  # millicores, all pods
    memory: int  # bytes, all pods
    source: str


@dataclass(frozen=True)
class Budget:
    lines: tuple[Line, ...]
    reserve: tuple[Line, ...]
    capacity: tuple[int, int] | None  # (millicores, bytes) of the node; None: not stated (existing, no capacity)
    capacity_source: str

    @property
    def cpu(self) -> int:
        return sum(line.cpu for line in self.lines)

    @property
    def memory(self) -> int:
        return sum(line.memory for line in self.lines)

    @property
    def available(self) -> tuple[int, int] | None:
        if self.capacity is None:
            return None
        return (self.capacity[0] - sum(r.cpu for r in self.reserve),
                self.capacity[1] - sum(r.memory for r in self.reserve))

    def overflow(self) -> list[str]:
        """What does not fit, e.g. 'memory: requests 20.36Gi > 14.96Gi available (over by 5.40Gi)'."""
        if self.available is None:
            return []
        cpu, memory = self.available
        over = []
        if self.cpu > cpu:
            over.append(f"cpu: requests {cpu_text(self.cpu)} > {cpu_text(cpu)} available "
                        f"(over by {cpu_text(self.cpu - cpu)})")
        if self.memory > memory:
            over.append(f"memory: requests {memory_text(self.memory)} > {memory_text(memory)} available "
                        f"(over by {memory_text(self.memory - memory)})")
        return over

    def table(self) -> str:
        """The Markdown table: one row per workload, the total, the reserve and the node."""
        rows = ["| component | workload | pods | cpu | memory | source |", "|---|---|---|---|---|---|"]
        rows += [f"| {x.component} | {x.workload} | {x.pods} | {cpu_text(x.cpu)} | {memory_text(x.memory)} | "
                 f"{x.source} |" for x in self.lines]
        rows.append(f"| **total** | | {sum(x.pods for x in self.lines)} | **{cpu_text(self.cpu)}** | "
                    f"**{memory_text(self.memory)}** | |")
        rows += [f"| reserve | {x.workload} | | {cpu_text(x.cpu)} | {memory_text(x.memory)} | {x.source} |"
                 for x in self.reserve]
        if self.capacity is not None and self.available is not None:
            rows.append(f"| node | | | {cpu_text(self.capacity[0])} | {memory_text(self.capacity[1])} | "
                        f"{self.capacity_source} |")
            rows.append(f"| **available** | | | **{cpu_text(self.available[0])}** | "
                        f"**{memory_text(self.available[1])}** | node less reserve |")
        return "\n".join(rows)


def budget(platform: Platform, artifacts: list[Artifact]) -> Budget:
    lines: list[Line] = []
    documents = _documents(artifacts)
    values_files: dict[str, list[tuple[str, Artifact]]] = {}  # component folder -> (release, values file)
    for artifact in artifacts:
        path = PurePosixPath(artifact.path)
        if path.name.startswith("values-"):
            values_files.setdefault(path.parent.name, []).append((path.stem.removeprefix("values-"), artifact))
    for definition in components():
        if not platform.has(definition.name):
            continue
        for entry in definition.budget:
            if entry.kind is not None:
                lines += [_line(folder, f"{entry.workload} {doc.get('metadata', {}).get('name', '')}", doc, {},
                                entry, f"{path} {entry.kind}")
                          for folder, path, doc in documents if doc.get("kind") == entry.kind]
                continue
            for release, artifact in values_files.get(definition.name, []):
                values = (load_documents(artifact.content) or ({},))[0] or {}
                workload = entry.workload if release == definition.name else f"{release} {entry.workload}"
                if entry.spark_conf is not None:
                    lines += _spark_engine(definition.name, release, get(values, entry.spark_conf), artifact.path)
                else:
                    chart = CHART_DATA_DIR.get(definition.name, definition.name)
                    lines.append(_line(definition.name, workload, values, default_values(chart), entry,
                                       artifact.path, f"konoha_gen/charts/{chart}/values.yaml"))
    capacity, source = _capacity(platform)
    reserve = _reserve(platform.spec.cluster.provider)
    return Budget(tuple(lines), reserve, capacity, source)


def _line(component: str, workload: str, values: Any, chart: Any, entry: PodBudget, where: str,
          chart_file: str = "") -> Line:
    resources = get(values, entry.resources)
    source = f"{where}: {entry.resources}"
    if not _has_requests(resources) and chart:
        resources, source = get(chart, entry.resources), f"chart default, {chart_file}: {entry.resources}"
    cpu, memory = _requests(resources)
    pods = 1
    if isinstance(entry.replicas, int):
        pods = entry.replicas
    elif entry.replicas_when is None or _get_or(values, chart, entry.replicas_when[0]) == entry.replicas_when[1]:
        pods = int(_get_or(values, chart, entry.replicas) or 0)
    return Line(component, workload, pods, cpu * pods, memory * pods, source)


def _spark_engine(component: str, release: str, conf_text: Any, where: str) -> list[Line]:
    conf = {key: value.strip() for key, value in properties_load(str(conf_text or "")).items()}  # Spark trims
    if conf.get("spark.dynamicAllocation.enabled") == "true":
        executors = int(conf.get("spark.dynamicAllocation.maxExecutors", conf.get("spark.executor.instances", "2")))
    else:
        executors = int(conf.get("spark.executor.instances", "2"))
    lines = []
    for role, pods in (("driver", 1), ("executor", executors)):
        heap = spark_bytes(conf.get(f"spark.{role}.memory", "1g"))
        factor = float(conf.get(f"spark.{role}.memoryOverheadFactor",
                                conf.get("spark.kubernetes.memoryOverheadFactor", SPARK_OVERHEAD_FACTOR)))
        overhead = conf.get(f"spark.{role}.memoryOverhead")
        extra = spark_bytes(overhead) if overhead else max(SPARK_OVERHEAD_MIN, int(heap * factor))
        cpu = millicores(conf.get(f"spark.kubernetes.{role}.request.cores", conf.get(f"spark.{role}.cores", "1")))
        lines.append(Line(component, f"{release} Spark {role}{'s' if role == 'executor' else ''}", pods,
                          cpu * pods, (heap + extra) * pods,
                          f"{where}: spark-defaults.conf, heap {memory_text(heap)} + overhead {memory_text(extra)}"))
    return lines


def _capacity(platform: Platform) -> tuple[tuple[int, int] | None, str]:
    cluster = platform.spec.cluster
    if cluster.provider == "minikube":
        return (cluster.nodes.cpus * 1000, memory_bytes(cluster.nodes.memory)), "spec.cluster.nodes"
    if cluster.capacity is None:
        return None, "spec.cluster.capacity not set"
    return (millicores(cluster.capacity.cpu), memory_bytes(cluster.capacity.memory)), "spec.cluster.capacity"


def _reserve(provider: str) -> tuple[Line, ...]:
    flux = default_values("flux2")
    controllers = [name for name, v in flux.items() if isinstance(v, dict) and v.get("create") and "resources" in v]
    cpu = sum(_requests(flux[name]["resources"])[0] for name in controllers)
    memory = sum(_requests(flux[name]["resources"])[1] for name in controllers)
    lines = [Line("reserve", f"Flux ({len(controllers)} controllers)", len(controllers), cpu, memory,
                  "chart default, konoha_gen/charts/flux2/values.yaml: *Controller.resources")]
    if provider == "minikube":
        lines += [Line("reserve", "kube-system", 0, millicores(KUBE_SYSTEM[0]), memory_bytes(KUBE_SYSTEM[1]),
                       "kubeadm static pods + CoreDNS (Kubernetes 1.31)"),
                  Line("reserve", "headroom", 0, millicores(HEADROOM[0]), memory_bytes(HEADROOM[1]),
                       "kubelet, containerd, the node's OS")]
    return tuple(lines)


def _documents(artifacts: list[Artifact]) -> list[tuple[str, str, dict[str, Any]]]:
    """(folder, path, document) of every Kubernetes document outside values files."""
    found = []
    for artifact in artifacts:
        path = PurePosixPath(artifact.path)
        if path.suffix != ".yaml" or path.name.startswith("values-"):
            continue
        try:
            docs = list(load_documents(artifact.content))
        except yaml.YAMLError:
            continue  # the structure check reports it
        found += [(path.parent.name, artifact.path, doc) for doc in docs if isinstance(doc, dict) and "kind" in doc]
    return found


def _get_or(values: Any, chart: Any, path: str) -> Any:
    value = get(values, path)
    return get(chart, path) if value is None else value


def _has_requests(resources: Any) -> bool:
    if isinstance(resources, list):
        return any(_has_requests(c.get("resources")) for c in resources if isinstance(c, dict))
    return isinstance(resources, dict) and bool(resources.get("requests"))


def _requests(resources: Any) -> tuple[int, int]:
    """(millicores, bytes) requested by a resources block or a list of containers (summed)."""
    if isinstance(resources, list):
        pairs = [_requests(c.get("resources")) for c in resources if isinstance(c, dict)]
        return sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    if not isinstance(resources, dict):
        return 0, 0
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    # A container that states only a limit requests its limit (Kubernetes defaults requests to limits).
    return (millicores(requests.get("cpu", limits.get("cpu", 0))),
            memory_bytes(requests.get("memory", limits.get("memory", 0))))
