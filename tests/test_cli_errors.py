"""The one error path of the CLI: every command reports every failure class through the same handler.

The pipeline function each command calls is replaced by one that raises, so these tests run in
milliseconds and pin what the user sees: the exit code the README documents (2 for a failure, 3 for a
bug), the exact stderr lines in text, one JSON document on stdout with --format json, and a traceback
only under --debug.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

import konoha_gen.diff
import konoha_gen.pipeline
import konoha_gen.schema
from konoha_gen.cli import main
from konoha_gen.diff.revisions import InvalidAtRevision, Revision, RevisionError
from konoha_gen.errors import Diagnostic, ExitCode, KonohaError, KonohaFailure, OutputError, OutputProblem
from konoha_gen.report import DIFF_REPORTER_BY_NAME, REPORTER_BY_NAME, DiffJsonReporter, JsonReporter, TextReporter
from tests.conftest import SPEC

# command -> (arguments, the module and function it calls first)
COMMANDS: dict[str, tuple[list[str], Any, str]] = {
    "build": (["build", str(SPEC), "--out", "{tmp}/out"], konoha_gen.pipeline, "build"),
    "check": (["check", str(SPEC), "--out", "{tmp}/out"], konoha_gen.pipeline, "drift"),
    "validate": (["validate", str(SPEC)], konoha_gen.pipeline, "compile_platform"),
    "secrets": (["secrets", str(SPEC)], konoha_gen.pipeline, "compile_platform"),
    "graph": (["graph", str(SPEC)], konoha_gen.pipeline, "compile_platform"),
    "schema": (["schema", "-o", "-"], konoha_gen.schema, "json_schema"),
    "diff": (["diff", str(SPEC)], konoha_gen.diff, "diff_revisions"),
}
JSON_COMMANDS = [name for name in COMMANDS if name != "graph"]  # graph's --format is the graph syntax

DIAGNOSTIC = Diagnostic("spec/konoha.yaml", 3, 5, "spec.cluster.nmae", "unknown key", "did you mean 'name'?")
PROBLEM = OutputProblem("flux/apps.yaml", "spec.interval: required", "k8s")
MAIN = Revision("main", "a" * 40, "spec/konoha.yaml", b"")


def failures() -> dict[str, KonohaFailure]:
    located = Diagnostic("main:spec/konoha.yaml", 3, 5, "spec.cluster.nmae", "unknown key", "did you mean 'name'?")
    return {
        "KonohaError": KonohaError([DIAGNOSTIC]),
        "OutputError": OutputError([PROBLEM]),
        "RevisionError": RevisionError("unknown revision 'no-such-branch'"),
        "InvalidAtRevision": InvalidAtRevision(MAIN, KonohaError([located])),
    }


TEXT = {
    "KonohaError": ["spec/konoha.yaml:3:5: error: spec.cluster.nmae: unknown key (did you mean 'name'?)",
                    "1 error(s); nothing was written"],
    "OutputError": ["flux/apps.yaml: error: [k8s] spec.interval: required",
                    "1 problem(s) in the generated output; nothing was written"],
    "RevisionError": ["konoha-gen diff: unknown revision 'no-such-branch'"],
    "InvalidAtRevision": ["konoha-gen diff: the spec is invalid at main (aaaaaaaaaaaa):",
                          "main:spec/konoha.yaml:3:5: error: spec.cluster.nmae: unknown key (did you mean 'name'?)"],
}
DIAGNOSTIC_JSON = {"file": "spec/konoha.yaml", "line": 3, "column": 5, "path": "spec.cluster.nmae",
                   "message": "unknown key", "hint": "did you mean 'name'?"}
JSON = {
    "KonohaError": {"errors": [DIAGNOSTIC_JSON]},
    "OutputError": {"errors": [{"path": "flux/apps.yaml", "check": "k8s", "message": "spec.interval: required"}]},
    "RevisionError": {"errors": [{"message": "unknown revision 'no-such-branch'"}]},
    "InvalidAtRevision": {"revision": "main (aaaaaaaaaaaa)",
                          "errors": [{**DIAGNOSTIC_JSON, "file": "main:spec/konoha.yaml"}]},
}
INTERNAL = "konoha-gen: internal error: RuntimeError: resolver exploded"


def invoke(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str, error: Exception, *options: str) -> Result:
    args, module, function = COMMANDS[command]

    def fail(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(module, function, fail)
    return CliRunner().invoke(main, [arg.format(tmp=tmp_path) for arg in args] + list(options))


def test_every_failure_class_shares_the_base_and_its_documented_exit_code() -> None:
    for name, failure in failures().items():
        assert isinstance(failure, KonohaFailure), name
        assert failure.exit_code == ExitCode.INVALID, name
        assert int(failure.exit_code) == 2, name
        assert failure.lines() == TEXT[name]
        assert failure.to_json() == JSON[name]


@pytest.mark.parametrize("failure", list(TEXT))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_failure_exits_2_with_its_lines_on_stderr(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str,
                                                    failure: str) -> None:
    result = invoke(monkeypatch, tmp_path, command, failures()[failure])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == TEXT[failure]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("failure", list(JSON))
@pytest.mark.parametrize("command", JSON_COMMANDS)
def test_with_format_json_a_failure_is_one_json_document(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str,
                                                         failure: str) -> None:
    result = invoke(monkeypatch, tmp_path, command, failures()[failure], "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout) == JSON[failure]
    # diff's JSON is for bots, its stderr for the people reading the CI log; the other commands print JSON only.
    assert result.stderr.splitlines() == (TEXT[failure] if command == "diff" else [])


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_unexpected_exception_is_exit_3_and_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                        command: str) -> None:
    result = invoke(monkeypatch, tmp_path, command, RuntimeError("resolver exploded"))
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr.splitlines() == [f"{INTERNAL} (re-run with --debug for the traceback and report it)"]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_debug_adds_the_traceback_before_the_line_and_still_exits_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                    command: str) -> None:
    result = invoke(monkeypatch, tmp_path, command, RuntimeError("resolver exploded"), "--debug")
    assert (result.exit_code, result.stdout) == (3, "")
    lines = result.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert any(line.strip() == "raise error" for line in lines), "the traceback reaches the raising frame"
    assert lines[-2:] == ["RuntimeError: resolver exploded", f"{INTERNAL} (report it with the traceback above)"]


@pytest.mark.parametrize("command", JSON_COMMANDS)
def test_an_internal_error_stays_one_text_line_with_format_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                 command: str) -> None:
    result = invoke(monkeypatch, tmp_path, command, KeyError("spark"), "--format", "json")
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr.splitlines() == [
        "konoha-gen: internal error: KeyError: 'spark' (re-run with --debug for the traceback and report it)"]


def test_text_lists_50_diagnostics_and_json_lists_all(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    many = KonohaError([Diagnostic("s.yaml", n, 1, f"spec.x[{n}]", "bad") for n in range(1, 61)])
    text = invoke(monkeypatch, tmp_path, "validate", many)
    lines = text.stderr.splitlines()
    assert text.exit_code == 2 and len(lines) == 52
    assert lines[49] == "s.yaml:50:1: error: spec.x[50]: bad"
    assert lines[50:] == ["... and 10 more errors (--format json lists all)", "60 error(s); nothing was written"]
    listed = invoke(monkeypatch, tmp_path, "validate", many, "--format", "json")
    assert [e["line"] for e in json.loads(listed.stdout)["errors"]] == list(range(1, 61))


def test_diff_lists_50_lines_of_an_invalid_revision(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    problems = OutputError([OutputProblem(f"flux/{n}.yaml", "bad", "k8s") for n in range(60)])
    result = invoke(monkeypatch, tmp_path, "diff", InvalidAtRevision(Revision("worktree", "", "s", b""), problems))
    lines = result.stderr.splitlines()
    assert result.exit_code == 2 and len(lines) == 52
    assert lines[0] == "konoha-gen diff: the generated output fails its checks at worktree:"
    assert lines[-1] == "... and 10 more (--format json lists all)"


def test_click_usage_errors_are_not_internal_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["diff", "--head", "HEAD", "--worktree", str(SPEC)])
    assert result.exit_code == 2
    assert "--head and --worktree exclude each other" in result.stderr
    assert "internal error" not in result.stderr


def format_choices(command: str) -> list[str]:
    option = next(p for p in main.commands[command].params if p.name in ("fmt", "style"))
    assert isinstance(option.type, click.Choice)
    return [str(choice) for choice in option.type.choices]


def test_each_format_name_chooses_its_reporter() -> None:
    for command in ("build", "check", "validate", "schema", "secrets"):
        assert format_choices(command) == list(REPORTER_BY_NAME), command
    assert format_choices("diff") == list(DIFF_REPORTER_BY_NAME)
    assert (REPORTER_BY_NAME["text"], REPORTER_BY_NAME["json"]) == (TextReporter, JsonReporter)
    assert DIFF_REPORTER_BY_NAME["json"] is DiffJsonReporter
    assert all(issubclass(reporter, TextReporter) for name, reporter in DIFF_REPORTER_BY_NAME.items() if name != "json")
