"""Errors as values: a Diagnostic points at a node of the user's file.

The CLI is the only place that prints diagnostics or exits; every other stage
returns or raises them. Exit codes are fixed here, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    DRIFT = 1  # `check` found out/ differing from what the spec compiles to
    INVALID = 2  # bad spec or output that fails validation
    INTERNAL = 3  # a bug in konoha-gen


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem, located at `file:line:col` (1-based) and a spec path."""

    file: str
    line: int
    column: int
    path: str
    message: str
    hint: str = ""

    def format(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: error: {self.path}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass
class KonohaError(Exception):
    """A user-facing failure carrying one or more diagnostics (exit code 2)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(d.format() for d in self.diagnostics)


@dataclass(frozen=True)
class OutputProblem:
    """A problem found in the generated artifacts (not in the spec)."""

    path: str  # artifact path relative to out/
    message: str
    check: str  # which checker found it

    def format(self) -> str:
        return f"{self.path}: error: [{self.check}] {self.message}"


@dataclass
class OutputError(Exception):
    """The generated output failed a check; nothing was written (exit code 2)."""

    problems: list[OutputProblem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(p.format() for p in self.problems)
