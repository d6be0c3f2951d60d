"""The generated out/sql/<source>.prepare.sql scripts against real servers.

A PostgreSQL (wal_level=logical) and a MariaDB (binary log in ROW format) server run from temporary
directories for the session (tests/databases.py). Each source database gets the spec's tables plus one
table the spec does not list, and the replication user the operator would create; then the script runs
with the command its header gives. The tests prove that the replication user can do what Debezium needs
(a pgoutput slot on the generated publication; the binlog position and stream; snapshot reads) and
nothing more, that a re-run converges, and that unmet requirements stop the script before it changes
anything.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest
from click.testing import CliRunner
from psycopg import errors as pg_errors

from konoha_gen.cli import main
from konoha_gen.emit.sql import prepare_script
from konoha_gen.load import load_text
from konoha_gen.quoting import mysql_qualified, pg_ident, pg_qualified
from konoha_gen.resolve import resolve
from konoha_gen.resolved import CdcSource
from konoha_gen.validate import validate
from tests.conftest import SPEC
from tests.databases import MariaDBServer, PostgresServer, postgres_server, unavailable

PG_USER, MYSQL_USER, PASSWORD = "cdc_shop", "cdc_billing", "from-vault"  # as the operator creates them from Vault
PG_UNLISTED, MYSQL_UNLISTED = "public.audit_log", "billing.payments"
ACCESS_DENIED = {1044, 1142, 1143, 1227}  # MySQL/MariaDB: database, table, column, global privilege


# --- the generated scripts and how their headers say to run them ---------------------------------------------

@pytest.fixture(scope="session")
def sources() -> dict[str, CdcSource]:
    loaded = load_text(SPEC.read_bytes(), "konoha.yaml")
    platform = resolve(validate(loaded), loaded, "konoha.yaml")
    return {source.engine: source for source in reversed(platform.sources)}  # the first source of each engine


@pytest.fixture(scope="session")
def out_sql(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build") / "out"
    result = CliRunner().invoke(main, ["build", str(SPEC), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out / "sql"


def run_header_command(script: Path, host: str, port: int, env: dict[str, str], *, user: str | None,
                       database: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the script with the command in its header comment, pointed at the test server.

    user None leaves out `-v cdc_user=...` (psql) or sets @cdc_user to '' (mysql)."""
    line = next(line for line in script.read_text().splitlines() if line.startswith(("--   psql ", "--   mysql ")))
    argv = shlex.split(line.removeprefix("--"))
    stdin: Path | None = None
    if "<" in argv:
        stdin = script.parent / argv[argv.index("<") + 1]
        argv = argv[:argv.index("<")]
    command: list[str] = []
    for previous, arg in zip(["", *argv], argv, strict=False):
        if user is None and (arg == "-v" or arg.startswith("cdc_user=")):
            continue
        value = {"-h": host, "-p": str(port), "-P": str(port), "-d": database or arg}.get(previous, arg)
        command.append(value.replace("<username>", user or ""))
    with open(stdin) if stdin else contextlib.nullcontext(None) as stdin_file:
        return subprocess.run(command, cwd=script.parent, env=env, stdin=stdin_file or subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120, check=False)


def pg_quote(table: str) -> str:
    return ".".join(f'"{part}"' for part in table.split("."))


def my_quote(table: str) -> str:
    return ".".join(f"`{part}`" for part in table.split("."))


# --- PostgreSQL -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shop:
    server: PostgresServer
    source: CdcSource
    script: Path

    @property
    def listed(self) -> list[str]:
        return [t.table for t in self.source.tables]

    def connect(self, user: str | None = None, database: str | None = None) -> psycopg.Connection[Any]:
        return psycopg.connect(self.server.dsn(database or self.source.database, user, PASSWORD if user else None),
                               autocommit=True)

    def prepare(self, *, user: str | None = PG_USER, database: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_header_command(self.script, self.server.host, self.server.port, self.server.env(), user=user,
                                  database=database)

    def published(self, database: str | None = None) -> set[str]:
        with self.connect(database=database) as admin:
            rows = admin.execute("SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = %s",
                                 [self.source.publication]).fetchall()
        return {row[0] for row in rows}


def create_source_database(server: PostgresServer, database: str, tables: list[str], *, without_key: str = "") -> None:
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    with psycopg.connect(server.dsn(database), autocommit=True) as admin:
        for table in tables:
            admin.execute(f'CREATE SCHEMA IF NOT EXISTS "{table.split(".")[0]}"')
            key = "" if table == without_key else " PRIMARY KEY"
            admin.execute(f"CREATE TABLE {pg_quote(table)} (id bigint{key}, note text)")


@pytest.fixture(scope="session")
def shop(postgres: PostgresServer, sources: dict[str, CdcSource], out_sql: Path) -> Shop:
    source = sources["postgres"]
    assert PG_UNLISTED not in [t.table for t in source.tables]
    with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {PG_USER} LOGIN PASSWORD '{PASSWORD}'")
    shop = Shop(postgres, source, out_sql / f"{source.name}.prepare.sql")
    create_source_database(postgres, source.database, [*shop.listed, PG_UNLISTED])
    result = shop.prepare()
    assert result.returncode == 0, result.stdout + result.stderr
    return shop


def pgoutput_changes(messages: list[bytes]) -> tuple[set[str], list[tuple[str, str, list[str | None]]]]:
    """Decode pgoutput protocol 1: the relations announced ('R') and the row changes ('I', 'U', 'D')."""

    def tuple_data(data: bytes) -> tuple[list[str | None], bytes]:
        count, data = int.from_bytes(data[:2], "big"), data[2:]
        values: list[str | None] = []
        for _ in range(count):
            kind, data = data[:1], data[1:]
            if kind == b"t":
                length = int.from_bytes(data[:4], "big")
                values.append(data[4:4 + length].decode())
                data = data[4 + length:]
            else:  # 'n' null, 'u' unchanged TOAST value
                values.append(None)
        return values, data

    relations: dict[int, str] = {}
    changes: list[tuple[str, str, list[str | None]]] = []
    for message in messages:
        kind, body = chr(message[0]), message[1:]
        if kind == "R":
            namespace, name, _ = body[4:].split(b"\0", 2)
            relations[int.from_bytes(body[:4], "big")] = f"{namespace.decode()}.{name.decode()}"
        elif kind in "IUD":
            relation, rest = relations[int.from_bytes(body[:4], "big")], body[4:]
            row: list[str | None] = []
            while rest:  # I: 'N' new; U: optional 'K'/'O' old, then 'N' new; D: 'K'/'O' old
                marker, rest = rest[:1], rest[1:]
                values, rest = tuple_data(rest)
                if marker == b"N" or kind == "D":
                    row = values
            changes.append((kind, relation, row))
    return set(relations.values()), changes


def test_postgres_publication_is_exactly_the_listed_tables(shop: Shop) -> None:
    assert shop.published() == set(shop.listed)
    with shop.connect() as admin:
        flags = admin.execute("SELECT pubinsert, pubupdate, pubdelete, pubtruncate, puballtables FROM pg_publication "
                              "WHERE pubname = %s",
                              [shop.source.publication]).fetchone()
    assert flags == (True, True, True, True, False)


def test_postgres_slot_of_the_replication_user_streams_listed_tables_only(shop: Shop) -> None:
    listed = shop.listed[0]
    with shop.connect(PG_USER) as cdc:
        # What Debezium does on first start, as the replication user: proves REPLICATION suffices.
        cdc.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", [shop.source.slot])
        try:
            with shop.connect() as app:
                app.execute(f"INSERT INTO {pg_quote(listed)} VALUES (1, 'streamed')")
                app.execute(f"UPDATE {pg_quote(listed)} SET note = 'updated' WHERE id = 1")
                app.execute(f"INSERT INTO {pg_quote(PG_UNLISTED)} VALUES (1, 'not published')")
            rows = cdc.execute("SELECT data FROM pg_logical_slot_peek_binary_changes(%s, NULL, NULL, 'proto_version', "
                               "'1', 'publication_names', %s)",
                               [shop.source.slot, shop.source.publication]).fetchall()
        finally:
            cdc.execute("SELECT pg_drop_replication_slot(%s)", [shop.source.slot])
    relations, changes = pgoutput_changes([bytes(row[0]) for row in rows])
    assert relations == {listed}
    assert changes == [("I", listed, ["1", "streamed"]), ("U", listed, ["1", "updated"])]


def test_postgres_replication_user_reads_the_listed_tables_and_nothing_else(shop: Shop) -> None:
    with shop.connect(PG_USER) as cdc:
        for table in shop.listed:
            cdc.execute(f"SELECT * FROM {pg_quote(table)}").fetchall()  # the snapshot
    denied = [
        f"SELECT * FROM {pg_quote(PG_UNLISTED)}",
        f"INSERT INTO {pg_quote(shop.listed[0])} VALUES (2, 'written')",
        f"DELETE FROM {pg_quote(shop.listed[0])}",
        "CREATE TABLE public.intruder (id int)",
        "CREATE PUBLICATION intruder FOR TABLE public.audit_log",
        f"ALTER PUBLICATION {shop.source.publication} ADD TABLE {pg_quote(PG_UNLISTED)}",
    ]
    for statement in denied:
        with shop.connect(PG_USER) as cdc, pytest.raises(pg_errors.InsufficientPrivilege):
            cdc.execute(statement)


def test_postgres_rerun_converges_on_the_listed_tables(shop: Shop) -> None:
    with shop.connect() as admin:  # drift: a table too many, one missing, fewer operations, a stray grant
        admin.execute(f"ALTER PUBLICATION {shop.source.publication} SET TABLE {pg_quote(shop.listed[0])}, "
                      f"{pg_quote(PG_UNLISTED)}")
        admin.execute(f"ALTER PUBLICATION {shop.source.publication} SET (publish = 'insert')")
        admin.execute(f"GRANT SELECT ON {pg_quote(PG_UNLISTED)} TO {PG_USER}")
    for _ in range(2):
        result = shop.prepare()
        assert result.returncode == 0, result.stdout + result.stderr
        assert shop.published() == set(shop.listed)
    with shop.connect() as admin:
        assert admin.execute("SELECT pubupdate AND pubdelete FROM pg_publication WHERE pubname = %s",
                             [shop.source.publication]).fetchone() == (True,)
    with shop.connect(PG_USER) as cdc, pytest.raises(pg_errors.InsufficientPrivilege):
        cdc.execute(f"SELECT * FROM {pg_quote(PG_UNLISTED)}")


def test_postgres_script_stops_before_changing_anything(shop: Shop) -> None:
    without_user = shop.prepare(user=None)
    assert without_user.returncode != 0
    assert "missing: -v cdc_user=<replication user>" in without_user.stderr
    unknown = shop.prepare(user="not_created")
    assert unknown.returncode != 0
    assert 'role "not_created" does not exist' in unknown.stderr
    # A table without a primary key would make its UPDATEs and DELETEs fail once published.
    create_source_database(shop.server, "no_keys", shop.listed, without_key=shop.listed[-1])
    no_key = shop.prepare(database="no_keys")
    assert no_key.returncode != 0
    keyless = shop.listed[-1].split(".")[-1]
    assert f"captured tables without a primary key or replica identity: {keyless}" in no_key.stderr
    assert shop.published("no_keys") == set()


def test_postgres_script_requires_logical_wal_level(shop: Shop) -> None:
    with postgres_server({"wal_level": "replica"}) as replica:
        create_source_database(replica, shop.source.database, shop.listed)
        with psycopg.connect(replica.dsn("postgres"), autocommit=True) as admin:
            admin.execute(f"CREATE ROLE {PG_USER} LOGIN")
        result = run_header_command(shop.script, replica.host, replica.port, replica.env(), user=PG_USER)
        assert result.returncode != 0
        assert "wal_level is replica; Debezium (pgoutput) needs wal_level = logical" in result.stderr
        with psycopg.connect(replica.dsn(shop.source.database), autocommit=True) as admin:
            assert admin.execute("SELECT count(*) FROM pg_publication").fetchone() == (0,)
            assert admin.execute("SELECT rolreplication FROM pg_roles WHERE rolname = %s",
                                 [PG_USER]).fetchone() == (False,)


# --- MySQL (MariaDB) ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Billing:
    server: MariaDBServer
    source: CdcSource
    script: Path

    @property
    def listed(self) -> list[str]:
        return [t.table for t in self.source.tables]

    def connect(self, user: str | None = None) -> pymysql.Connection[Any]:
        return pymysql.connect(host=self.server.host, port=self.server.port, user=user or self.server.admin,
                               password=PASSWORD if user else "", autocommit=True)

    def prepare(self, user: str | None = MYSQL_USER) -> subprocess.CompletedProcess[str]:
        return run_header_command(self.script, self.server.host, self.server.port, self.server.client_env(), user=user)

    def grants(self) -> set[tuple[frozenset[str], str]]:
        """(privileges, object) of every GRANT of the replication account, aliases folded to MySQL's names."""
        aliases = {"BINLOG MONITOR": "REPLICATION CLIENT", "REPLICATION REPLICA": "REPLICATION SLAVE"}
        with self.connect() as admin, admin.cursor() as cursor:
            cursor.execute(f"SHOW GRANTS FOR '{MYSQL_USER}'@'%'")
            lines = [row[0] for row in cursor.fetchall()]
        result = set()
        for line in lines:
            privileges, rest = line.removeprefix("GRANT ").split(" ON ", 1)
            names = frozenset(aliases.get(p.strip(), p.strip()) for p in privileges.split(","))
            result.add((names, rest.split(" TO ", 1)[0]))
        return result


def expected_grants(billing: Billing) -> set[tuple[frozenset[str], str]]:
    return {(frozenset({"RELOAD", "SHOW DATABASES", "REPLICATION SLAVE", "REPLICATION CLIENT"}), "*.*"),
            *((frozenset({"SELECT"}), my_quote(table)) for table in billing.listed)}


@pytest.fixture(scope="session")
def billing(mariadb: MariaDBServer, sources: dict[str, CdcSource], out_sql: Path) -> Billing:
    source = sources["mysql"]
    billing = Billing(mariadb, source, out_sql / f"{source.name}.prepare.sql")
    assert MYSQL_UNLISTED not in billing.listed
    with billing.connect() as admin, admin.cursor() as cursor:
        for table in [*billing.listed, MYSQL_UNLISTED]:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{table.split('.')[0]}`")
            cursor.execute(f"CREATE TABLE {my_quote(table)} (id bigint PRIMARY KEY, note text)")
        cursor.execute(f"CREATE USER '{MYSQL_USER}'@'%' IDENTIFIED BY '{PASSWORD}'")
    result = billing.prepare()
    assert result.returncode == 0, result.stdout + result.stderr
    return billing


def binary_log_position(cursor: Any) -> tuple[str, int]:
    """SHOW MASTER STATUS, or SHOW BINARY LOG STATUS where it was renamed (MySQL 8.4)."""
    try:
        cursor.execute("SHOW MASTER STATUS")
    except pymysql.err.ProgrammingError:
        cursor.execute("SHOW BINARY LOG STATUS")
    row = cursor.fetchone()
    assert row is not None, "the replication user sees no binary log status"
    return str(row[0]), int(row[1])


def test_mysql_grants_are_debeziums_with_select_on_the_listed_tables_only(billing: Billing) -> None:
    assert billing.grants() == expected_grants(billing)


def test_mysql_replication_user_reads_the_binlog_and_the_listed_tables(billing: Billing) -> None:
    listed = billing.listed[0]
    with billing.connect(MYSQL_USER) as cdc, cdc.cursor() as cursor:
        binlog, position = binary_log_position(cursor)
        cursor.execute("FLUSH TABLES WITH READ LOCK")  # the snapshot's global read lock (RELOAD)
        cursor.execute("UNLOCK TABLES")
        cursor.execute("SHOW DATABASES")
        assert listed.split(".")[0] in {row[0] for row in cursor.fetchall()}
        cursor.execute(f"SELECT * FROM {my_quote(listed)}")
    with billing.connect() as app, app.cursor() as cursor:
        cursor.execute(f"INSERT INTO {my_quote(listed)} VALUES (1, 'streamed')")
    # Stream the binary log from that position as the replication user (REPLICATION SLAVE), like Debezium.
    stream = subprocess.run(
        [str(billing.server.binlog_reader), "--no-defaults", "--read-from-remote-server",
         f"--host={billing.server.host}",
         f"--port={billing.server.port}", f"--user={MYSQL_USER}", f"--password={PASSWORD}",
         f"--start-position={position}",
         "--base64-output=DECODE-ROWS", "--verbose", binlog],
        capture_output=True, text=True, timeout=60, check=False)
    assert stream.returncode == 0, stream.stderr
    assert f"### INSERT INTO {my_quote(listed)}" in stream.stdout
    assert "###   @2='streamed'" in stream.stdout  # a full row image


def test_mysql_replication_user_changes_nothing_and_reads_no_other_table(billing: Billing) -> None:
    listed = my_quote(billing.listed[0])
    database = f"`{billing.listed[0].split('.')[0]}`"
    denied = [
        f"SELECT * FROM {my_quote(MYSQL_UNLISTED)}",
        f"INSERT INTO {listed} VALUES (2, 'written')",
        f"UPDATE {listed} SET note = 'changed'",
        f"DELETE FROM {listed}",
        f"CREATE TABLE {database}.intruder (id int)",
        f"DROP TABLE {listed}",
        f"ALTER TABLE {listed} ADD COLUMN intruder int",
        "CREATE DATABASE intruder",
        f"GRANT SELECT ON {my_quote(MYSQL_UNLISTED)} TO '{MYSQL_USER}'@'%'",
    ]
    with billing.connect(MYSQL_USER) as cdc, cdc.cursor() as cursor:
        for statement in denied:
            with pytest.raises((pymysql.err.OperationalError, pymysql.err.ProgrammingError)) as error:
                cursor.execute(statement)
            assert error.value.args[0] in ACCESS_DENIED, f"{statement}: {error.value}"


def test_mysql_rerun_converges_on_the_listed_tables(billing: Billing) -> None:
    with billing.connect() as admin, admin.cursor() as cursor:  # drift: a stray table grant and a database-wide one
        cursor.execute(f"GRANT SELECT ON {my_quote(MYSQL_UNLISTED)} TO '{MYSQL_USER}'@'%'")
        cursor.execute(f"GRANT INSERT ON `{MYSQL_UNLISTED.split('.')[0]}`.* TO '{MYSQL_USER}'@'%'")
    for _ in range(2):
        result = billing.prepare()
        assert result.returncode == 0, result.stdout + result.stderr
        assert billing.grants() == expected_grants(billing)


def test_mysql_script_stops_before_granting_on_unmet_requirements(billing: Billing) -> None:
    without_user = billing.prepare(user=None)
    assert without_user.returncode != 0
    assert "Table 'unmet_requirement.SET @cdc_user to the replication user' doesn't exist" in without_user.stderr
    unknown = billing.prepare(user="not_created")
    assert unknown.returncode != 0
    assert "unmet_requirement.account 'not_created'@'%' (the operator creates it)" in unknown.stderr
    with billing.connect() as admin, admin.cursor() as cursor:
        cursor.execute(f"GRANT SELECT ON {my_quote(MYSQL_UNLISTED)} TO '{MYSQL_USER}'@'%'")
        cursor.execute("SET GLOBAL binlog_format = 'MIXED'")
        try:
            mixed = billing.prepare()
        finally:
            cursor.execute("SET GLOBAL binlog_format = 'ROW'")
    assert mixed.returncode != 0
    assert "unmet_requirement.binlog_format = ROW (server: MIXED)" in mixed.stderr
    assert (frozenset({"SELECT"}), my_quote(MYSQL_UNLISTED)) in billing.grants()  # nothing was revoked or granted
    assert billing.prepare().returncode == 0
    assert billing.grants() == expected_grants(billing)


# --- hostile names: the quoting behind the spec grammar ------------------------------------------------------------

#: Table names the spec grammar refuses (TableName), given to the generated script anyway: the template's quoting
#: (konoha_gen/quoting.py) must still grant and publish exactly these tables. One ends the script's dollar quotes.
PG_HOSTILE = ["public.it's", "public.Mixed$Case", 'we"ird schema.sp ace;--', "public.back\\slash", "public.new\nline",
              "public.$konoha$", "public.plain"]
MYSQL_HOSTILE = ["hostile.it's", "hostile.Mixed$Case", "hostile.back`tick", "hostile.back\\slash",
                 "hostile.sp ace;--", "hostile.quote\"d", "hostile.$konoha$"]


def _hostile_source(source: CdcSource, tables: list[str], **changes: Any) -> CdcSource:
    return dataclasses.replace(source, tables=tuple(dataclasses.replace(source.tables[0], table=t) for t in tables),
                               **changes)


def test_postgres_script_publishes_and_grants_exactly_hostile_table_names(postgres: PostgresServer,
                                                                          sources: dict[str, CdcSource],
                                                                          tmp_path: Path) -> None:
    source = _hostile_source(sources["postgres"], PG_HOSTILE, name="hostile", database="hostile",
                             publication="pub \"it's\" $konoha$")
    user, unlisted = "cdc_hostile", "public.unlisted's"
    with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as admin:
        admin.execute("CREATE DATABASE hostile")
        admin.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{PASSWORD}'")
    with psycopg.connect(postgres.dsn("hostile"), autocommit=True) as admin:
        for table in [*PG_HOSTILE, unlisted]:
            admin.execute(f"CREATE SCHEMA IF NOT EXISTS {pg_ident(table.split('.')[0])}")
            admin.execute(f"CREATE TABLE {pg_qualified(table)} (id bigint PRIMARY KEY)")
    script = tmp_path / "hostile.prepare.sql"
    script.write_text(prepare_script(source, "konoha"))
    for _ in range(2):  # and a re-run converges
        result = run_header_command(script, postgres.host, postgres.port, postgres.env(), user=user)
        assert result.returncode == 0, result.stdout + result.stderr
    with psycopg.connect(postgres.dsn("hostile"), autocommit=True) as admin:
        published = admin.execute("SELECT schemaname || '.' || tablename FROM pg_publication_tables "
                                  "WHERE pubname = %s", [source.publication]).fetchall()
    assert {row[0] for row in published} == set(PG_HOSTILE)
    with psycopg.connect(postgres.dsn("hostile", user, PASSWORD), autocommit=True) as cdc:
        for table in PG_HOSTILE:
            cdc.execute(f"SELECT * FROM {pg_qualified(table)}").fetchall()
        with pytest.raises(pg_errors.InsufficientPrivilege):
            cdc.execute(f"SELECT * FROM {pg_qualified(unlisted)}")


def test_mysql_script_grants_exactly_hostile_table_names(mariadb: MariaDBServer, sources: dict[str, CdcSource],
                                                         tmp_path: Path) -> None:
    source = _hostile_source(sources["mysql"], MYSQL_HOSTILE, name="hostile", database="hostile")
    user, unlisted = "cdc_hostile", "hostile.unlisted's"
    admin = pymysql.connect(host=mariadb.host, port=mariadb.port, user=mariadb.admin, password="", autocommit=True,
                            charset="utf8mb4")
    with admin, admin.cursor() as cursor:
        cursor.execute("CREATE DATABASE hostile")
        for table in [*MYSQL_HOSTILE, unlisted]:
            cursor.execute(f"CREATE TABLE {mysql_qualified(table)} (id bigint PRIMARY KEY)")
        cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{PASSWORD}'")
    script = tmp_path / "hostile.prepare.sql"
    script.write_text(prepare_script(source, "konoha"))
    for _ in range(2):
        result = run_header_command(script, mariadb.host, mariadb.port, mariadb.client_env(), user=user)
        assert result.returncode == 0, result.stdout + result.stderr
    cdc = pymysql.connect(host=mariadb.host, port=mariadb.port, user=user, password=PASSWORD, autocommit=True,
                          charset="utf8mb4")
    with cdc, cdc.cursor() as cursor:
        for table in MYSQL_HOSTILE:
            cursor.execute(f"SELECT * FROM {mysql_qualified(table)}")
        with pytest.raises(pymysql.err.OperationalError) as denied:
            cursor.execute(f"SELECT * FROM {mysql_qualified(unlisted)}")
    assert denied.value.args[0] in ACCESS_DENIED


def test_a_missing_server_program_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must provide it"):
        unavailable("mariadbd not found")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"scripts/ensure-test-databases\.sh"):
        unavailable("mariadbd not found")
