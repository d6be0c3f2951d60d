"""The laptop budget: requests summed from the generated values and manifests, checked against the node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from konoha_gen.artifact import Artifact
from konoha_gen.budget import Budget, Line, budget
from konoha_gen.cli import main
from konoha_gen.emit import emit_all
from konoha_gen.pipeline import compile_platform
from konoha_gen.quantity import MI
from konoha_gen.resolved import Platform
from tests.helpers import edit_spec

GI = 1024 * MI


def _compile(tmp_path: Path, text: str) -> tuple[Platform, list[Artifact]]:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(text, "utf-8")
    platform = compile_platform(spec)
    return platform, emit_all(platform)


def _row(result: Budget, component: str, workload: str) -> Line:
    return next(x for x in result.lines if x.component == component and x.workload == workload)


def test_reference_spec_budget_table(platform: Platform, artifacts: list[Artifact]) -> None:
    result = budget(platform, artifacts)
    assert result.overflow() == []
    assert _row(result, "trino", "coordinator") == Line(
        "trino", "coordinator", 1, 500, GI, "platform/trino/values-trino.yaml: coordinator.resources")
    assert (_row(result, "trino", "workers").pods, _row(result, "trino", "workers").memory) == (1, GI)
    # Spark: heap + max(384 MiB, 10%) per pod; the request cores from spark.kubernetes.*.request.cores
    driver = _row(result, "kyuubi", "kyuubi-batch Spark driver")
    assert (driver.cpu, driver.memory) == (250, 512 * MI + 384 * MI)
    executors = _row(result, "kyuubi", "kyuubi-batch Spark executors")
    assert (executors.pods, executors.cpu, executors.memory) == (1, 500, 768 * MI + 384 * MI)
    assert _row(result, "keycloak", "PostgreSQL keycloak-db").memory == 256 * MI
    assert _row(result, "kafka", "broker dual-role").memory == 768 * MI
    assert (result.cpu, result.memory) == (5700, sum(x.memory for x in result.lines))
    assert result.capacity == (8000, 16 * GI)
    assert result.available == (8000 - 600 - 750, 16 * GI - 384 * MI - 170 * MI - 512 * MI)
    readme = next(a.content for a in artifacts if a.path == "README.md")
    assert "## Laptop budget" in readme
    assert all(row in readme.splitlines() for row in result.table().splitlines())


def test_trino_workers_change_the_trino_row_by_the_worker_request(tmp_path: Path, spec_text: str) -> None:
    def workers(n: int) -> Line:
        def change(data: Any) -> None:
            data["spec"]["access"]["trino"]["workers"] = n
        return _row(budget(*_compile(tmp_path, edit_spec(spec_text, change))), "trino", "workers")
    one, three = workers(1), workers(3)
    assert (three.pods, three.cpu - one.cpu, three.memory - one.memory) == (3, 2 * 500, 2 * GI)


def test_spark_executors_count_dynamic_allocation_max(tmp_path: Path, spec_text: str) -> None:
    def change(data: Any) -> None:
        data["spec"]["compute"]["spark"]["profiles"][1]["executor"]["memory"] = "8g"
        data["spec"]["compute"]["spark"]["profiles"][1]["dynamicAllocation"]["max"] = 3
    executors = _row(budget(*_compile(tmp_path, edit_spec(spec_text, change))), "kyuubi",
                     "kyuubi-batch Spark executors")
    assert (executors.pods, executors.memory) == (3, 3 * (8 * GI + int(8 * GI * 0.1)))  # 10% > 384 MiB


def test_over_budget_spec_is_refused_with_the_table(tmp_path: Path, spec_text: str) -> None:
    def change(data: Any) -> None:
        data["spec"]["access"]["trino"]["workers"] = 3
        data["spec"]["access"]["trino"]["worker"]["memory"] = "4Gi"
    spec = tmp_path / "konoha.yaml"
    spec.write_text(edit_spec(spec_text, change), "utf-8")
    result = CliRunner().invoke(main, ["build", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "[budget]" in result.output and "memory: requests" in result.output and "over by" in result.output
    assert "| trino | workers | 3 | 1.5 | 12.00Gi |" in result.output
    assert "| **available** | | | **6.65** | **14.96Gi** |" in result.output
    assert not (tmp_path / "out").exists()


def test_existing_provider_uses_capacity_or_checks_nothing(tmp_path: Path, spec_text: str) -> None:
    def existing(capacity: dict[str, str] | None) -> Budget:
        def change(data: Any) -> None:
            data["spec"]["cluster"]["provider"] = "existing"
            data["spec"]["access"]["trino"]["workers"] = 20
            if capacity:
                data["spec"]["cluster"]["capacity"] = capacity
        return budget(*_compile(tmp_path, edit_spec(spec_text, change)))
    unknown = existing(None)
    assert unknown.capacity is None and unknown.overflow() == []  # written, not checked
    assert "Flux" in unknown.reserve[0].workload and len(unknown.reserve) == 1  # no kube-system reserve
    big = existing({"cpu": "64", "memory": "128Gi"})
    assert big.capacity == (64000, 128 * GI) and big.overflow() == []
    small = existing({"cpu": "12", "memory": "32Gi"})  # 20 workers: 15.2 CPU, 24.5Gi
    assert [o.split(":")[0] for o in small.overflow()] == ["cpu", "memory"]


def test_chart_default_when_the_values_set_no_resources(platform: Platform, artifacts: list[Artifact]) -> None:
    """hive-metastore's chart requests 100m / 512Mi (konoha_gen/charts/hive-metastore/values.yaml: resources)."""
    path = "platform/hive-metastore/values-hive-metastore.yaml"
    edited = []
    for artifact in artifacts:
        if artifact.path == path:
            values = yaml.safe_load(artifact.content)
            del values["resources"]
            artifact = Artifact(path, yaml.safe_dump(values))
        edited.append(artifact)
    row = _row(budget(platform, edited), "hive-metastore", "server")
    assert (row.cpu, row.memory) == (100, 512 * MI)
    assert row.source == "chart default, konoha_gen/charts/hive-metastore/values.yaml: resources"
    # Traefik's values set none and its chart sets none either: counted as nothing, and said so
    traefik = _row(budget(platform, artifacts), "traefik", "proxy")
    assert (traefik.cpu, traefik.memory) == (0, 0) and traefik.source.startswith("chart default")


def test_vault_ha_counts_the_chart_replicas(tmp_path: Path, spec_text: str) -> None:
    def change(data: Any) -> None:
        data["spec"]["secrets"]["vault"]["mode"] = "ha"
    row = _row(budget(*_compile(tmp_path, edit_spec(spec_text, change))), "vault", "server")
    assert (row.pods, row.memory) == (3, 3 * 256 * MI)
