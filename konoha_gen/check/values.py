"""Helm values against the chart they configure.

A chart with a values.schema.json: JSON-Schema validation (Draft 7, the
dialect every vendored schema works under). A chart without one: every key
path the values set must exist in the chart's default values.yaml, except
under free-form maps (the generic list below plus the chart's own `freeform`
entries in catalog.json) and keys the chart documents only in comments
(`documented_absent`). kube-prometheus-stack's `grafana.*` is checked against
the grafana chart, like Helm does with the subchart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from konoha_gen.catalog import CHART_DATA_DIR
from konoha_gen.chart_data import default_values
from konoha_gen.components.registry import components

#: Maps whose keys are free-form in every chart (the workspace's shared/charts/README.md "Rules for the key-path test").
GENERIC_FREEFORM = frozenset({
    "annotations", "labels", "podAnnotations", "podLabels", "nodeSelector", "resources", "affinity", "tolerations",
    "securityContext", "podSecurityContext", "containerSecurityContext", "env", "envFrom", "extraEnv", "extraEnvVars",
    "extraEnvFrom", "extraVolumes", "extraVolumeMounts", "volumes", "volumeMounts", "extraObjects", "extraArgs",
})
SUBCHARTS = {("kube-prometheus-stack", "grafana"): "grafana"}


class Chart:
    """One chart's reference data: default values, optional schema, catalogue exemptions."""

    def __init__(self, charts_dir: Path, folder: str) -> None:
        self.folder = folder
        self.dir = charts_dir / folder
        self.defaults: dict[str, Any] = default_values(folder, charts_dir)
        schema_file = self.dir / "values.schema.json"
        self.schema = json.loads(schema_file.read_text()) if schema_file.is_file() else None
        entry = _catalog(charts_dir).get(folder, {})
        self.freeform = [_path_of(text) for text in entry.get("freeform", [])]
        self.documented = [_path_of(text) for text in entry.get("documented_absent", [])]
        self.documented += [_path_of(key) for d in components() if d.catalog and CHART_DATA_DIR.get(d.catalog) == folder
                            for key in d.values_in_comments]

    def problems(self, values: dict[str, Any]) -> list[str]:
        """Schema errors (Helm validates the defaults merged with the user's values), then key paths
        that neither the default values nor the schema declare: most schemas leave nested objects
        open, so a misspelt key would otherwise pass."""
        found = []
        if self.schema is not None:
            validator = jsonschema.Draft7Validator(self.schema)
            merged = merge(self.defaults, values)
            found = [f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
                     for e in sorted(validator.iter_errors(merged), key=lambda e: [str(p) for p in e.absolute_path])]
        where = f"{self.folder}'s values.yaml" + (" or values.schema.json" if self.schema is not None else "")
        return found + [f"{'.'.join(path)}: key not in {where}" for path in self.unknown_paths(values)]

    def unknown_paths(self, values: dict[str, Any]) -> Iterator[tuple[str, ...]]:
        for path, _value in _leaves(values, ()):
            if not self._known(path):
                yield path

    def _known(self, path: tuple[str, ...]) -> bool:
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix[-1] in GENERIC_FREEFORM or self._listed(prefix, self.freeform):
                return True
        if self._listed(path, self.documented) or self._declared(path):
            return True
        node: Any = self.defaults
        for index, key in enumerate(path):
            if isinstance(node, list):
                return True  # list items are free-form unless the chart documents their shape
            if not isinstance(node, dict) or key not in node:
                return False
            node = node[key]
            if node is None and index < len(path) - 1:
                return False  # a null default has no sub-keys to set
            if node == {} and index < len(path) - 1:
                return True  # an empty map default is a map the chart iterates: its keys are free-form
        return True

    def _declared(self, path: tuple[str, ...]) -> bool:
        """The schema names this exact key path (through properties and local $refs)."""
        node: Any = self.schema
        for key in path:
            node = self._deref(node)
            if not isinstance(node, dict) or key not in node.get("properties", {}):
                return False
            node = node["properties"][key]
        return node is not None

    def _deref(self, node: Any) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            target: Any = self.schema
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        return node

    @staticmethod
    def _listed(path: tuple[str, ...], entries: list[tuple[str, ...]]) -> bool:
        for entry in entries:
            if entry and entry[0] == "*" and path[-len(entry) + 1:] == entry[1:] and len(path) >= len(entry) - 1:
                return True
            if path[: len(entry)] == entry:
                return True
        return False


def _without(values: dict[str, Any], paths: set[tuple[str, ...]]) -> dict[str, Any]:
    """The values without the given leaf paths (and the maps they leave empty)."""
    kept: dict[str, Any] = {}
    for key, value in values.items():
        if (key,) in paths:
            continue
        if isinstance(value, dict) and value:
            inner = _without(value, {path[1:] for path in paths if path[0] == key and len(path) > 1})
            if inner:
                kept[key] = inner
        else:
            kept[key] = value
    return kept


def merge(defaults: Any, override: Any) -> Any:
    """Helm's coalescing: maps merge recursively, null deletes a default, anything else replaces."""
    if not isinstance(defaults, dict) or not isinstance(override, dict):
        return override
    merged = dict(defaults)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge(defaults.get(key), value)
    return merged


def _path_of(text: str) -> tuple[str, ...]:
    """'catalogs (map: ...)' -> ('catalogs',); 'users[].existingSecret' -> ('users', 'existingSecret')."""
    first = text.split(" ")[0].replace("[]", "")
    if first.startswith("grafana.ini"):
        return ("grafana.ini",)
    return tuple(part for part in first.split(".") if part)


def _leaves(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, (*path, str(key)))
    else:
        yield path, node


@cache
def _catalog(charts_dir: Path) -> dict[str, dict[str, Any]]:
    body = json.loads((charts_dir / "catalog.json").read_text())
    return {entry["dir"]: entry for entry in body["charts"]}


@cache
def load_chart(charts_dir: Path, folder: str) -> Chart:
    return Chart(charts_dir, folder)


def check_values(charts_dir: Path, folder: str, values: dict[str, Any]) -> list[str]:
    """Problems of one values document for the chart in <charts_dir>/<folder>."""
    own = dict(values)
    problems = []
    for (parent, key), sub in SUBCHARTS.items():
        if parent == folder and isinstance(own.get(key), dict):
            subvalues = dict(own.pop(key))
            subvalues.pop("enabled", None)  # the parent's condition switch, not a subchart value
            # Helm hands the parent's `grafana:` block to the subchart, and the parent's own templates read the
            # keys its values.yaml declares there (kube-prometheus-stack's grafana.additionalDataSources and
            # grafana.sidecar.datasources.*, templates/grafana/configmaps-datasources.yaml): either chart may know one.
            parent_chart = load_chart(charts_dir, folder)
            parent_keys = {path for path, _ in _leaves(subvalues, ()) if parent_chart._known((key, *path))}
            problems += [f"{key}.{p}" for p in load_chart(charts_dir, sub).problems(_without(subvalues, parent_keys))]
            if not load_chart(charts_dir, folder)._known((key, "enabled")):
                problems.append(f"{key}.enabled: key not in {folder}'s values.yaml")
    return load_chart(charts_dir, folder).problems(own) + problems
