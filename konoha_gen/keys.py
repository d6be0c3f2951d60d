"""Upstream configuration keys konoha-gen checks Spark, Kyuubi, Trino and connector settings against.

The lists live in konoha_gen/data/ (each file names its upstream source): Spark
3.5 documented properties and property prefixes, Kyuubi's settings table, and
the per-catalog properties of Iceberg's Spark catalog. Prefix families that
Spark passes through (spark.hadoop.*, spark.executorEnv.*, ...) are accepted as
prefixes; a catalog's own keys must name a declared catalog and a real Iceberg
catalog property.
"""

from __future__ import annotations

import difflib
import fnmatch
from functools import cache
from pathlib import Path

from konoha_gen.catalog import CATALOG, ICEBERG_SPARK_VERSION, KEY_LISTS, SPARK_VERSION, KeyList

DATA = Path(__file__).resolve().parent / "data"
#: Iceberg catalog property families documented outside spark-configuration (FileIO, per-catalog Hadoop conf).
CATALOG_PREFIXES = ("hadoop.", "table-default.", "table-override.", "s3.", "client.")


class NoKeyList(LookupError):
    """konoha-gen holds no key list of this kind for the version in force."""

    def __init__(self, name: str, version: str) -> None:
        lines = sorted(k.line for k in KEY_LISTS if k.name == name)
        super().__init__(f"konoha-gen has no {name} key list for version {version} (it has: {', '.join(lines)})")
        self.name, self.version, self.lines = name, version, lines


def key_list(name: str, version: str) -> KeyList:
    """The key list `name` for the version in force; NoKeyList when there is none."""
    found = next((k for k in KEY_LISTS if k.name == name and k.holds(version)), None)
    if found is None:
        raise NoKeyList(name, version)
    return found


@cache
def _read(name: str) -> frozenset[str]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def spark_keys(version: str = SPARK_VERSION) -> frozenset[str]:
    return _read(key_list("spark", version).file)


def spark_prefixes(version: str = SPARK_VERSION) -> tuple[str, ...]:
    return tuple(sorted(_read(key_list("spark-prefixes", version).file)))


def kyuubi_keys(version: str = CATALOG["kyuubi"].version) -> frozenset[str]:
    return _read(key_list("kyuubi", version).file)


def iceberg_catalog_keys(version: str = ICEBERG_SPARK_VERSION) -> frozenset[str]:
    return _read(key_list("iceberg-spark-catalog", version).file)


def spark_key_problem(key: str, catalogs: tuple[str, ...], version: str = SPARK_VERSION,
                      iceberg_version: str = ICEBERG_SPARK_VERSION) -> str | None:
    """None if `key` is a real key of the Spark in force (or a documented family), else the problem with a
    suggestion."""
    if key in spark_keys(version):
        return None
    if key.startswith("spark.sql.catalog."):
        rest = key.removeprefix("spark.sql.catalog.")
        name, _, prop = rest.partition(".")
        if name not in catalogs:
            return f"'{key}' configures catalog '{name}', which is not declared (catalogs: {', '.join(catalogs)})"
        catalog_keys = iceberg_catalog_keys(iceberg_version)
        if not prop or prop in catalog_keys or prop.startswith(CATALOG_PREFIXES):
            return None
        return f"'{key}': '{prop}' is not an Iceberg Spark catalog property{_suggest(prop, catalog_keys)}"
    if any(key.startswith(prefix) for prefix in spark_prefixes(version)):
        return None
    release = key_list("spark", version).release
    return f"'{key}' is not a {release} configuration key{_suggest(key, spark_keys(version))}"


def kyuubi_key_problem(key: str, catalogs: tuple[str, ...], version: str = CATALOG["kyuubi"].version,
                       spark_version: str = SPARK_VERSION) -> str | None:
    if key.startswith("spark."):
        return spark_key_problem(key, catalogs, spark_version)
    if key in kyuubi_keys(version) or key.startswith(("kyuubi.engineEnv.", "___")):
        return None
    return f"'{key}' is not a Kyuubi configuration key{_suggest(key, kyuubi_keys(version))}"


def _suggest(key: str, known: frozenset[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.8)
    return f" (did you mean '{close[0]}'?)" if close else ""


@cache
def _read_sections(name: str) -> dict[str, frozenset[str]]:
    """A key list with `[section]` headers (konoha_gen/data/<name>) as {section: keys or prefixes}."""
    sections: dict[str, set[str]] = {}
    current = ""
    for raw in (DATA / name).read_text("utf-8").splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, set())
        elif line and not line.startswith("#"):
            sections[current].add(line)
    return {section: frozenset(keys) for section, keys in sections.items()}


def connect_sections(version: str = CATALOG["debezium"].version) -> dict[str, frozenset[str]]:
    return _read_sections(key_list("connect", version).file)


CONNECTOR_SECTIONS = {
    "debezium-postgres": ("connect", "connect.source", "debezium-common", "debezium-postgres"),
    "debezium-mysql": ("connect", "connect.source", "debezium-common", "debezium-mysql"),
    "iceberg-sink": ("connect", "connect.sink", "iceberg-sink"),
}


def connector_key_problem(plugin: str, key: str, config: dict[str, str],
                          version: str = CATALOG["debezium"].version) -> str | None:
    """None if `key` is a real key of the pinned `plugin` release (or of Kafka Connect), else the problem."""
    sections = connect_sections(version)
    if _refused_connector_key(key, version):
        return (f"'{key}' is refused: removed upstream, silently ignored or not to be set "
                "(konoha_gen/data/connect-keys.txt)")
    keys, prefixes = _connector_keys(plugin, version)
    if key in keys:
        return None
    if key.startswith("transforms.") and key.count(".") >= 2:
        alias = key.split(".")[1]
        declared = [a.strip() for a in config.get("transforms", "").split(",") if a.strip()]
        if alias not in declared:
            return f"'{key}' configures transform '{alias}', which 'transforms' does not declare"
        return None
    if plugin == "iceberg-sink" and key.startswith("iceberg.table."):
        table, _, prop = key.removeprefix("iceberg.table.").rpartition(".")
        tables = [t.strip() for t in config.get("iceberg.tables", "").split(",")]
        if table not in tables:
            return f"'{key}' configures table '{table}', which iceberg.tables does not list"
        if prop not in sections["iceberg-sink.table"]:
            return f"'{key}': '{prop}' is not a per-table sink property{_suggest(prop, sections['iceberg-sink.table'])}"
        return None
    if any(key.startswith(prefix) for prefix in prefixes):
        return None
    return f"'{key}' is not a {plugin} connector key of the pinned release{_suggest(key, keys)}"


@cache
def _refused_connector_key(key: str, version: str) -> bool:
    refused = connect_sections(version)["refused"]
    return key in refused or any(key.startswith(f"{r}.") or ("*" in r and fnmatch.fnmatchcase(key, r))
                                 for r in refused)


@cache
def _connector_keys(plugin: str, version: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """(the keys, the key prefixes) of a plugin's sections: its own, Debezium's common ones and Kafka Connect's."""
    sections, names = connect_sections(version), CONNECTOR_SECTIONS[plugin]
    keys = frozenset().union(*(sections.get(n, frozenset()) for n in names))
    return keys, tuple(sorted(frozenset().union(*(sections.get(f"{n}.prefixes", frozenset()) for n in names))))


#: The connector classes konoha-gen knows the keys of, and their plugin.
CONNECTOR_CLASSES = {
    "io.debezium.connector.postgresql.PostgresConnector": "debezium-postgres",
    "io.debezium.connector.mysql.MySqlConnector": "debezium-mysql",
    "org.apache.iceberg.connect.IcebergSinkConnector": "iceberg-sink",
}


def connector_problems(connector_class: str, config: dict[str, str],
                       version: str = CATALOG["debezium"].version) -> list[str]:
    plugin = CONNECTOR_CLASSES.get(connector_class)
    if plugin is None:
        return [f"connector class '{connector_class}' is not one whose keys konoha-gen knows"]
    return [problem for key in config if (problem := connector_key_problem(plugin, key, config, version))]


def trino_catalog_sections(version: str = CATALOG["trino"].version) -> dict[str, frozenset[str]]:
    return _read_sections(key_list("trino", version).file)


def trino_catalog_key_problem(key: str, version: str = CATALOG["trino"].version) -> str | None:
    """None if `key` is a property of an Iceberg catalog on a Hive metastore with native S3 in the Trino in force."""
    sections, trino = trino_catalog_sections(version), key_list("trino", version)
    if any(key == refused or (refused.endswith(".") and key.startswith(refused)) for refused in sections["refused"]):
        return f"'{key}' is refused for {trino.release} (konoha_gen/data/{trino.file})"
    if key in sections["iceberg"]:
        return None
    return f"'{key}' is not a {trino.release} Iceberg catalog property{_suggest(key, sections['iceberg'])}"


def trino_config_key_problem(key: str, version: str = CATALOG["trino"].version) -> str | None:
    """None if `key` is a config.properties property of the Trino in force that konoha-gen knows."""
    known = trino_catalog_sections(version)["config"]
    if key in known:
        return None
    release = key_list("trino", version).release
    return f"'{key}' is not a {release} config property konoha-gen knows{_suggest(key, known)}"
