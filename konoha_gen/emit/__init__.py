"""Stage 4: emitters, pure functions Platform -> [Artifact], one per target.

`emit_all` runs every emitter and stamps the "generated; do not edit" header
on each file whose format has comments (OUTPUT.md promise 4), so no emitter
has to remember it. Emitters import no other emitter: what two of them share
is a fact of the resolved Platform or of a component (konoha_gen/components/).
"""

from __future__ import annotations

from collections.abc import Callable

from konoha_gen.artifact import Artifact, with_header
from konoha_gen.emit import (
    bootstrap,
    components,
    connectors,
    dbt,
    flux,
    observability,
    readme,
    spark,
    sql,
    terraform,
)
from konoha_gen.resolved import Platform

Emitter = Callable[[Platform], list[Artifact]]


def emitters() -> list[tuple[str, Emitter]]:
    """Every emitter, in a fixed order. New targets register here."""
    return [("bootstrap", bootstrap.emit), ("terraform", terraform.emit), ("flux", flux.emit),
            ("components", components.emit),
            ("sql", sql.emit), ("dbt", dbt.emit), ("spark", spark.emit),
            ("connectors", connectors.emit), ("observability", observability.emit)]


def emit_all(platform: Platform) -> list[Artifact]:
    artifacts: list[Artifact] = []
    for name, emitter in emitters():
        for artifact in emitter(platform):
            artifacts.append(with_header(Artifact(artifact.path, artifact.content, name), platform.spec_file))
    # Last: out/README.md summarises the other artifacts (the laptop budget reads their values and manifests).
    for artifact in readme.emit(platform, artifacts):
        artifacts.append(with_header(Artifact(artifact.path, artifact.content, "readme"), platform.spec_file))
    return sorted(artifacts, key=lambda a: a.path)
