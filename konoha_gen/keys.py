"""Upstream configuration keys konoha-gen checks Spark and Kyuubi settings against.

The lists live in konoha_gen/data/ (each file names its upstream source): Spark
3.5 documented properties and property prefixes, Kyuubi's settings table, and
the per-catalog properties of Iceberg's Spark catalog. Prefix families that
Spark passes through (spark.hadoop.*, spark.executorEnv.*, ...) are accepted as
prefixes; a catalog's own keys must name a declared catalog and a real Iceberg
catalog property.
"""

from __future__ import annotations

import difflib
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
#: Iceberg catalog property families documented outside spark-configuration (FileIO, per-catalog Hadoop conf).
CATALOG_PREFIXES = ("hadoop.", "table-default.", "table-override.", "s3.", "client.")


def _read(name: str) -> frozenset[str]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@cache
def spark_keys() -> frozenset[str]:
    return _read("spark-3.5-keys.txt")


@cache
def spark_prefixes() -> tuple[str, ...]:
    return tuple(sorted(_read("spark-3.5-prefixes.txt")))


@cache
def kyuubi_keys() -> frozenset[str]:
    return _read("kyuubi-keys.txt")


@cache
def iceberg_catalog_keys() -> frozenset[str]:
    return _read("iceberg-spark-catalog-keys.txt")


def spark_key_problem(key: str, catalogs: tuple[str, ...]) -> str | None:
    """None if `key` is a real Spark 3.5 key (or a documented family), else the problem with a suggestion."""
    if key in spark_keys():
        return None
    if key.startswith("spark.sql.catalog."):
        rest = key.removeprefix("spark.sql.catalog.")
        name, _, prop = rest.partition(".")
        if name not in catalogs:
            return f"'{key}' configures catalog '{name}', which is not declared (catalogs: {', '.join(catalogs)})"
        if not prop or prop in iceberg_catalog_keys() or prop.startswith(CATALOG_PREFIXES):
            return None
        return f"'{key}': '{prop}' is not an Iceberg Spark catalog property{_suggest(prop, iceberg_catalog_keys())}"
    if any(key.startswith(prefix) for prefix in spark_prefixes()):
        return None
    return f"'{key}' is not a Spark 3.5 configuration key{_suggest(key, spark_keys())}"


def kyuubi_key_problem(key: str, catalogs: tuple[str, ...]) -> str | None:
    if key.startswith("spark."):
        return spark_key_problem(key, catalogs)
    if key in kyuubi_keys() or key.startswith(("kyuubi.engineEnv.", "___")):
        return None
    return f"'{key}' is not a Kyuubi configuration key{_suggest(key, kyuubi_keys())}"


def _suggest(key: str, known: frozenset[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.8)
    return f" (did you mean '{close[0]}'?)" if close else ""
