"""The upstream data vendored into the project (scripts/vendor.py) against the catalogue's pins.

A pin changed without `make vendor` would have the values checked against another chart version."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from konoha_gen.catalog import CATALOG, CHART_DATA_DIR, Upstream
from konoha_gen.chart_data import VENDORED_CHARTS
from konoha_gen.check.k8s import VENDORED as VENDORED_SCHEMAS
from konoha_gen.check.values import SUBCHARTS
from tests.conftest import ROOT

EXAMPLE = ROOT / "tests" / "data" / "konoha.example.yaml"


def vendored_entries() -> dict[str, dict[str, Any]]:
    """konoha_gen/charts/catalog.json entries by folder."""
    return {e["dir"]: e for e in json.loads((VENDORED_CHARTS / "catalog.json").read_text("utf-8"))["charts"]}


def pin_problems(catalog: Mapping[str, Upstream]) -> list[str]:
    """Each chart-deployed component whose vendored chart is missing or not the pinned one."""
    by_chart = {e["chart"]: e for e in vendored_entries().values()}
    problems = []
    for upstream in catalog.values():
        if upstream.chart is None:
            continue
        entry = by_chart.get(upstream.chart)
        if entry is None or not (VENDORED_CHARTS / entry["dir"] / "Chart.yaml").is_file():
            problems.append(f"{upstream.component}: chart {upstream.chart} is not vendored")
            continue
        chart = yaml.safe_load((VENDORED_CHARTS / entry["dir"] / "Chart.yaml").read_text("utf-8"))
        if chart["name"] != upstream.chart or str(chart["version"]) != entry["version"]:
            problems.append(f"{upstream.component}: Chart.yaml {chart['name']} {chart['version']} disagrees with "
                            "catalog.json")
        if upstream.source_kind == "GitRepository":
            # Pinned by git tag (Kyuubi's chart version stays 0.1.0): the tag copied from and the app it ships.
            app_version = upstream.version.removeprefix("v")
            if entry["source_ref"] != upstream.version or str(chart["appVersion"]) != app_version:
                problems.append(f"{upstream.component}: pinned {upstream.version}, vendored from {entry['source_ref']} "
                                f"(appVersion {chart['appVersion']})")
        elif str(chart["version"]) != upstream.version:
            problems.append(f"{upstream.component}: pinned {upstream.version}, vendored {chart['version']}")
    return problems


def test_every_pinned_chart_is_vendored_at_its_pinned_version() -> None:
    assert pin_problems(CATALOG) == []


CHART_COMPONENTS = sorted(name for name, upstream in CATALOG.items() if upstream.chart is not None)


@pytest.mark.parametrize("component", CHART_COMPONENTS)
def test_a_changed_pin_is_caught(component: str) -> None:
    upstream = CATALOG[component]
    bumped = {**CATALOG, component: dataclasses.replace(upstream, version=upstream.version + ".1")}
    assert [p.split(":")[0] for p in pin_problems(bumped)] == [component]


def test_an_unvendored_chart_is_caught() -> None:
    extra = Upstream("ingress-nginx", "ingress-nginx", "4.15.1", "1.15.1", "HelmRepository", "https://kubernetes.github.io/ingress-nginx")
    assert pin_problems({**CATALOG, "ingress-nginx": extra}) == ["ingress-nginx: chart ingress-nginx is not vendored"]


def test_every_chart_the_values_check_reads_is_vendored() -> None:
    entries = vendored_entries()
    folders = set(CHART_DATA_DIR.values()) | set(SUBCHARTS.values())
    assert folders <= set(entries)
    for folder in sorted(folders):
        files = {p.name for p in (VENDORED_CHARTS / folder).iterdir()}
        assert files == set(entries[folder]["files"]), folder
        assert "values.yaml" in files and ("values.schema.json" in files) == entries[folder]["values_schema"], folder


def _source_from_the_copies(root: Path) -> Path:
    """A shared/ folder holding what is vendored, plus a chart the catalogue does not pin."""
    charts = root / "charts"
    shutil.copytree(VENDORED_CHARTS, charts, ignore=shutil.ignore_patterns("README.md", "SOURCES.md"))
    body = json.loads((charts / "catalog.json").read_text("utf-8"))
    body["charts"].append({**body["charts"][0], "dir": "ingress-nginx", "chart": "ingress-nginx"})
    (charts / "catalog.json").write_text(json.dumps(body))
    shutil.copytree(VENDORED_SCHEMAS, root / "schemas", ignore=shutil.ignore_patterns("README.md"))
    (root / "design").mkdir()
    shutil.copy(EXAMPLE, root / "design")
    return root


def _check(source: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "vendor.py"), "--check", str(source)],
                          capture_output=True, text=True)


def test_vendor_check_passes_on_its_own_copies_and_names_a_changed_file(tmp_path: Path) -> None:
    source = _source_from_the_copies(tmp_path / "shared")
    result = _check(source)
    assert result.returncode == 0, result.stdout + result.stderr
    with (source / "charts" / "trino" / "values.yaml").open("a") as values:
        values.write("# upstream edit\n")
    (source / "schemas" / "kafka-kafka-v1.json").write_text("{}")
    result = _check(source)
    assert result.returncode == 1
    assert result.stdout.splitlines()[:2] == ["differs: konoha_gen/charts/trino/values.yaml", "differs: "
                                                                                              "konoha_gen/schemas/kafka-kafka-v1.json"]
