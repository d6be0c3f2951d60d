"""The generated lakehouse SQL, unchanged, on a real Spark 3.5 with Iceberg (tests/spark_support.py): the
namespaces Job's SQL, then each upserting source's per-table files as the CronJob runs them (every file, a
failed statement ending only its file), over change logs shaped like the Iceberg sink's for the reference
spec's tables: the row (Debezium with time.precision.mode=connect, so TIMESTAMP columns are timestamps) plus
DebeziumTransform's `_cdc` struct (op, ts, offset, source, target, key). The Hadoop catalog on a temporary
directory stands in for the Hive metastore; its name is the spec's catalog.

Under CI=true a missing prerequisite (Java, pyspark, the jar packages) fails the module; elsewhere it skips."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from konoha_gen.catalog import SPARK_VERSION
from konoha_gen.components.kyuubi_sql import partition_field, scripts, upserting
from konoha_gen.quoting import spark_ident, spark_qualified
from konoha_gen.resolved import CdcTable, Platform
from tests.spark_support import java_problem, spark_jars, unavailable
from tests.test_quoting import HOSTILE

try:
    import pyspark
    from pyspark.sql import SparkSession
except ImportError:  # pragma: no cover - the dev dependencies install it
    pyspark = None  # type: ignore[assignment]


#: The change log columns the connector and sink produce for the reference spec's tables (before `_cdc`), and
#: the Debezium record key. Debezium's default decimal.handling.mode=precise lands decimal(38, scale).
COLUMNS = {
    "public.customers": ("id INT, first_name STRING, last_name STRING, email STRING", "id INT"),
    "public.orders": ("order_id INT, customer_id INT, status STRING, amount DECIMAL(38,2), created_at TIMESTAMP",
                      "order_id INT"),
    "public.products": ("id INT, name STRING, price DECIMAL(38,2)", "id INT"),
    "billing.invoices": ("id BIGINT, customer STRING, total DECIMAL(38,2)", "id BIGINT"),
}
T0 = datetime(2026, 11, 25, 10, 0)


def _cdc(key: str) -> str:
    return f"_cdc STRUCT<op: STRING, ts: TIMESTAMP, offset: BIGINT, source: STRING, target: STRING, key: STRUCT<{key}>>"


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory, platform: Platform) -> Iterator[SparkSession]:
    """One local session for the module, with an Iceberg catalog named like the spec's."""
    if pyspark is None:
        unavailable(f"pyspark {SPARK_VERSION} is not installed (make build)")
    assert pyspark is not None
    if pyspark.__version__ != SPARK_VERSION:
        unavailable(f"pyspark {pyspark.__version__} is installed, the spec's Spark is {SPARK_VERSION}")
    jars, missing = spark_jars()
    for problem in (java_problem(), missing):
        if problem:
            unavailable(problem)
    lake = platform.lakehouse
    assert lake is not None
    root = tmp_path_factory.mktemp("spark")
    session = (SparkSession.builder.master("local[1]").appName("konoha-merge")
               .config("spark.jars", ",".join(str(jar) for jar in jars))
               .config("spark.driver.memory", "768m").config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "1").config("spark.default.parallelism", "1")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.warehouse.dir", str(root / "spark-warehouse"))
               # a short-lived JVM on tiny data: C1 only, no adaptive planning, no whole-stage code generation
               .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={root} -XX:TieredStopAtLevel=1")
               .config("spark.sql.adaptive.enabled", "false").config("spark.sql.codegen.wholeStage", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
               .config(f"spark.sql.catalog.{lake.catalog}", "org.apache.iceberg.spark.SparkCatalog")
               .config(f"spark.sql.catalog.{lake.catalog}.type", "hadoop")
               .config(f"spark.sql.catalog.{lake.catalog}.warehouse", (root / "lakehouse").as_uri())
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _statements(text: str) -> list[str]:
    return [s for s in text.split(";\n") if s.strip()]


@pytest.fixture()
def lake(spark: SparkSession, platform: Platform) -> SparkSession:
    """The namespaces Job's SQL run, and no table left by an earlier test."""
    lake = platform.lakehouse
    assert lake is not None
    for statement in _statements(lake.namespaces_sql):
        spark.sql(statement)
    for namespace in lake.namespaces:
        for row in spark.sql(f"SHOW TABLES IN {lake.catalog}.{namespace}").collect():
            spark.sql(f"DROP TABLE {lake.catalog}.{namespace}.{row.tableName} PURGE")
    return spark


def _table(platform: Platform, name: str) -> CdcTable:
    return next(t for s in platform.sources for t in s.tables if t.table == name)


def _name(platform: Platform, table: str, kind: str = "sink") -> str:
    found = _table(platform, table)
    return f"{platform.lakehouse.catalog}.{found.sink_table if kind == 'sink' else found.current_table}"  # type: ignore[union-attr]


def _create_log(spark: SparkSession, platform: Platform, table: str) -> None:
    """What the sink auto-creates on the table's first record."""
    columns, key = COLUMNS[table]
    spark.sql(f"CREATE TABLE {_name(platform, table)} ({columns}, {_cdc(key)}) USING iceberg")


def _append(spark: SparkSession, platform: Platform, table: str, events: list[tuple[Any, ...]]) -> None:
    """Events (the row's values in the log's column order without `_cdc`, then op and offset); the key is the
    first column, as in the reference tables. The sink adds new columns after `_cdc`."""
    log = spark.table(_name(platform, table))
    at = log.columns.index("_cdc")
    rows = [(*row[:at], (op, T0, offset, table, table, (row[0],)), *row[at:]) for *row, op, offset in events]
    spark.createDataFrame(rows, log.schema).writeTo(_name(platform, table)).append()


def _run(spark: SparkSession, text: str) -> str | None:
    """One file as beeline runs it: its statements in order until one fails (the failure's first line)."""
    for statement in _statements(text):
        try:
            spark.sql(statement)
        except Exception as error:  # pyspark's AnalysisException and friends
            return str(error).splitlines()[0]
    return None


def run_cron_job(spark: SparkSession, platform: Platform) -> dict[str, str]:
    """Every upserting source's files as the CronJob runs them, a failure ending only its file. The failures."""
    failed = {f"{source.name}/{name}": _run(spark, text) for source in upserting(platform)
              for name, text in sorted(scripts(platform, source).items())}
    return {name: problem for name, problem in failed.items() if problem is not None}


def run_table(spark: SparkSession, platform: Platform, table: str) -> None:
    """The file of one table (the CronJob runs the others separately)."""
    source = next(s for s in platform.sources if any(t.table == table for t in s.tables))
    assert _run(spark, scripts(platform, source)[f"{table}.sql"]) is None


def _state(spark: SparkSession, platform: Platform, table: str, *columns: str) -> dict[Any, tuple[Any, ...]]:
    rows = spark.sql(f"SELECT {', '.join(columns)}, _cdc.offset FROM {_name(platform, table, 'current')}").collect()
    assert len(rows) == len({r[0] for r in rows}), "one row per key"
    return {r[0]: tuple(r[1:]) for r in rows}


def _order(order_id: int, status: str, op: str, offset: int, day: int = 1) -> tuple[Any, ...]:
    return order_id, 100 + order_id, status, Decimal("9.50") * order_id, datetime(2026, 11, day, 8), op, offset


def _with_logs(spark: SparkSession, platform: Platform, *tables: str) -> None:
    for table in tables:
        _create_log(spark, platform, table)


def test_namespaces_sql_creates_the_lakehouse_namespaces(lake: SparkSession, platform: Platform) -> None:
    assert platform.lakehouse is not None
    found = {row.namespace for row in lake.sql(f"SHOW NAMESPACES IN {platform.lakehouse.catalog}").collect()}
    assert found >= {"raw", "staging", "marts"}


def test_latest_event_per_key_wins_across_out_of_order_updates_deletes_and_redelivery(
        lake: SparkSession, platform: Platform) -> None:
    _with_logs(lake, platform, "public.orders")
    batch = [_order(1, "new", "I", 1), _order(2, "new", "I", 2), _order(1, "paid", "U", 3),
             _order(2, "new", "D", 4), _order(3, "new", "I", 5), _order(1, "paid", "U", 3)]  # offset 3 twice
    random.Random(7).shuffle(batch)  # the log's physical order means nothing; offsets do
    _append(lake, platform, "public.orders", batch)
    run_table(lake, platform, "public.orders")
    first = {1: ("paid", Decimal("9.50"), 3), 3: ("new", Decimal("28.50"), 5)}
    assert _state(lake, platform, "public.orders", "order_id", "status", "amount") == first
    _append(lake, platform, "public.orders", batch[:3])  # the sink re-delivers an old batch
    run_table(lake, platform, "public.orders")
    assert _state(lake, platform, "public.orders", "order_id", "status", "amount") == first
    _append(lake, platform, "public.orders", [
        _order(3, "paid", "U", 6), _order(2, "again", "I", 7),  # a deleted key comes back
        _order(3, "new", "I", 8), _order(3, "paid", "U", 9),  # Debezium replayed from an older position
        _order(1, "paid", "D", 10)])
    run_table(lake, platform, "public.orders")
    assert _state(lake, platform, "public.orders", "order_id", "status") == {2: ("again", 7), 3: ("paid", 9)}


def test_an_empty_source_table_does_not_block_the_other_tables(lake: SparkSession, platform: Platform) -> None:
    # public.products has no record yet, so the sink has not created its change log
    _with_logs(lake, platform, "public.customers", "public.orders", "billing.invoices")
    _append(lake, platform, "public.customers", [(1, "Ann", "Lee", "ann@x", "I", 1)])
    _append(lake, platform, "public.orders", [_order(1, "new", "I", 1)])
    _append(lake, platform, "billing.invoices", [(7, "acme", Decimal("12.00"), "I", 1),
                                                 (7, "acme", Decimal("15.00"), "U", 2)])
    failed = run_cron_job(lake, platform)
    assert list(failed) == ["shop/public.products.sql"]
    assert "shop_public_products_changelog" in failed["shop/public.products.sql"]
    assert _state(lake, platform, "public.customers", "id", "email") == {1: ("ann@x", 1)}
    # public.products.sql is sorted after public.orders.sql: the failure did not stop the files after it
    assert _state(lake, platform, "public.orders", "order_id", "status") == {1: ("new", 1)}
    # billing.invoices has no `keys`: the MERGE matches on Debezium's record key (_cdc.key, a bigint here)
    assert _state(lake, platform, "billing.invoices", "id", "total") == {7: (Decimal("15.00"), 2)}
    _with_logs(lake, platform, "public.products")  # its first record arrives
    _append(lake, platform, "public.products", [(5, "pen", Decimal("1.20"), "I", 1)])
    assert run_cron_job(lake, platform) == {}
    assert _state(lake, platform, "public.products", "id", "name") == {5: ("pen", 1)}


def test_a_column_added_at_the_source_reaches_the_current_state_table(lake: SparkSession, platform: Platform) -> None:
    _with_logs(lake, platform, "public.customers")
    _append(lake, platform, "public.customers", [(1, "Ann", "Lee", "ann@x", "I", 1), (2, "Bob", "Ray", "b@x", "I", 2)])
    run_table(lake, platform, "public.customers")
    # the source gains `phone`; the sink (iceberg.tables.evolve-schema-enabled) adds it to the log, at the end
    lake.sql(f"ALTER TABLE {_name(platform, 'public.customers')} ADD COLUMNS (phone STRING)")
    _append(lake, platform, "public.customers", [(1, "Ann", "Lee", "ann@x", "555-1", "U", 3)])
    run_table(lake, platform, "public.customers")
    current = _name(platform, "public.customers", "current")
    assert lake.table(current).columns[-1] == "phone"
    assert _state(lake, platform, "public.customers", "id", "phone") == {1: ("555-1", 3), 2: (None, 2)}
    # the MERGE can run again: the table no longer accepts any schema
    assert "write.spark.accept-any-schema" not in _properties(lake, current)
    run_table(lake, platform, "public.customers")


def _properties(spark: SparkSession, table: str) -> dict[str, str]:
    return {row.key: row.value for row in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}


def test_the_current_state_table_is_partitioned_as_the_spec_says(lake: SparkSession, platform: Platform) -> None:
    assert _table(platform, "public.orders").partition_by == ("days(created_at)",)
    _with_logs(lake, platform, "public.orders")
    _append(lake, platform, "public.orders", [_order(1, "new", "I", 1, day=1), _order(2, "new", "I", 2, day=3)])
    run_table(lake, platform, "public.orders")
    current = _name(platform, "public.orders", "current")
    described = [(row.col_name, row.data_type) for row in lake.sql(f"DESCRIBE TABLE EXTENDED {current}").collect()]
    assert described[described.index(("# Partitioning", "")) + 1] == ("Part 0", "days(created_at)")
    days = {row.partition.created_at_day.isoformat() for row in lake.sql(f"SELECT * FROM {current}.partitions")
            .collect()}
    assert days == {"2026-11-01", "2026-11-03"}


def test_the_catalog_loads_iceberg_with_the_relocated_jackson(lake: SparkSession, platform: Platform) -> None:
    """Table metadata is JSON Iceberg writes with its relocated Jackson: the jar built by spark_support."""
    _with_logs(lake, platform, "public.products")
    jvm = lake.sparkContext._jvm
    assert jvm is not None
    loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
    mapper = loader.loadClass("org.apache.iceberg.shaded.com.fasterxml.jackson.databind.ObjectMapper")
    assert Path(mapper.getProtectionDomain().getCodeSource().getLocation().getPath()).name.startswith(
        "iceberg-shaded-jackson-")


#: Spark SQL names cannot be empty; a '.' inside a part cannot be written as catalog.namespace.table.
SPARK_NAMES = [text for text in HOSTILE if text and "." not in text]


def test_quoted_names_parse_back_exactly_in_spark(spark: SparkSession) -> None:
    """spark_ident / spark_qualified read by Spark's own SQL parser (tests/test_quoting.py has the other sinks)."""
    parser = spark._jsparkSession.sessionState().sqlParser()

    def parts(text: str) -> list[str]:
        names = parser.parseMultipartIdentifier(text)
        return [str(names.apply(i)) for i in range(names.length())]
    assert {text: parts(spark_ident(text)) for text in SPARK_NAMES} == {text: [text] for text in SPARK_NAMES}
    assert {text: parts(spark_qualified(f"{text}.{text}.{text}")) for text in SPARK_NAMES} == \
        {text: [text] * 3 for text in SPARK_NAMES}


def test_every_partition_transform_form_creates_its_partitioning(lake: SparkSession, platform: Platform) -> None:
    """partitionBy entries as the current-state table's CREATE writes them (column quoted, transform kept)."""
    assert platform.lakehouse is not None
    fields = ["bucket(16, id)", "days(ts)", "truncate(name, 4)", "category"]
    table = f"{spark_ident(platform.lakehouse.catalog)}.`raw`.`partitioned`"
    lake.sql(f"CREATE TABLE {table} (id INT, ts TIMESTAMP, name STRING, category STRING) USING iceberg "
             f"PARTITIONED BY ({', '.join(partition_field(field) for field in fields)})")
    described = [(row.col_name, row.data_type) for row in lake.sql(f"DESCRIBE TABLE EXTENDED {table}").collect()]
    start = described.index(("# Partitioning", "")) + 1
    shown = ["bucket(16, id)", "days(ts)", "truncate(4, name)", "category"]  # Iceberg puts a transform's width first
    assert described[start:start + len(fields)] == [(f"Part {i}", field) for i, field in enumerate(shown)]
