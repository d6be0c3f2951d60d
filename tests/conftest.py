"""Shared fixtures: the reference spec, a CLI runner, and paths to upstream data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "konoha.yaml"


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
