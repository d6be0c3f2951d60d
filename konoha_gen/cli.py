"""Command line: parse arguments, call the pipeline, print, choose the exit code.

The only module that prints or exits. Exit codes: 0 ok, 1 drift found by
`check`, 2 invalid input or output, 3 internal error.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from konoha_gen import __version__
from konoha_gen.errors import Diagnostic, ExitCode, KonohaError, OutputError

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_SPEC = Path("spec/konoha.yaml")
DEFAULT_OUT = Path("out")
MAX_SHOWN = 50


def check_options(func: F) -> F:
    """--schema-dir and --charts-dir: where the output checks find upstream schemas."""
    func = click.option("--charts-dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
                        envvar="KONOHA_CHARTS_DIR", default=None,
                        help="Charts' values.yaml/values.schema.json (env KONOHA_CHARTS_DIR; default: the copies vendored in konoha-gen).")(func)
    return click.option("--schema-dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
                        envvar="KONOHA_SCHEMA_DIR", default=None,
                        help="CRD JSON schemas (env KONOHA_SCHEMA_DIR; default: the copies vendored in konoha-gen).")(func)

spec_argument = click.argument("spec", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_SPEC,
                               required=False)
out_option = click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_OUT,
                          show_default=True, help="Directory of the generated tree.")


def common_options(func: F) -> F:
    """--quiet, --format and --debug on every command, with one error handler."""
    return _with_common_options(func, ("text", "json"), "Output format of reports and errors.")


def graph_options(func: F) -> F:
    """common_options whose --format chooses the graph syntax (errors are then printed as text)."""
    return _with_common_options(func, ("mermaid", "dot"), "Graph syntax.")


def _with_common_options(func: F, formats: tuple[str, ...], help_text: str) -> F:
    @click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
    @click.option("--format", "fmt", type=click.Choice(formats), default=formats[0], show_default=True, help=help_text)
    @click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
    @functools.wraps(func)
    def wrapper(*args: Any, quiet: bool, fmt: str, debug: bool, **kwargs: Any) -> None:
        if formats[0] != "text":  # the command reads the choice; reports and errors stay text
            kwargs["style"], fmt = fmt, "text"
        out = Output(quiet=quiet, fmt=fmt)
        try:
            code = func(*args, out=out, **kwargs)
        except KonohaError as exc:
            out.diagnostics(exc.diagnostics)
            code = ExitCode.INVALID
        except OutputError as exc:
            out.problems(exc)
            code = ExitCode.INVALID
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if debug:
                raise
            click.echo(f"konoha-gen: internal error: {type(exc).__name__}: {exc} "
                       "(re-run with --debug for the traceback and report it)", err=True)
            code = ExitCode.INTERNAL
        sys.exit(int(code or 0))

    return wrapper  # type: ignore[return-value]


class Output:
    def __init__(self, *, quiet: bool, fmt: str) -> None:
        self.quiet = quiet
        self.json = fmt == "json"

    def info(self, text: str) -> None:
        if not self.quiet and not self.json:
            click.echo(text)

    def data(self, payload: object) -> None:
        click.echo(json.dumps(payload, indent=2))

    def diagnostics(self, diagnostics: list[Diagnostic]) -> None:
        if self.json:
            self.data({"errors": [d.to_json() for d in diagnostics]})
            return
        for diagnostic in diagnostics[:MAX_SHOWN]:
            click.echo(diagnostic.format(), err=True)
        if len(diagnostics) > MAX_SHOWN:
            click.echo(f"... and {len(diagnostics) - MAX_SHOWN} more errors (--format json lists all)", err=True)
        click.echo(f"{len(diagnostics)} error(s); nothing was written", err=True)

    def problems(self, error: OutputError) -> None:
        if self.json:
            self.data({"errors": [{"path": p.path, "check": p.check, "message": p.message} for p in error.problems]})
            return
        for problem in error.problems:
            click.echo(problem.format(), err=True)
        click.echo(f"{len(error.problems)} problem(s) in the generated output; nothing was written", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="konoha-gen")
def main() -> None:
    """Compile a konoha.yaml platform spec into a GitOps tree (Terraform, Flux, Helm, VSO, connectors)."""


@main.command()
@spec_argument
@out_option
@click.option("--fail-on-change", is_flag=True,
              help="Exit 1 when the build changed any file (for pre-commit: the commit held a stale out/).")
@check_options
@common_options
def build(spec: Path, out_dir: Path, fail_on_change: bool, schema_dir: Path | None, charts_dir: Path | None,
          out: Output) -> ExitCode:
    """Validate SPEC and write the generated tree into --out (only changed files)."""
    from konoha_gen.check import CheckOptions
    from konoha_gen.pipeline import build as run_build

    result = run_build(spec, out_dir, CheckOptions(schema_dir, charts_dir))
    for label, paths in (("created", result.create), ("updated", result.update), ("deleted", result.delete)):
        for path in paths:
            out.info(f"{label:8} {out_dir / path}")
    for path in result.edited:
        click.echo(f"warning: {out_dir / path} had been edited by hand; regenerated", err=True)
    if out.json:
        out.data({"created": result.create, "updated": result.update, "deleted": result.delete,
                  "unchanged": len(result.identical), "edited": result.edited})
    out.info(f"{out_dir}: {len(result.create)} created, {len(result.update)} updated, {len(result.delete)} deleted, "
             f"{len(result.identical)} unchanged")
    if fail_on_change and result.changed:
        click.echo(f"konoha-gen: {out_dir} was stale and has been regenerated; stage it and commit again", err=True)
        return ExitCode.DRIFT
    return ExitCode.OK


@main.command()
@spec_argument
@out_option
@check_options
@common_options
def check(spec: Path, out_dir: Path, schema_dir: Path | None, charts_dir: Path | None, out: Output) -> ExitCode:
    """Exit 1 if --out differs from what SPEC compiles to (stale, edited, missing or extra files). Writes nothing."""
    from konoha_gen.check import CheckOptions
    from konoha_gen.pipeline import drift

    result = drift(spec, out_dir, CheckOptions(schema_dir, charts_dir))
    edited = set(result.edited)
    findings = [("edited", p) for p in result.edited]
    findings += [("stale", p) for p in result.update if p not in edited]
    findings += [("missing", p) for p in result.create]
    findings += [("extra", p) for p in result.delete if p not in edited]
    findings += [("foreign", p) for p in result.conflicts]
    if out.json:
        out.data({"drift": [{"kind": kind, "path": path} for kind, path in findings]})
    else:
        for kind, path in findings:
            click.echo(f"{kind:8} {out_dir / path}", err=True)
    if findings:
        if not out.json:
            click.echo(f"{out_dir} is out of date: run `konoha-gen build {spec}`", err=True)
        return ExitCode.DRIFT
    out.info(f"{out_dir} is up to date")
    return ExitCode.OK


@main.command()
@spec_argument
@click.option("--output", "output_dir", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
              help="Instead of the spec, validate every Kubernetes document under this generated tree.")
@click.option("--schema-dir", type=click.Path(path_type=Path, file_okay=False, exists=True), envvar="KONOHA_SCHEMA_DIR",
              default=None, help="CRD JSON schemas (env KONOHA_SCHEMA_DIR; default: the vendored copies).")
@click.option("--kubernetes-version", default=None, help="With --output: Kubernetes minor version (default: the spec's).")
@common_options
def validate(spec: Path, output_dir: Path | None, schema_dir: Path | None, kubernetes_version: str | None,
             out: Output) -> ExitCode:
    """Validate SPEC (shape, references, derived names), or with --output a generated tree, strictly; write nothing."""
    if output_dir is not None:
        return _validate_output(spec, output_dir, schema_dir, kubernetes_version, out)
    from konoha_gen.pipeline import compile_platform

    compile_platform(spec)
    if out.json:
        out.data({"errors": []})
    out.info(f"{spec}: valid")
    return ExitCode.OK


def _validate_output(spec: Path, output_dir: Path, schema_dir: Path | None, version: str | None, out: Output) -> ExitCode:
    import time

    from konoha_gen.check.k8s import SchemaSet, validate_tree

    if version is None:
        from konoha_gen.pipeline import compile_platform

        version = compile_platform(spec).spec.cluster.kubernetes_version
    start = time.perf_counter()
    count, problems = validate_tree(output_dir, SchemaSet(version, schema_dir))
    seconds = time.perf_counter() - start
    if out.json:
        out.data({"documents": count, "errors": [p.__dict__ for p in problems]})
    else:
        for problem in problems:
            click.echo(f"{output_dir / problem.path}:{problem.index}: {problem.kind}/{problem.name}: "
                       f"{problem.field}: {problem.message}", err=True)
        out.info(f"{output_dir}: {count} documents, {len(problems)} problem(s), Kubernetes {version} "
                 f"({count / seconds:.0f} documents/s)")
    return ExitCode.INVALID if problems else ExitCode.OK


@main.command()
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("spec/konoha.schema.json"), show_default=True, help="Where to write ('-' for stdout).")
@click.option("--docs", type=click.Path(path_type=Path, dir_okay=False), default=Path("docs/spec-reference.md"),
              show_default=True, help="Where to write the markdown reference ('' to skip).")
@common_options
def schema(output: Path, docs: Path, out: Output) -> ExitCode:
    """Write the JSON Schema of konoha.yaml (for editors) and its markdown reference."""
    from konoha_gen.schema import json_schema, markdown_reference

    if str(output) == "-":
        click.echo(json_schema(), nl=False)
        return ExitCode.OK
    targets = [(output, json_schema())] + ([(docs, markdown_reference())] if str(docs) not in ("", ".") else [])
    for path, text in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            out.info(f"wrote {path}")
    return ExitCode.OK


@main.command()
@spec_argument
@common_options
def secrets(spec: Path, out: Output) -> ExitCode:
    """List every Vault path the platform reads: keys, readers, generated or manual."""
    from konoha_gen.pipeline import compile_platform

    platform = compile_platform(spec)
    mount = platform.spec.secrets.vault.kv_mount
    if out.json:
        out.data({"mount": mount, "secrets": [
            {"path": e.path, "keys": list(e.keys), "origin": e.origin,
             "readers": [{"component": r.component, "namespace": r.namespace, "secret": r.secret_name}
                         for r in e.readers]} for e in platform.secrets]})
        return ExitCode.OK
    rows = [("PATH", "KEYS", "READERS", "ORIGIN")]
    for e in platform.secrets:
        readers = ", ".join(f"{r.component}" + (f" ({r.namespace}/{r.secret_name})" if r.namespace else "")
                            for r in e.readers)
        rows.append((f"{mount}/{e.path}", ",".join(e.keys), readers or "-", e.origin))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
    return ExitCode.OK


@main.command()
@spec_argument
@graph_options
def graph(spec: Path, style: str, out: Output) -> ExitCode:
    """Print the component dependency graph of SPEC."""
    from konoha_gen import graph as graphs
    from konoha_gen.pipeline import compile_platform

    platform = compile_platform(spec)
    click.echo(graphs.mermaid(platform) if style == "mermaid" else graphs.dot(platform), nl=False)
    return ExitCode.OK


@main.command()
@spec_argument
@click.option("--base", default="HEAD", show_default=True, metavar="REV", help="Git revision to compare from.")
@click.option("--head", default=None, metavar="REV", help="Git revision to compare to (default: the spec file in the worktree).")
@click.option("--worktree", is_flag=True, help="Compare to the spec file in the worktree (the default; excludes --head).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="text for a terminal, markdown for a pull-request comment, json for bots.")
@click.option("--output", "-o", "report_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the report to this file instead of stdout.")
@click.option("--color/--no-color", default=None,
              help="Colour the text report (default: when stdout is a terminal and NO_COLOR is not set).")
@click.option("--max-chars", type=click.IntRange(min=2000), default=65_536, show_default=True,
              help="markdown: truncate the comment to this many characters (GitHub's comment limit).")
@click.option("--quiet", "-q", is_flag=True, help="Print no report; only the exit code says whether anything changed.")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
@check_options
def diff(spec: Path, base: str, head: str | None, worktree: bool, fmt: str, report_file: Path | None, color: bool | None,
         max_chars: int, quiet: bool, debug: bool, schema_dir: Path | None, charts_dir: Path | None) -> None:
    """Compare what SPEC compiles to at --base and at --head (or the worktree), by resource, with its impact.

    Exit codes: 0 no change, 1 changes, 2 the spec is invalid at one of the revisions (or a revision is unknown).
    """
    if worktree and head is not None:
        raise click.UsageError("--head and --worktree exclude each other")
    try:
        code = _diff(spec, base, head, fmt, report_file, color, max_chars, quiet, schema_dir, charts_dir)
    except Exception as exc:
        code = _diff_error(exc, fmt, debug)
    sys.exit(int(code))


def _diff(spec: Path, base: str, head: str | None, fmt: str, report_file: Path | None, color: bool | None, max_chars: int,
          quiet: bool, schema_dir: Path | None, charts_dir: Path | None) -> ExitCode:
    import shlex

    from konoha_gen.check import CheckOptions
    from konoha_gen.diff import diff_revisions, render

    report = diff_revisions(spec, base, head, CheckOptions(schema_dir, charts_dir))
    if not quiet:
        if fmt == "json":
            text = render.as_json(report)
        elif fmt == "markdown":
            command = shlex.join(["konoha-gen", "diff", "--base", base, *(["--head", head] if head else []), str(spec)])
            text = render.markdown(report, limit=max_chars, command=command)
        else:
            text = render.text(report, color=use_color(color, to_terminal=report_file is None))
        if report_file is not None:
            report_file.write_text(text, "utf-8")
        else:
            click.echo(text, nl=False, color=color)
    return ExitCode.DRIFT if report.changed else ExitCode.OK


def use_color(flag: bool | None, *, to_terminal: bool) -> bool:
    """--color/--no-color when given; otherwise colour on a terminal unless NO_COLOR is set (no-color.org)."""
    import os

    if flag is not None:
        return flag
    return to_terminal and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _diff_error(exc: Exception, fmt: str, debug: bool) -> ExitCode:
    from konoha_gen.diff.revisions import InvalidAtRevision, RevisionError

    if isinstance(exc, InvalidAtRevision):
        where = exc.revision.describe()
        error = exc.error
        if fmt == "json":
            errors = ([d.to_json() for d in error.diagnostics] if isinstance(error, KonohaError)
                      else [{"path": p.path, "check": p.check, "message": p.message} for p in error.problems])
            click.echo(json.dumps({"revision": where, "errors": errors}, indent=2))
        lines = [d.format() for d in error.diagnostics] if isinstance(error, KonohaError) else [p.format() for p in error.problems]
        what = "the spec is invalid" if isinstance(error, KonohaError) else "the generated output fails its checks"
        click.echo(f"konoha-gen diff: {what} at {where}:", err=True)
        for line in lines[:MAX_SHOWN]:
            click.echo(line, err=True)
        if len(lines) > MAX_SHOWN:
            click.echo(f"... and {len(lines) - MAX_SHOWN} more (--format json lists all)", err=True)
        return ExitCode.INVALID
    if isinstance(exc, RevisionError):
        click.echo(f"konoha-gen diff: {exc}", err=True)
        return ExitCode.INVALID
    if debug or isinstance(exc, click.ClickException | click.exceptions.Exit | click.exceptions.Abort):
        raise exc
    click.echo(f"konoha-gen: internal error: {type(exc).__name__}: {exc} (re-run with --debug for the traceback and report it)",
               err=True)
    return ExitCode.INTERNAL
