"""`konoha-gen diff`: what a spec change does to the generated tree, by resource, with its impact.

Stages, one module each: revisions (the spec at a git revision, compiled by
this generator), resources (a tree as keyed resources), compare (field paths,
old -> new, secrets masked), impact (what reconciles, upgrades, rolls,
restarts, is replaced or destroyed), render (text, markdown, json).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from konoha_gen.check import CheckOptions
from konoha_gen.diff.compare import ResourceChange, compare
from konoha_gen.diff.impact import Finding, assess
from konoha_gen.diff.resources import EXCLUDED, parse_tree
from konoha_gen.diff.revisions import Revision, at_revision, compile_revision, in_worktree


@dataclass(frozen=True)
class Report:
    base: str  # how the base revision is named, e.g. "origin/main (1a2b3c4d5e6f)"
    head: str
    changes: list[ResourceChange]
    findings: list[Finding]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def diff_trees(base: Mapping[str, bytes], head: Mapping[str, bytes], base_name: str = "base",
               head_name: str = "head") -> Report:
    """Compare two generated trees (path -> bytes)."""
    differing = {p for p in base.keys() | head.keys() if base.get(p) != head.get(p)} - EXCLUDED
    # Terraform is costly to parse: only files that differ (a block moved between files changes both).
    base_resources = parse_tree(base, [p for p in base if not p.endswith(".tf") or p in differing])
    head_resources = parse_tree(head, [p for p in head if not p.endswith(".tf") or p in differing])
    changes = compare(base_resources, head_resources)
    return Report(base_name, head_name, changes, assess(changes, base, head, (base_resources, head_resources)))


def diff_revisions(spec: Path, base: str, head: str | None, options: CheckOptions | None = None) -> Report:
    """Compile `spec` at git revision `base` and at `head` (None: the worktree file) and compare the trees.

    Raises revisions.RevisionError for an unreadable revision and revisions.InvalidAtRevision when the spec
    does not compile at one of them.
    """
    before = at_revision(spec, base)
    after = in_worktree(spec) if head is None else at_revision(spec, head)
    base_tree = compile_revision(before, options)
    unchanged = after.spec == before.spec and after.path == before.path
    head_tree = base_tree if unchanged else compile_revision(after, options)
    return diff_trees(base_tree, head_tree, before.describe(), after.describe())


__all__ = ["Report", "Revision", "diff_revisions", "diff_trees"]
