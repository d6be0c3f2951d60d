"""Two parsed trees -> what changed, resource by resource and field by field.

Only meaning is compared: mapping key order never matters; a list whose order
carries no meaning (most lists in Kubernetes, Helm values and Terraform
arguments) is compared as a collection: list items that are mappings with a
unique `name`/`id`/... are matched by it (so a field path reads
`env[name=FOO].value`), other items as a multiset. Lists whose order matters
(`command`, `args`, `initContainers`) are compared in order.
Comma-separated `*.list` values (Debezium's `table.include.list`) and a
sink's `topics` / `iceberg.tables` compare as sets. Secret-bearing values are
masked here, before anything can print them.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from konoha_gen.diff.mask import MASK, is_secret
from konoha_gen.diff.resources import Resource


class _Missing:
    """A field absent on one side."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True, order=True)
class Item:
    """A list item matched by an identifying field: `[name=foo]`, or a member of an unordered list: `[foo]`."""

    field: str
    value: str


PathPart = str | int | Item
FieldPath = tuple[PathPart, ...]

ORDERED_KEYS = frozenset({"command", "args", "initContainers"})
COMMA_SETS = frozenset({"topics", "iceberg.tables"})
IDENTITY_KEYS = ("name", "id", "key", "mountPath", "containerPort", "path")


@dataclass(frozen=True)
class FieldChange:
    path: FieldPath
    old: Any  # MISSING when added
    new: Any  # MISSING when removed


@dataclass(frozen=True)
class ResourceChange:
    action: str  # added | removed | changed
    key: str
    old: Resource | None
    new: Resource | None
    fields: tuple[FieldChange, ...]

    @property
    def resource(self) -> Resource:
        resource = self.new or self.old
        assert resource is not None
        return resource


def compare(old: Mapping[str, Resource], new: Mapping[str, Resource]) -> list[ResourceChange]:
    """Every resource added, removed or changed in meaning, in key order."""
    changes = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before is None and after is not None:
            changes.append(ResourceChange("added", key, None, after,
                                          tuple(_masked(after, _described(after), new=True))))
        elif after is None and before is not None:
            changes.append(ResourceChange("removed", key, before, None,
                                          tuple(_masked(before, _described(before), new=False))))
        elif before is not None and after is not None:
            fields = [FieldChange(p, _mask(after, p, o), _mask(after, p, n))
                      for p, o, n in diff_values(before.body, after.body)]
            if fields:
                changes.append(ResourceChange("changed", key, before, after, tuple(fields)))
    return changes


#: Fields of an added or removed Kubernetes object that its title already says, or that only label it.
_IDENTITY_FIELDS = (("kind",), ("metadata", "name"), ("metadata", "namespace"), ("metadata", "labels"))


def _described(resource: Resource) -> Iterator[tuple[FieldPath, Any]]:
    """The fields shown for a resource added or removed as a whole."""
    for path, value in leaves(resource.body):
        if resource.category == "kubernetes" and any(path[: len(p)] == p for p in _IDENTITY_FIELDS):
            continue
        yield path, value


def _mask(resource: Resource, path: FieldPath, value: Any) -> Any:
    return MASK if value is not MISSING and is_secret(resource, path, value) else value


def _masked(resource: Resource, pairs: Iterator[tuple[FieldPath, Any]], *, new: bool) -> Iterator[FieldChange]:
    for path, value in pairs:
        value = _mask(resource, path, value)
        yield FieldChange(path, MISSING, value) if new else FieldChange(path, value, MISSING)


def leaves(value: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    """(path, value) of every leaf; lists of scalars are leaves, lists of mappings are walked."""
    if isinstance(value, dict) and value:
        for key in sorted(value, key=str):
            yield from leaves(value[key], (*path, key))
    elif isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        identity = _identity(value, value)
        for index, item in enumerate(value):
            part: PathPart = Item(identity, str(item[identity])) if identity else index
            yield from leaves(item, (*path, part))
    else:
        yield path, value


def diff_values(old: Any, new: Any, path: FieldPath = ()) -> list[tuple[FieldPath, Any, Any]]:
    """(path, old, new) of every leaf that differs in meaning."""
    if _equivalent(old, new, path):
        return []
    if old is MISSING or new is MISSING:
        present = new if old is MISSING else old
        return [(p, MISSING, v) if old is MISSING else (p, v, MISSING) for p, v in leaves(present, path)]
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(old.keys() | new.keys(), key=str):
            found += diff_values(old.get(key, MISSING), new.get(key, MISSING), (*path, key))
        return found
    if isinstance(old, list) and isinstance(new, list):
        return _diff_lists(old, new, path)
    return [(path, old, new)]


def _last_key(path: FieldPath) -> str:
    return next((p for p in reversed(path) if isinstance(p, str)), "")


def _ordered(path: FieldPath) -> bool:
    return bool(path) and isinstance(path[-1], str) and path[-1] in ORDERED_KEYS


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def _comma_set(key: str) -> bool:
    """Connector keys whose comma-separated value is a set (Debezium `*.list`, a sink's topics and tables)."""
    return key.endswith(".list") or key in COMMA_SETS


def _equivalent(old: Any, new: Any, path: FieldPath) -> bool:
    if old is MISSING or new is MISSING:
        return old is new
    if type(old) is not type(new):
        return False
    if old == new:
        return True
    if isinstance(old, str) and _comma_set(_last_key(path)):
        return {p.strip() for p in old.split(",") if p.strip()} == {p.strip() for p in new.split(",") if p.strip()}
    if isinstance(old, list) and not _ordered(path):
        return Counter(canonical(v) for v in old) == Counter(canonical(v) for v in new)
    return False


def _identity(old: Sequence[Any], new: Sequence[Any]) -> str:
    """A field that names every mapping item of both lists uniquely, or ''."""
    items = [*old, *new]
    if not items or not all(isinstance(v, dict) for v in items):
        return ""
    for key in IDENTITY_KEYS:
        named = all(isinstance(v.get(key), str | int) for v in items)
        if named and len({canonical(v[key]) for v in old}) == len(old) \
                and len({canonical(v[key]) for v in new}) == len(new):
            return key
    return ""


def _diff_lists(old: list[Any], new: list[Any], path: FieldPath) -> list[tuple[FieldPath, Any, Any]]:
    identity = _identity(old, new)
    if identity:
        before = {str(v[identity]): v for v in old}
        after = {str(v[identity]): v for v in new}
        found = []
        for name in sorted(before.keys() | after.keys()):
            found += diff_values(before.get(name, MISSING), after.get(name, MISSING), (*path, Item(identity, name)))
        return found
    scalars = not any(isinstance(v, dict | list) for v in [*old, *new])
    if scalars and not _ordered(path):
        removed = Counter(canonical(v) for v in old) - Counter(canonical(v) for v in new)
        added = Counter(canonical(v) for v in new) - Counter(canonical(v) for v in old)
        found = [((*path, Item("", _show(v))), v, MISSING) for v in old if _take(removed, v)]
        return found + [((*path, Item("", _show(v))), MISSING, v) for v in new if _take(added, v)]
    return _diff_sequence(old, new, path)


def _take(counter: Counter[str], value: Any) -> bool:
    key = canonical(value)
    if counter[key] > 0:
        counter[key] -= 1
        return True
    return False


def _show(value: Any) -> str:
    return value if isinstance(value, str) else canonical(value)


def _diff_sequence(old: list[Any], new: list[Any], path: FieldPath) -> list[tuple[FieldPath, Any, Any]]:
    matcher = difflib.SequenceMatcher(a=[canonical(v) for v in old], b=[canonical(v) for v in new], autojunk=False)
    found: list[tuple[FieldPath, Any, Any]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                found += diff_values(old[i1 + offset], new[j1 + offset], (*path, j1 + offset))
            continue
        found += [(p, v, MISSING) for index in range(i1, i2) for p, v in leaves(old[index], (*path, index))]
        found += [(p, MISSING, v) for index in range(j1, j2) for p, v in leaves(new[index], (*path, index))]
    return found


def format_path(path: FieldPath) -> str:
    """`spec.values.env[name=FOO]`, `config["slot.name"]`; a conf key or other first key is shown as is."""
    text = ""
    for index, part in enumerate(path):
        if isinstance(part, Item):
            text += f"[{part.field}={part.value}]" if part.field else f"[{part.value}]"
        elif isinstance(part, int):
            text += f"[{part}]"
        elif index == 0:
            text = part
        elif _plain(part):
            text += f".{part}"
        else:
            text += f"[{json.dumps(part)}]"
    return text or "(whole)"


def _plain(key: str) -> bool:
    return bool(key) and all(c.isalnum() or c in "_-/" for c in key)


def path_json(path: FieldPath) -> list[Any]:
    """A path for machines: keys, indices and {field: value} selectors."""
    return [{p.field or "member": p.value} if isinstance(p, Item) else p for p in path]
