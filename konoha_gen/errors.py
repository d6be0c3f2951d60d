"""Errors as values: a Diagnostic points at a node of the user's file.

The CLI (cli.py and its reporters, report.py) is the only place that prints
diagnostics or exits; every other stage returns or raises them. Exit codes are
fixed here, in one place, and every failure the user is told about is a
KonohaFailure: it carries its exit code and renders itself as text lines (for
stderr) and as JSON (for --format json).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar

MAX_SHOWN = 50  # text output lists this many diagnostics; --format json lists all


class ExitCode(IntEnum):
    OK = 0
    DRIFT = 1  # `check` found out/ differing from what the spec compiles to
    INVALID = 2  # bad spec or output that fails validation
    INTERNAL = 3  # a bug in konoha-gen
    ENVIRONMENT = 4  # the file system refused: permissions, read-only, full disk (not a bug, not the spec)
    BUSY = 5  # another build of the same out/ held the lock longer than --wait


class KonohaFailure(Exception):
    """A failure reported to the user (not a bug): its exit code, its text lines and its JSON document."""

    exit_code: ClassVar[ExitCode] = ExitCode.INVALID

    def lines(self) -> list[str]:
        """What stderr shows, one line each."""
        return [str(self)]

    def to_json(self) -> dict[str, object]:
        """What --format json prints on stdout."""
        return {"errors": [{"message": str(self)}]}


SHOWN_CHARS = 80  # a value echoed in a diagnostic is cut to this many characters


def escape(text: str) -> str:
    """Text safe on one diagnostic line: every non-printable character (newline, U+2028, controls) escaped as
    repr would, so a value can neither split a diagnostic nor forge another one."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """A spec value echoed in a message: escaped, and cut to `limit` characters with an ellipsis."""
    text = str(value)
    return escape(text[:limit]) + ("..." if len(text) > limit else "")


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
        text = f"{escape(self.file)}:{self.line}:{self.column}: error: {escape(self.path)}: {escape(self.message)}"
        return f"{text} ({escape(self.hint)})" if self.hint else text

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
class KonohaError(KonohaFailure):
    """A user-facing failure carrying one or more diagnostics (exit code 2)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.entries())

    def entries(self) -> list[str]:
        return [d.format() for d in self.diagnostics]

    def lines(self) -> list[str]:
        count = len(self.diagnostics)
        more = [f"... and {count - MAX_SHOWN} more errors (--format json lists all)"] if count > MAX_SHOWN else []
        return [*self.entries()[:MAX_SHOWN], *more, f"{count} error(s); nothing was written"]

    def to_json(self) -> dict[str, object]:
        return {"errors": [d.to_json() for d in self.diagnostics]}


@dataclass(frozen=True)
class OutputProblem:
    """A problem found in the generated artifacts (not in the spec)."""

    path: str  # artifact path relative to out/
    message: str
    check: str  # which checker found it

    def format(self) -> str:
        return f"{self.path}: error: [{self.check}] {self.message}"

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "check": self.check, "message": self.message}


@dataclass
class OutputError(KonohaFailure):
    """The generated output failed a check; nothing was written (exit code 2)."""

    problems: list[OutputProblem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.entries())

    def entries(self) -> list[str]:
        return [p.format() for p in self.problems]

    def lines(self) -> list[str]:
        return [*self.entries(), f"{len(self.problems)} problem(s) in the generated output; nothing was written"]

    def to_json(self) -> dict[str, object]:
        return {"errors": [p.to_json() for p in self.problems]}


@dataclass
class UnsafeOutput(KonohaFailure):
    """out/ holds something the writer refuses to go through (a lock path outside out/, a symbolic link on
    a generated path); nothing was written (exit code 2)."""

    message: str

    def __str__(self) -> str:
        return self.message

    def lines(self) -> list[str]:
        return [f"konoha-gen: {self.message}; nothing was written"]


@dataclass
class EnvironmentFailure(KonohaFailure):
    """The file system refused an operation (exit code 4); out/ is left as it was, staging is cleaned up."""

    exit_code: ClassVar[ExitCode] = ExitCode.ENVIRONMENT
    action: str  # what konoha-gen was doing, e.g. "write"
    path: str
    errno_name: str
    reason: str  # strerror
    meaning: str  # what it usually means for the user

    def __str__(self) -> str:
        return f"cannot {self.action} {self.path}: {self.reason} ({self.errno_name}: {self.meaning})"

    def lines(self) -> list[str]:
        return [f"konoha-gen: {self}; out/ was left as it was"]

    def to_json(self) -> dict[str, object]:
        return {"errors": [{"message": str(self), "path": self.path, "errno": self.errno_name}]}


@dataclass
class Busy(KonohaFailure):
    """Another build of the same out/ held its lock for longer than the build was willing to wait (exit code 5)."""

    exit_code: ClassVar[ExitCode] = ExitCode.BUSY
    lock_file: str
    waited: float

    def __str__(self) -> str:
        return (f"another konoha-gen build of this out/ holds {self.lock_file} (waited {self.waited:g}s; "
                f"raise --wait, or retry when it has finished)")

    def lines(self) -> list[str]:
        return [f"konoha-gen: {self}; nothing was written"]
