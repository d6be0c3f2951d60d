"""A generated tree (path -> bytes) read back as keyed resources.

What a resource is, and how it is keyed, so that two trees can be compared by
meaning rather than by line:

- Kubernetes objects (YAML documents with apiVersion, kind and metadata.name):
  by API group, kind, namespace and name. The version is left out of the key so
  that an API bump reads as a changed `apiVersion` field, not as a delete and a
  create. A namespace the folder's kustomization.yaml sets counts as the
  object's own.
- Terraform (`*.tf`, via python-hcl2): by root module (its folder) and address
  (`type.name`, `data.type.name`, `module.x`, `var.x`, `output.x`, `local.x`,
  `provider.x`); moving a block between files of a module is not a change.
- Kafka Connect connectors (`connectors/*.json`): by their `name`.
- `*.conf` (spark-defaults, kyuubi-defaults): by file, then one field per key.
- `*.sql`: the file's lines without comments, blank lines and indentation.
- every other YAML/JSON document (kustomization.yaml, Helm values, dbt
  profiles.yml): by file, fields by their nested keys.

README.md and the lock are derived from the rest and left out.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePosixPath
from typing import Any

import yaml

from konoha_gen.artifact import LOCK_NAME
from konoha_gen.quoting import properties_load

EXCLUDED = frozenset({"README.md", LOCK_NAME})
KUSTOMIZE_GROUP = "kustomize.config.k8s.io"


@dataclass(frozen=True)
class Resource:
    """One comparable unit of a generated tree."""

    category: str  # kubernetes | terraform | connector | helm-values | kustomize | conf | sql | dbt | file
    key: str  # unique within a tree; equal keys in two trees are the same resource
    title: str  # how a reviewer names it
    file: str  # path relative to out/
    body: Any  # plain data: dicts, lists, str, int, float, bool, None
    meta: Mapping[str, str] = field(default_factory=dict)


def parse_tree(contents: Mapping[str, bytes], paths: Iterable[str] | None = None) -> dict[str, Resource]:
    """Resources of `paths` (default: every file) of a tree; `contents` is the whole tree, for context."""
    selected = sorted(set(contents) if paths is None else set(paths) & set(contents))
    resources: dict[str, Resource] = {}
    for path in selected:
        if path in EXCLUDED:
            continue
        for resource in parse_file(path, contents[path], contents):
            key = resource.key if resource.key not in resources else f"{resource.key}@{path}"
            resources[key] = resource if key == resource.key else _rekeyed(resource, key)
    return resources


def _rekeyed(resource: Resource, key: str) -> Resource:
    return Resource(resource.category, key, f"{resource.title} ({resource.file})", resource.file, resource.body,
                    resource.meta)


def parse_file(path: str, data: bytes, contents: Mapping[str, bytes] | None = None) -> list[Resource]:
    text = data.decode("utf-8", errors="replace")
    suffix = PurePosixPath(path).suffix
    if suffix == ".tf":
        return list(_terraform(path, text))
    if suffix == ".json":
        return [_json(path, text)]
    if suffix == ".conf":
        return [Resource("conf", f"file:{path}", path, path, conf_pairs(text))]
    if suffix == ".sql":
        return [Resource("sql", f"file:{path}", path, path, {"sql": sql_text(text)})]
    if suffix in (".yaml", ".yml"):
        return list(_yaml(path, text, contents or {}))
    return [Resource("file", f"file:{path}", path, path, {"text": plain_text(text)})]


# --- YAML ---------------------------------------------------------------------------------------------------


def load_yaml_documents(text: str) -> list[Any]:
    return [doc for doc in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if doc is not None]


@cache
def _yaml_documents(text: str) -> tuple[Any, ...]:
    return tuple(load_yaml_documents(text))


def is_object(doc: Any) -> bool:
    """A Kubernetes object (kustomize's own kustomization.yaml is not one)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("apiVersion"), str) or not isinstance(doc.get("kind"), str):
        return False
    metadata = doc.get("metadata")
    return isinstance(metadata,
                      dict) and bool(metadata.get("name")) and not doc["apiVersion"].startswith(KUSTOMIZE_GROUP)


def object_identity(doc: Mapping[str, Any], default_namespace: str = "") -> dict[str, str]:
    api_version = str(doc["apiVersion"])
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    metadata = doc["metadata"]
    return {"apiVersion": api_version, "group": group, "kind": str(doc["kind"]),
            "namespace": str(metadata.get("namespace") or default_namespace), "name": str(metadata["name"])}


def object_key(identity: Mapping[str, str]) -> str:
    return f"k8s:{identity['group']}/{identity['kind']}/{identity['namespace']}/{identity['name']}"


def object_title(identity: Mapping[str, str]) -> str:
    where = f"{identity['namespace']}/{identity['name']}" if identity["namespace"] else identity["name"]
    return f"{identity['kind']} {where}"


def _yaml(path: str, text: str, contents: Mapping[str, bytes]) -> Iterator[Resource]:
    try:
        docs = _yaml_documents(text)
    except yaml.YAMLError:
        yield Resource("file", f"file:{path}", path, path, {"text": plain_text(text)})
        return
    plain = [doc for doc in docs if not is_object(doc)]
    namespace = kustomize_namespace(path, contents)
    for doc in docs:
        if is_object(doc):
            identity = object_identity(doc, namespace)
            yield Resource("kubernetes", object_key(identity), object_title(identity), path, doc, identity)
    for index, doc in enumerate(plain):
        suffix = f"#{index}" if len(plain) > 1 else ""
        yield Resource(_file_category(path, doc), f"file:{path}{suffix}", f"{path}{suffix}", path, doc)


def _file_category(path: str, doc: Any) -> str:
    name = PurePosixPath(path).name
    if name in ("kustomization.yaml", "kustomization.yml", "kustomizeconfig.yaml") or (
            isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith(KUSTOMIZE_GROUP)):
        return "kustomize"
    if name.startswith("values"):
        return "helm-values"
    if path.startswith("dbt/"):
        return "dbt"
    return "file"


def kustomization_of(folder: str, contents: Mapping[str, bytes]) -> dict[str, Any] | None:
    """The kustomization.yaml of a folder of the tree, as data."""
    for name in ("kustomization.yaml", "kustomization.yml"):
        data = contents.get(f"{folder}/{name}" if folder else name)
        if data is not None:
            try:
                docs = _yaml_documents(data.decode("utf-8", errors="replace"))
            except yaml.YAMLError:
                return None
            return docs[0] if docs and isinstance(docs[0], dict) else None
    return None


def kustomize_namespace(path: str, contents: Mapping[str, bytes]) -> str:
    """The namespace the folder's kustomization.yaml sets on `path`, if it lists it."""
    folder = str(PurePosixPath(path).parent)
    kustomization = kustomization_of("" if folder == "." else folder, contents)
    if not kustomization or not isinstance(kustomization.get("namespace"), str):
        return ""
    listed = kustomization.get("resources") or []
    return str(kustomization["namespace"]) if PurePosixPath(path).name in listed else ""


# --- JSON (connectors) --------------------------------------------------------------------------------------


def _json(path: str, text: str) -> Resource:
    try:
        doc = json.loads(text)
    except ValueError:
        return Resource("file", f"file:{path}", path, path, {"text": plain_text(text)})
    if path.startswith("connectors/") and isinstance(doc, dict) and isinstance(doc.get("name"), str):
        name = doc["name"]
        return Resource("connector", f"connector:{name}", f"connector {name}", path, doc, {"name": name})
    return Resource("file", f"file:{path}", path, path, doc)


# --- conf files and SQL -------------------------------------------------------------------------------------

def conf_pairs(text: str) -> dict[str, str]:
    """A properties file's entries as java.util.Properties reads them (quoting.properties_load), values trimmed as
    Spark trims them; the last of a key wins."""
    return {key: value.strip() for key, value in properties_load(text).items()}


def sql_text(text: str) -> str:
    """The SQL without comment lines, blank lines and indentation: one line per source line, in order."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("--"))


def plain_text(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


# --- Terraform ----------------------------------------------------------------------------------------------

_HCL_META = frozenset({"__is_block__", "__comments__", "__start_line__", "__end_line__", "__inline_comments__"})
_HEREDOC = re.compile(r"^<<(?P<dash>-?)(?P<tag>[A-Za-z_][A-Za-z0-9_]*)\n(?P<body>.*?)\n?[ \t]*(?P=tag)$", re.S)


@cache
def _hcl(text: str) -> dict[str, Any]:
    import hcl2

    return dict(hcl2.loads(text))


def unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def hcl_value(value: Any) -> Any:
    """python-hcl2's output as plain data: quotes and parser bookkeeping removed, heredocs dedented."""
    if isinstance(value, dict):
        return {unquote(str(k)): hcl_value(v) for k, v in value.items() if k not in _HCL_META}
    if isinstance(value, list):
        return [hcl_value(v) for v in value]
    if isinstance(value, str):
        text = unquote(value)
        heredoc = _HEREDOC.match(text)
        if heredoc:
            body = heredoc.group("body")
            return textwrap.dedent(body) if heredoc.group("dash") else body
        return text
    return value


def _terraform(path: str, text: str) -> Iterator[Resource]:
    module = str(PurePosixPath(path).parent)
    try:
        parsed = _hcl(text)
    except Exception:  # python-hcl2 raises lark's errors; an unparsable file is compared by its lines
        yield Resource("file", f"file:{path}", path, path, {"text": plain_text(text)})
        return
    for block_type, entries in parsed.items():
        if block_type in _HCL_META:
            continue
        for index, entry in enumerate(entries if isinstance(entries, list) else [entries]):
            for address, tf_type, body in _blocks(block_type, index, entry):
                meta = {"module": module, "block": block_type, "type": tf_type, "address": address}
                yield Resource("terraform", f"tf:{module}:{address}", f"{address} ({module})", path, body, meta)


def _blocks(block_type: str, index: int, entry: Any) -> Iterator[tuple[str, str, Any]]:
    """(address, resource type or '', body) of each block of one parsed entry."""
    if not isinstance(entry, dict):
        yield f"{block_type}#{index}", "", hcl_value(entry)
        return
    if block_type in ("resource", "data"):
        prefix = "data." if block_type == "data" else ""
        for rtype, by_name in entry.items():
            if rtype in _HCL_META or not isinstance(by_name, dict):
                continue
            for name, body in by_name.items():
                if name not in _HCL_META:
                    yield f"{prefix}{unquote(rtype)}.{unquote(name)}", unquote(rtype), hcl_value(body)
        return
    if block_type == "locals":
        for name, value in entry.items():
            if name not in _HCL_META:
                yield f"local.{unquote(name)}", "", hcl_value(value)
        return
    prefixes = {"variable": "var.", "output": "output.", "module": "module.", "provider": "provider."}
    if block_type in prefixes:
        for name, body in entry.items():
            if name in _HCL_META:
                continue
            value = hcl_value(body)
            alias = value.get("alias") if isinstance(value, dict) and block_type == "provider" else None
            yield f"{prefixes[block_type]}{unquote(name)}{'.' + str(alias) if alias else ''}", "", value
        return
    yield (block_type if block_type == "terraform" and index == 0 else f"{block_type}#{index}"), "", hcl_value(entry)
