"""YAML 1.2 core reading on libyaml: the document's nodes, with their marks, become plain data plus the position of
every key and value.

libyaml (PyYAML's C extension) scans, parses and composes; only the resolution of plain scalars and the conversion
run in Python. Plain scalars follow YAML 1.2's core schema as ruamel.yaml reads it (tests/test_load_parity.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from konoha_gen.errors import Diagnostic, KonohaError, shown

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Pos:
    line: int  # 1-based
    column: int  # 1-based


def format_path(path: PathKey) -> str:
    """('spec', 'tenants', 0, 'name') -> 'spec.tenants[0].name'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{shown(part)}" if text else shown(part)
    return text or "<root>"


class _PurePythonParser(Reader, Scanner, Parser, Composer):
    """The same stages in Python, for a PyYAML built without libyaml."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)


class _CoreResolver(BaseResolver):
    """Plain scalars resolved by the YAML 1.2 core schema, as ruamel.yaml resolves them (its `implicit_resolvers`
    for version 1.2: `yes`/`on` are strings, `0755` is decimal, digits may carry `_`)."""


for _tag, _regexp, _first in (
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("float", r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                      |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                      |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
                      |[-+]?\.(?:inf|Inf|INF)
                      |\.(?:nan|NaN|NAN))$""", "-+0123456789."),
        ("int", r"""^(?:[-+]?0b[0-1_]+
                    |[-+]?0o?[0-7_]+
                    |[-+]?[0-9_]+
                    |[-+]?0x[0-9a-fA-F_]+)$""", "-+0123456789"),
        ("merge", r"^(?:<<)$", "<"),
        ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("timestamp", r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                          |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
                          (?:[Tt]|[\ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
                          (?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", "0123456789")):
    _CoreResolver.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_regexp, re.X), list(_first))


_Parser: Any = getattr(yaml.cyaml, "CParser", _PurePythonParser) if yaml.__with_libyaml__ else _PurePythonParser


class CoreComposer(_Parser, _CoreResolver):  # type: ignore[misc]
    """libyaml's scanner, parser and composer (C): events and nodes with their marks, several times faster than a
    YAML library in Python. Only the scalar resolution above runs in Python."""

    def __init__(self, text: str) -> None:
        _Parser.__init__(self, text)
        _CoreResolver.__init__(self)


_TAG = "tag:yaml.org,2002:"
_MERGE = _TAG + "merge"


class Converter:
    """Nodes -> plain Python data, recording where each key and value starts; duplicate keys are errors, and merge
    keys (`<<`) add the keys a mapping does not have itself, first source first. The event scan has already bounded
    size, depth and recursion."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[PathKey, Pos] = {}
        self.keys: dict[PathKey, Pos] = {}

    def convert(self, node: Node, path: PathKey) -> Any:
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return self._sequence(node, path)
        return self._scalar(node, path)

    def _mapping(self, node: MappingNode, path: PathKey) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        sources: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                sources += value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                continue
            if not isinstance(key_node, ScalarNode):
                self._fail(key_node, path, "a mapping key must be a plain value, not a list or a mapping")
            key = self._scalar(key_node, path)
            if key in first_line:
                self._fail(key_node, (), f"duplicate key '{shown(str(key))}' (first defined on line {first_line[key]})",
                           "each key may appear once in a mapping")
            first_line[key] = key_node.start_mark.line + 1
            child: PathKey = (*path, key)
            self.keys[child] = node_position(key_node)
            self.values[child] = node_position(value_node)
            result[key] = self.convert(value_node, child)
        for source in sources:
            if not isinstance(source, MappingNode):
                self._fail(source, path, "a merge key (<<) takes a mapping or a list of mappings")
            for key, value in self._mapping(source, path).items():
                result.setdefault(key, value)
        return result

    def _sequence(self, node: SequenceNode, path: PathKey) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            child: PathKey = (*path, index)
            self.values.setdefault(child, node_position(item))
            items.append(self.convert(item, child))
        return items

    def _scalar(self, node: Node, path: PathKey) -> Any:
        """A scalar as the built-in type pydantic expects (a timestamp as its ISO text)."""
        tag, value = str(node.tag), str(node.value)
        if not isinstance(node, ScalarNode) or not tag.startswith(_TAG):
            if isinstance(node, ScalarNode) and tag == "!":
                return value  # the non-specific tag of a quoted scalar
            self._fail(node, path, f"the tag {shown(tag)} does not fit this value")
        kind = tag.removeprefix(_TAG)
        try:
            if kind == "null" and value in ("", "~", "null", "Null", "NULL"):
                return None
            if kind == "bool" and value.lower() in ("true", "false"):
                return value.lower() == "true"
            if kind == "int":
                return _integer(value)
            if kind == "float":
                return _float(value)
            if kind == "timestamp":
                return SafeConstructor.construct_yaml_timestamp(_TIMESTAMPS, node).isoformat()
        except (ValueError, TypeError, IndexError, OverflowError):
            pass
        else:
            if kind in ("str", "merge", "timestamp", "binary", "value"):
                return value
        self._fail(node, path, f"'{shown(value)}' is not a valid {kind}", "quote it to make it text")

    def _fail(self, node: Node, path: PathKey, message: str, hint: str = "") -> NoReturn:
        pos = node_position(node)
        raise KonohaError([Diagnostic(self.file, pos.line, pos.column, format_path(path) if path else "<yaml>",
                                      message, hint)])


_TIMESTAMPS = SafeConstructor()


def node_position(node: Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def _integer(text: str) -> int:
    """YAML 1.2 core int, with ruamel.yaml's `_` digit separators: 0b/0o/0x prefixes, otherwise decimal."""
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits)


def _float(text: str) -> float:
    digits = text.replace("_", "").lower()
    sign = -1.0 if digits.startswith("-") else 1.0
    digits = digits.lstrip("+-")
    return sign * float("inf") if digits == ".inf" else float("nan") if digits == ".nan" else sign * float(digits)


def events(text: str) -> Iterator[Any]:
    """The parser's events in order, with their marks: what the loader's event scan reads before composing."""
    parser = CoreComposer(text)
    try:
        while parser.check_event():
            yield parser.get_event()
    finally:
        parser.dispose()
