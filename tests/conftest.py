"""Shared fixtures: the reference spec, its resolved platform and artifacts, a CLI runner, and paths to upstream data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from konoha_gen.emit import Artifact, emit_all
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


def shared_dir(env: str, name: str) -> Path:
    """An upstream data folder; missing is a skip locally but a failure under CI=true."""
    path = Path(os.environ.get(env, ROOT.parent / "shared" / name))
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing ({env}); CI must provide it")
        pytest.skip(f"{path} not found; set {env}")
    return path
