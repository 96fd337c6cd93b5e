"""Applying edits: to bytes, to the scratch copy, and to the real repository; the manifest.

Edits are applied to in-memory sources (`apply_sites`); the scratch copy is rewritten file by
file between verification rounds (`write_copy`); the real repository is written only at the
end, atomically per file and undone on failure (`write_back`), and `restore` undoes an
injection from its manifest.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from armbench.core import IGNORED_DIRS
from armbench.tasks.inject.catalogue import OPERATORS
from armbench.tasks.inject.manifest import (
    ExpectedFinding,
    FileDigest,
    InjectionError,
    InjectionManifest,
    InjectionRequest,
    MutationRecord,
    TextEdit,
    sha256,
)
from armbench.tasks.inject.sites import Site

# --- applying edits -------------------------------------------------------------------------


def apply_sites(sources: Mapping[str, bytes], sites: Iterable[Site]) -> dict[str, bytes]:
    """The touched files with their sites' edits applied (edits never overlap)."""
    by_path: dict[str, list[Site]] = {}
    for site in sites:
        by_path.setdefault(site.path, []).append(site)
    out: dict[str, bytes] = {}
    for path, group in sorted(by_path.items()):
        data = sources[path]
        for site in sorted(group, key=lambda s: s.edit.start, reverse=True):
            edit = site.edit
            if data[edit.start : edit.end] != edit.old:
                raise InjectionError(f"{path}: site {site.operator} does not match the file")
            data = data[: edit.start] + edit.new + data[edit.end :]
        out[path] = data
    return out


def line_number(data: bytes, offset: int) -> int:
    r"""1-based line of byte `offset`, counting `\n`, `\r\n` and lone `\r` as Python does."""
    head = data[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def line_ranges(sources: Mapping[str, bytes], sites: Sequence[Site]) -> dict[Site, tuple[int, int]]:
    """Each site's extent as a line range of the mutated file (after every edit in it)."""
    ranges: dict[Site, tuple[int, int]] = {}
    mutated = apply_sites(sources, sites)
    for site in sites:
        same = [s.edit for s in sites if s.path == site.path]
        start = site.extent[0] + sum(e.delta for e in same if e.start < site.extent[0])
        end = site.extent[1] + sum(e.delta for e in same if e.start <= site.extent[1])
        data = mutated[site.path]
        ranges[site] = (line_number(data, start), line_number(data, max(start, end - 1)))
    return ranges


def sorted_sites(sites: Iterable[Site]) -> tuple[Site, ...]:
    return tuple(sorted(sites, key=lambda s: s.order_key))


# --- the scratch copy and the manifest ------------------------------------------------------


_STAMP_BASE = 1_000_000_000
"""Mtimes (2001) given to rewritten files of the scratch copy, one second apart per round."""


def write_copy(
    work: Path,
    sources: Mapping[str, bytes],
    chosen: Sequence[Site],
    written: set[str],
    round_no: int,
) -> set[str]:
    """Bring the scratch copy to `sources` + `chosen`, rewriting only files that change.

    mypy's incremental cache trusts a file whose size and whole-second mtime are unchanged,
    and a swapped-letter typo keeps the size; so every rewrite gets an mtime of its own.
    """
    mutated = apply_sites(sources, chosen)
    stamp = _STAMP_BASE + round_no
    rewrites = {p: sources[p] for p in written - set(mutated)} | mutated
    for path, data in sorted(rewrites.items()):
        (work / path).write_bytes(data)
        os.utime(work / path, (stamp, stamp))
    return set(mutated)


def build_manifest(
    request: InjectionRequest,
    sources: Mapping[str, bytes],
    sites: Iterable[Site],
    evidence: Mapping[Site, ExpectedFinding],
    checkers: Mapping[str, str],
) -> InjectionManifest:
    """The manifest for `sites` applied to `sources`, edits ordered by path then offset."""
    ordered = sorted_sites(sites)
    mutated = apply_sites(sources, ordered)
    shift: dict[str, int] = {}
    records: list[MutationRecord] = []
    for site in ordered:
        offset = site.edit.start + shift.get(site.path, 0)
        shift[site.path] = shift.get(site.path, 0) + site.edit.delta
        old, new = site.edit.old.decode("utf-8"), site.edit.new.decode("utf-8")
        operator = OPERATORS[site.operator]
        records.append(
            MutationRecord(
                kind=site.kind,
                operator=site.operator,
                path=site.path,
                line=line_number(mutated[site.path], offset),
                description=operator.description,
                change=site.change,
                forward=TextEdit(offset=offset, old=old, new=new),
                inverse=TextEdit(offset=offset, old=new, new=old),
                finding=evidence.get(site),
            )
        )
    files = tuple(
        FileDigest(path=p, sha256_before=sha256(sources[p]), sha256_after=sha256(data))
        for p, data in sorted(mutated.items())
    )
    return InjectionManifest(
        seed=request.seed,
        requested=request.counts,
        checkers=dict(sorted(checkers.items())),
        mutations=tuple(records),
        files=files,
    )


# --- the real repository --------------------------------------------------------------------


def copy_repo(repo: Path, work: Path) -> None:
    """Copy everything but caches; a `.git` marker keeps ruff honouring `.gitignore`."""
    if not repo.is_dir():
        raise InjectionError(f"{repo} is not a directory")
    shutil.copytree(repo, work, symlinks=True, ignore=lambda _d, names: IGNORED_DIRS & set(names))
    if any((p / ".git").exists() for p in (repo, *repo.parents)):
        (work / ".git").mkdir(exist_ok=True)


def write_back(repo: Path, originals: Mapping[str, bytes], contents: Mapping[str, bytes]) -> None:
    """Write `contents` into `repo` file by file (temp + rename); undo all on any failure."""
    for path in contents:
        if (repo / path).read_bytes() != originals[path]:
            raise InjectionError(
                f"{path} changed while injecting; nothing was written — run `inject` again"
            )
    done: list[str] = []
    try:
        for path, data in sorted(contents.items()):
            _atomic_write(repo / path, data)
            done.append(path)
    except OSError as exc:
        for path in done:
            _atomic_write(repo / path, originals[path])
        raise InjectionError(f"could not write {repo}: {exc}; the repository was restored") from exc


def _atomic_write(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        shutil.copymode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def restore(repo: Path, manifest: InjectionManifest) -> None:
    """Undo an injection by applying the manifest's inverse edits in reverse order.

    Raises InjectionError, writing nothing, when a touched file no longer holds the injected
    bytes or the result would not hash to the recorded original.
    """
    repo = repo.resolve()
    current: dict[str, bytes] = {}
    for path in manifest.touched_paths:
        try:
            current[path] = (repo / path).read_bytes()
        except OSError as exc:
            raise InjectionError(f"{path}: cannot read it to restore ({exc})") from exc
    originals = manifest.apply_inverse(current)
    write_back(repo, current, originals)
