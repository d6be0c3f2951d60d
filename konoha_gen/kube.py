"""Building blocks for Kubernetes YAML: object skeletons, labels, serialisation.

YAML is built as data and dumped with PyYAML's safe dumper (YAML 1.1, so
strings such as 'yes' or 'on' are quoted for Go's YAML readers); keys keep
insertion order, multi-line strings use literal blocks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from konoha_gen.artifact import below_header
from konoha_gen.resolved import Platform

Doc = dict[str, Any]


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml's emitter when present (several times faster).

    List items sit at their key's indent, as kubectl prints them. Never anchors and aliases: an object that
    appears twice is written out twice, as Kubernetes manifests are. Plain data skips the representer's generic
    dispatch, and whether a string may go unquoted is decided once per distinct string: the output is the same."""

    def represent_data(self, data: Any) -> Any:
        kind = type(data)
        if kind is dict:
            return MappingNode("tag:yaml.org,2002:map", [(self.represent_data(key), self.represent_data(value))
                                                         for key, value in data.items()], flow_style=False)
        if kind is list:
            return SequenceNode("tag:yaml.org,2002:seq", [self.represent_data(item) for item in data],
                                flow_style=False)
        if kind is str:
            return ScalarNode("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)
        if kind is bool:
            return ScalarNode("tag:yaml.org,2002:bool", "true" if data else "false")
        if kind is int:
            return ScalarNode("tag:yaml.org,2002:int", str(data))
        if data is None:
            return ScalarNode("tag:yaml.org,2002:null", "null")
        return super().represent_data(data)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        return _resolve(kind, value, implicit) if kind is ScalarNode else super().resolve(kind, value, implicit)


_RESOLVER = yaml.resolver.Resolver()


@lru_cache(maxsize=65536)
def _resolve(kind: Any, value: Any, implicit: Any) -> Any:
    """The tag a scalar would get read back (no path resolvers are registered, so nothing else matters)."""
    return _RESOLVER.resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


#: YAML text dump() wrote -> the documents it wrote it from. PyYAML's safe dumper writes plain data (str, int, bool,
#: None, lists, dicts) so that it reads back equal, so the checks take these instead of parsing the text again
#: (tests/test_emit_parse.py reads every generated file back and compares).
_DUMPED: dict[str, tuple[Any, ...]] = {}


def dump(*documents: Doc) -> str:
    """One or more documents as YAML text, separated by '---'."""
    text: str = yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096,
                              explicit_start=len(documents) > 1)
    _DUMPED[text] = documents
    return text


def labels(platform: Platform, component: str) -> dict[str, str]:
    """The label set every generated object carries (the spec's metadata.labels first)."""
    return {**platform.labels, "app.kubernetes.io/part-of": platform.name, "app.kubernetes.io/component": component,
            "app.kubernetes.io/managed-by": "konoha-gen"}


def obj(api_version: str, kind: str, name: str, namespace: str | None, *, component: str, platform: Platform,
        **body: Any) -> Doc:
    metadata: Doc = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    metadata["labels"] = labels(platform, component)
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}


def kustomization(resources: list[str], **extra: Any) -> Doc:
    """A kustomize kustomization.yaml."""
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources, **extra}


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster


@cache
def load_documents(text: str) -> tuple[Any, ...]:
    """The YAML documents of a text, read once per content (the checks and the budget share them): those dump()
    wrote it from (below a header comment, if any), a JSON text's one value, or else parsed."""
    dumped = _DUMPED.get(below_header(text))
    if dumped is not None:
        return dumped
    if text.startswith("{"):
        try:
            return (json.loads(text),)  # JSON is YAML; its own parser reads it many times faster
        except ValueError:
            pass
    return tuple(yaml.load_all(text, Loader=_Loader))


def strings(node: Any) -> Iterator[str]:
    """Every string of a parsed document, keys included, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node
