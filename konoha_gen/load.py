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
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from konoha_gen.errors import Diagnostic, KonohaError, shown

PathKey = tuple[str | int, ...]

#: Upper bound on nodes after alias expansion; a real spec has a few hundred.
MAX_NODES = 50_000
#: Upper bound on nesting; a real spec is under 10 deep.
MAX_DEPTH = 64
#: Upper bound on the spec file's size; a real spec is a few KiB. Read before parsing (at most this + 1 bytes).
MAX_BYTES = 1024 * 1024
#: Upper bound on a line's length, in characters; the YAML scanner is slow on very long lines.
MAX_LINE = 10_000
#: Upper bound on aliases (*name) in the document; a real spec has a handful, if any.
MAX_ALIASES = 1_000


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
            if probe in self.keys:
                return self.keys[probe]
            if probe in self.values:  # list items have no key: their value is the place
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Pos(1, 1))

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
            text += f".{shown(part)}" if text else shown(part)
    return text or "<root>"


def load_spec(path: str | Path) -> LoadedSpec:
    """Read and parse the spec file; raise KonohaError with located diagnostics."""
    file = str(path)
    if not file.isprintable():
        raise KonohaError([Diagnostic(file, 1, 1, "<file>", "the spec's file name contains a newline or another "
                                      "control character; it is copied into every generated file's header",
                                      "rename the file")])
    if Path(path).is_dir():
        raise KonohaError([Diagnostic(file, 1, 1, "<file>", "the spec is a directory, not a file",
                                      "give the path of the spec file, e.g. spec/konoha.yaml")])
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)  # bounded: /dev/zero or a huge file stops here
    except OSError as exc:
        raise KonohaError([Diagnostic(file, 1, 1, "<file>", f"cannot read spec: {exc.strerror}")]) from None
    return load_text(raw, file)


def load_text(raw: bytes, file: str) -> LoadedSpec:
    if len(raw) > MAX_BYTES:
        raise KonohaError([Diagnostic(file, 1, 1, "<file>", f"the spec is larger than {MAX_BYTES} bytes (1 MiB)",
                                      "a platform spec is a few KiB; is this the right file?")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise KonohaError([Diagnostic(file, line, 1, "<file>", "the spec is not valid UTF-8")]) from None
    _check_lines(text, file)
    document = _parse(text, file)
    if document is None:
        raise KonohaError([Diagnostic(file, 1, 1, "<root>", "the spec is empty",
                                      "see docs/spec-reference.md for apiVersion, kind, metadata and spec")])
    if not isinstance(document, CommentedMap):
        message = "the spec must be a mapping (apiVersion, kind, metadata, spec)"
        raise KonohaError([Diagnostic(file, 1, 1, "<root>", message)])
    converter = _Converter()
    converter.values[()] = Pos(document.lc.line + 1, document.lc.col + 1)
    data = converter.convert(document, ())
    return LoadedSpec(file, data, converter.values, converter.keys, hashlib.sha256(raw).hexdigest())


def _check_lines(text: str, file: str) -> None:
    """Refuse the first line longer than MAX_LINE characters, before the YAML scanner sees it."""
    for number, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_LINE:
            raise KonohaError([Diagnostic(file, number, MAX_LINE + 1, "<file>",
                                          f"line {number} is {len(line)} characters long; the limit is {MAX_LINE}",
                                          "use a YAML block scalar (|) for long text")])


def _parse(text: str, file: str) -> Any:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        _EventScan(file).scan(YAML(typ="rt").parse(text))
        documents = list(yaml.load_all(text))
    except MarkedYAMLError as exc:
        raise KonohaError([_yaml_diagnostic(exc, file, text)]) from None
    except YAMLError as exc:  # unmarked errors: rare, no position available
        raise KonohaError([Diagnostic(file, 1, 1, "<yaml>", f"invalid YAML: {type(exc).__name__}")]) from None
    except RecursionError:
        raise KonohaError([Diagnostic(file, 1, 1, "<yaml>", "the YAML document is nested too deeply")]) from None
    return documents[0] if documents else None


@dataclass
class _Frame:
    path: PathKey
    mark: Pos
    anchor: str | None
    is_mapping: bool
    size: int = 1
    index: int = 0  # next sequence index, or count of mapping keys+values seen
    key: Any = None


#: YAML 1.2 core schema tags (and the non-specific '!'): any other tag is refused.
CORE_TAGS = frozenset({"!", *(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map",
                                                                        "seq"))})


class _EventScan:
    """One pass over the parser events, before anything is constructed.

    Catches what construction would hide or blow up: a second document, a
    root that is not a mapping, an alias to an enclosing anchor (ruamel turns
    it into null), and aliases whose expansion exceeds MAX_NODES or MAX_DEPTH
    (reported at the innermost collection that exceeds it).
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.sizes: dict[str, int] = {}
        self.stack: list[_Frame] = []
        self.documents = 0
        self.aliases = 0

    def fail(self, mark: Pos, path: PathKey, message: str, hint: str = "", label: str = "<yaml>") -> None:
        raise KonohaError([Diagnostic(self.file, mark.line, mark.column, format_path(path) if path else label,
                                      message, hint)])

    def scan(self, events: Any) -> None:
        for event in events:
            kind = type(event).__name__
            mark = Pos(event.start_mark.line + 1, event.start_mark.column + 1)
            tag = getattr(event, "tag", None)
            if tag is not None and str(tag) not in CORE_TAGS:
                self.fail(mark, self._child_path(), f"unknown YAML tag {shown(tag)}: only YAML's core schema tags "
                          "are accepted", "remove the tag; the spec needs no tags")
            if kind == "DocumentStartEvent":
                self.documents += 1
                if self.documents > 1:
                    self.fail(mark, (), "expected one YAML document, found a second one",
                              "remove the extra '---' document")
            elif kind in ("MappingStartEvent", "SequenceStartEvent"):
                self._open(mark, event.anchor, kind == "MappingStartEvent")
            elif kind in ("MappingEndEvent", "SequenceEndEvent"):
                self._close()
            elif kind == "ScalarEvent":
                if not self.stack:
                    self.fail(mark, (), "the spec must be a mapping (apiVersion, kind, metadata, spec)", label="<root>")
                self._scalar(event.value)
                if event.anchor:
                    self.sizes[event.anchor] = 1
            elif kind == "AliasEvent":
                self._alias(mark, event.anchor)

    def _child_path(self) -> PathKey:
        """Path of the node starting now (a mapping key gets its mapping's path)."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if not top.is_mapping:
            return (*top.path, top.index)
        return (*top.path, top.key) if top.index % 2 else top.path

    def _open(self, mark: Pos, anchor: str | None, is_mapping: bool) -> None:
        if not self.stack and not is_mapping:
            self.fail(mark, (), "the spec must be a mapping (apiVersion, kind, metadata, spec)", label="<root>")
        if len(self.stack) >= MAX_DEPTH:
            self.fail(mark, self._child_path(), f"the document is nested deeper than {MAX_DEPTH} levels")
        self.stack.append(_Frame(self._child_path(), mark, anchor, is_mapping))

    def _close(self) -> None:
        frame = self.stack.pop()
        if frame.anchor:
            self.sizes[frame.anchor] = frame.size
        self._advance(frame.size)

    def _scalar(self, value: Any) -> None:
        top = self.stack[-1]
        if top.is_mapping and top.index % 2 == 0:
            top.key = value
        self._advance(1)

    def _alias(self, mark: Pos, anchor: str) -> None:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            self.fail(mark, self._child_path(), f"more than {MAX_ALIASES} aliases in the document",
                      "use anchors and aliases sparingly")
        if any(frame.anchor == anchor for frame in self.stack):
            self.fail(mark, self._child_path(), f"recursive alias: *{anchor} refers to a node that contains it",
                      "aliases may only repeat a complete node")
        self._advance(self.sizes.get(anchor, 1))

    def _advance(self, size: int) -> None:
        """Count a finished child (with its expanded size) into the enclosing collection."""
        if not self.stack:
            return
        top = self.stack[-1]
        top.size += size
        top.index += 1
        if top.size > MAX_NODES:
            self.fail(top.mark, top.path, f"alias bomb: this node expands beyond {MAX_NODES} nodes",
                      "use anchors and aliases sparingly")


_DUPLICATE = re.compile(r'found duplicate key "(.*)" with value')


def _yaml_diagnostic(exc: MarkedYAMLError, file: str, text: str) -> Diagnostic:
    """Map a ruamel error to a diagnostic without echoing document content.

    ruamel's own text quotes values (a duplicate key's value may be a secret),
    so we keep only the problem description and the marks. An unclosed
    bracket or quote is reported where it was opened.
    """
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    duplicate = _DUPLICATE.search(problem)
    if duplicate:
        first = _first_key_line(text, exc.context_mark, duplicate.group(1))
        where = f" (first defined on line {first})" if first else ""
        return Diagnostic(file, line, column, "<yaml>", f"duplicate key '{duplicate.group(1)}'{where}",
                          "each key may appear once in a mapping")
    context, opened = exc.context or "", exc.context_mark
    if opened is not None and context.startswith(_UNCLOSED):
        return Diagnostic(file, opened.line + 1, opened.column + 1, "<yaml>",
                          f"invalid YAML: {context} opened here is not closed ({problem} on line {line})")
    return Diagnostic(file, line, column, "<yaml>", f"invalid YAML: {problem}")


_UNCLOSED = ("while parsing a flow", "while scanning a quoted scalar", "while scanning a block scalar")


def _first_key_line(text: str, mapping_mark: Any, key: str) -> int | None:
    """Line of the first occurrence of `key` in the mapping starting at `mapping_mark`."""
    if mapping_mark is None:
        return None
    try:
        stack = [YAML(typ="rt").compose(text)]
    except YAMLError:
        return None
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            start = node.start_mark
            if (start.line, start.column) == (mapping_mark.line, mapping_mark.column):
                for key_node, _value in node.value:
                    if isinstance(key_node, ScalarNode) and key_node.value == key:
                        return int(key_node.start_mark.line) + 1
            stack.extend(child for pair in node.value for child in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return None


class _Converter:
    """Round-trip nodes -> plain Python data, recording positions as it goes.

    The event scan has already bounded size, depth and recursion.
    """

    def __init__(self) -> None:
        self.values: dict[PathKey, Pos] = {}
        self.keys: dict[PathKey, Pos] = {}

    def convert(self, node: Any, path: PathKey) -> Any:
        if isinstance(node, CommentedMap):
            return self._mapping(node, path)
        if isinstance(node, CommentedSeq):
            return self._sequence(node, path)
        return _scalar(node)

    def _mapping(self, node: CommentedMap, path: PathKey) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key in node:  # iterating a CommentedMap includes '<<' merged keys
            plain_key = _scalar(key) if not isinstance(key, (CommentedMap, CommentedSeq)) else str(key)
            child: PathKey = (*path, plain_key)
            self._remember(child, node, key)
            result[plain_key] = self.convert(node[key], child)
        return result

    def _sequence(self, node: CommentedSeq, path: PathKey) -> list[Any]:
        items = []
        for index, item in enumerate(node):
            child: PathKey = (*path, index)
            try:
                line, column = node.lc.item(index)
                self.values.setdefault(child, Pos(line + 1, column + 1))
            except (KeyError, IndexError, TypeError, AttributeError):
                pass
            items.append(self.convert(item, child))
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
