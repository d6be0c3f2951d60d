"""Stage 6: write artifacts into out/ keeping OUTPUT.md promises 1-4, and nothing outside out/.

- Minimal writes: only files whose bytes (or executable bit) change are written;
  unchanged files keep their inode and mtime.
- Prune by the lock: a file is deleted only if konoha.lock.json says this
  tool generated it and the new build no longer does. A file the tool never
  generated is never touched (`check` reports it as foreign unless
  out/.konoha-keep lists it); one sitting where a new artifact must go is a
  conflict (the build stops).
- Only inside out/: every lock path must be relative, normalised and inside
  out/, and no generated path may go through a symbolic link; otherwise the
  build refuses (UnsafeOutput, exit 2) before touching anything. out/ itself may
  be a symbolic link: the build works on (and stages beside) the directory it
  resolves to, and the link is kept.
- All or nothing: the new tree is assembled in a sibling staging folder
  (unchanged and foreign files hard-linked, changed ones written fresh), then
  swapped with out/ in one atomic renameat2(RENAME_EXCHANGE). A build killed
  before the swap leaves out/ as it was; after it, the new tree. Leftover
  staging folders are removed by the next build.
- One build at a time: a build holds an exclusive flock on `.<out>.konoha-lock`
  beside out/ from planning to swap, waiting up to --wait seconds for another.
- File system refusals (EACCES, EROFS, ENOSPC...) are EnvironmentFailure (exit 4).
"""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from konoha_gen import __version__
from konoha_gen.artifact import LOCK_NAME, Artifact
from konoha_gen.errors import Busy, UnsafeOutput
from konoha_gen.fsops import environment, link_tree, prune_empty_dirs, recover, remove, staging_of, swap

#: Glob patterns (one a line, `#` comments) of hand-made files under out/ that `check` accepts; never generated.
KEEP_NAME = ".konoha-keep"
LOCK_FORMAT = 2  # 1: files map path -> sha256; 2: path -> {"sha256", "mode"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_mode(data: bytes) -> int:
    """The mode a generated file is written with: a script (starts with `#!`) is executable."""
    return 0o755 if data.startswith(b"#!") else 0o644


def _normal_mode(mode: int) -> int:
    """What git records of a mode, and so what `check` compares: executable or not (umask-independent)."""
    return 0o755 if mode & 0o100 else 0o644


@dataclass(frozen=True)
class Lock:
    spec_path: str
    spec_sha256: str
    files: dict[str, bytes]  # path -> the bytes written

    def render(self) -> str:
        body = {
            "generator": "konoha-gen",
            "version": __version__,
            "format": LOCK_FORMAT,
            "spec": {"path": self.spec_path, "sha256": self.spec_sha256},
            "files": {path: {"sha256": sha256(data), "mode": f"{file_mode(data):04o}"}
                      for path, data in sorted(self.files.items())},
        }
        return json.dumps(body, indent=2, sort_keys=False) + "\n"


def read_lock(out_dir: Path) -> dict[str, str]:
    """Files the previous build generated, path -> sha256 (empty when there is no readable lock). Reads both
    formats: 1 (path -> sha256) and 2 (path -> {"sha256", "mode"})."""
    try:
        body = json.loads((out_dir / LOCK_NAME).read_text("utf-8"))
        files = body["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(files, dict):
        return {}
    result = {}
    for path, entry in files.items():
        digest = entry.get("sha256") if isinstance(entry, dict) else entry
        result[str(path)] = str(digest)
    return result


def is_inside(path: str) -> bool:
    """A relative, normalised POSIX path that stays inside out/ (what every lock entry must be)."""
    pure = PurePosixPath(path)
    return (bool(path) and not pure.is_absolute() and ".." not in pure.parts and str(pure) == path
            and "\\" not in path and "\0" not in path)


@dataclass
class Plan:
    """What a build would do to out/, file by file."""

    create: list[str] = field(default_factory=list)
    update: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    mode: list[str] = field(default_factory=list)  # same bytes, wrong executable bit: the build restores it
    identical: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)  # generated files changed by hand since the last build
    conflicts: list[str] = field(default_factory=list)  # foreign files where an artifact must go
    foreign: list[str] = field(default_factory=list)  # files nobody generated, not in .konoha-keep: left alone
    cleaned: list[str] = field(default_factory=list)  # leftovers of an interrupted build, removed
    contents: dict[str, bytes] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.create or self.update or self.delete or self.mode)


def with_lock(artifacts: list[Artifact], spec_path: str, spec_sha: str) -> dict[str, bytes]:
    """Artifacts plus the lock that records them: the complete content of out/."""
    contents = {a.path: a.data for a in artifacts}
    contents[LOCK_NAME] = Lock(spec_path, spec_sha, dict(contents)).render().encode("utf-8")
    return contents


def plan(out_dir: Path, contents: dict[str, bytes]) -> Plan:
    """Compare out/ with `contents`; raises UnsafeOutput when the lock or a symbolic link would lead outside."""
    out_dir = resolve_out(out_dir)
    previous = read_lock(out_dir)
    _refuse_unsafe(out_dir, previous, contents)
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
            mode = _normal_mode(target.lstat().st_mode)
            (result.identical if mode == file_mode(data) else result.mode).append(path)
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
    result.foreign = foreign_files(out_dir, set(contents) | set(previous))
    return result


def resolve_out(out_dir: Path) -> Path:
    """The directory out/ is: itself, or what it resolves to when it (or a parent) is a symbolic link."""
    return Path(os.path.realpath(out_dir.absolute()))


def _refuse_unsafe(out_dir: Path, previous: dict[str, str], contents: dict[str, bytes]) -> None:
    bad = sorted(path for path in set(previous) | set(contents) if not is_inside(path))
    if bad:
        raise UnsafeOutput(f"{out_dir / LOCK_NAME} lists {', '.join(map(repr, bad))}: a lock path must be "
                           f"relative, normalised and inside out/ (konoha-gen never writes such an entry; restore "
                           f"the lock from version control or delete it)")
    links = set()
    for path in set(previous) | set(contents):
        current = out_dir
        for part in PurePosixPath(path).parts:
            current = current / part
            if current.is_symlink():
                links.add(current)
                break
            if not current.is_dir():
                break
    if links:
        raise UnsafeOutput(f"{', '.join(map(str, sorted(links)))}: symbolic link on a generated path; "
                           f"konoha-gen never writes or deletes through a link: replace it with a real folder "
                           f"or file (or move it away)")


def read_keep(out_dir: Path) -> list[str]:
    """The glob patterns of out/.konoha-keep (none when it does not exist)."""
    try:
        text = (out_dir / KEEP_NAME).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def _kept(path: str, patterns: list[str]) -> bool:
    """fnmatch against the path under out/ (`*` also crosses `/`); a pattern ending in `/` keeps a folder."""
    return any(fnmatch.fnmatchcase(path, p) or (p.endswith("/") and path.startswith(p)) for p in patterns)


def foreign_files(out_dir: Path, generated: set[str]) -> list[str]:
    """Files (and links) under out/ that neither this build nor the last generated, nor .konoha-keep lists."""
    if not out_dir.is_dir():
        return []
    patterns = read_keep(out_dir)
    found = []
    for root, dirs, files in os.walk(out_dir):
        relative = Path(root).relative_to(out_dir)
        names = files + [d for d in dirs if (Path(root) / d).is_symlink()]  # os.walk does not enter links
        for name in names:
            path = (relative / name).as_posix()
            if path not in generated and path != KEEP_NAME and not _kept(path, patterns):
                found.append(path)
    return sorted(found)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def lock_file(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.konoha-lock"


@dataclass
class Session:
    out_dir: Path  # the real directory (out/ resolved)
    cleaned: list[str]


@contextlib.contextmanager
def locked(out_dir: Path, *, wait: float = 60.0,
           on_wait: Callable[[Path], None] | None = None) -> Iterator[Session]:
    """Hold the exclusive lock of out/ (waiting up to `wait` seconds, then Busy) and clear what an interrupted
    build left beside it: the one place a build plans and writes."""
    real = resolve_out(out_dir)
    path = lock_file(real)
    with environment("create the lock file", path):
        real.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        with environment("lock", path):
            _acquire(fd, path, wait, on_wait)
        with environment("remove the leftover of an interrupted build", staging_of(real)):
            cleaned = recover(real)
        yield Session(real, cleaned)
    finally:
        os.close(fd)  # releases the lock; the file stays (deleting it would race with a waiting build)


def _acquire(fd: int, path: Path, wait: float, on_wait: Callable[[Path], None] | None) -> None:
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if time.monotonic() >= deadline:
            raise Busy(str(path), wait)
        if not told and on_wait is not None:
            on_wait(path)
            told = True
        time.sleep(0.05)


def apply(out_dir: Path, result: Plan) -> None:
    """Make out/ match the plan, atomically; a no-op plan touches nothing. Call under `locked`."""
    if not result.changed:
        return
    out_dir = resolve_out(out_dir)
    staging = staging_of(out_dir)
    try:
        with environment("stage the new tree in", staging):
            if out_dir.exists():
                link_tree(out_dir, staging)
            else:
                staging.mkdir(parents=True)
            for path in result.delete:
                (staging / path).unlink(missing_ok=True)
                prune_empty_dirs(staging, Path(path).parent)
            for path in result.create + result.update + result.mode:
                target = staging / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.unlink(missing_ok=True)  # never write through a hard link into the old tree
                _write_file(target, result.contents[path])
        with environment("swap the new tree into", out_dir):
            swap(staging, out_dir)
    except BaseException:
        with contextlib.suppress(OSError):
            remove(staging)  # out/ is as it was (or, after the exchange, the new tree); leave nothing beside it
        raise


def _write_file(path: Path, data: bytes) -> None:
    """Create `path` (it must not exist) holding `data`, with its mode whatever the umask."""
    mode = file_mode(data)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


