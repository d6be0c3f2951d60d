"""out/sql/<source>.prepare.sql: what each CDC source database needs before its Debezium connector can
start: checks of the server settings it cannot change, the replication user's grants and, for Postgres,
the publication. Each script is idempotent and converges: re-running it after the spec changed leaves the
publication and the table grants at exactly the listed tables."""

from __future__ import annotations

from konoha_gen.artifact import Artifact
from konoha_gen.resolved import CdcSource, Platform
from konoha_gen.templating import render


def _dollar_tag(texts: list[str]) -> str:
    """A dollar-quote tag for PL/pgSQL bodies that no name in them can close early (names may contain '$').

    Checked on the names as written: the template quotes them (pg_ident, pg_literal), which adds no '$' and no
    letter of a tag, so a quoted name holds the tag only if the name does."""
    tag = "konoha"
    while any(f"${tag}$" in text for text in texts):
        tag += "_"
    return f"${tag}$"


def prepare_script(source: CdcSource, mount: str) -> str:
    """The template quotes each name for its dialect (templates/sql/*.j2, konoha_gen/quoting.py)."""
    tables = [t.table for t in source.tables]
    schemas = sorted({table.split(".")[0] for table in tables})
    return render(f"sql/{source.engine}.prepare.sql.j2", s=source, mount=mount, tables=tables, schemas=schemas,
                  dollar=_dollar_tag([*tables, source.publication or ""]))


def emit(platform: Platform) -> list[Artifact]:
    mount = platform.spec.secrets.vault.kv_mount
    return [Artifact(f"sql/{source.name}.prepare.sql", prepare_script(source, mount)) for source in platform.sources]
