"""konoha-gen as a real pre-commit hook in another repository.

A temporary git repository uses this repository's `.pre-commit-hooks.yaml`
through the real `pre-commit` package: a commit whose out/ is stale fails
(the hook regenerates out/), and the same commit with out/ staged passes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SPEC


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=check)


@pytest.mark.slow
def test_a_stale_out_fails_the_commit_and_a_fresh_one_passes(tmp_path: Path) -> None:
    head = git(ROOT, "rev-parse", "HEAD").stdout.strip()
    repo = tmp_path / "platform"
    (repo / "spec").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    shutil.copy(SPEC, repo / "spec" / "konoha.yaml")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {head}\n    hooks:\n      - id: konoha-gen\n")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache")}
    env.pop("VIRTUAL_ENV", None)
    pre_commit = [sys.executable, "-m", "pre_commit"]
    subprocess.run([*pre_commit, "install"], cwd=repo, env=env, check=True, capture_output=True)

    git(repo, "add", "-A")
    first = subprocess.run(["git", "commit", "-qm", "spec without out/"], cwd=repo, env=env, capture_output=True,
                           text=True)
    assert first.returncode != 0, first.stdout + first.stderr
    assert "konoha-gen build" in first.stdout + first.stderr
    assert (repo / "out" / "README.md").is_file()  # the hook generated the tree

    git(repo, "add", "-A")
    second = subprocess.run(["git", "commit", "-qm", "spec with out/"], cwd=repo, env=env, capture_output=True,
                            text=True)
    assert second.returncode == 0, second.stdout + second.stderr

    spec = repo / "spec" / "konoha.yaml"
    spec.write_text(spec.read_text().replace("database: billing", "database: billing_v2"))
    git(repo, "add", "spec/konoha.yaml")
    stale = subprocess.run(["git", "commit", "-qm", "rename the billing db"], cwd=repo, env=env, capture_output=True,
                           text=True)
    assert stale.returncode != 0
    assert "Failed" in stale.stdout + stale.stderr
    assert "billing_v2" in (repo / "out" / "sql" / "billing.prepare.sql").read_text()

    git(repo, "add", "-A")
    fresh = subprocess.run(["git", "commit", "-qm", "rename the billing db"], cwd=repo, env=env, capture_output=True,
                           text=True)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert git(repo, "status", "--porcelain").stdout == ""
