"""Issue 14: every accepted change to a scalar leaf of spec/konoha.yaml changes the generated output.

Each leaf is mutated to a different value of the same type (bool flipped, int + 1, a string's first number
bumped, suffixed, or another enum member); the first mutation validation accepts is compiled in-process and
its artifacts compared with the unmutated spec's. A leaf whose accepted mutations change nothing is a dead
field, unless it is listed in VALIDATION_ONLY with the reason.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from konoha_gen.emit import emit_all
from konoha_gen.errors import KonohaFailure
from konoha_gen.model.platform import PlatformDocument
from konoha_gen.pipeline import compile_platform

SPEC = Path(__file__).resolve().parent.parent / "spec" / "konoha.yaml"
#: Leaves that only steer validation, so changing them leaves out/ as it is (path with list indices as [*]).
VALIDATION_ONLY: dict[str, str] = {}

Leaf = tuple[str | int, ...]


def leaves(node: Any, path: Leaf = ()) -> Iterator[Leaf]:
    if isinstance(node, CommentedMap):
        for key in node:
            yield from leaves(node[key], (*path, key))
    elif isinstance(node, CommentedSeq):
        for index, item in enumerate(node):
            yield from leaves(item, (*path, index))
    elif node is not None:
        yield path


def enum_members(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        found.update(v for v in schema.get("enum", ()) if isinstance(v, str))
        for value in schema.values():
            found |= enum_members(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= enum_members(value)
    return found


ENUMS = sorted(enum_members(PlatformDocument.model_json_schema(by_alias=True)))


def candidates(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1]
    text = str(value)
    bumped = re.sub(r"[0-9]+", lambda m: str(int(m.group()) + 1), text, count=1)
    others = [member for member in ENUMS if member != text] if text in ENUMS else []
    return [c for c in [bumped, f"{text}x", f"{text}1", *others] if c != text]


def label(path: Leaf) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def generic(path: Leaf) -> str:
    return "".join("[*]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def compile_text(text: str, spec: Path) -> dict[str, str] | None:
    spec.write_text(text, "utf-8")
    try:
        return {a.path: a.content for a in emit_all(compile_platform(spec))}
    except KonohaFailure:
        return None


def mutated(text: str, path: Leaf, value: Any) -> str:
    yaml = YAML(typ="rt")
    data = yaml.load(text)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def test_every_accepted_leaf_mutation_changes_the_output(tmp_path: Path) -> None:
    text = SPEC.read_text("utf-8")
    spec = tmp_path / "konoha.yaml"
    baseline = compile_text(text, spec)
    assert baseline is not None
    original = YAML(typ="rt").load(text)
    dead: list[str] = []
    tried = 0
    for path in leaves(original):
        node = original
        for part in path:
            node = node[part]
        for value in candidates(node):
            tree = compile_text(mutated(text, path, value), spec)
            if tree is None:
                continue
            tried += 1
            if tree == baseline and generic(path) not in VALIDATION_ONLY:
                dead.append(f"{label(path)}: {node!r} -> {value!r}")
            break
    assert tried > 50
    assert dead == []
