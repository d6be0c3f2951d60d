"""Wall-clock of `konoha-gen diff` on the reference spec with a one-line change, as CI or a developer runs it.

A temporary git repository holds spec/konoha.yaml (committed) and the same file with one line changed in the
worktree (Trino workers 2 -> 3); the real CLI runs as a subprocess and the median of N runs is printed.
Usage: .venv/bin/python bench/diff_wall.py [N]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BUDGET_S = 2.0
ONE_LINE = ("    trino:\n      workers: 2\n", "    trino:\n      workers: 3\n")


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def repository(where: Path) -> Path:
    spec = where / "spec" / "konoha.yaml"
    spec.parent.mkdir(parents=True)
    text = (ROOT / "spec" / "konoha.yaml").read_text("utf-8")
    if ONE_LINE[0] not in text:
        sys.exit(f"bench/diff_wall.py: the reference spec no longer has {ONE_LINE[0]!r}; pick another one-line change")
    spec.write_text(text, "utf-8")
    git(where, "init", "-q", "-b", "main")
    git(where, "add", "spec/konoha.yaml")
    git(where, "commit", "-q", "-m", "reference spec")
    spec.write_text(text.replace(*ONE_LINE), "utf-8")
    return where


def median_s(command: list[str], cwd: Path, runs: int) -> tuple[float, float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        samples.append(time.perf_counter() - start)
        if result.returncode != 1:  # 1: changes found, as expected for a one-line change
            sys.exit(f"{' '.join(command)} exited {result.returncode}: {result.stderr}")
    return statistics.median(samples), min(samples), max(samples)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    scratch = Path(tempfile.mkdtemp(prefix="konoha-diff-bench-"))
    try:
        repo = repository(scratch)
        cli = str(BIN / "konoha-gen")
        rows = {
            "konoha-gen diff (text)": [cli, "diff", "--no-color"],
            "konoha-gen diff --format markdown": [cli, "diff", "--format", "markdown"],
        }
        for name, command in rows.items():
            median, low, high = median_s(command, repo, runs)
            verdict = "ok" if median < BUDGET_S else f"OVER the {BUDGET_S:.0f} s budget"
            print(f"{name:36} median {median * 1000:7.1f} ms  (min {low * 1000:.0f}, max {high * 1000:.0f}, {runs} "
                  f"runs)  {verdict}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
