"""File-system steps of the writer (write.py): stage a tree with hard links, swap it in atomically, clear what
an interrupted build left, and turn the operating system's refusals into EnvironmentFailure (exit 4)."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from konoha_gen.errors import EnvironmentFailure


def staging_of(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.konoha-staging"


def backup_of(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.konoha-previous"


_MEANING = {
    errno.EACCES: "permission denied: the user running konoha-gen may not write there",
    errno.EPERM: "operation not permitted: the user running konoha-gen may not change it",
    errno.EROFS: "the file system is mounted read-only",
    errno.ENOSPC: "the file system is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EMLINK: "too many links",
    errno.EMFILE: "too many open files",
}


@contextlib.contextmanager
def environment(action: str, path: Path) -> Iterator[None]:
    """Report an OSError as the file system refusing `action` on a path (EnvironmentFailure, exit 4)."""
    try:
        yield
    except OSError as error:
        code = error.errno or 0
        raise EnvironmentFailure(action, str(error.filename or path), errno.errorcode.get(code, f"errno {code}"),
                                 error.strerror or str(error),
                                 _MEANING.get(code, "the operating system refused it")) from error


def remove(path: Path) -> None:
    """Remove a leftover folder, or the link that stands in its place (never what the link points at)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def link_tree(source: Path, destination: Path) -> None:
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


def prune_empty_dirs(root: Path, relative: Path) -> None:
    while relative != Path("."):
        directory = root / relative
        try:
            directory.rmdir()  # only succeeds when empty
        except OSError:
            return
        relative = relative.parent


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
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


def swap(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.rename(staging, out_dir)
        return
    if exchange(staging, out_dir):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the old tree; what stays is removed by the next build
        return
    backup = backup_of(out_dir)
    os.rename(out_dir, backup)  # a kill here is repaired by recover on the next run
    os.rename(staging, out_dir)
    shutil.rmtree(backup, ignore_errors=True)


def recover(out_dir: Path) -> list[str]:
    """Finish a swap that the non-atomic fallback left half-done and remove a leftover staging folder (or the
    staging symbolic link an older konoha-gen could leave); the names of what was removed."""
    cleaned = []
    backup = backup_of(out_dir)
    if backup.exists() or backup.is_symlink():
        if out_dir.exists():
            remove(backup)
            cleaned.append(backup.name)
        else:
            os.rename(backup, out_dir)
    staging = staging_of(out_dir)
    if staging.exists() or staging.is_symlink():
        remove(staging)
        cleaned.append(staging.name)
    return cleaned
