"""Stage 1: YAML text -> plain data plus the line/column of every node.

ruamel.yaml's round-trip loader keeps positions (`.lc`); we convert its
Commented* containers into plain dicts/lists for pydantic and record where
each value and each key sits, keyed by the node's path tuple. Duplicate keys
are errors; aliases are expanded with a fixed bound so alias bombs fail fast.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from konoha_gen.errors import Diagnostic, KonohaError

PathKey = tuple[str | int, ...]

#: Upper bound on nodes after alias expansion; a real spec has a few hundred.
MAX_NODES = 50_000
#: Upper bound on nesting; a real spec is under 10 deep.
MAX_DEPTH = 64


@dataclass(frozen=True)
class Pos:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True)
class LoadedSpec:
    """The spec file as data, with positions for error reporting."""

    file: str  # as the user named it; used in diagnostics
    data: dict[str, Any]
    values: dict[PathKey, Pos]  # where each value node starts
    keys: dict[PathKey, Pos]  # where the key of each mapping entry starts
    sha256: str

    def locate(self, path: PathKey, *, key: bool = False) -> Pos:
        """Position of `path`, falling back to its closest located ancestor."""
        index = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in index:
                return index[probe]
            if not key and probe in self.keys:
                return self.keys[probe]
            probe = probe[:-1]
        return Pos(1, 1)

    def diagnostic(self, path: PathKey, message: str, hint: str = "", *, key: bool = False) -> Diagnostic:
        pos = self.locate(path, key=key)
        return Diagnostic(self.file, pos.line, pos.column, format_path(path), message, hint)


def format_path(path: PathKey) -> str:
    """('spec', 'tenants', 0, 'name') -> 'spec.tenants[0].name'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "<root>"


def load_spec(path: str | Path) -> LoadedSpec:
    """Read and parse the spec file; raise KonohaError with located diagnostics."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise KonohaError([Diagnostic(file, 1, 1, "<file>", f"cannot read spec: {exc.strerror}")]) from None
    return load_text(raw, file)


def load_text(raw: bytes, file: str) -> LoadedSpec:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise KonohaError([Diagnostic(file, line, 1, "<file>", "the spec is not valid UTF-8")]) from None
    document = _parse(text, file)
    if document is None:
        raise KonohaError([Diagnostic(file, 1, 1, "<root>", "the spec is empty", "start from konoha.example.yaml")])
    if not isinstance(document, CommentedMap):
        raise KonohaError([Diagnostic(file, 1, 1, "<root>", "the spec must be a mapping (apiVersion, kind, metadata, spec)")])
    converter = _Converter(file)
    data = converter.convert(document, (), depth=0)
    return LoadedSpec(file, data, converter.values, converter.keys, hashlib.sha256(raw).hexdigest())


def _parse(text: str, file: str) -> Any:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        documents = list(yaml.load_all(text))
    except MarkedYAMLError as exc:
        raise KonohaError([_yaml_diagnostic(exc, file)]) from None
    except YAMLError as exc:  # unmarked errors: rare, no position available
        raise KonohaError([Diagnostic(file, 1, 1, "<file>", f"invalid YAML: {type(exc).__name__}")]) from None
    except RecursionError:
        raise KonohaError([Diagnostic(file, 1, 1, "<file>", "the YAML document is nested too deeply")]) from None
    if len(documents) > 1:
        raise KonohaError([Diagnostic(file, 1, 1, "<file>", f"expected one YAML document, found {len(documents)}",
                                      "remove the extra '---' separators")])
    return documents[0] if documents else None


_DUPLICATE = re.compile(r'found duplicate key "(.*)" with value')


def _yaml_diagnostic(exc: MarkedYAMLError, file: str) -> Diagnostic:
    """Map a ruamel error to a diagnostic without echoing document content.

    ruamel's own text quotes values (a duplicate key's value may be a secret),
    so we keep only the problem description and the mark.
    """
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    duplicate = _DUPLICATE.search(problem)
    if duplicate:
        first = exc.context_mark
        where = f" (first defined on line {first.line + 1})" if first is not None else ""
        return Diagnostic(file, line, column, "<yaml>", f"duplicate key '{duplicate.group(1)}'{where}",
                          "each key may appear once in a mapping")
    return Diagnostic(file, line, column, "<yaml>", f"invalid YAML: {problem}")


class _Converter:
    """Round-trip nodes -> plain Python data, recording positions as it goes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[PathKey, Pos] = {}
        self.keys: dict[PathKey, Pos] = {}
        self.count = 0
        self._active: set[int] = set()  # containers on the current path (cycle guard)

    def convert(self, node: Any, path: PathKey, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES or depth > MAX_DEPTH:
            pos = self.values.get(path) or self.keys.get(path) or Pos(1, 1)
            raise KonohaError([Diagnostic(self.file, pos.line, pos.column, format_path(path),
                                          f"the document expands beyond {MAX_NODES} nodes or {MAX_DEPTH} levels "
                                          "(an alias bomb or a recursive alias)",
                                          "use anchors and aliases sparingly")])
        if isinstance(node, (CommentedMap, CommentedSeq)):
            if id(node) in self._active:
                pos = self.values.get(path, Pos(1, 1))
                raise KonohaError([Diagnostic(self.file, pos.line, pos.column, format_path(path),
                                              "recursive alias: a node contains itself")])
            self._active.add(id(node))
            try:
                if isinstance(node, CommentedMap):
                    return self._mapping(node, path, depth)
                return self._sequence(node, path, depth)
            finally:
                self._active.discard(id(node))
        return _scalar(node)

    def _mapping(self, node: CommentedMap, path: PathKey, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key in node:  # iterating a CommentedMap includes '<<' merged keys
            plain_key = _scalar(key) if not isinstance(key, (CommentedMap, CommentedSeq)) else str(key)
            child: PathKey = (*path, plain_key)
            self._remember(child, node, key)
            result[plain_key] = self.convert(node[key], child, depth + 1)
        return result

    def _sequence(self, node: CommentedSeq, path: PathKey, depth: int) -> list[Any]:
        items = []
        for index, item in enumerate(node):
            child: PathKey = (*path, index)
            try:
                line, column = node.lc.item(index)
                self.values.setdefault(child, Pos(line + 1, column + 1))
            except (KeyError, IndexError, TypeError, AttributeError):
                pass
            items.append(self.convert(item, child, depth + 1))
        return items

    def _remember(self, child: PathKey, node: CommentedMap, key: Any) -> None:
        try:
            key_line, key_column = node.lc.key(key)
            value_line, value_column = node.lc.value(key)
        except (KeyError, TypeError, AttributeError):
            return  # merged ('<<') keys have no position of their own
        self.keys.setdefault(child, Pos(key_line + 1, key_column + 1))
        self.values.setdefault(child, Pos(value_line + 1, value_column + 1))


def _scalar(value: Any) -> Any:
    """ruamel scalar subclasses -> the plain built-in types pydantic expects."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "value"):  # TaggedScalar and friends
        return str(value.value)
    return str(value)
