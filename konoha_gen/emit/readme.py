"""out/README.md: what was generated, the secrets inventory and the dependency graph."""

from __future__ import annotations

from konoha_gen.artifact import Artifact
from konoha_gen.bootstrap.plan import steps
from konoha_gen.graph import mermaid
from konoha_gen.resolved import Platform
from konoha_gen.templating import render


def emit(platform: Platform) -> list[Artifact]:
    text = render("README.md.j2", p=platform, graph=mermaid(platform), steps=steps(platform))
    return [Artifact("README.md", text)]
