"""Command line: parse arguments, call the pipeline, print, choose the exit code.

The only module that exits; reporters (konoha_gen.report) print. Every command
runs under one error handler. Exit codes: 0 ok, 1 drift found by `check`, 2
invalid input or output (or an out/ the writer refuses to go through), 3
internal error, 4 the file system refused (permissions, read-only, full disk),
5 another build of the same out/ held its lock for longer than --wait.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from konoha_gen import __version__
from konoha_gen.errors import ExitCode, KonohaFailure
from konoha_gen.report import DIFF_REPORTER_BY_NAME, REPORTER_BY_NAME, Drift, Reporter
from konoha_gen.report import use_color as use_color

if TYPE_CHECKING:
    from konoha_gen.write import Plan

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_SPEC = Path("spec/konoha.yaml")
DEFAULT_OUT = Path("out")


def check_options(func: F) -> F:
    """--schema-dir and --charts-dir: where the output checks find upstream schemas."""
    func = click.option("--charts-dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
                        envvar="KONOHA_CHARTS_DIR", default=None,
                        help="Charts' values.yaml/values.schema.json (env KONOHA_CHARTS_DIR; default: the copies "
                             "vendored in konoha-gen).")(func)
    return click.option("--schema-dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
                        envvar="KONOHA_SCHEMA_DIR", default=None,
                        help="CRD JSON schemas (env KONOHA_SCHEMA_DIR; default: the copies vendored in "
                             "konoha-gen).")(func)

spec_argument = click.argument("spec", type=click.Path(path_type=Path), default=DEFAULT_SPEC,
                               required=False)
out_option = click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_OUT,
                          show_default=True, help="Directory of the generated tree.")
debug_option = click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")


@contextlib.contextmanager
def error_handler(report: Reporter, *, debug: bool) -> Iterator[None]:
    """The one error path of every command: a KonohaFailure exits with its own code, reported in the chosen
    format; any other exception is a bug, exit 3 with one line (and the traceback under --debug)."""
    try:
        yield
    except KonohaFailure as failure:
        report.report_failure(failure)
        sys.exit(int(failure.exit_code))
    except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except Exception as exc:
        report.report_internal_error(exc, debug=debug)
        sys.exit(int(ExitCode.INTERNAL))


def reported(reporters: Mapping[str, type[Reporter]]) -> Callable[[F], F]:
    """Run the command with the reporter its --format names (text when it has none) under error_handler;
    exit with the code it returns. The command takes `report` instead of --quiet/--format/--debug."""
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, quiet: bool, debug: bool, fmt: str = "text", **kwargs: Any) -> None:
            report = reporters[fmt](quiet=quiet)
            with error_handler(report, debug=debug):
                code = func(*args, report=report, **kwargs)
            sys.exit(int(code))

        return wrapper  # type: ignore[return-value]

    return decorate


def common_options(func: F) -> F:
    """--quiet, --format text|json and --debug on every command, through the one error handler."""
    func = reported(REPORTER_BY_NAME)(func)
    func = debug_option(func)
    func = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                        help="Output format of reports and errors.")(func)
    return click.option("--quiet", "-q", is_flag=True, help="Print only errors.")(func)


def graph_options(func: F) -> F:
    """common_options whose --format chooses the graph syntax (`style`; reports and errors are text)."""
    func = reported(REPORTER_BY_NAME)(func)
    func = debug_option(func)
    func = click.option("--format", "style", type=click.Choice(["mermaid", "dot"]), default="mermaid",
                        show_default=True, help="Graph syntax.")(func)
    return click.option("--quiet", "-q", is_flag=True, help="Print only errors.")(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="konoha-gen")
def main() -> None:
    """Compile a konoha.yaml platform spec into a GitOps tree (Terraform, Flux, Helm, VSO, connectors)."""


@main.command()
@spec_argument
@out_option
@click.option("--fail-on-change", is_flag=True,
              help="Exit 1 when the build changed any file (for pre-commit: the commit held a stale out/).")
@click.option("--wait", type=click.FloatRange(min=0), default=60.0, show_default=True, metavar="SECONDS",
              help="How long to wait for another build of the same --out to finish (exit 5 after; 0: do not wait).")
@check_options
@common_options
def build(spec: Path, out_dir: Path, fail_on_change: bool, wait: float, schema_dir: Path | None,
          charts_dir: Path | None, report: Reporter) -> ExitCode:
    """Validate SPEC and write the generated tree into --out (only changed files)."""
    from konoha_gen.check import CheckOptions
    from konoha_gen.pipeline import build as run_build

    result = run_build(spec, out_dir, CheckOptions(schema_dir, charts_dir), wait=wait, on_wait=report.report_waiting)
    report.report_build(result, out_dir)
    if fail_on_change and result.changed:
        report.report_stale_build(out_dir)
        return ExitCode.DRIFT
    return ExitCode.OK


@main.command()
@spec_argument
@out_option
@click.option("--full", is_flag=True, help="Always compile SPEC; without it, an out/ whose konoha.lock.json proves "
                                           "it up to date (same spec digest and generator version, every file as "
                                           "locked, no foreign file) passes without compiling.")
@check_options
@common_options
def check(spec: Path, out_dir: Path, full: bool, schema_dir: Path | None, charts_dir: Path | None,
          report: Reporter) -> ExitCode:
    """Exit 1 if --out differs from what SPEC compiles to (stale, edited, missing, extra, foreign files or a changed
    executable bit). Writes nothing."""
    if not full and schema_dir is None and charts_dir is None:
        from konoha_gen.lockproof import proven_unchanged

        if proven_unchanged(spec, out_dir):
            report.report_drift([], out_dir, spec)
            return ExitCode.OK
    from konoha_gen.check import CheckOptions
    from konoha_gen.pipeline import drift

    findings = drift_of(drift(spec, out_dir, CheckOptions(schema_dir, charts_dir)))
    report.report_drift(findings, out_dir, spec)
    return ExitCode.DRIFT if findings else ExitCode.OK


def drift_of(result: Plan) -> Drift:
    """What `check` lists: each path once, by kind (a hand-edited file is `edited`, not also stale or extra)."""
    edited = set(result.edited)
    return [*(("edited", p) for p in result.edited), *(("stale", p) for p in result.update if p not in edited),
            *(("missing", p) for p in result.create), *(("extra", p) for p in result.delete if p not in edited),
            *(("mode", p) for p in result.mode), *(("foreign", p) for p in sorted(result.conflicts + result.foreign))]


@main.command()
@spec_argument
@click.option("--output", "output_dir", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
              help="Instead of the spec, validate every Kubernetes document under this generated tree.")
@click.option("--schema-dir", type=click.Path(path_type=Path, file_okay=False, exists=True), envvar="KONOHA_SCHEMA_DIR",
              default=None, help="CRD JSON schemas (env KONOHA_SCHEMA_DIR; default: the vendored copies).")
@click.option("--kubernetes-version", default=None, help="With --output: Kubernetes minor version (default: "
                                                         "the spec's).")
@common_options
def validate(spec: Path, output_dir: Path | None, schema_dir: Path | None, kubernetes_version: str | None,
             report: Reporter) -> ExitCode:
    """Validate SPEC (shape, references, derived names), or with --output a generated tree, strictly; write nothing."""
    if output_dir is not None:
        return _validate_output(spec, output_dir, schema_dir, kubernetes_version, report)
    from konoha_gen.pipeline import compile_platform

    compile_platform(spec)
    report.report_valid(spec)
    return ExitCode.OK


def _validate_output(spec: Path, output_dir: Path, schema_dir: Path | None, version: str | None,
                     report: Reporter) -> ExitCode:
    import time

    from konoha_gen.check.k8s import SchemaSet, validate_tree

    if version is None:
        from konoha_gen.pipeline import compile_platform

        version = compile_platform(spec).spec.cluster.kubernetes_version
    start = time.perf_counter()
    count, problems = validate_tree(output_dir, SchemaSet(version, schema_dir))
    report.report_documents(output_dir, count, problems, version, time.perf_counter() - start)
    return ExitCode.INVALID if problems else ExitCode.OK


@main.command()
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("spec/konoha.schema.json"), show_default=True, help="Where to write ('-' for stdout).")
@click.option("--docs", type=click.Path(path_type=Path, dir_okay=False), default=Path("docs/spec-reference.md"),
              show_default=True, help="Where to write the markdown reference ('' to skip).")
@common_options
def schema(output: Path, docs: Path, report: Reporter) -> ExitCode:
    """Write the JSON Schema of konoha.yaml (for editors) and its markdown reference."""
    from konoha_gen.schema import json_schema, markdown_reference

    if str(output) == "-":
        report.report_document(json_schema())
        return ExitCode.OK
    targets = [(output, json_schema())] + ([(docs, markdown_reference())] if str(docs) not in ("", ".") else [])
    for path, text in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            report.report_written(path)
    return ExitCode.OK


@main.command()
@spec_argument
@common_options
def secrets(spec: Path, report: Reporter) -> ExitCode:
    """List every Vault path the platform reads: keys, readers, generated or manual."""
    from konoha_gen.pipeline import compile_platform

    platform = compile_platform(spec)
    report.report_secrets(platform.spec.secrets.vault.kv_mount, platform.secrets)
    return ExitCode.OK


@main.command()
@spec_argument
@graph_options
def graph(spec: Path, style: str, report: Reporter) -> ExitCode:
    """Print the component dependency graph of SPEC."""
    from konoha_gen import graph as graphs
    from konoha_gen.pipeline import compile_platform

    platform = compile_platform(spec)
    report.report_document(graphs.mermaid(platform) if style == "mermaid" else graphs.dot(platform))
    return ExitCode.OK


@main.command()
@spec_argument
@click.option("--base", default="HEAD", show_default=True, metavar="REV", help="Git revision to compare from.")
@click.option("--head", default=None, metavar="REV", help="Git revision to compare to (default: the spec file in "
                                                          "the worktree).")
@click.option("--worktree", is_flag=True, help="Compare to the spec file in the worktree (the default; "
                                               "excludes --head).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="text for a terminal, markdown for a pull-request comment, json for bots.")
@click.option("--output", "-o", "report_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the report to this file instead of stdout.")
@click.option("--color/--no-color", default=None,
              help="Colour the text report (default: when stdout is a terminal and NO_COLOR is not set).")
@click.option("--max-chars", type=click.IntRange(min=2000), default=65_536, show_default=True,
              help="markdown: truncate the comment to this many characters (GitHub's comment limit).")
@click.option("--quiet", "-q", is_flag=True, help="Print no report; only the exit code says whether anything changed.")
@debug_option
@check_options
@reported(DIFF_REPORTER_BY_NAME)
def diff(spec: Path, base: str, head: str | None, worktree: bool, report_file: Path | None, color: bool | None,
         max_chars: int, schema_dir: Path | None, charts_dir: Path | None, report: Reporter) -> ExitCode:
    """Compare what SPEC compiles to at --base and at --head (or the worktree), by resource, with its impact.

    Exit codes: 0 no change, 1 changes, 2 the spec is invalid at one of the revisions (or a revision is unknown).
    """
    import shlex

    from konoha_gen.check import CheckOptions
    from konoha_gen.diff import diff_revisions

    if worktree and head is not None:
        raise click.UsageError("--head and --worktree exclude each other")
    result = diff_revisions(spec, base, head, CheckOptions(schema_dir, charts_dir))
    command = shlex.join(["konoha-gen", "diff", "--base", base, *(["--head", head] if head else []), str(spec)])
    report.report_diff(result, to=report_file, color=color, max_chars=max_chars, command=command)
    return ExitCode.DRIFT if result.changed else ExitCode.OK
