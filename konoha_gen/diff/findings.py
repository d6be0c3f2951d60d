"""What the impact rules share: a Finding, the two trees they read (parsed once), the files a Flux
Kustomization applies, and the wording of field changes."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from konoha_gen.diff.compare import MISSING, FieldChange, Item, canonical, format_path
from konoha_gen.diff.resources import Resource, kustomization_of, parse_tree

SEVERITIES = ("danger", "warning", "info")
AREAS = ("connector", "terraform", "kubernetes", "flux", "helm", "workload", "files")
FLUX_KUSTOMIZE = "kustomize.toolkit.fluxcd.io"


@dataclass(frozen=True, order=True)
class Finding:
    area: str  # one of AREAS
    subject: str  # what is affected, as a reviewer names it
    action: str  # reconcile | install | upgrade | uninstall | roll | may roll | start | restart | re-snapshot
    #              | delete | create | update | replace | destroy | read | run
    severity: str  # danger | warning | info
    reason: str


class Context:
    """The two whole trees; their YAML resources parsed once (or handed over already parsed)."""

    def __init__(self, base: Mapping[str, bytes], head: Mapping[str, bytes],
                 parsed: tuple[Mapping[str, Resource], Mapping[str, Resource]] | None = None) -> None:
        self.base = base
        self.head = head
        self._parsed = parsed

    @cached_property
    def base_objects(self) -> Mapping[str, Resource]:
        return self._parsed[0] if self._parsed else parse_tree(self.base, _yaml_paths(self.base))

    @cached_property
    def head_objects(self) -> Mapping[str, Resource]:
        return self._parsed[1] if self._parsed else parse_tree(self.head, _yaml_paths(self.head))

    def objects(self) -> Iterator[Resource]:
        """Kubernetes objects of both trees (head first; base-only ones after)."""
        yield from (r for r in self.head_objects.values() if r.category == "kubernetes")
        yield from (r for k, r in self.base_objects.items()
                    if r.category == "kubernetes" and k not in self.head_objects)

    @cached_property
    def appliers(self) -> dict[str, set[str]]:
        """file path -> the Flux Kustomizations (namespace/name) that apply it, in either tree."""
        found: dict[str, set[str]] = {}
        for contents, objects in ((self.base, self.base_objects), (self.head, self.head_objects)):
            for resource in objects.values():
                if resource.meta.get("group") == FLUX_KUSTOMIZE and resource.meta.get("kind") == "Kustomization":
                    subject = f"{resource.meta['namespace']}/{resource.meta['name']}"
                    for path in applied_files(str(resource.body.get("spec", {}).get("path", "")), contents):
                        found.setdefault(path, set()).add(subject)
        return found


def _yaml_paths(contents: Mapping[str, bytes]) -> list[str]:
    return [p for p in contents if p.endswith((".yaml", ".yml"))]


# --- Flux Kustomizations: the files they apply ---------------------------------------------------------------


def tree_folder(flux_path: str, contents: Mapping[str, bytes]) -> str | None:
    """A Flux Kustomization's spec.path (relative to the git repository) as a folder of this tree."""
    parts = [p for p in flux_path.split("/") if p not in ("", ".")]
    for start in range(len(parts)):
        folder = "/".join(parts[start:])
        if any(p.startswith(folder + "/") for p in contents):
            return folder
    return None


def applied_files(flux_path: str, contents: Mapping[str, bytes]) -> set[str]:
    folder = tree_folder(flux_path, contents)
    found: set[str] = set()
    if folder is not None:
        _walk(folder, contents, found, set())
    return found


def _walk(folder: str, contents: Mapping[str, bytes], found: set[str], seen: set[str]) -> None:
    if folder in seen:
        return
    seen.add(folder)
    kustomization = kustomization_of(folder, contents)
    if kustomization is None:  # Flux generates one: every manifest below the folder
        found.update(p for p in contents if p.startswith(folder + "/") and p.endswith((".yaml", ".yml", ".json")))
        return
    found.update(p for p in (f"{folder}/kustomization.yaml", f"{folder}/kustomization.yml") if p in contents)
    for entry in _kustomize_files(kustomization):
        path = posixpath.normpath(posixpath.join(folder, entry))
        if path in contents:
            found.add(path)
        elif any(p.startswith(path + "/") for p in contents):
            _walk(path, contents, found, seen)


def _kustomize_files(kustomization: Mapping[str, Any]) -> Iterator[str]:
    for key in ("resources", "components", "configurations", "patchesStrategicMerge", "crds"):
        yield from (str(v) for v in kustomization.get(key) or [] if isinstance(v, str))
    for key in ("configMapGenerator", "secretGenerator"):
        for generator in kustomization.get(key) or []:
            for entry in [*(generator.get("files") or []), *(generator.get("envs") or [])]:
                yield str(entry).split("=", 1)[-1]
    for patch in kustomization.get("patches") or []:
        if isinstance(patch, dict) and isinstance(patch.get("path"), str):
            yield patch["path"]


# --- wording ------------------------------------------------------------------------------------------------


def under(change: FieldChange, prefix: tuple[str, ...]) -> bool:
    """Whether the changed field lies under `prefix`."""
    return tuple(change.path[: len(prefix)]) == prefix


def short_value(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    text = value if isinstance(value, str) else canonical(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _changed_lines(path: str, old: Any, new: Any) -> str:
    """`path: -first removed line +first added line (+N more lines)` for a multi-line value."""
    before = old.splitlines() if isinstance(old, str) else []
    after = new.splitlines() if isinstance(new, str) else []
    removed = [line.strip() for line in before if line not in set(after) and line.strip()]
    added = [line.strip() for line in after if line not in set(before) and line.strip()]
    shown = [f"-{short_value(removed[0])}"] if removed else []
    shown += [f"+{short_value(added[0])}"] if added else []
    extra = len(removed) + len(added) - len(shown)
    return f"{path}: {' '.join(shown) or 'whitespace'}" + (f" (+{extra} more lines)" if extra > 0 else "")


def _summary_path(change: FieldChange) -> str:
    """A field's path; for one added or removed with a list item, the item (its leaves say the same)."""
    path = change.path
    if MISSING in (change.old, change.new):
        items = [i for i, part in enumerate(path) if isinstance(part, Item)]
        if items:
            path = path[: items[-1] + 1]
    return format_path(path)


def field_summary(fields: Iterable[FieldChange], limit: int = 3) -> str:
    shown: list[str] = []
    for change in fields:
        if any(isinstance(v, str) and "\n" in v.strip("\n") for v in (change.old, change.new)):
            text = _changed_lines(format_path(change.path), change.old, change.new)
        elif change.old is MISSING:
            text = f"+{_summary_path(change)}"
        elif change.new is MISSING:
            text = f"-{_summary_path(change)}"
        else:
            text = f"{format_path(change.path)} {short_value(change.old)} → {short_value(change.new)}"
        if text not in shown:
            shown.append(text)
    more = f" (+{len(shown) - limit} more)" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more if shown else "no field changes"


def count(items: list[str], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def some(items: list[str], limit: int = 3) -> str:
    unique = list(dict.fromkeys(items))
    more = f" and {len(unique) - limit} more" if len(unique) > limit else ""
    return ", ".join(unique[:limit]) + more
