"""Stage 5: validators over the artifacts, run before anything is written.

Each checker is a pure function (Platform, artifacts) -> [OutputProblem].
Later targets add checkers here (Kubernetes/CRD schemas, chart values, config
keys, wiring, secret scan); any problem fails the build with out/ untouched.
"""

from __future__ import annotations

from collections.abc import Callable

from konoha_gen.emit import Artifact
from konoha_gen.errors import OutputProblem
from konoha_gen.resolve import Platform

Checker = Callable[[Platform, list[Artifact]], list[OutputProblem]]


def checkers() -> list[tuple[str, Checker]]:
    from konoha_gen.check import structure

    return [("structure", structure.check)]


def run_checks(platform: Platform, artifacts: list[Artifact]) -> list[OutputProblem]:
    problems: list[OutputProblem] = []
    for _name, checker in checkers():
        problems.extend(checker(platform, artifacts))
    return sorted(problems, key=lambda p: (p.path, p.check, p.message))
