"""Stage 6: write artifacts into out/ keeping OUTPUT.md promises 1-4.

- Minimal writes: only files whose bytes change are written; unchanged files
  keep their inode and mtime.
- Prune by the lock: a file is deleted only if konoha.lock.json says this
  tool generated it and the new build no longer does. A file the tool never
  generated is never touched; one sitting where a new artifact must go is a
  conflict (the build stops).
- All or nothing: the new tree is assembled in a sibling staging folder
  (unchanged and foreign files hard-linked, changed ones written fresh), then
  swapped with out/ in one atomic renameat2(RENAME_EXCHANGE). A build killed
  before the swap leaves out/ as it was; after it, the new tree.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from konoha_gen import __version__
from konoha_gen.artifact import LOCK_NAME, Artifact


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Lock:
    spec_path: str
    spec_sha256: str
    files: dict[str, str]  # path -> sha256 of the bytes written

    def render(self) -> str:
        body = {
            "generator": "konoha-gen",
            "version": __version__,
            "spec": {"path": self.spec_path, "sha256": self.spec_sha256},
            "files": dict(sorted(self.files.items())),
        }
        return json.dumps(body, indent=2, sort_keys=False) + "\n"


def read_lock(out_dir: Path) -> dict[str, str]:
    """Files the previous build generated (empty when there is no readable lock)."""
    try:
        body = json.loads((out_dir / LOCK_NAME).read_text("utf-8"))
        files = body["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items()}


@dataclass
class Plan:
    """What a build would do to out/, file by file."""

    create: list[str] = field(default_factory=list)
    update: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    identical: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)  # generated files changed by hand since the last build
    conflicts: list[str] = field(default_factory=list)  # foreign files where an artifact must go
    contents: dict[str, bytes] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.create or self.update or self.delete)


def with_lock(artifacts: list[Artifact], spec_path: str, spec_sha: str) -> dict[str, bytes]:
    """Artifacts plus the lock that records them: the complete content of out/."""
    contents = {a.path: a.data for a in artifacts}
    lock = Lock(spec_path, spec_sha, {path: sha256(data) for path, data in contents.items()})
    contents[LOCK_NAME] = lock.render().encode("utf-8")
    return contents


def plan(out_dir: Path, contents: dict[str, bytes]) -> Plan:
    previous = read_lock(out_dir)
    result = Plan(contents=contents)
    for path, data in sorted(contents.items()):
        target = out_dir / path
        current = _read(target)
        if current is None:
            result.create.append(path)
            continue
        if path != LOCK_NAME and path in previous and sha256(current) != previous[path]:
            result.edited.append(path)
        if current == data:
            result.identical.append(path)
        elif path == LOCK_NAME or path in previous:
            result.update.append(path)
        else:
            result.conflicts.append(path)
    for path in sorted(set(previous) - set(contents)):
        current = _read(out_dir / path)
        if current is not None:
            if sha256(current) != previous[path]:
                result.edited.append(path)
            result.delete.append(path)
    result.edited.sort()
    return result


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def apply(out_dir: Path, result: Plan) -> None:
    """Make out/ match the plan, atomically; a no-op plan touches nothing."""
    if not result.changed:
        return
    out_dir = out_dir.absolute()
    staging = out_dir.parent / f".{out_dir.name}.konoha-staging"
    _recover(out_dir)
    if staging.exists():
        shutil.rmtree(staging)
    if out_dir.exists():
        _link_tree(out_dir, staging)
    else:
        staging.mkdir(parents=True)
    for path in result.delete:
        (staging / path).unlink(missing_ok=True)
        _prune_empty_dirs(staging, Path(path).parent)
    for path in result.create + result.update:
        target = staging / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)  # never write through a hard link into the old tree
        target.write_bytes(result.contents[path])
    _swap(staging, out_dir)


def _link_tree(source: Path, destination: Path) -> None:
    """Mirror `source` into `destination` with hard links (no data copied)."""
    destination.mkdir(parents=True)
    shutil.copystat(source, destination)
    for root, dirs, files in os.walk(source):
        relative = Path(root).relative_to(source)
        for name in dirs:
            src = Path(root) / name
            if src.is_symlink():
                os.symlink(os.readlink(src), destination / relative / name)
            else:
                (destination / relative / name).mkdir()
        for name in files:
            src = Path(root) / name
            dst = destination / relative / name
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
                continue
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)


def _prune_empty_dirs(root: Path, relative: Path) -> None:
    while relative != Path("."):
        directory = root / relative
        try:
            directory.rmdir()  # only succeeds when empty
        except OSError:
            return
        relative = relative.parent


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False when unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.rename(staging, out_dir)
        return
    if _exchange(staging, out_dir):
        shutil.rmtree(staging)  # now holds the old tree
        return
    backup = out_dir.parent / f".{out_dir.name}.konoha-previous"
    os.rename(out_dir, backup)  # a kill here is repaired by _recover on the next run
    os.rename(staging, out_dir)
    shutil.rmtree(backup)


def _recover(out_dir: Path) -> None:
    """Finish a swap that the non-atomic fallback left half-done."""
    backup = out_dir.parent / f".{out_dir.name}.konoha-previous"
    if backup.exists():
        if out_dir.exists():
            shutil.rmtree(backup)
        else:
            os.rename(backup, out_dir)
