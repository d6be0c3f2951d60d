"""Stage 5: validators over the artifacts, run before anything is written.

Each checker is a pure function (Platform, artifacts, options) -> [OutputProblem];
any problem fails the build with out/ untouched.
"""

from __future__ import annotations

from konoha_gen.artifact import Artifact
from konoha_gen.check import budget, output
from konoha_gen.check.options import Checker, CheckOptions
from konoha_gen.errors import OutputProblem
from konoha_gen.resolved import Platform

__all__ = ["CheckOptions", "Checker", "checkers", "run_checks"]


def checkers() -> list[tuple[str, Checker]]:
    return [("structure", output.structure), ("schema", output.schemas), ("values", output.chart_values),
            ("secret-scan", output.secrets), ("wiring", output.wiring),
            ("connect-wiring", output.connect_wiring), ("endpoints", output.endpoints),
            ("bootstrap", output.bootstrap), ("keys", output.config_keys), ("budget", budget.check)]


def run_checks(platform: Platform, artifacts: list[Artifact],
               options: CheckOptions | None = None) -> list[OutputProblem]:
    problems: list[OutputProblem] = []
    for _name, checker in checkers():
        problems.extend(checker(platform, artifacts, options or CheckOptions()))
    return sorted(problems, key=lambda p: (p.path, p.check, p.message))
