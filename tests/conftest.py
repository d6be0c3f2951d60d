"""Shared fixtures: the reference spec, its resolved platform and artifacts, and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from konoha_gen.artifact import Artifact
from konoha_gen.emit import emit_all
from konoha_gen.pipeline import compile_platform
from konoha_gen.resolved import Platform

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "konoha.yaml"


@pytest.fixture(scope="session")
def platform() -> Platform:
    """The reference spec, resolved once (Platform is immutable)."""
    return compile_platform(SPEC)


@pytest.fixture(scope="session")
def artifacts(platform: Platform) -> list[Artifact]:
    """What the reference spec compiles to (Artifacts are immutable; tests edit copies)."""
    return emit_all(platform)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def spec_text() -> str:
    return SPEC.read_text("utf-8")
