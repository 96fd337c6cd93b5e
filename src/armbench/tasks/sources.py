"""Pack sources: an upstream release as a task's fixture, fetched once, checked, reused.

A `pypi` source is downloaded with pip (the ordinary package client, so the user's index,
proxy and certificates apply) as the sdist of one pinned release; an `archive` is copied from a
path or URL. Either is refused unless its sha256 is the one the pack pins. It is unpacked into
the user cache (`$ARMBENCH_CACHE`, else `$XDG_CACHE_HOME/armbench`, else `~/.cache/armbench`),
given a `.gitignore` for the caches and outputs its tests write, and committed as a baseline
(so `git status` in the cache shows whether anything touched it). The tree's fingerprint is
recorded beside it and checked every time it is reused.

Everything before the final rename happens in a private folder, under a lock: a failed or
interrupted fetch leaves nothing half-made, and two runs fetching at once fetch once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from armbench.core import IGNORED_DIRS, fingerprint_tree, sha256_file
from armbench.env import die_with_parent
from armbench.tasks.pack_spec import ArchiveSource, PathSource, PypiSource, SourceSpec

DOWNLOAD_TIMEOUT_S = 300
GITIGNORE_BASE = (
    *(f"{d}/" for d in sorted(IGNORED_DIRS)),
    "*.pyc",
    ".coverage",
    ".coverage.*",
    "coverage/",
    "htmlcov/",
)
"""What every fetched source ignores: caches, environments, coverage data."""


class SourceError(RuntimeError):
    """A pack's source cannot be had: the message names the source and the fix."""


def cache_root() -> Path:
    """Where armbench keeps what it fetched and built, shared by every run of this user."""
    if os.environ.get("ARMBENCH_CACHE"):
        return Path(os.environ["ARMBENCH_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "armbench"


@contextmanager
def cache_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (a lock file), across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def tree_digest(tree: Path) -> str:
    return hashlib.sha256(json.dumps(fingerprint_tree(tree), sort_keys=True).encode()).hexdigest()


def materialize(source: SourceSpec, pack_folder: Path, ignored: tuple[str, ...] = ()) -> Path:
    """The folder holding `source`'s tree, fetched and unpacked into the cache if need be.

    SourceError, naming the source and the fix, when it cannot be fetched, its hash differs or
    the cached tree was changed since it was made."""
    if isinstance(source, PathSource):
        folder = (pack_folder / source.path).expanduser().resolve()
        if not folder.is_dir():
            raise SourceError(f"source {source.describe()}: no such folder {folder}")
        return folder
    root = cache_root() / "sources" / source.cache_key()
    tree, record = root / "tree", root / "source.json"
    with cache_lock(root.with_name(root.name + ".lock")):
        if record.is_file() and tree.is_dir():
            return _reused(source, tree, record)
        shutil.rmtree(root, ignore_errors=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".fetch-", dir=root.parent) as tmp:
            staging = Path(tmp)
            archive = _obtain(source, pack_folder, staging / "download")
            found = sha256_file(archive)
            if found != source.sha256:
                raise SourceError(
                    f"source {source.describe()}: {archive.name} has sha256 {found}, but the "
                    f"pack pins {source.sha256}. The upstream file is not the one the pack was "
                    "made from (or the pin is wrong); nothing was unpacked. Fix the pin only "
                    "if you trust the new file."
                )
            _unpack(archive, staging / "tree")
            _baseline(staging / "tree", ignored)
            meta = {
                "source": source.model_dump(),
                "archive": archive.name,
                "tree_sha256": tree_digest(staging / "tree"),
            }
            (staging / "source.json").write_text(json.dumps(meta, indent=2) + "\n")
            shutil.rmtree(staging / "download")
            staging.rename(root)
            staging.mkdir()  # TemporaryDirectory removes what it made
    return tree


def _reused(source: SourceSpec, tree: Path, record: Path) -> Path:
    meta = json.loads(record.read_text(encoding="utf-8"))
    if tree_digest(tree) != meta.get("tree_sha256"):
        raise SourceError(
            f"source {source.describe()}: the cached tree {tree} changed since it was fetched "
            f"(`git -C {tree} status` shows how); delete {tree.parent} and armbench fetches "
            "it again"
        )
    return tree


def _obtain(source: PypiSource | ArchiveSource, pack_folder: Path, into: Path) -> Path:
    into.mkdir(parents=True)
    if isinstance(source, PypiSource):
        return _pip_download(source, into)
    location = source.archive
    if location.startswith(("http://", "https://", "file://")):
        target = into / Path(location.split("?")[0].rstrip("/")).name
        try:
            with (
                urllib.request.urlopen(location, timeout=DOWNLOAD_TIMEOUT_S) as response,
                target.open("wb") as out,
            ):
                shutil.copyfileobj(response, out)
        except OSError as exc:
            raise SourceError(
                f"source {source.describe()}: cannot download it ({exc}); check the URL and "
                "the network, or download it by hand and give its path"
            ) from exc
        return target
    path = (pack_folder / location).expanduser()
    if not path.is_file():
        raise SourceError(f"source {source.describe()}: no such file {path.resolve()}")
    target = into / path.name
    shutil.copyfile(path, target)
    return target


def _pip_download(source: PypiSource, into: Path) -> Path:
    requirement = f"{source.name}=={source.version}"
    argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    argv += ["--disable-pip-version-check", "--quiet", "-d", str(into), requirement]
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=DOWNLOAD_TIMEOUT_S,
            preexec_fn=die_with_parent,  # a killed armbench leaves no pip behind
        )
    except subprocess.TimeoutExpired as exc:
        raise SourceError(
            f"source {source.describe()}: pip download took over {DOWNLOAD_TIMEOUT_S} s"
        ) from exc
    files = sorted(p for p in into.iterdir() if p.name.endswith((".tar.gz", ".zip", ".tar")))
    if done.returncode != 0 or len(files) != 1:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-6:])
        raise SourceError(
            f"source {source.describe()}: `pip download --no-deps --no-binary :all: "
            f"{requirement}` failed (exit {done.returncode}):\n{tail}\nCheck the network and "
            "pip's index settings, or download the sdist by hand and declare it as "
            "`kind: archive` with its path."
        )
    return files[0]


def _unpack(archive: Path, dest: Path) -> None:
    """Unpack `archive` at `dest`, dropping the single top folder release archives have; no
    member may land outside `dest` (tarfile's `data` filter, zip paths checked)."""
    raw = dest.with_name(dest.name + ".raw")
    raw.mkdir()
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    if not (raw / name).resolve().is_relative_to(raw.resolve()):
                        raise SourceError(f"{archive.name}: member {name!r} leaves the archive")
                zf.extractall(raw)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(raw, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{archive.name}: cannot unpack it: {exc}") from exc
    entries = list(raw.iterdir())
    top = entries[0] if len(entries) == 1 and entries[0].is_dir() else raw
    top.rename(dest)
    shutil.rmtree(raw, ignore_errors=True)


def _baseline(tree: Path, ignored: tuple[str, ...]) -> None:
    """A `.gitignore` for what the project's tests and tools write, and, where git exists, a
    baseline commit of the tree as fetched."""
    gitignore = tree / ".gitignore"
    existing = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.is_file() else []
    wanted = [line for line in (*GITIGNORE_BASE, *ignored) if line not in existing]
    if wanted:
        header = ["# added by armbench: caches and outputs the tests write"]
        gitignore.write_text("\n".join([*existing, *header, *wanted]) + "\n", encoding="utf-8")
    if shutil.which("git") is None:
        return
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tree),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "armbench",
        "GIT_AUTHOR_EMAIL": "armbench@localhost",
        "GIT_COMMITTER_NAME": "armbench",
        "GIT_COMMITTER_EMAIL": "armbench@localhost",
        "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
    }
    for argv in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "--no-gpg-sign", "-m", "baseline: the source as fetched"],
    ):
        subprocess.run(
            argv,
            cwd=tree,
            env=env,
            capture_output=True,
            check=False,
            timeout=120,
            preexec_fn=die_with_parent,
        )
