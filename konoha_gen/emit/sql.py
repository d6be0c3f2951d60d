"""out/sql/<source>.prepare.sql: what each CDC source database needs before its Debezium connector can
start: checks of the server settings it cannot change, the replication user's grants and, for Postgres,
the publication. Each script is idempotent and converges: re-running it after the spec changed leaves the
publication and the table grants at exactly the listed tables."""

from __future__ import annotations

from konoha_gen.artifact import Artifact
from konoha_gen.resolved import CdcSource, Platform
from konoha_gen.templating import render


def _quote(identifier: str, engine: str) -> str:
    quote = '"' if engine == "postgres" else "`"
    return ".".join(f"{quote}{part}{quote}" for part in identifier.split("."))


def _dollar_tag(texts: list[str]) -> str:
    """A dollar-quote tag for PL/pgSQL bodies that no table name can close early (names may contain '$')."""
    tag = "konoha"
    while any(f"${tag}$" in text for text in texts):
        tag += "_"
    return f"${tag}$"


def _render(source: CdcSource, mount: str) -> str:
    tables = [_quote(t.table, source.engine) for t in source.tables]
    schemas = sorted({_quote(t.table.split(".")[0], source.engine) for t in source.tables})
    return render(f"sql/{source.engine}.prepare.sql.j2", s=source, mount=mount, tables=tables, schemas=schemas,
                  dollar=_dollar_tag(tables))


def emit(platform: Platform) -> list[Artifact]:
    mount = platform.spec.secrets.vault.kv_mount
    return [Artifact(f"sql/{source.name}.prepare.sql", _render(source, mount)) for source in platform.sources]
