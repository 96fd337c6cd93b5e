"""Walking and fingerprinting trees, with the cache folders no check should ever look at."""

from __future__ import annotations

import hashlib
import os
import shutil
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
    """sha256 of every file under `root` (symlinks by their target path, not followed)."""
    prints: dict[str, str] = {}
    for rel in iter_files(root):
        path = root / rel
        if path.is_symlink():
            prints[rel] = "symlink:" + hashlib.sha256(os.readlink(path).encode()).hexdigest()
        else:
            prints[rel] = sha256_file(path)
    return prints


def copy_tree(source: Path, dest: Path) -> None:
    """Copy `source` to a new folder `dest`, without caches, keeping symlinks as links."""
    shutil.copytree(
        source,
        dest,
        symlinks=True,
        ignore=shutil.ignore_patterns(*IGNORED_DIRS),
    )
