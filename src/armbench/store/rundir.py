"""The run directory: `manifest.json`, `armbench.sqlite`, `transcripts/<trial>.json`.

The manifest says what was run and with what (config and its hash, armbench and checker
versions, pack hashes, the effective rate card, host, start and end); the database holds the
trials and the ledger; transcripts hold every message of every trial (an earlier attempt's,
retried, as `<trial>.attempt<k>.json`). `run.lock` is held by the one process that runs the
run's trials, if any.

A transcript is written before its trial's transaction commits, so a killed run may leave one
its database never recorded; the next execution of the run removes every transcript no row
names (`remove_unrecorded`) before it runs anything, so none is ever taken for a result.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from armbench.store.db import RunDatabase
from armbench.store.integrity import RunDirectoryError

MANIFEST = "manifest.json"
DATABASE = "armbench.sqlite"
TRANSCRIPTS = "transcripts"
LOCK = "run.lock"
WAL_FILES = ("-wal", "-shm")
"""What SQLite keeps beside a database in WAL mode while it is open."""


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: int = 1
    run_id: str
    name: str
    armbench_version: str
    started_at: str
    finished_at: str | None = None
    config: dict[str, Any]
    """The validated config, paths resolved."""
    config_hash: str
    config_source: str
    overrides: list[str] | None = None
    """The `--set` overrides (and `--sandbox`, as `sandbox=...`) applied to the file at
    `config_source`, in order: with them, `resume` checks that the file still gives this
    config. None: a run made before they were recorded."""
    resumed_with: list[dict[str, Any]] = []
    """Execution settings a `resume` changed (`{at, budget_usd?, concurrency?}`, in order):
    how the trials ran, never what they measure, so the config and its hash stay as
    recorded and later resumes apply them in turn (see runner.resume.execution_settings)."""
    checkers: dict[str, str]
    """armbench's pinned checkers, as read back (empty when every task's pack brings its own)."""
    toolchains: dict[str, Any] = {}
    """Per pack with a `pack.yaml` of substance: its source, checker arguments, environment and
    own toolchain (interpreter, lock sha256, every package's version as read back)."""
    sdks: dict[str, str] = {}
    """Versions of the provider SDKs and the price source."""
    python: str
    host: dict[str, Any]
    packs: dict[str, Any]
    rate_card: dict[str, Any]
    """`{source, sha256, models}`: the effective prices the run was costed with."""
    simulated: bool
    """True when any model of the run is simulated: its numbers do not measure a real model."""
    trials_planned: int
    prompts: list[dict[str, Any]] = []
    """Every prompt the run renders: `{id, sha256, source, arms}` (see runner.run)."""
    sandbox: dict[str, Any] = {}
    """How commands ran: `{backend, confined, limits, readable, hidden}` (see env.factory)."""
    backend: dict[str, Any] = {}
    """Where trials ran: `{name: local}`, or `{name: ray, address, ray}` (the cluster's address
    as given, without credentials; None: a local Ray armbench started). Empty: a run made
    before backends, which ran locally. A resume on another backend says so in
    `resumed_with` (see runner.backends)."""
    imported: dict[str, Any] | None = None
    """Runs made by `armbench import`, not by armbench: `{importer, source, sha256, notes}` —
    where the data came from and what it does not measure (notes are shown by every report)."""


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would make reports and manifests private
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class RunBusy(RunDirectoryError):
    """Another process is running this run's trials: running them here too would run some
    twice (and record one of them over the other's transcript)."""


class RunDirectory:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, parent: Path, name: str) -> RunDirectory:
        """A new, uniquely named run directory under `parent`."""
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        # Absolute: trials run commands in other directories, and a relative run directory
        # (`--out runs`) made every prepared template's warm mypy cache miss (3.6 s per judge
        # instead of 0.3 s).
        path = parent.absolute() / f"{name}-{stamp}-{secrets.token_hex(2)}"
        path.mkdir(parents=True)
        (path / TRANSCRIPTS).mkdir()
        return cls(path)

    @classmethod
    def open(cls, path: Path) -> RunDirectory:
        """An existing run, its database checked as a writer would (see RunDatabase): an
        empty or damaged file is refused here, before a resume could write over it."""
        path = path.absolute()
        if not (path / MANIFEST).is_file():
            raise RunDirectoryError(f"{path}: not a run directory (no {MANIFEST})")
        if not (path / DATABASE).is_file():
            raise RunDirectoryError(
                f"{path}: the run has no database ({DATABASE}); it never started"
            )
        RunDatabase.check(path / DATABASE)
        return cls(path)

    @property
    def run_id(self) -> str:
        return self.path.name

    def read_manifest(self) -> Manifest:
        try:
            return Manifest.model_validate_json((self.path / MANIFEST).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise RunDirectoryError(f"{self.path / MANIFEST}: unreadable manifest: {exc}") from exc

    def write_manifest(self, manifest: Manifest) -> None:
        write_atomic(self.path / MANIFEST, manifest.model_dump_json(indent=2) + "\n")

    def create_database(self) -> None:
        """The run's database with its schema, made under another name and renamed into place:
        a run killed meanwhile has no database (it never started) rather than an empty file,
        which every resume would have to refuse."""
        staged = self.path / f".{DATABASE}.{secrets.token_hex(4)}.tmp"
        try:
            RunDatabase(staged).close()
            os.replace(staged, self.path / DATABASE)
        finally:
            for leftover in (staged, *(staged.with_name(staged.name + w) for w in WAL_FILES)):
                leftover.unlink(missing_ok=True)

    def database(self) -> RunDatabase:
        """The database to write trials to (created with its schema if absent)."""
        return RunDatabase(self.path / DATABASE)

    def read_database(self) -> RunDatabase:
        """The database opened read-only, its schema checked: what every view reads."""
        return RunDatabase(self.path / DATABASE, read_only=True)

    def write_transcript(self, trial_id: str, text: str) -> str:
        """Write a transcript (JSON text); returns its path relative to the run directory."""
        relative = f"{TRANSCRIPTS}/{trial_id}.json"
        write_atomic(self.path / relative, text + "\n")
        return relative

    @staticmethod
    def attempt_transcript(trial_id: str, attempt: int) -> str:
        """Where an earlier attempt's transcript is kept once the trial is retried."""
        return f"{TRANSCRIPTS}/{trial_id}.attempt{attempt}.json"

    def remove_unrecorded(self, recorded: set[str]) -> list[str]:
        """Remove every transcript not in `recorded` (paths relative to the run directory, as
        the database holds them) and the staging files of interrupted writes; what was
        removed. Only while no process runs the trials (see `executing`)."""
        removed = []
        folder = self.path / TRANSCRIPTS
        for path in sorted(folder.iterdir()) if folder.is_dir() else ():
            relative = f"{TRANSCRIPTS}/{path.name}"
            if relative not in recorded and path.is_file():
                path.unlink()
                removed.append(relative)
        for staged in self.path.glob(f".{MANIFEST}.*.tmp"):
            staged.unlink()
        return removed

    @contextlib.contextmanager
    def executing(self) -> Iterator[None]:
        """Held by the one process running this run's trials: RunBusy, naming the holder, if
        another does. The lock (`flock` on `run.lock`) dies with its process, however it
        dies; the file stays, saying who held it last."""
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 4096).decode(errors="replace").strip() or "another process"
                raise RunBusy(
                    f"{self.path}: its trials are being run by {holder}; wait for it to end "
                    "(or stop it) before resuming"
                ) from None
            os.ftruncate(fd, 0)
            holder = f"pid {os.getpid()} on {socket.gethostname()} since {utc_now()}"
            os.pwrite(fd, holder.encode() + b"\n", 0)
            yield
        finally:
            os.close(fd)

    def read_transcript(self, relative: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.path / relative).read_text(encoding="utf-8"))
        return data
