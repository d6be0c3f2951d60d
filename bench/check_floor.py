"""Whole-process wall clock of `check` and `build`, as ratios to the import floor, in one run (issue 14 §5).

The floor: a fresh `python -c` that imports every runtime dependency konoha-gen declares in pyproject.toml and
nothing of konoha-gen: pydantic, jinja2, click, yaml (PyYAML), jsonschema, jsonschema_rs, referencing,
kubernetes_validate, detect_secrets and hcl2 (python-hcl2). A konoha-gen command that needs them all cannot
start faster; one that needs few (the `check` fast path imports only click) can beat it.

Measured, each as the median of N runs of a whole process (subprocess + time.perf_counter):
- the floor, and `python -c pass` for scale;
- `konoha-gen check` of the committed spec/out (the lock proves it: no compile), and `check --full`;
- `konoha-gen build` of the reference spec into an empty folder;
- builds into empty folders of generated specs: the reference spec with 10/100/500/1,000 CDC sources and 100
  tenants (sources cloned from its `billing` source, tenants from its `ingestion` tenant).
Usage: .venv/bin/python bench/check_floor.py [N]   (noisy on a shared machine: compare ratios within one run)

Every command runs as an installed tool does: with Python free to write and reuse bytecode (an environment that
sets PYTHONDONTWRITEBYTECODE would otherwise recompile konoha-gen's own modules, and only those, on every run).
"""

from __future__ import annotations

import copy
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
BIN = Path(sys.executable).parent
FLOOR_IMPORTS = ("pydantic", "jinja2", "click", "yaml", "jsonschema", "jsonschema_rs", "referencing",
                 "kubernetes_validate", "detect_secrets", "hcl2")
SOURCE_COUNTS = (10, 100, 500, 1000)
TENANTS = 100


def median_s(command: list[str], runs: int, before: Callable[[], None] | None = None) -> float:
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=ENVIRONMENT)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def scaled_spec(sources: int, tenants: int) -> dict[str, Any]:
    """The reference spec with `sources` CDC sources and `tenants` tenants (each source's credentials external) on a
    node large enough for them."""
    spec = yaml.safe_load((ROOT / "spec/konoha.yaml").read_text("utf-8"))
    body = spec["spec"]
    body["cluster"]["nodes"] = {"cpus": 256, "memory": "1024Gi", "disk": "500Gi"}  # room for 1,000 sources
    template = next(s for s in body["streaming"]["sources"] if s["name"] == "billing")
    body["streaming"]["sources"] = []
    external = [path for path in body["secrets"]["external"] if not path.startswith("sources/")]
    for index in range(sources):
        source = copy.deepcopy(template)
        source["name"] = f"src{index:04d}"
        source["credentials"] = f"vault:sources/src{index:04d}"
        source["serverId"] = 400_000 + index  # the derived ids of 1,000 MySQL sources can collide
        body["streaming"]["sources"].append(source)
        external.append(f"sources/src{index:04d}")
    body["secrets"]["external"] = external
    tenant = next(t for t in body["tenants"] if t["name"] == "ingestion")
    body["tenants"] = [{**copy.deepcopy(tenant), "name": f"team{index:03d}", "members": [f"user{index:03d}"]}
                       for index in range(tenants)]
    return dict(spec)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    work = Path(tempfile.mkdtemp(prefix="konoha-bench-"))
    konoha = str(BIN / "konoha-gen")
    out = work / "out"

    def empty() -> None:
        shutil.rmtree(out, ignore_errors=True)

    subprocess.run([sys.executable, "-m", "compileall", "-q", "konoha_gen"], cwd=ROOT, check=True, env=ENVIRONMENT)
    floor = median_s([sys.executable, "-c", "import " + ", ".join(FLOOR_IMPORTS)], runs)

    def row(name: str, seconds: float) -> None:
        print(f"{name:40} {seconds * 1000:8.0f} ms  {seconds / floor:5.2f}x floor", flush=True)

    row("python -c pass", median_s([sys.executable, "-c", "pass"], runs))
    row("import floor (all runtime deps)", floor)
    row("check (lock proof)", median_s([konoha, "check", "spec/konoha.yaml", "--out", "out", "-q"], runs))
    row("check --full", median_s([konoha, "check", "spec/konoha.yaml", "--out", "out", "-q", "--full"], runs))
    row("build reference spec", median_s([konoha, "build", "spec/konoha.yaml", "--out", str(out), "-q"], runs, empty))
    for count in SOURCE_COUNTS:
        spec = work / f"spec-{count}.yaml"
        spec.write_text(yaml.safe_dump(scaled_spec(count, TENANTS), sort_keys=False), "utf-8")
        command = [konoha, "build", str(spec), "--out", str(out), "-q"]
        row(f"build {count} sources + {TENANTS} tenants", median_s(command, max(1, runs // 2), empty))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
