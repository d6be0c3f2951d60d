"""In-process benchmark of the compile pipeline (pytest-benchmark): `make bench`."""

from __future__ import annotations

from pathlib import Path

from pytest_benchmark.fixture import BenchmarkFixture

from konoha_gen.pipeline import compile_spec

SPEC = Path(__file__).resolve().parent.parent / "spec" / "konoha.yaml"


def test_compile_reference_spec(benchmark: BenchmarkFixture) -> None:
    compiled = benchmark(compile_spec, SPEC)
    assert "README.md" in compiled.contents
