"""Spark and Kyuubi configuration files: out/spark/<profile>.spark-defaults.conf per compute.spark.profiles[]
entry, <release>.kyuubi-defaults.conf per Kyuubi server and the pod templates. The texts come from the
Spark and Kyuubi components, which mount the same texts into each Kyuubi release."""

from __future__ import annotations

from konoha_gen.artifact import Artifact
from konoha_gen.components.kyuubi import kyuubi_defaults
from konoha_gen.components.spark import pod_templates, spark_defaults
from konoha_gen.resolved import Platform


def emit(platform: Platform) -> list[Artifact]:
    if not platform.has("spark") or platform.lakehouse is None:
        return []
    artifacts = [Artifact(f"spark/{p.name}.spark-defaults.conf", spark_defaults(platform, p))
                 for p in platform.spec.compute.spark.profiles]
    artifacts += [Artifact(f"spark/{s.release}.kyuubi-defaults.conf", kyuubi_defaults(platform, s))
                  for s in platform.kyuubi]
    artifacts += [Artifact(f"spark/{name}", text) for name, text in pod_templates(platform).items()]
    return artifacts
