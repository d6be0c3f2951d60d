"""`check`'s fast path: the lock proves an unchanged out/ without compiling; anything else takes the full path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from konoha_gen import pipeline
from konoha_gen.cli import main
from konoha_gen.lockproof import proven_unchanged
from tests.conftest import ROOT, SPEC


@pytest.fixture
def copied(tmp_path: Path) -> tuple[Path, Path]:
    """The committed spec and out/ copied (no .git above them: the spec's label is its file name, as the lock's)."""
    spec = tmp_path / "konoha.yaml"
    shutil.copyfile(SPEC, spec)
    out = tmp_path / "out"
    shutil.copytree(ROOT / "out", out, symlinks=True)
    lock = json.loads((out / "konoha.lock.json").read_text())
    lock["spec"]["path"] = "konoha.yaml"
    (out / "konoha.lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    return spec, out


def test_the_committed_tree_is_proven_without_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    assert proven_unchanged(SPEC, ROOT / "out")

    def compile_fails(*args: object) -> None:
        raise AssertionError("compiled")

    monkeypatch.setattr(pipeline, "drift", compile_fails)
    result = CliRunner().invoke(main, ["check", str(SPEC), "--out", str(ROOT / "out")])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(main, ["check", str(SPEC), "--out", str(ROOT / "out"), "--full"]).exit_code == 3


def test_a_copy_is_proven(copied: tuple[Path, Path]) -> None:
    assert proven_unchanged(*copied)


@pytest.mark.parametrize("change", ["spec", "edit", "mode", "foreign", "missing", "lock-format", "version"])
def test_any_difference_is_not_proven(copied: tuple[Path, Path], change: str) -> None:
    spec, out = copied
    lock_file = out / "konoha.lock.json"
    lock = json.loads(lock_file.read_text())
    if change == "spec":
        spec.write_text(spec.read_text() + "\n")
    elif change == "edit":
        (out / "README.md").write_text((out / "README.md").read_text() + "x\n")
    elif change == "mode":
        (out / "README.md").chmod(0o755)
    elif change == "foreign":
        (out / "terraform" / "local.tf").write_text("# mine\n")
    elif change == "missing":
        (out / "README.md").unlink()
    elif change == "lock-format":
        lock_file.write_text(json.dumps(lock) + "\n")
    else:
        lock["version"] = "0.0.0"
        lock_file.write_text(json.dumps(lock, indent=2) + "\n")
    assert not proven_unchanged(spec, out)


def test_a_kept_file_does_not_stop_the_proof(copied: tuple[Path, Path]) -> None:
    spec, out = copied
    (out / "terraform" / "local-extra.tf").write_text("# mine\n")
    (out / ".konoha-keep").write_text("# hand-made\nterraform/local-*.tf\n")
    assert proven_unchanged(spec, out)
