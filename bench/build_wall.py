"""Wall-clock of `konoha-gen build spec/konoha.yaml` as pre-commit runs it.

Prints the median of N runs for: interpreter start, importing the pipeline's
modules, a full build into an empty directory, and a no-op rebuild.
Usage: .venv/bin/python bench/build_wall.py [N]
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
IMPORTS = ("import konoha_gen.cli, konoha_gen.pipeline, konoha_gen.check.output, konoha_gen.check.k8s, "
           "konoha_gen.emit.readme, konoha_gen.emit.sql, konoha_gen.emit.components, konoha_gen.emit.flux")


def median_ms(command: list[str], runs: int, before: object = None) -> float:
    samples = []
    for _ in range(runs):
        if callable(before):
            before()
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    out = Path(tempfile.mkdtemp()) / "out"
    build = [str(BIN / "konoha-gen"), "build", "spec/konoha.yaml", "--out", str(out), "-q"]
    rows = {
        "python -c pass": median_ms([sys.executable, "-c", "pass"], runs),
        "python: import pipeline modules": median_ms([sys.executable, "-c", IMPORTS], runs),
        "konoha-gen build (empty out/)": median_ms(build, runs, before=lambda: shutil.rmtree(out, ignore_errors=True)),
        "konoha-gen build (no change)": median_ms(build, runs),
    }
    for name, value in rows.items():
        print(f"{name:36} median {value:7.1f} ms  ({runs} runs)")
    shutil.rmtree(out.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
