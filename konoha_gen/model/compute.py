"""spec.compute (Spark profiles, Kyuubi servers) and spec.modeling (dbt)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from konoha_gen.catalog import ICEBERG_SPARK_VERSION, SPARK_VERSION
from konoha_gen.model.common import Identifier, ImageReference, IsoDuration, Name, SparkMemory, SpecModel, Switchable


class Driver(SpecModel):
    cores: int = Field(1, ge=1, le=64, description="driver cores (default 1)")
    memory: SparkMemory = Field("512m", description="driver heap, a Spark memory string (default 512m)")


class Executor(Driver):
    instances: int | None = Field(None, ge=0, le=1000,
                                  description="fixed executor count; with dynamicAllocation it is the initial count "
                                              "(default 2 without dynamicAllocation)")
    memory: SparkMemory = Field("1g", description="executor heap, a Spark memory string (default 1g)")


class DynamicAllocation(SpecModel):
    min: int = Field(0, ge=0, le=1000, description="spark.dynamicAllocation.minExecutors (default 0)")
    max: int = Field(ge=1, le=1000, description="spark.dynamicAllocation.maxExecutors")

    @model_validator(mode="after")
    def _min_le_max(self) -> DynamicAllocation:
        if self.min > self.max:
            raise PydanticCustomError("range", "min ({min}) must not exceed max ({max})",
                                      {"min": self.min, "max": self.max})
        return self


class SparkProfile(SpecModel):
    name: Name = Field(description="profile name, referenced by Kyuubi servers")
    driver: Driver = Field(default_factory=Driver, description="driver pod resources")
    executor: Executor = Field(default_factory=Executor, description="executor pod resources")
    dynamic_allocation: DynamicAllocation | None = Field(
        None, description="scale executors between min and max (shuffle tracking on Kubernetes; default off)")


class Spark(Switchable):
    version: str = Field(SPARK_VERSION, pattern=r"^[34]\.[0-9]+\.[0-9]+$",
                         description=f"Spark version (default {SPARK_VERSION})")
    iceberg_version: str = Field(ICEBERG_SPARK_VERSION, pattern=r"^1\.[0-9]+\.[0-9]+$",
                                 description=f"Iceberg Spark runtime version (default {ICEBERG_SPARK_VERSION})")
    image: ImageReference | None = Field(None, description="Spark image (default: the catalogue's image for `version`)")
    profiles: list[SparkProfile] = Field(default_factory=lambda: [SparkProfile(name="small")],
                                         description="named resource profiles (default [small])")
    conf: dict[str, str] = Field(default_factory=dict, description="extra Spark properties (string values), checked "
                                                                   "against known keys")


class KyuubiServer(SpecModel):
    name: Name = Field(description="server name; its Service is kyuubi-<name>")
    share_level: Literal["CONNECTION", "USER", "GROUP", "SERVER"] = Field(
        "USER", description="kyuubi.engine.share.level: CONNECTION | USER | GROUP | SERVER (default USER)")
    profile: Name = Field(description="Spark profile its engines use")
    idle_timeout: IsoDuration = Field("PT30M", description="kyuubi.session.engine.idle.timeout (default PT30M)")
    replicas: int = Field(1, ge=1, le=10, description="Kyuubi server pods (default 1)")


class Kyuubi(Switchable):
    servers: list[KyuubiServer] = Field(default_factory=list,
                                        description="Kyuubi servers (JDBC/Thrift endpoints); with none, Kyuubi "
                                                    "deploys nothing")


class Compute(SpecModel):
    spark: Spark = Field(default_factory=Spark, description="Spark on Kubernetes")
    kyuubi: Kyuubi = Field(default_factory=Kyuubi, description="Kyuubi, Spark as a multi-tenant SQL service")


class DbtProject(SpecModel):
    name: Name = Field(description="dbt project name; the profiles.yml target")
    server: Name = Field(description="Kyuubi server it runs on")
    schema_: Identifier = Field(alias="schema", description="lakehouse namespace it builds into")


class Dbt(Switchable):
    projects: list[DbtProject] = Field(default_factory=list, description="dbt projects, one profiles.yml target each")


class Modeling(SpecModel):
    dbt: Dbt = Field(default_factory=Dbt, description="dbt on Spark through Kyuubi")
