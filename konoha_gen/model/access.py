"""spec.access: Trino and Metabase."""

from __future__ import annotations

from pydantic import Field

from konoha_gen.model.common import DataSize, Quantity, SpecModel, Switchable


class Node(SpecModel):
    memory: Quantity = Field("4Gi", description="pod memory (default 4Gi)")
    cpu: Quantity = Field("1", description="pod CPU request (default 1)")


class Trino(Switchable):
    workers: int = Field(2, ge=0, le=100, description="worker pods (default 2)")
    coordinator: Node = Field(default_factory=Node, description="coordinator pod size")
    worker: Node = Field(default_factory=Node, description="worker pod size")
    query_max_memory: DataSize = Field("4GB", description="query.max-memory (default 4GB)")


class Metabase(Switchable):
    pass


class Access(SpecModel):
    trino: Trino = Field(default_factory=Trino, description="Trino, interactive SQL over the lakehouse")
    metabase: Metabase = Field(default_factory=Metabase, description="Metabase BI on Trino")
