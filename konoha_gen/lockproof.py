"""`check`'s fast path: prove out/ up to date from konoha.lock.json alone, without compiling the spec.

Why it is sound. out/ is a pure function of (the spec file's bytes, the spec's label, the generator): no clock,
no environment variable, no network, no hash seed reaches an emitter (tests/test_build_and_check.py builds from
two cwds and hash seeds and compares bytes), and the data the emitters and checks read (konoha_gen/charts,
konoha_gen/schemas, konoha_gen/data, templates/) ship inside the generator, so they are part of its version. A
build writes the lock last, recording that function's inputs (spec sha256 and path, generator version) and its
output (every file's sha256 and mode). So when the lock is exactly what a build writes (same bytes when rendered
again), records the same spec digest and label, the same generator and version, and every locked file on disk
still has its digest and mode, with no other file under out/ (except .konoha-keep and what it lists), then a
compile would produce byte for byte what out/ holds: `check` would find no drift and may exit 0 at once. The
checks a build runs are part of the same function: a tree a build wrote passed them.

What it does not cover (use `check --full`):
- a generator edited without a version bump (a development checkout, an editable install): the lock cannot tell
  two different generators with the same version apart;
- --schema-dir / --charts-dir (or their environment variables) pointing at other upstream data than the vendored
  copies: the checks would run against other data, so the fast path is not taken;
- a lock edited by hand together with the files it describes, consistently: the lock is trusted to be the one a
  build wrote (it is a generated, committed file like the rest).

Anything else unusual (no lock, another format or version, a path leaving out/, a symbolic link, a missing, edited
or foreign file) returns False, and the full check runs and reports exactly what differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from konoha_gen import __version__
from konoha_gen.artifact import LOCK_NAME
from konoha_gen.write import LOCK_FORMAT, file_mode, foreign_files, is_inside


def spec_label(spec: Path) -> str:
    """How generated files name the spec: relative to its repository root, so the
    output is the same from any cwd or checkout location."""
    resolved = spec.resolve()
    for parent in resolved.parents:
        if (parent / ".git").exists():
            return resolved.relative_to(parent).as_posix()
    return resolved.name


def proven_unchanged(spec: Path, out_dir: Path) -> bool:
    """True when the lock proves out/ is what `spec` compiles to (see the module docstring); False: not proven."""
    try:
        return _proven(spec, Path(os.path.realpath(out_dir.absolute())))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _proven(spec: Path, out_dir: Path) -> bool:
    raw = (out_dir / LOCK_NAME).read_bytes()
    body = json.loads(raw)
    if not (isinstance(body, dict) and body.get("generator") == "konoha-gen" and body.get("version") == __version__
            and body.get("format") == LOCK_FORMAT and _mode_of(out_dir / LOCK_NAME) == "0644"):
        return False
    if json.dumps(body, indent=2, sort_keys=False).encode("utf-8") + b"\n" != raw:
        return False  # not byte for byte what a build renders: let the full check say how it differs
    if body["spec"] != {"path": spec_label(spec), "sha256": hashlib.sha256(spec.read_bytes()).hexdigest()}:
        return False
    files: dict[str, Any] = body["files"]
    if list(files) != sorted(files) or LOCK_NAME in files:
        return False
    for path, entry in files.items():
        if not is_inside(path) or set(entry) != {"sha256", "mode"} or _through_link(out_dir, path):
            return False
        target = out_dir / path
        data = target.read_bytes()
        wanted = f"{file_mode(data):04o}"
        if (hashlib.sha256(data).hexdigest() != entry["sha256"] or entry["mode"] != wanted
                or _mode_of(target) != wanted):
            return False
    return not foreign_files(out_dir, set(files) | {LOCK_NAME})


def _mode_of(path: Path) -> str | None:
    """A regular file's mode as git sees it, or None for anything else (a link, a folder)."""
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        return None
    return "0755" if info.st_mode & 0o100 else "0644"


def _through_link(out_dir: Path, path: str) -> bool:
    current = out_dir
    for part in PurePosixPath(path).parts:
        current = current / part
        if current.is_symlink():
            return True
    return False
