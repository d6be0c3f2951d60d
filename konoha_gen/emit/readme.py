"""out/README.md: what was generated, the secrets inventory and the dependency graph."""

from __future__ import annotations

from konoha_gen.artifact import Artifact
from konoha_gen.bootstrap.plan import steps
from konoha_gen.budget import budget
from konoha_gen.graph import mermaid
from konoha_gen.resolved import Platform
from konoha_gen.templating import render


def emit(platform: Platform, artifacts: list[Artifact]) -> list[Artifact]:
    """README.md from the platform and the other artifacts (the budget table is read off them)."""
    text = render("README.md.j2", p=platform, graph=mermaid(platform), steps=steps(platform),
                  budget=budget(platform, artifacts))
    return [Artifact("README.md", text)]
