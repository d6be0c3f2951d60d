"""spec.access: Trino and Metabase."""

from __future__ import annotations

from pydantic import Field

from konoha_gen.model.common import DataSize, Quantity, SpecModel, Switchable


class Node(SpecModel):
    memory: Quantity = Field("1Gi", description="pod memory (default 1Gi, a laptop's size; the JVM heap is 75%)")
    cpu: Quantity = Field("500m", description="pod CPU request (default 500m)")


class Trino(Switchable):
    workers: int = Field(1, ge=0, le=100, description="worker pods (default 1)")
    coordinator: Node = Field(default_factory=Node, description="coordinator pod size")
    worker: Node = Field(default_factory=Node, description="worker pod size")
    query_max_memory: DataSize = Field("1GB", description="query.max-memory (default 1GB)")


class Metabase(Switchable):
    pass


class Access(SpecModel):
    trino: Trino = Field(default_factory=Trino, description="Trino, interactive SQL over the lakehouse")
    metabase: Metabase = Field(default_factory=Metabase, description="Metabase BI on Trino")
