"""The spec at a git revision (or in the worktree), compiled by this generator.

`git show REV:path` reads the spec as committed; it is written into a temporary
directory shaped like the repository (an empty `.git` marker and the same
relative path), so the compiled files name the spec exactly as a build in the
repository does. The compile is `pipeline.compile_spec`: the same emitters and
checks as `build`, nothing written to out/.
"""

from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from konoha_gen.check import CheckOptions
from konoha_gen.errors import MAX_SHOWN, KonohaError, KonohaFailure, OutputError

WORKTREE = "worktree"


class RevisionError(KonohaFailure):
    """A revision that cannot be read: not a git repository, unknown revision, no spec there (exit code 2)."""

    def lines(self) -> list[str]:
        return [f"konoha-gen diff: {self}"]


@dataclass
class InvalidAtRevision(KonohaFailure):
    """The spec at `revision` does not compile; `error` carries the diagnostics, located at `REV:path` (exit code 2)."""

    revision: Revision
    error: KonohaError | OutputError

    def __str__(self) -> str:
        return f"the spec is invalid at {self.revision.describe()}"

    def lines(self) -> list[str]:
        what = "the spec is invalid" if isinstance(self.error, KonohaError) else "the generated output fails its checks"
        entries = self.error.entries()
        count = len(entries)
        more = [f"... and {count - MAX_SHOWN} more (--format json lists all)"] if count > MAX_SHOWN else []
        return [f"konoha-gen diff: {what} at {self.revision.describe()}:", *entries[:MAX_SHOWN], *more]

    def to_json(self) -> dict[str, object]:
        return {"revision": self.revision.describe(), **self.error.to_json()}


@dataclass(frozen=True)
class Revision:
    label: str  # as the user named it: a rev, or "worktree"
    commit: str  # full sha, or "" for the worktree
    path: str  # the spec's path relative to the repository top
    spec: bytes

    def describe(self) -> str:
        if not self.commit:
            return WORKTREE
        short = self.commit[:12]
        return short if self.label in (self.commit, short) else f"{self.label} ({short})"


def _git(top: Path, *args: str) -> bytes:
    result = subprocess.run(["git", *args], cwd=top, capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise RevisionError(message[-1] if message else f"git {' '.join(args)} failed")
    return result.stdout


def repository_of(spec: Path) -> tuple[Path, str]:
    """(repository top, spec path relative to it, POSIX)."""
    folder = spec.absolute().parent
    if not folder.is_dir():
        raise RevisionError(f"{spec}: no such directory")
    try:
        top = Path(_git(folder, "rev-parse", "--show-toplevel").decode().strip())
    except RevisionError as exc:
        raise RevisionError(f"{spec} is not inside a git repository ({exc})") from None
    return top, (folder.resolve() / spec.name).relative_to(top.resolve()).as_posix()


def at_revision(spec: Path, rev: str) -> Revision:
    top, relative = repository_of(spec)
    try:
        commit = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}").decode().strip()
    except RevisionError:
        raise RevisionError(f"unknown revision '{rev}'") from None
    try:
        data = _git(top, "show", f"{commit}:{relative}")
    except RevisionError:
        raise RevisionError(f"{relative} does not exist at {rev}") from None
    return Revision(rev, commit, relative, data)


def in_worktree(spec: Path) -> Revision:
    _top, relative = repository_of(spec)
    try:
        data = spec.read_bytes()
    except OSError as exc:
        raise RevisionError(f"cannot read {spec}: {exc.strerror}") from None
    return Revision(WORKTREE, "", relative, data)


def compile_revision(revision: Revision, options: CheckOptions | None = None) -> dict[str, bytes]:
    """The whole generated tree (path -> bytes) of the spec at `revision`; raises InvalidAtRevision."""
    from konoha_gen.pipeline import compile_spec

    with tempfile.TemporaryDirectory(prefix="konoha-diff-") as scratch:
        root = Path(scratch)
        (root / ".git").mkdir()  # marks the repository top for pipeline.spec_label
        spec = root / revision.path
        spec.parent.mkdir(parents=True, exist_ok=True)
        spec.write_bytes(revision.spec)
        try:
            return dict(compile_spec(spec, options).contents)
        except KonohaError as exc:
            located = f"{revision.label}:{revision.path}" if revision.commit else revision.path
            diagnostics = [dataclasses.replace(d, file=located) if d.file == str(spec) else d for d in exc.diagnostics]
            raise InvalidAtRevision(revision, KonohaError(diagnostics)) from None
        except OutputError as exc:
            raise InvalidAtRevision(revision, exc) from None
