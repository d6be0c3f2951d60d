"""Reporters: how results and failures are printed, one class per --format name (REPORTER_BY_NAME).

A command hands its reporter what the pipeline returned (or the failure it
raised); the reporter chooses text or JSON, stdout or stderr. Reporting never
checks and never chooses an exit code; the pipeline and the checks never print.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from konoha_gen.errors import KonohaFailure

if TYPE_CHECKING:
    from konoha_gen.check.k8s import DocumentProblem
    from konoha_gen.diff import Report
    from konoha_gen.resolved import SecretEntry
    from konoha_gen.write import Plan

Drift = Sequence[tuple[str, str]]  # (kind, path under out/): edited, stale, missing, extra, mode, foreign


def use_color(flag: bool | None, *, to_terminal: bool) -> bool:
    """--color/--no-color when given; otherwise colour on a terminal unless NO_COLOR is set (no-color.org)."""
    if flag is not None:
        return flag
    return to_terminal and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


class Reporter(ABC):
    """What every command prints; subclasses decide the format. Errors and warnings go to stderr."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet

    def info(self, text: str) -> None:
        """A progress or summary line, not printed under --quiet."""
        if not self.quiet:
            click.echo(text)

    @abstractmethod
    def report_failure(self, failure: KonohaFailure) -> None:
        """An invalid spec, output or revision (exit code 2)."""

    def report_internal_error(self, error: Exception, *, debug: bool) -> None:
        """A bug: one line on stderr, after the traceback under --debug."""
        if debug:
            click.echo("".join(traceback.format_exception(error)), err=True, nl=False)
        hint = "report it with the traceback above" if debug else "re-run with --debug for the traceback and report it"
        click.echo(f"konoha-gen: internal error: {type(error).__name__}: {error} ({hint})", err=True)

    @abstractmethod
    def report_build(self, result: Plan, out_dir: Path) -> None:
        """What `build` changed in out_dir."""

    def report_waiting(self, lock_file: Path) -> None:
        click.echo(f"konoha-gen: waiting for another build holding {lock_file}", err=True)

    def report_stale_build(self, out_dir: Path) -> None:
        click.echo(f"konoha-gen: {out_dir} was stale and has been regenerated; stage it and commit again", err=True)

    @abstractmethod
    def report_drift(self, drift: Drift, out_dir: Path, spec: Path) -> None:
        """How out_dir differs from what spec compiles to (nothing: up to date)."""

    @abstractmethod
    def report_valid(self, spec: Path) -> None:
        """The spec validated."""

    @abstractmethod
    def report_documents(self, output_dir: Path, count: int, problems: list[DocumentProblem], version: str,
                         seconds: float) -> None:
        """The strict validation of a generated tree's Kubernetes documents."""

    def report_written(self, path: Path) -> None:
        self.info(f"wrote {path}")

    @abstractmethod
    def report_secrets(self, mount: str, secrets: Sequence[SecretEntry]) -> None:
        """The secrets inventory."""

    def report_document(self, text: str) -> None:
        """A document the command exists to print (a graph, the JSON Schema), as it is."""
        click.echo(text, nl=False)

    def report_diff(self, report: Report, *, to: Path | None, color: bool | None, max_chars: int, command: str) -> None:
        """The diff report, to the file `to` or stdout; nothing under --quiet."""
        if self.quiet:
            return
        text = self.render_diff(report, color=use_color(color, to_terminal=to is None), max_chars=max_chars,
                                command=command)
        if to is not None:
            to.write_text(text, "utf-8")
        else:
            click.echo(text, nl=False, color=color)

    @abstractmethod
    def render_diff(self, report: Report, *, color: bool, max_chars: int, command: str) -> str:
        """The diff report in this format."""


class TextReporter(Reporter):
    """For a terminal: results on stdout, errors on stderr, at most errors.MAX_SHOWN of them."""

    def report_failure(self, failure: KonohaFailure) -> None:
        _echo_lines(failure)

    def report_build(self, result: Plan, out_dir: Path) -> None:
        for label, paths in (("created", result.create), ("updated", result.update), ("deleted", result.delete),
                             ("mode", result.mode)):
            for path in paths:
                self.info(f"{label:8} {out_dir / path}")
        _warn_edited(result, out_dir)
        modes = f", {len(result.mode)} mode restored" if result.mode else ""
        self.info(f"{out_dir}: {len(result.create)} created, {len(result.update)} updated, "
                  f"{len(result.delete)} deleted{modes}, {len(result.identical)} unchanged")

    def report_drift(self, drift: Drift, out_dir: Path, spec: Path) -> None:
        for kind, path in drift:
            click.echo(f"{kind:8} {out_dir / path}", err=True)
        if drift:
            click.echo(f"{out_dir} is out of date: run `konoha-gen build {spec}`", err=True)
        else:
            self.info(f"{out_dir} is up to date")

    def report_valid(self, spec: Path) -> None:
        self.info(f"{spec}: valid")

    def report_documents(self, output_dir: Path, count: int, problems: list[DocumentProblem], version: str,
                         seconds: float) -> None:
        for problem in problems:
            click.echo(f"{output_dir / problem.path}:{problem.index}: {problem.kind}/{problem.name}: "
                       f"{problem.field}: {problem.message}", err=True)
        self.info(f"{output_dir}: {count} documents, {len(problems)} problem(s), Kubernetes {version} "
                  f"({count / seconds:.0f} documents/s)")

    def report_secrets(self, mount: str, secrets: Sequence[SecretEntry]) -> None:
        rows = [("PATH", "KEYS", "READERS", "ORIGIN")]
        for e in secrets:
            readers = ", ".join(f"{r.component}" + (f" ({r.namespace}/{r.secret_name})" if r.namespace else "")
                                for r in e.readers)
            rows.append((f"{mount}/{e.path}", ",".join(e.keys), readers or "-", e.origin))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])

    def render_diff(self, report: Report, *, color: bool, max_chars: int, command: str) -> str:
        from konoha_gen.diff import render

        return render.text(report, color=color)


class MarkdownReporter(TextReporter):
    """`diff --format markdown`: the report as a pull-request comment; everything else as text."""

    def render_diff(self, report: Report, *, color: bool, max_chars: int, command: str) -> str:
        from konoha_gen.diff import render

        return render.markdown(report, limit=max_chars, command=command)


class JsonReporter(Reporter):
    """For programs: one JSON document on stdout (even under --quiet), every error listed; warnings on stderr."""

    def info(self, text: str) -> None:
        pass

    def data(self, payload: object) -> None:
        click.echo(json.dumps(payload, indent=2))

    def report_failure(self, failure: KonohaFailure) -> None:
        self.data(failure.to_json())

    def report_build(self, result: Plan, out_dir: Path) -> None:
        _warn_edited(result, out_dir)
        self.data({"created": result.create, "updated": result.update, "deleted": result.delete,
                   "mode": result.mode, "unchanged": len(result.identical), "edited": result.edited,
                   "foreign": result.foreign, "cleaned": result.cleaned})

    def report_drift(self, drift: Drift, out_dir: Path, spec: Path) -> None:
        self.data({"drift": [{"kind": kind, "path": path} for kind, path in drift]})

    def report_valid(self, spec: Path) -> None:
        self.data({"errors": []})

    def report_documents(self, output_dir: Path, count: int, problems: list[DocumentProblem], version: str,
                         seconds: float) -> None:
        self.data({"documents": count, "errors": [p.__dict__ for p in problems]})

    def report_secrets(self, mount: str, secrets: Sequence[SecretEntry]) -> None:
        self.data({"mount": mount, "secrets": [
            {"path": e.path, "keys": list(e.keys), "origin": e.origin,
             "readers": [{"component": r.component, "namespace": r.namespace, "secret": r.secret_name}
                         for r in e.readers]} for e in secrets]})

    def render_diff(self, report: Report, *, color: bool, max_chars: int, command: str) -> str:
        from konoha_gen.diff import render

        return render.as_json(report)


class DiffJsonReporter(JsonReporter):
    """`diff --format json`: a bot reads stdout while people read the CI log, so failures also go to stderr as text."""

    def report_failure(self, failure: KonohaFailure) -> None:
        super().report_failure(failure)
        _echo_lines(failure)


def _echo_lines(failure: KonohaFailure) -> None:
    for line in failure.lines():
        click.echo(line, err=True)


def _warn_edited(result: Plan, out_dir: Path) -> None:
    """Warnings of a build that went ahead: hand edits it replaced, files it did not make, leftovers it removed."""
    for path in result.edited:
        click.echo(f"warning: {out_dir / path} had been edited by hand; regenerated", err=True)
    for path in result.foreign:
        click.echo(f"warning: {out_dir / path} was not generated by konoha-gen (kept; list it in "
                   f"{out_dir / '.konoha-keep'} if it belongs there, `check` reports it until then)", err=True)
    for name in result.cleaned:
        click.echo(f"note: removed {out_dir.parent / name}, left by an interrupted build (ignore it in git: "
                   f"`.*.konoha-staging/`)", err=True)


REPORTER_BY_NAME: dict[str, type[Reporter]] = {"text": TextReporter, "json": JsonReporter}
DIFF_REPORTER_BY_NAME: dict[str, type[Reporter]] = {"text": TextReporter, "markdown": MarkdownReporter,
                                                     "json": DiffJsonReporter}
