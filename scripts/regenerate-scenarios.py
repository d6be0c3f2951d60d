"""Regenerate the expected/ tree of every golden scenario (tests/scenarios/<name>/), or of the named ones.

Each tree is what `konoha-gen build tests/scenarios/<name>/konoha.yaml --out tests/scenarios/<name>/expected`
writes, run from the repository root through this interpreter's konoha-gen, so the headers name the spec
by its path in the repository. Review the result with `git diff -- tests/scenarios` before committing it:
tests/test_scenarios.py compares every build with these trees byte for byte.

Usage: python scripts/regenerate-scenarios.py [NAME ...]   (what `make scenarios` runs)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "scenarios"


def scenario_names() -> list[str]:
    return sorted(p.name for p in SCENARIOS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def regenerate(name: str) -> int:
    folder = SCENARIOS / name
    spec = folder / "konoha.yaml"
    if not spec.is_file():
        print(f"{folder.relative_to(ROOT)}: no konoha.yaml", file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "konoha_gen", "build", spec.relative_to(ROOT).as_posix(),
               "--out", (folder / "expected").relative_to(ROOT).as_posix(), "--quiet"]
    result = subprocess.run(command, cwd=ROOT, check=False)
    print(f"{folder.relative_to(ROOT)}/expected: {'regenerated' if result.returncode == 0 else 'FAILED'}")
    return result.returncode


def main(argv: list[str]) -> int:
    names = argv or scenario_names()
    unknown = sorted(set(names) - set(scenario_names()))
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)} (have: {', '.join(scenario_names())})", file=sys.stderr)
        return 2
    codes = [regenerate(name) for name in names]
    if any(codes):
        return max(codes)
    print("review the changes with `git diff -- tests/scenarios` before committing them")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
