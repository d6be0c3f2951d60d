"""SQL the platform itself runs through a Kyuubi server with beeline, as Kubernetes Jobs in the Kyuubi namespace:
the lakehouse namespaces (a Job) and the upsert MERGEs (CronJobs).

A Job's pod template cannot change once created, so the namespaces Job is named after a digest of its SQL
(resolve): a change applies as a new Job (Flux prunes the old one), and re-running it is harmless (IF NOT EXISTS).

Current-state tables for upserting CDC targets: the MERGE the Iceberg sink cannot do. The Apache Iceberg sink
only appends (DOMAIN-NOTES.md, Iceberg section). For a target with `upsert: true` it lands the change log,
`<table>_changelog`, each row the after image (the before image for a delete) plus DebeziumTransform's `_cdc`
struct (op I/U/D, ts, offset, source, key). The MERGE folds that log into `<table>`; a CronJob runs it through
a Kyuubi server. Why a CronJob rather than an Airflow DAG or a dbt model: the DAG and dbt repositories belong
to the platform's users, while the CronJob is part of the generated tree, applied by Flux and checked like
every other object.

Semantics of the MERGE (tests/test_merge.py runs the generated statement in DuckDB):
- The latest event per key wins. Order is `_cdc.offset`, the Kafka offset in the table's topic, which
  konoha-gen creates with one partition; Debezium writes a table's events in source log order (LSN / binlog
  position), so the offset order is the source order.
- A delete removes the row; an insert or update replaces it (`UPDATE SET *`).
- Re-delivery changes nothing: duplicate rows (same offset) collapse with DISTINCT, and a row is only replaced
  by a strictly newer event (`s._cdc.offset > t._cdc.offset`).
- Each run reads only the log after the newest offset the table holds. That window is a suffix of the log, so
  the latest event per key within it is the latest overall: re-reading part of the log (after deletes lowered
  the newest offset held) repeats only no-op work.
The key is `target.keys` for the table, else Debezium's record key (`_cdc.key`, the primary key), compared as
a struct.

Robustness (tests/test_spark_merge.py runs the generated files on Spark 3.5 with Iceberg):
- One SQL file per table in the ConfigMap, and the CronJob runs each through its own beeline, going on after a
  failure and failing at the end. The sink creates a change log only on its table's first record, so the
  current-state table of an empty source table cannot be created yet: its file fails (until the first row
  arrives) and the other tables still merge. Spark SQL cannot guard a statement on a table's existence, and
  beeline stops a file at its first error, hence a file, not a statement, per table.
- Schema drift: the current-state table's columns are fixed by its CTAS, and the sink adds columns to the change
  log as the source gains them (at the end, nullable). A MERGE's `UPDATE SET *` / `INSERT *` only assign the
  target's columns (Spark 3.5 has no MERGE schema evolution), so each run first unions the change log's schema
  into the target with Iceberg's merge-schema write: a zero-row `INSERT ... SELECT * FROM <log> WHERE 1 = 0`
  with `spark.sql.iceberg.merge-schema` on, which needs the table property `write.spark.accept-any-schema` for
  Spark to let a wider query reach Iceberg. The property is unset again before the MERGE: Spark 3.5 does not
  resolve a MERGE into a table that accepts any schema.
"""

from __future__ import annotations

import re
import shlex

from konoha_gen.catalog import image_tag
from konoha_gen.kube import Doc, obj
from konoha_gen.quoting import spark_ident, spark_qualified
from konoha_gen.resolved import CdcSource, CdcTable, Component, KyuubiServer, Platform

SQL_DIR = "/opt/konoha/sql"
#: How often each source's MERGE runs; the sink commits every 5 minutes (iceberg.control.commit.interval-ms default).
SCHEDULE = "*/15 * * * *"


def beeline(server: KyuubiServer, user: str) -> list[str]:
    """The beeline command line connecting to `server`'s thrift port as `user` (a file to run is appended)."""
    return ["/opt/kyuubi/bin/beeline", "-u", f"jdbc:kyuubi://{server.service.address}/", "-n", user, "--silent=true"]


def beeline_job(platform: Platform, name: str, command: list[str], *, backoff: int) -> Doc:
    """A Job spec running `command` (beeline, with the SQL files of ConfigMap `name` under SQL_DIR)."""
    image = f"apache/kyuubi:{image_tag('kyuubi', platform.spec.versions)}"  # the chart's own default tag
    container = {
        "name": "beeline", "image": image, "command": command,
        "volumeMounts": [{"name": "sql", "mountPath": SQL_DIR, "readOnly": True}],
        # beeline is a client JVM (heap: a quarter of the limit); the request is what it uses, the limit its peak
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True},
    }
    return {"backoffLimit": backoff, "activeDeadlineSeconds": 3600, "template": {"spec": {
        "restartPolicy": "Never", "containers": [container],
        "volumes": [{"name": "sql", "configMap": {"name": name}}]}}}


def each_file(command: list[str]) -> list[str]:
    """A shell running `command FILE` for every SQL file under SQL_DIR in name order, going on after a failure;
    it exits 1 if any failed (naming them)."""
    line = " ".join(shlex.quote(part) for part in command)
    return ["/bin/sh", "-c", f'failed=""\nfor file in {SQL_DIR}/*.sql; do\n'
            f'  echo "== $file"\n  {line} -f "$file" || failed="$failed $file"\ndone\n'
            f'if [ -n "$failed" ]; then echo "failed:$failed" >&2; exit 1; fi\n']


def namespaces_job(platform: Platform, component: Component) -> list[Doc]:
    """The namespaces Job and its ConfigMap."""
    server, lake = platform.platform_sql_server, platform.lakehouse
    if server is None or lake is None:
        return []
    name = lake.namespaces_job
    # Engines take minutes to start (Spark pods, packages): retry rather than fail the layer on the first try.
    return [obj("v1", "ConfigMap", name, component.namespace, component="kyuubi", platform=platform,
                data={"namespaces.sql": lake.namespaces_sql}),
            obj("batch/v1", "Job", name, component.namespace, component="kyuubi", platform=platform,
                spec=beeline_job(platform, name, [*beeline(server, name), "-f", f"{SQL_DIR}/namespaces.sql"],
                                 backoff=6))]


def _key(table: CdcTable, alias: str) -> list[str]:
    return [f"{alias}.{spark_ident(column)}" for column in table.keys] if table.keys else [f"{alias}._cdc.key"]


def _names(catalog: str, table: CdcTable) -> tuple[str, str]:
    """The current-state table and its change log as quoted Spark SQL names: catalog.namespace.table."""
    assert table.current_table is not None
    return spark_qualified(f"{catalog}.{table.current_table}"), spark_qualified(f"{catalog}.{table.sink_table}")


def merge_statement(catalog: str, table: CdcTable) -> str:
    """One MERGE INTO <table> from its change log; see the module docstring for the rules it keeps."""
    target, log = _names(catalog, table)
    keys = _key(table, "c")
    names = [f"k{i}" for i in range(len(keys))]
    selected = ", ".join(f"{k} AS {n}" for k, n in zip(keys, names, strict=True))
    joined = " AND ".join(f"{k} = l.{n}" for k, n in zip(keys, names, strict=True))
    on = " AND ".join(f"{t} = {s}" for t, s in zip(_key(table, "t"), _key(table, "s"), strict=True))
    return (f"MERGE INTO {target} AS t\n"
            f"USING (\n"
            f"  SELECT DISTINCT c.* FROM {log} AS c\n"
            f"  JOIN (\n"
            f"    SELECT {selected}, MAX(c._cdc.offset) AS last_offset FROM {log} AS c\n"
            f"    WHERE c._cdc.offset > (SELECT COALESCE(MAX(_cdc.offset), -1) FROM {target})\n"
            f"    GROUP BY {', '.join(keys)}\n"
            f"  ) AS l ON {joined} AND c._cdc.offset = l.last_offset\n"
            f") AS s\n"
            f"ON {on}\n"
            f"WHEN MATCHED AND s._cdc.op = 'D' AND s._cdc.offset > t._cdc.offset THEN DELETE\n"
            f"WHEN MATCHED AND s._cdc.offset > t._cdc.offset THEN UPDATE SET *\n"
            f"WHEN NOT MATCHED AND s._cdc.op <> 'D' THEN INSERT *;\n")


_TRANSFORM = re.compile(r"(?P<name>\w+)\((?P<args>.*)\)")


def partition_field(field: str) -> str:
    """A partitionBy entry as Spark SQL: the column quoted, alone or inside its transform (days(ts), bucket(id, 16))."""
    transform = _TRANSFORM.fullmatch(field)
    if transform is None:
        return spark_ident(field)
    args = [arg.strip() for arg in transform.group("args").split(",")]
    quoted = [arg if arg.isdigit() else spark_ident(arg) for arg in args]
    return f"{transform.group('name')}({', '.join(quoted)})"


def create_statement(catalog: str, table: CdcTable) -> str:
    """The current-state table: the change log's schema (with _cdc, the last applied event) and partitioning."""
    target, log = _names(catalog, table)
    fields = ", ".join(partition_field(field) for field in table.partition_by)
    partitioned = f"\nPARTITIONED BY ({fields})" if table.partition_by else ""
    return (f"CREATE TABLE IF NOT EXISTS {target}\nUSING iceberg{partitioned}\n"
            f"AS SELECT * FROM {log} WHERE 1 = 0;\n")


EVOLVE_PROPERTY = "'write.spark.accept-any-schema'"


def evolve_statements(catalog: str, table: CdcTable) -> str:
    """Add the change log's new columns to the current-state table (see the module docstring)."""
    target, log = _names(catalog, table)
    return (f"ALTER TABLE {target} SET TBLPROPERTIES ({EVOLVE_PROPERTY} = 'true');\n"
            "SET `spark.sql.iceberg.merge-schema` = true;\n"
            f"INSERT INTO {target} SELECT * FROM {log} WHERE 1 = 0;\n"
            f"ALTER TABLE {target} UNSET TBLPROPERTIES ({EVOLVE_PROPERTY});\n")


def table_script(platform: Platform, source: CdcSource, table: CdcTable) -> str:
    """The SQL file of one table: create its current-state table, evolve its schema, merge."""
    lake = platform.lakehouse
    assert lake is not None
    return (f"-- Upsert for {source.name} {table.table}: fold the change log the Iceberg sink appends,\n"
            f"-- {table.sink_table}, into {table.current_table}.\n"
            f"-- CronJob {source.merge_job} runs each table's file with its own beeline through Kyuubi server "
            f"'{source.merge_server}'.\n"
            "-- A failed statement stops this file only (the change log may not exist yet: the sink creates it\n"
            "-- with its first record); the next run repeats it (each statement is idempotent).\n"
            + create_statement(lake.catalog, table) + evolve_statements(lake.catalog, table)
            + merge_statement(lake.catalog, table))


def script_name(table: CdcTable) -> str:
    return f"{table.table}.sql"


def scripts(platform: Platform, source: CdcSource) -> dict[str, str]:
    """The ConfigMap's files: one per table."""
    return {script_name(table): table_script(platform, source, table) for table in source.tables}


def upserting(platform: Platform) -> list[CdcSource]:
    return [s for s in platform.sources if s.upsert and s.merge_server]


def merge_jobs(platform: Platform, component: Component) -> list[Doc]:
    """ConfigMap with the SQL and the CronJob running it, per upserting source (they need only the Service)."""
    servers = {k.name: k for k in platform.kyuubi}
    documents: list[Doc] = []
    for source in upserting(platform):
        name = source.merge_job
        documents.append(obj("v1", "ConfigMap", name, component.namespace, component="kyuubi", platform=platform,
                             data=scripts(platform, source)))
        server = servers[source.merge_server or ""]
        job = beeline_job(platform, name, each_file(beeline(server, name)), backoff=0)
        documents.append(obj("batch/v1", "CronJob", name, component.namespace, component="kyuubi", platform=platform,
                             spec={"schedule": SCHEDULE, "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 1,
                                   "failedJobsHistoryLimit": 3, "jobTemplate": {"spec": job}}))
    return documents
