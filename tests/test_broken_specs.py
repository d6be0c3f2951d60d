"""Every file under tests/broken/ is a bad spec that must be refused precisely.

Each file starts with one line
    # expect: LINE:COL SPEC.PATH | MESSAGE SUBSTRING
naming the node the first error must point at. Adding a case is adding a file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from konoha_gen.cli import main

BROKEN = sorted((Path(__file__).parent / "broken").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (?P<line>\d+):(?P<col>\d+) (?P<path>\S+) \| (?P<message>.+)$")


def test_the_corpus_is_large_enough() -> None:
    assert len(BROKEN) >= 40


def _expectation(path: Path) -> re.Match[str]:
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    match = EXPECT.match(first)
    assert match, f"{path.name}: first line must be '# expect: LINE:COL PATH | MESSAGE'"
    return match


@pytest.mark.parametrize("case", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_spec_is_refused_at_the_right_node(case: Path, tmp_path: Path) -> None:
    expect = _expectation(case)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("an existing tree\n")
    result = CliRunner().invoke(main, ["build", str(case), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    prefix = f"{case}:{expect['line']}:{expect['col']}: error: {expect['path']}: "
    lines = [line for line in result.output.splitlines() if line.startswith(prefix)]
    assert lines, f"no error at {prefix!r} in:\n{result.output}"
    assert any(expect["message"] in line[len(prefix):] for line in lines), result.output
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "an existing tree\n"
