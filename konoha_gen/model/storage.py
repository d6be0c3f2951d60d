"""spec.storage (MinIO, Hive Metastore) and spec.lakehouse (Iceberg)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from konoha_gen.model.common import Identifier, Name, Quantity, SpecModel, Switchable, VaultRef, vault_ref


class Bucket(SpecModel):
    name: Name = Field(description="bucket name (DNS label, so it is also a valid S3 bucket name)")
    expire_after_days: int | None = Field(None, ge=1, le=36500, description="lifecycle rule: delete objects older "
                                                                            "than this many days, at most 36500 "
                                                                            "(default: keep)")
    versioning: bool = Field(False, description="enable S3 object versioning (default false)")


class ObjectStore(Switchable):
    size: Quantity = Field("50Gi", description="MinIO volume size (default 50Gi)")
    credentials: VaultRef = Field(vault_ref("vault:minio/root"), description="MinIO root user (keys username, "
                                                                             "password); default vault:minio/root")
    buckets: list[Bucket] = Field(default_factory=lambda: [Bucket(name="warehouse")],
                                  description="buckets Terraform creates (default [warehouse])")


class Metastore(Switchable):
    database_size: Quantity = Field("5Gi", description="volume of the Metastore's CloudNativePG database (default 5Gi)")
    replicas: int = Field(1, ge=1, le=5, description="Metastore pods (default 1)")
    version: str | None = Field(None, pattern=r"^\d+\.\d+\.\d+$",
                                description="Hive Metastore release the OKDP image runs (default: the catalogue's, "
                                            "3.1.3); Spark 3.5 and the Iceberg sink call it with a Hive 2.3 client, so "
                                            "4.x is refused")


class Storage(SpecModel):
    object_store: ObjectStore = Field(default_factory=ObjectStore, description="MinIO, the S3 object store")
    metastore: Metastore = Field(default_factory=Metastore, description="Hive Metastore, the Iceberg catalog service")


Warehouse = Annotated[str, Field(pattern=r"^s3a://[a-z0-9][-a-z0-9]*[a-z0-9](/[A-Za-z0-9._-]+)*/?$")]


class Lakehouse(SpecModel):
    catalog: Identifier = Field("iceberg", description="catalog name used by Spark, Trino and the Iceberg sink "
                                                       "(default iceberg)")
    warehouse: Warehouse = Field("s3a://warehouse/", description="s3a://<bucket>/<prefix>; the bucket must be in "
                                                                 "storage.objectStore.buckets")
    namespaces: list[Identifier] = Field(default_factory=lambda: ["raw", "staging", "marts"],
                                         description="Iceberg namespaces (databases) the platform creates (default "
                                                     "[raw, staging, marts])")
