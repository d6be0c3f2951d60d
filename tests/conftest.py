"""Shared fixtures: the reference spec, its resolved platform and artifacts, a CLI runner, and the throw-away
PostgreSQL and MariaDB servers (tests/databases.py) the prepare scripts and the quoting tests run on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from konoha_gen.artifact import Artifact
from konoha_gen.emit import emit_all
from konoha_gen.pipeline import compile_platform
from konoha_gen.resolved import Platform
from tests.databases import MariaDBServer, PostgresServer, mariadb_server, postgres_server

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


#: What Debezium's pgoutput needs of the server.
LOGICAL = {"wal_level": "logical", "max_replication_slots": "4", "max_wal_senders": "4"}


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server(LOGICAL) as server:
        yield server


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDBServer]:
    with mariadb_server() as server:
        yield server
