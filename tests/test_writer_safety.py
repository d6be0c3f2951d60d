"""The writer never touches anything outside out/ (issue 14 §2): lock paths, symbolic links, concurrent builds,
leftover staging, file-system refusals, foreign files and modes. Every test builds into a tmp_path copy."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from konoha_gen import write
from konoha_gen.cli import main
from tests.conftest import ROOT
from tests.helpers import contents, tree


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def build_into(spec: Path, out: Path) -> None:
    code, output = run("build", str(spec), "--out", str(out))
    assert code == 0, output


@pytest.fixture
def project(tmp_path: Path, spec_text: str) -> tuple[Path, Path]:
    """A copy of the reference spec and a built out/ two levels down (so `../../x` lands in tmp_path)."""
    spec = tmp_path / "konoha.yaml"
    spec.write_text(spec_text)
    out = tmp_path / "repo" / "out"
    build_into(spec, out)
    return spec, out


def change(spec: Path) -> None:
    """A spec edit that rewrites the lock, a connector and a SQL script."""
    spec.write_text(spec.read_text().replace("database: billing", "database: billing2"))


# H1: lock paths


@pytest.mark.parametrize("entry", ["../../victim.txt", "ABSOLUTE", "sql/../../../victim.txt", "./README.md"])
def test_h1_a_lock_path_outside_out_is_refused_and_nothing_is_touched(project: tuple[Path, Path],
                                                                      entry: str) -> None:
    spec, out = project
    victim = spec.parent / "victim.txt"
    victim.write_text("precious\n")
    entry = str(victim) if entry == "ABSOLUTE" else entry
    lock = json.loads((out / "konoha.lock.json").read_text())
    lock["files"][entry] = {"sha256": write.sha256(victim.read_bytes()), "mode": "0644"}
    (out / "konoha.lock.json").write_text(json.dumps(lock))
    change(spec)  # the build has something to do
    before = tree(out)
    for command in ("build", "check"):
        code, output = run(command, str(spec), "--out", str(out))
        assert code == 2, output
        assert repr(entry) in output
        assert "a lock path must be relative, normalised and inside out/" in output
    assert victim.read_text() == "precious\n"
    assert tree(out) == before
    assert not (out.parent / ".out.konoha-staging").exists()


# H2 / M2: symbolic links


def test_h2_a_symlinked_folder_inside_out_is_refused(project: tuple[Path, Path], tmp_path: Path) -> None:
    spec, out = project
    elsewhere = tmp_path / "elsewhere"
    shutil.move(out / "connectors", elsewhere)
    (out / "connectors").symlink_to(elsewhere)
    (elsewhere / "theirs.txt").write_text("not konoha's\n")
    change(spec)  # rewrites connectors/billing.debezium.json
    outside, inside = tree(elsewhere), tree(out)
    for command in ("build", "check"):
        code, output = run(command, str(spec), "--out", str(out))
        assert code == 2, output
        assert f"{out / 'connectors'}: symbolic link on a generated path" in output
    assert tree(elsewhere) == outside
    assert tree(out) == inside
    assert (out / "connectors").is_symlink()


def test_h2_a_symlinked_generated_file_is_refused(project: tuple[Path, Path], tmp_path: Path) -> None:
    spec, out = project
    victim = tmp_path / "victim.md"
    victim.write_text("precious\n")
    (out / "README.md").unlink()
    (out / "README.md").symlink_to(victim)
    code, output = run("build", str(spec), "--out", str(out))
    assert code == 2
    assert f"{out / 'README.md'}: symbolic link on a generated path" in output
    assert victim.read_text() == "precious\n"


def test_m2_out_itself_a_symlink_is_built_through_its_target(tmp_path: Path, spec_text: str) -> None:
    spec = tmp_path / "konoha.yaml"
    spec.write_text(spec_text)
    real = tmp_path / "real_out"
    real.mkdir()
    out = tmp_path / "out"
    out.symlink_to(real)
    (tmp_path / ".real_out.konoha-staging").symlink_to(real)  # what an older konoha-gen left behind
    build_into(spec, out)
    change(spec)
    code, output = run("build", str(spec), "--out", str(out))
    assert code == 0, output
    assert "updated  " in output
    assert out.is_symlink() and out.readlink() == real
    assert json.loads((real / "konoha.lock.json").read_text())["format"] == 2
    assert "billing2" in (real / "sql" / "billing.prepare.sql").read_text()
    leftovers = sorted(p.name for p in tmp_path.iterdir() if "staging" in p.name or "previous" in p.name)
    assert leftovers == []
    assert run("check", str(spec), "--out", str(out))[0] == 0


# H4: concurrent builds


def test_h4_concurrent_builds_of_two_specs_leave_exactly_one_of_them(tmp_path: Path, spec_text: str) -> None:
    specs, expected = [], []
    for name, text in (("a", spec_text), ("b", spec_text.replace("retention: 7d", "retention: 9d")
                                          .replace("database: billing", "database: billing2"))):
        (tmp_path / name).mkdir()
        spec = tmp_path / name / "konoha.yaml"
        spec.write_text(text)
        build_into(spec, tmp_path / f"expected-{name}")
        specs.append(spec)
        expected.append(contents(tmp_path / f"expected-{name}"))
    assert expected[0] != expected[1]
    out = tmp_path / "out"
    for _round in range(3):
        processes = [subprocess.Popen([sys.executable, "-m", "konoha_gen", "build", str(spec), "--out", str(out),
                                       "--format", "json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     for spec in specs]
        results = [(p.wait(timeout=300), p.stdout.read() if p.stdout else b"") for p in processes]
        assert [code for code, _ in results] == [0, 0], results
        reports = [json.loads(stdout) for _, stdout in results]
        final = contents(out)
        assert final in expected
        winner = expected.index(final)
        # The other build ran first (or found the tree already its own); the winner's report is what it did.
        assert [run("check", str(spec), "--out", str(out))[0] for spec in specs] == \
            [0 if i == winner else 1 for i in range(2)]
        assert all(isinstance(r["created"], list) and isinstance(r["updated"], list) for r in reports)
        assert not (tmp_path / ".out.konoha-staging").exists()


@contextlib.contextmanager
def holding_lock(out: Path) -> Iterator[int]:
    fd = os.open(tmp_lock(out), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield fd
    finally:
        os.close(fd)


def tmp_lock(out: Path) -> Path:
    return out.parent / f".{out.name}.konoha-lock"


def test_h4_a_build_waits_for_the_lock_then_fails_with_exit_5(project: tuple[Path, Path]) -> None:
    spec, out = project
    change(spec)
    before = tree(out)
    with holding_lock(out):
        code, output = run("build", str(spec), "--out", str(out), "--wait", "0.3")
    assert code == 5
    assert f"waiting for another build holding {tmp_lock(out)}" in output
    assert f"another konoha-gen build of this out/ holds {tmp_lock(out)} (waited 0.3s" in output
    assert tree(out) == before


def test_h4_a_waiting_build_goes_ahead_once_the_lock_is_released(project: tuple[Path, Path]) -> None:
    spec, out = project
    change(spec)
    with holding_lock(out) as fd:
        threading.Timer(1.0, lambda: fcntl.flock(fd, fcntl.LOCK_UN)).start()
        code, output = run("build", str(spec), "--out", str(out), "--wait", "60")
    assert code == 0, output
    assert "waiting for another build" in output
    assert run("check", str(spec), "--out", str(out))[0] == 0


# L2: leftover staging


def test_l2_a_stale_staging_folder_is_removed_by_the_next_build(project: tuple[Path, Path]) -> None:
    spec, out = project
    staging = out.parent / ".out.konoha-staging"
    (staging / "sql").mkdir(parents=True)  # what a kill after the swap leaves: part of the old tree
    (staging / "sql" / "shop.prepare.sql").write_text("-- old\n")
    before = tree(out)
    code, output = run("build", str(spec), "--out", str(out))
    assert code == 0
    assert "0 created, 0 updated, 0 deleted" in output
    assert f"note: removed {staging}, left by an interrupted build" in output
    assert not staging.exists()
    assert tree(out) == before
    assert ".*.konoha-staging/" in (ROOT / ".gitignore").read_text()
    assert ".*.konoha-staging/" in (ROOT / "README.md").read_text()


# L3: environment errors


@pytest.mark.parametrize(("code", "name", "meaning"), [(errno.ENOSPC, "ENOSPC", "the file system is full"),
                                                       (errno.EROFS, "EROFS", "the file system is mounted read-only"),
                                                       (errno.EACCES, "EACCES", "permission denied")])
def test_l3_a_refused_write_is_exit_4_and_cleans_up_staging(project: tuple[Path, Path],
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             code: int, name: str, meaning: str) -> None:
    spec, out = project
    change(spec)
    before = tree(out)

    def refuse(path: Path, data: bytes) -> None:
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(write, "_write_file", refuse)
    exit_code, output = run("build", str(spec), "--out", str(out))
    assert exit_code == 4, output
    assert f"cannot stage the new tree in {out.parent / '.out.konoha-staging'}/" in output
    assert f"{os.strerror(code)} ({name}: {meaning}" in output
    assert "out/ was left as it was" in output
    assert tree(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == [".out.konoha-lock", "out"]


def test_l3_an_immutable_parent_is_exit_4_naming_the_lock_file(tmp_path: Path, spec_text: str) -> None:
    """A real kernel refusal even as root: chattr +i (EPERM) on the folder out/ goes in."""
    spec = tmp_path / "konoha.yaml"
    spec.write_text(spec_text)
    parent = tmp_path / "repo"
    parent.mkdir()
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(parent)]).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        code, output = run("build", str(spec), "--out", str(parent / "out"))
    finally:
        subprocess.run(["chattr", "-i", str(parent)], check=True)
    assert code == 4, output
    assert f"cannot create the lock file {parent / '.out.konoha-lock'}: Operation not permitted (EPERM" in output
    assert list(parent.iterdir()) == []


def test_l3_a_full_disk_is_exit_4_and_leaves_nothing(tmp_path: Path, spec_text: str) -> None:
    """A real ENOSPC: a 256 KiB tmpfs (the tree is about 1 MB); skipped where mounting is not allowed."""
    spec = tmp_path / "konoha.yaml"
    spec.write_text(spec_text)
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        code, output = run("build", str(spec), "--out", str(disk / "out"))
        left = sorted(p.name for p in disk.iterdir())
    finally:
        subprocess.run(["umount", str(disk)], check=True)
    assert code == 4, output
    assert "No space left on device (ENOSPC: the file system is full)" in output
    assert left == [".out.konoha-lock"]


# M3: foreign files and modes


def test_m3_a_hand_added_file_is_foreign_drift_unless_kept(project: tuple[Path, Path]) -> None:
    spec, out = project
    folder = next(p for p in sorted((out / "terraform").iterdir()) if p.is_dir())
    backdoor = folder / "backdoor.tf"
    backdoor.write_text('resource "null_resource" "x" {}\n')
    code, output = run("check", str(spec), "--out", str(out))
    assert code == 1
    assert f"foreign  {backdoor}" in output
    code, output = run("build", str(spec), "--out", str(out))
    assert code == 0
    assert f"warning: {backdoor} was not generated by konoha-gen (kept" in output
    assert backdoor.exists()  # never deleted: the lock does not list it
    (out / ".konoha-keep").write_text("# ours\nterraform/*/backdoor.tf\n")
    code, output = run("check", str(spec), "--out", str(out))
    assert code == 0, output


def test_m3_a_mode_change_is_drift_and_build_restores_it(project: tuple[Path, Path]) -> None:
    spec, out = project
    readme, script = out / "README.md", out / "bootstrap.sh"
    assert script.stat().st_mode & 0o777 == 0o755  # a script users run; the lock records it
    lock = json.loads((out / "konoha.lock.json").read_text())
    assert lock["files"]["bootstrap.sh"]["mode"] == "0755"
    assert lock["files"]["README.md"]["mode"] == "0644"
    readme.chmod(0o755)
    script.chmod(0o644)
    code, output = run("check", str(spec), "--out", str(out))
    assert code == 1
    assert f"mode     {readme}" in output and f"mode     {script}" in output
    code, output = run("build", str(spec), "--out", str(out))
    assert code == 0
    assert "0 created, 0 updated, 0 deleted, 2 mode restored" in output
    assert readme.stat().st_mode & 0o777 == 0o644
    assert script.stat().st_mode & 0o777 == 0o755
    assert run("check", str(spec), "--out", str(out))[0] == 0


def test_m3_a_format_1_lock_still_reads(project: tuple[Path, Path]) -> None:
    spec, out = project
    lock = json.loads((out / "konoha.lock.json").read_text())
    lock["files"] = {path: entry["sha256"] for path, entry in lock["files"].items()}
    del lock["format"]
    (out / "konoha.lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    (out / "sql" / "shop.prepare.sql").write_text("-- edited\n")
    result = CliRunner().invoke(main, ["build", str(spec), "--out", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["updated"] == ["konoha.lock.json", "sql/shop.prepare.sql"]
    assert report["edited"] == ["sql/shop.prepare.sql"]  # the old lock's checksums were read
    assert report["foreign"] == []
