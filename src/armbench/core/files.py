"""Walking and fingerprinting trees, with the cache folders no check should ever look at.

A workspace is the agent's: its "files" may be symlinks to the host's secrets, FIFOs that block
a reader forever, or devices that never end. What the harness reads of one goes through
`read_regular` (regular files only, never following a link, size-capped) or is fingerprinted
without being opened when it is not a regular file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

IGNORED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
        ".hypothesis", ".tox", ".nox", ".venv", "venv", "node_modules",
    }
)  # fmt: skip
"""Caches, environments and VCS data: never copied into a workspace, fingerprinted or judged."""


def iter_files(root: Path) -> Iterator[str]:
    """Posix paths of the regular files under `root`, sorted, skipping cache folders.

    Symlinks are listed (as files) but never followed into directories.
    """
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        base = Path(dirpath)
        for name in sorted(filenames):
            yield (base / name).relative_to(root).as_posix()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint_tree(root: Path) -> dict[str, str]:
    """sha256 of every file under `root` (symlinks by their target path, not followed; FIFOs,
    sockets and devices by their kind, never opened)."""
    prints: dict[str, str] = {}
    for rel in iter_files(root):
        path = root / rel
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            prints[rel] = "symlink:" + hashlib.sha256(os.readlink(path).encode()).hexdigest()
        elif not stat.S_ISREG(mode):
            prints[rel] = f"special:{stat.S_IFMT(mode):o}"
        else:
            prints[rel] = sha256_file(path)
    return prints


MAX_READ = 8 * 1024 * 1024
"""The most `read_regular` reads of one file: 8 MiB."""


def read_regular(path: Path, limit: int = MAX_READ) -> bytes | None:
    """The first `limit` bytes of `path` if it is a regular file (not a symlink, a FIFO or a
    device), else None. Opened without following a link and without blocking."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks, left = [], limit
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def copy_tree(source: Path, dest: Path) -> None:
    """Copy `source` to a new folder `dest`, without caches, keeping symlinks as links."""
    shutil.copytree(
        source,
        dest,
        symlinks=True,
        ignore=shutil.ignore_patterns(*IGNORED_DIRS),
    )
