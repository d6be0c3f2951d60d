"""The laptop budget check: a tree whose pods request more than the cluster offers is refused (konoha_gen/budget.py)."""

from __future__ import annotations

from konoha_gen.artifact import Artifact
from konoha_gen.budget import budget
from konoha_gen.check.options import CheckOptions
from konoha_gen.errors import OutputProblem
from konoha_gen.resolved import Platform


def check(platform: Platform, artifacts: list[Artifact], options: CheckOptions) -> list[OutputProblem]:
    result = budget(platform, artifacts)
    overflow = result.overflow()
    if not overflow:
        return []
    message = (f"the pods request more than the cluster offers ({'; '.join(overflow)}); lower requests, "
               f"replicas or Spark profiles in the spec, or give the node more. Budget:\n{result.table()}")
    return [OutputProblem("README.md", message, "budget")]
