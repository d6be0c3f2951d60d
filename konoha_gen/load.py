"""Stage 1: the spec file -> plain data plus the line/column of every node (konoha_gen/yaml_core.py reads it).

Before anything is read: bounded size, line length and file name. Before anything is constructed: one pass over
the parser's events refuses unknown tags, a second document, and aliases that would expand too far or into
themselves, so alias bombs fail fast. Duplicate keys are errors.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from yaml.error import MarkedYAMLError, YAMLError
from yaml.nodes import MappingNode, Node

from konoha_gen.errors import Diagnostic, KonohaError, shown
from konoha_gen.yaml_core import Converter, CoreComposer, events, node_position
from konoha_gen.yaml_core import PathKey as PathKey
from konoha_gen.yaml_core import Pos as Pos
from konoha_gen.yaml_core import format_path as format_path

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
    if not isinstance(document, MappingNode):
        message = "the spec must be a mapping (apiVersion, kind, metadata, spec)"
        raise KonohaError([Diagnostic(file, 1, 1, "<root>", message)])
    converter = Converter(file)
    converter.values[()] = node_position(document)
    data = converter.convert(document, ())
    return LoadedSpec(file, data, converter.values, converter.keys, hashlib.sha256(raw).hexdigest())


def _check_lines(text: str, file: str) -> None:
    """Refuse the first line longer than MAX_LINE characters, before the YAML scanner sees it."""
    for number, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_LINE:
            raise KonohaError([Diagnostic(file, number, MAX_LINE + 1, "<file>",
                                          f"line {number} is {len(line)} characters long; the limit is {MAX_LINE}",
                                          "use a YAML block scalar (|) for long text")])


def _parse(text: str, file: str) -> Node | None:
    """The document's node graph (aliases shared, not expanded), after the event scan has bounded it."""
    try:
        _EventScan(file).scan(events(text))
        return cast("Node | None", CoreComposer(text).get_single_node())
    except MarkedYAMLError as exc:
        raise KonohaError([_yaml_diagnostic(exc, file)]) from None
    except YAMLError as exc:  # unmarked errors: rare, no position available
        raise KonohaError([Diagnostic(file, 1, 1, "<yaml>", f"invalid YAML: {type(exc).__name__}")]) from None


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
    root that is not a mapping, an alias to an enclosing anchor (a cycle),
    and aliases whose expansion exceeds MAX_NODES or MAX_DEPTH (reported at
    the innermost collection that exceeds it).
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


def _yaml_diagnostic(exc: MarkedYAMLError, file: str) -> Diagnostic:
    """Map a parser error to a diagnostic without echoing document content: only the problem description and the
    marks are kept. An unclosed bracket or quote is reported where it was opened."""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    context, opened = exc.context or "", exc.context_mark
    if opened is not None and context.startswith(_UNCLOSED):
        return Diagnostic(file, opened.line + 1, opened.column + 1, "<yaml>",
                          f"invalid YAML: {context} opened here is not closed ({problem} on line {line})")
    return Diagnostic(file, line, column, "<yaml>", f"invalid YAML: {problem}")


_UNCLOSED = ("while parsing a flow", "while scanning a quoted scalar", "while scanning a block scalar")


