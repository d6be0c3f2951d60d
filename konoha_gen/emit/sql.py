"""out/sql/<source>.prepare.sql: what each CDC source database needs (grants,
publication, server settings) before its Debezium connector can start."""

from __future__ import annotations

from konoha_gen.emit import Artifact
from konoha_gen.resolve import CdcSource, Platform
from konoha_gen.templating import render


def _quote(identifier: str, engine: str) -> str:
    quote = '"' if engine == "postgres" else "`"
    return ".".join(f"{quote}{part}{quote}" for part in identifier.split("."))


def _render(source: CdcSource, mount: str) -> str:
    tables = [_quote(t.table, source.engine) for t in source.tables]
    schemas = sorted({_quote(t.table.split(".")[0], source.engine) for t in source.tables})
    return render(f"sql/{source.engine}.prepare.sql.j2", s=source, mount=mount, tables=tables, schemas=schemas)


def emit(platform: Platform) -> list[Artifact]:
    mount = platform.spec.secrets.vault.kv_mount
    return [Artifact(f"sql/{source.name}.prepare.sql", _render(source, mount)) for source in platform.sources]
