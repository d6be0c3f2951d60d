"""What a check run may be told: where the upstream schemas and chart data are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from konoha_gen.artifact import Artifact
from konoha_gen.errors import OutputProblem
from konoha_gen.resolved import Platform


@dataclass(frozen=True)
class CheckOptions:
    schema_dir: Path | None = None  # CRD JSON schemas; None: the ones vendored in konoha_gen/schemas
    charts_dir: Path | None = None  # charts' values.yaml / values.schema.json; None: the copies in konoha_gen/charts


Checker = Callable[[Platform, list[Artifact], CheckOptions], list[OutputProblem]]
