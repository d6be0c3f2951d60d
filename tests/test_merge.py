"""The upsert MERGE (emit/merge.py): its generated text runs unchanged in DuckDB over change logs shaped like
the Iceberg sink's (row + DebeziumTransform's _cdc struct), with inserts, updates, deletes, duplicates,
out-of-order rows and replays; plus the CronJob that runs it through Kyuubi."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from konoha_gen.components.kyuubi_sql import SCHEDULE, SQL_DIR, each_file, merge_statement, scripts
from konoha_gen.emit import emit_all
from konoha_gen.pipeline import compile_platform
from konoha_gen.resolved import CdcTable, Platform
from tests.conftest import SPEC
from tests.helpers import edit_spec


def _table(platform: Platform, source: str, table: str) -> CdcTable:
    return next(t for s in platform.sources if s.name == source for t in s.tables if t.table == table)


CDC = ('STRUCT(op VARCHAR, ts TIMESTAMP, "offset" BIGINT, source VARCHAR, target VARCHAR, '
       '"key" STRUCT(order_id INTEGER))')


@pytest.fixture()
def db(platform: Platform) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory catalog named like the lakehouse catalog, with the change log and current-state tables."""
    connection = duckdb.connect()
    catalog = platform.lakehouse.catalog  # type: ignore[union-attr]
    connection.execute(f"ATTACH ':memory:' AS {catalog}; CREATE SCHEMA {catalog}.raw")
    table = _table(platform, "shop", "public.orders")
    connection.execute(f"CREATE TABLE {catalog}.{table.sink_table} (order_id INTEGER, status VARCHAR, amount "
                       f"INTEGER, _cdc {CDC})")
    # What the generated CREATE TABLE ... AS SELECT * FROM <log> WHERE 1 = 0 makes
    # (minus Iceberg's USING/PARTITIONED BY).
    connection.execute(f"CREATE TABLE {catalog}.{table.current_table} AS SELECT * FROM "
                       f"{catalog}.{table.sink_table} WHERE 1 = 0")
    yield connection
    connection.close()


def _event(order_id: int, op: str, offset: int, status: str = "", amount: int = 0) -> tuple[Any, ...]:
    cdc = {"op": op, "ts": "2026-11-25 10:00:00", "offset": offset, "source": "public.orders",
           "target": "public.orders", "key": {"order_id": order_id}}
    return order_id, status, amount, cdc


def _append(db: duckdb.DuckDBPyConnection, platform: Platform, events: list[tuple[Any, ...]]) -> None:
    table = _table(platform, "shop", "public.orders")
    db.executemany(f"INSERT INTO {platform.lakehouse.catalog}.{table.sink_table} VALUES (?, ?, ?, ?)", events)  # type: ignore[union-attr]


def _merge(db: duckdb.DuckDBPyConnection, platform: Platform) -> dict[int, tuple[str, int, int]]:
    table = _table(platform, "shop", "public.orders")
    db.execute(merge_statement(platform.lakehouse.catalog, table))  # type: ignore[union-attr]
    return _state(db, platform)


def _state(db: duckdb.DuckDBPyConnection, platform: Platform) -> dict[int, tuple[str, int, int]]:
    table = _table(platform, "shop", "public.orders")
    rows = db.execute("SELECT order_id, status, amount, _cdc.offset FROM "
                      f"{platform.lakehouse.catalog}.{table.current_table}"  # type: ignore[union-attr]
                      ).fetchall()
    assert len(rows) == len({r[0] for r in rows}), "one row per key"
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


BATCH_1 = [
    _event(1, "I", 1, "new", 10),
    _event(2, "I", 2, "new", 20),
    _event(1, "U", 3, "paid", 10),
    _event(2, "D", 4, "new", 20),  # a delete carries the before image
    _event(3, "I", 5, "new", 30),
    _event(1, "U", 3, "paid", 10),  # the sink delivered offset 3 twice (at-least-once)
]


def test_latest_event_per_key_wins_deletes_remove_and_duplicates_collapse(db: duckdb.DuckDBPyConnection,
                                                                          platform: Platform) -> None:
    events = list(BATCH_1)
    random.Random(7).shuffle(events)  # the log's physical order means nothing; offsets do
    _append(db, platform, events)
    assert _merge(db, platform) == {1: ("paid", 10, 3), 3: ("new", 30, 5)}


def test_reapplying_the_same_log_changes_nothing(db: duckdb.DuckDBPyConnection, platform: Platform) -> None:
    _append(db, platform, BATCH_1)
    first = _merge(db, platform)
    assert _merge(db, platform) == first
    _append(db, platform, BATCH_1[:3])  # and the sink re-delivering an old batch
    assert _merge(db, platform) == first


def test_a_later_batch_with_a_source_replay_converges(db: duckdb.DuckDBPyConnection, platform: Platform) -> None:
    _append(db, platform, BATCH_1)
    _merge(db, platform)
    _append(db, platform, [
        _event(3, "U", 6, "paid", 30),
        _event(2, "I", 7, "again", 25),  # a deleted key comes back
        # Debezium restarted from an older committed position and re-sent offsets 5-6 as 8-9.
        _event(3, "I", 8, "new", 30),
        _event(3, "U", 9, "paid", 30),
        _event(1, "D", 10, "paid", 10),
    ])
    assert _merge(db, platform) == {2: ("again", 25, 7), 3: ("paid", 30, 9)}
    assert _merge(db, platform) == {2: ("again", 25, 7), 3: ("paid", 30, 9)}


def test_a_stale_event_never_overwrites_a_newer_row(db: duckdb.DuckDBPyConnection, platform: Platform) -> None:
    _append(db, platform, [_event(1, "I", 1, "new", 10), _event(1, "U", 5, "paid", 10), _event(2, "I", 6, "x", 1)])
    _merge(db, platform)
    _append(db, platform, [_event(2, "D", 7, "x", 1)])  # the newest offset held drops to 5: the window re-reads 6..7
    assert _merge(db, platform) == {1: ("paid", 10, 5)}


def test_tables_without_keys_match_on_the_debezium_record_key(platform: Platform) -> None:
    customers = _table(platform, "shop", "public.customers")
    assert customers.keys == ()
    statement = merge_statement("iceberg", customers)
    assert "ON t._cdc.key = s._cdc.key" in statement and "GROUP BY c._cdc.key" in statement
    connection = duckdb.connect()
    connection.execute("ATTACH ':memory:' AS iceberg; CREATE SCHEMA iceberg.raw")
    cdc = 'STRUCT(op VARCHAR, ts TIMESTAMP, "offset" BIGINT, source VARCHAR, target VARCHAR, "key" STRUCT(id INTEGER))'
    connection.execute(f"CREATE TABLE iceberg.{customers.sink_table} (id INTEGER, name VARCHAR, _cdc {cdc})")
    connection.execute(f"CREATE TABLE iceberg.{customers.current_table} AS SELECT * FROM "
                       f"iceberg.{customers.sink_table} WHERE 1 = 0")
    rows = [(1, "ann", "I", 1), (2, "bob", "I", 2), (1, "anne", "U", 3), (2, "bob", "D", 4), (2, "bob", "D", 4)]
    connection.executemany(f"INSERT INTO iceberg.{customers.sink_table} VALUES (?, ?, ?)",
                           [(i, n, {"op": op, "ts": "2026-11-25", "offset": o, "source": "public.customers",
                                    "target": "public.customers", "key": {"id": i}}) for i, n, op, o in rows])
    connection.execute(statement)
    connection.execute(statement)
    assert connection.execute(f"SELECT id, name FROM iceberg.{customers.current_table}").fetchall() == [(1, "anne")]


def test_each_table_has_its_own_file_creating_evolving_and_merging(platform: Platform) -> None:
    shop = next(s for s in platform.sources if s.name == "shop")
    files = scripts(platform, shop)
    assert sorted(files) == ["public.customers.sql", "public.orders.sql", "public.products.sql"]
    text = files["public.orders.sql"]
    assert "CREATE TABLE IF NOT EXISTS `iceberg`.`raw`.`shop_public_orders`\n" \
           "USING iceberg\nPARTITIONED BY (days(`created_at`))\n" \
           "AS SELECT * FROM `iceberg`.`raw`.`shop_public_orders_changelog` WHERE 1 = 0;" in text
    assert all(f.count("MERGE INTO ") == 1 for f in files.values())
    assert "ON t.`order_id` = s.`order_id`" in text
    # the schema evolution comes before the MERGE, which cannot resolve while the table accepts any schema
    assert text.index("SET TBLPROPERTIES") < text.index("INSERT INTO") < text.index("UNSET TBLPROPERTIES") \
        < text.index("MERGE INTO")


def test_the_cron_job_runs_every_file_and_fails_at_the_end_if_one_failed(tmp_path: Path) -> None:
    """The shell of the CronJob, with a beeline that fails on one file: the others still run, the exit is 1."""
    ran = tmp_path / "ran"
    fake = tmp_path / "beeline"
    fake.write_text(f'#!/bin/sh\nfor last; do :; done\necho "$last" >> {ran}\ncase "$last" in *b.sql) exit 2;; esac\n')
    fake.chmod(0o755)
    sql = tmp_path / "sql"
    sql.mkdir()
    for name in ("a.sql", "b.sql", "c.sql"):
        (sql / name).write_text("SELECT 1;\n")
    shell = each_file([str(fake), "-n", "me"])
    assert shell[:2] == ["/bin/sh", "-c"]
    done = subprocess.run([*shell[:2], shell[2].replace(SQL_DIR, str(sql))], capture_output=True, text=True)
    assert done.returncode == 1 and f"failed: {sql}/b.sql" in done.stderr
    assert ran.read_text().split() == [str(sql / n) for n in ("a.sql", "b.sql", "c.sql")]
    for name in ("a.sql", "c.sql"):
        (sql / name).unlink()
    (sql / "b.sql").rename(sql / "d.sql")
    assert subprocess.run([*shell[:2], shell[2].replace(SQL_DIR, str(sql))]).returncode == 0


def test_a_cron_job_runs_each_upserting_source_through_its_kyuubi_server(platform: Platform) -> None:
    files = {a.path: a for a in emit_all(platform)}
    docs = list(yaml.safe_load_all(files["platform/kyuubi/manifests.yaml"].content))
    jobs = {d["metadata"]["name"]: d for d in docs if d["kind"] == "CronJob"}
    maps = {d["metadata"]["name"]: d for d in docs
            if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("cdc-merge-")}
    assert sorted(jobs) == sorted(maps) == ["cdc-merge-billing", "cdc-merge-shop"]
    # the tenant writing 'raw' (ingestion) uses it
    server = next(k for k in platform.kyuubi if k.name == "interactive")
    for source in platform.sources:
        job = jobs[f"cdc-merge-{source.name}"]
        assert source.merge_server == "interactive"
        assert job["spec"]["schedule"] == SCHEDULE and job["spec"]["concurrencyPolicy"] == "Forbid"
        container = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == each_file(["/opt/kyuubi/bin/beeline", "-u",
                                                  f"jdbc:kyuubi://{server.service.host}:{server.service.port}/",
                                                  "-n", f"cdc-merge-{source.name}", "--silent=true"])
        assert maps[f"cdc-merge-{source.name}"]["data"] == scripts(platform, source)


def test_a_job_creates_the_lakehouse_namespaces_and_a_change_makes_a_new_job(platform: Platform,
                                                                             tmp_path: Path) -> None:
    docs = list(yaml.safe_load_all({a.path: a for a in emit_all(platform)}["platform/kyuubi/manifests.yaml"].content))
    jobs = [d for d in docs if d["kind"] == "Job"]
    assert len(jobs) == 1 and jobs[0]["metadata"]["name"].startswith("lakehouse-namespaces-")
    job_name = jobs[0]["metadata"]["name"]
    sql = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == job_name)["data"]
    assert [line for line in sql["namespaces.sql"].splitlines() if not line.startswith("--")] == [
        "CREATE NAMESPACE IF NOT EXISTS `iceberg`.`raw`;", "CREATE NAMESPACE IF NOT EXISTS `iceberg`.`staging`;",
        "CREATE NAMESPACE IF NOT EXISTS `iceberg`.`marts`;"]
    command = jobs[0]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert platform.platform_sql_server is not None and platform.platform_sql_server.name == "batch"
    assert f"jdbc:kyuubi://{platform.platform_sql_server.service.address}/" in command

    def more(spec: Any) -> None:
        spec["spec"]["lakehouse"]["namespaces"].append("sandbox")
    path = tmp_path / "konoha.yaml"
    path.write_text(edit_spec(SPEC.read_text(), more))
    changed = compile_platform(path)
    other = [d for d in yaml.safe_load_all({a.path: a
                                            for a in emit_all(changed)}["platform/kyuubi/manifests.yaml"].content)
             if d["kind"] == "Job"]
    assert other[0]["metadata"]["name"] != jobs[0]["metadata"]["name"]  # a Job's template is immutable: a new Job
