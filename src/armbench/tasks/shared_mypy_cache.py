"""A mypy cache shared by every run of this user, to start each template's warm-up from.

A task's template is checked by mypy once per run, so that the judge starts warm, and the
injector checks its copy of a repository many times. From an empty cache that is mostly the
standard library's stubs (some 5 s of CPU on the demo pack, for a 13 MB cache), paid again by
every run although none of it changed. So a template's or an injection's cache starts as a
copy of the one the first run left for the same interpreter, mypy arguments and configuration
files, and mypy still runs on it: it re-checks whatever differs (its cache records each
module's source hash, its own version and its options, and it discards an entry that does not
match), so the verdict is the one a cold run gives, and a copy that failed half-way only costs
time.

It lives in the user cache (armbench.tasks.sources.cache_root), which a bubblewrap sandbox does
not let the agent reach; the first run to warm a key publishes its cache there by rename.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path

from armbench.tasks.sources import cache_root

CONFIG_FILES = ("mypy.ini", ".mypy.ini", "pyproject.toml", "setup.cfg")
"""The files mypy reads its options from in the folder it runs in."""


def shared_cache(python: str, root: Path, args: Sequence[str]) -> Path:
    """Where the shared cache for this interpreter, these args and the configuration files of
    `root` lives: projects configured alike share one (mostly the standard library's entries),
    and one configured otherwise, whose options would invalidate those entries, has its own."""
    key = hashlib.sha256("\0".join([os.path.realpath(python), *args]).encode())
    for name in CONFIG_FILES:
        path = root / name
        key.update(b"\0" + name.encode() + b"\0")
        if path.is_file():
            key.update(path.read_bytes())
    return cache_root() / "mypy" / key.hexdigest()[:16]


def seed(cache: Path, shared: Path) -> bool:
    """Copy `shared` into the new or empty folder `cache`; False (and `cache` empty) when there
    is none or the copy failed (another run replacing it at that moment)."""
    if not shared.is_dir():
        return False
    try:
        shutil.copytree(shared, cache, dirs_exist_ok=True, copy_function=shutil.copyfile)
    except (OSError, shutil.Error):
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        return False
    return True


def publish(cache: Path, shared: Path) -> None:
    """Make `cache` the shared one when there is none yet (a rename: readers see all or none)."""
    if shared.is_dir():
        return
    shared.parent.mkdir(parents=True, exist_ok=True)
    staging = shared.with_name(f".{shared.name}-{secrets.token_hex(4)}")
    try:
        shutil.copytree(cache, staging, copy_function=shutil.copyfile)
        staging.rename(shared)
    except OSError:  # another run published first, or the disk is full: theirs will do
        pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
