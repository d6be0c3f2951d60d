"""build and check end to end: drift detection, pruning, minimal and atomic writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from konoha_gen import fsops, write
from konoha_gen.cli import main
from tests.conftest import ROOT, SPEC
from tests.helpers import contents, edit_spec, tree


@pytest.fixture
def project(tmp_path: Path, spec_text: str) -> tuple[Path, Path]:
    """A copy of the reference spec and a freshly built out/ beside it."""
    spec = tmp_path / "konoha.yaml"
    spec.write_text(spec_text)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return spec, out


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_check_passes_on_the_committed_tree() -> None:
    code, output = run("check", str(SPEC), "--out", str(ROOT / "out"))
    assert code == 0, output


def test_check_names_a_hand_edited_file(project: tuple[Path, Path]) -> None:
    spec, out = project
    readme = out / "README.md"
    readme.write_text(readme.read_text() + "my note\n")
    code, output = run("check", str(spec), "--out", str(out))
    assert code == 1
    assert f"edited   {readme}" in output
    assert "sql/shop.prepare.sql" not in output


def test_check_reports_missing_and_stale_files_without_writing(project: tuple[Path, Path]) -> None:
    spec, out = project
    (out / "sql" / "shop.prepare.sql").unlink()
    spec.write_text(spec.read_text().replace("retention: 7d", "retention: 9d"))
    before = tree(out)
    code, output = run("check", str(spec), "--out", str(out))
    assert code == 1
    assert f"missing  {out / 'sql/shop.prepare.sql'}" in output
    assert f"stale    {out / 'konoha.lock.json'}" in output
    assert tree(out) == before


def _drop_last_source(data: object) -> None:
    data["spec"]["streaming"]["sources"].pop()  # type: ignore[index]
    data["spec"]["secrets"]["external"].remove("sources/billing")  # type: ignore[index]


def test_removing_the_last_source_removes_exactly_its_files(project: tuple[Path, Path]) -> None:
    spec, out = project
    (out / "notes.txt").write_text("mine\n")
    (out / "sql" / "handwritten.sql").write_text("select 1;\n")
    (out / ".konoha-keep").write_text("# hand-made files that belong here\nnotes.txt\nsql/hand*.sql\n")
    kept = (out / "sql" / "shop.prepare.sql").stat()
    spec.write_text(edit_spec(spec.read_text(), _drop_last_source))

    code, output = run("check", str(spec), "--out", str(out))
    assert code == 1
    assert f"extra    {out / 'sql/billing.prepare.sql'}" in output

    result = CliRunner().invoke(main, ["build", str(spec), "--out", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["deleted"] == ["connectors/billing.debezium.json", "connectors/billing.iceberg-sink.json",
                                 "sql/billing.prepare.sql"]
    # Its topics, connectors, Vault secret, MERGE job and README rows go from the files that list them.
    assert "platform/kafka/manifests.yaml" in report["updated"]
    assert "platform/kyuubi/manifests.yaml" in report["updated"]
    assert not (out / "sql" / "billing.prepare.sql").exists()
    assert (out / "notes.txt").read_text() == "mine\n"
    assert (out / "sql" / "handwritten.sql").read_text() == "select 1;\n"
    after = (out / "sql" / "shop.prepare.sql").stat()
    assert (after.st_ino, after.st_mtime_ns) == (kept.st_ino, kept.st_mtime_ns)
    assert run("check", str(spec), "--out", str(out))[0] == 0


def test_a_second_build_writes_nothing(project: tuple[Path, Path]) -> None:
    spec, out = project
    before = tree(out)
    code, output = run("build", str(spec), "--out", str(out))
    assert code == 0
    assert "0 created, 0 updated, 0 deleted" in output
    assert tree(out) == before  # same bytes, inodes and mtimes


def test_a_change_rewrites_only_the_files_it_affects(project: tuple[Path, Path]) -> None:
    spec, out = project
    before = tree(out)
    spec.write_text(spec.read_text().replace("database: billing", "database: billing2"))
    assert run("build", str(spec), "--out", str(out))[0] == 0
    after = tree(out)
    changed = sorted(p for p in after if after[p] != before[p])
    # The prepare script and the Debezium connector (database.include.list) in both renderings.
    assert changed == ["connectors/billing.debezium.json", "konoha.lock.json", "platform/kafka-connect/manifests.yaml",
                       "sql/billing.prepare.sql"]


def assert_refused_untouched(spec: Path, out: Path, message: str) -> None:
    """build exits 2 with `message` and out/ keeps its bytes, inodes and mtimes."""
    before = tree(out)
    code, output = run("build", str(spec), "--out", str(out))
    assert code == 2
    assert message in output
    assert tree(out) == before


def test_an_invalid_spec_leaves_out_untouched(project: tuple[Path, Path]) -> None:
    spec, out = project
    spec.write_text(spec.read_text().replace("profile: etl", "profile: nope"))
    assert_refused_untouched(spec, out, "unknown Spark profile 'nope'")


def test_invalid_output_fails_the_build_before_writing(project: tuple[Path, Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    spec, out = project
    from konoha_gen import emit
    from konoha_gen.artifact import Artifact

    real = emit.emitters

    def broken() -> list[tuple[str, emit.Emitter]]:
        return [*real(), ("broken", lambda p: [Artifact("bad.yaml", "a: [unclosed\n")])]

    monkeypatch.setattr(emit, "emitters", broken)
    assert_refused_untouched(spec, out, "bad.yaml: error: [structure] not valid YAML")


def test_a_build_killed_before_the_swap_leaves_the_old_tree(project: tuple[Path, Path],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    spec, out = project
    before = contents(out)
    spec.write_text(spec.read_text().replace("retention: 7d", "retention: 9d"))

    class Killed(BaseException):
        """Stands for SIGKILL between staging and swap (nothing catches it)."""

    def killed(staging: Path, out_dir: Path) -> None:
        raise Killed

    monkeypatch.setattr(write, "swap", killed)
    with pytest.raises(Killed):
        CliRunner().invoke(main, ["build", str(spec), "--out", str(out)], catch_exceptions=False)
    assert contents(out) == before
    monkeypatch.undo()
    assert run("build", str(spec), "--out", str(out))[0] == 0  # the leftover staging folder is replaced
    assert not (out.parent / ".out.konoha-staging").exists()
    assert run("check", str(spec), "--out", str(out))[0] == 0


def test_the_swap_is_one_atomic_exchange(tmp_path: Path) -> None:
    old, new = tmp_path / "out", tmp_path / "staging"
    old.mkdir()
    new.mkdir()
    (old / "f").write_text("old")
    (new / "f").write_text("new")
    assert fsops.exchange(new, old)
    assert (old / "f").read_text() == "new"
    assert (new / "f").read_text() == "old"


def test_a_foreign_file_in_the_way_stops_the_build(tmp_path: Path, spec_text: str) -> None:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(spec_text)
    out = tmp_path / "out"
    (out / "sql").mkdir(parents=True)
    (out / "sql" / "shop.prepare.sql").write_text("-- my own script\n")
    code, output = run("build", str(spec), "--out", str(out))
    assert code == 2
    assert "sql/shop.prepare.sql: error: [write] exists but was not generated by konoha-gen" in output
    assert (out / "sql" / "shop.prepare.sql").read_text() == "-- my own script\n"
    assert sorted(p.name for p in out.iterdir()) == ["sql"]


def test_build_fail_on_change_exits_1_only_when_it_wrote(project: tuple[Path, Path]) -> None:
    spec, out = project
    assert run("build", str(spec), "--out", str(out), "--fail-on-change")[0] == 0
    spec.write_text(spec.read_text().replace("retention: 7d", "retention: 8d"))
    code, output = run("build", str(spec), "--out", str(out), "--fail-on-change")
    assert code == 1
    assert "was stale and has been regenerated" in output


def test_two_builds_from_different_cwd_and_hash_seed_are_byte_identical(tmp_path: Path) -> None:
    outs = []
    for seed, cwd in (("1", tmp_path), ("4242", ROOT)):
        out = tmp_path / f"out-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "konoha_gen", "build", str(SPEC), "--out", str(out), "-q"],
                       cwd=cwd, env=env, check=True)
        outs.append(contents(out))
    assert outs[0] == outs[1]
    assert outs[0] == contents(ROOT / "out")


def test_every_generated_file_with_comments_carries_the_header() -> None:
    for path, data in contents(ROOT / "out").items():
        if path.endswith(".json"):
            continue
        lines = data.decode().splitlines()
        # A script keeps its #! line first (the kernel reads it there); the header is the next line.
        first = lines[1] if lines[0].startswith("#!") else lines[0]
        assert "generated by konoha-gen from spec/konoha.yaml; do not edit" in first, path


def test_an_internal_error_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    from konoha_gen import pipeline

    def boom(*args: object) -> None:
        raise RuntimeError("resolver exploded")

    monkeypatch.setattr(pipeline, "resolve", boom)
    code, output = run("validate", str(SPEC))
    assert code == 3
    assert output.strip().splitlines() == [
        "konoha-gen: internal error: RuntimeError: resolver exploded (re-run with --debug for the traceback "
        "and report it)"]


@pytest.mark.parametrize("command", ["build", "check", "validate", "schema", "secrets", "graph"])
def test_every_command_has_help(command: str) -> None:
    code, output = run(command, "--help")
    assert code == 0
    assert "--format" in output and "--quiet" in output


def test_version() -> None:
    from konoha_gen import __version__

    assert run("--version") == (0, f"konoha-gen, version {__version__}\n")
