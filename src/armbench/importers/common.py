"""What the importers share: the input error, infra classes read from error texts, small
readers, and writing an imported run — all at once, or not at all.

An importer reads and checks every row first and builds an `ImportedRun` in memory; only then
is a run directory created, and a failure while writing it removes it again, so a bad input or
a crash never leaves half an import that `show` would read as a real run.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from armbench.core import VERSION, InfraClass, TrialRecord
from armbench.pricing.effective import card_record
from armbench.pricing.ratecard import RateCard, UnknownPriceError
from armbench.store.rundir import Manifest, RunDirectory, utc_now

Importer = Literal["fep", "hce"]


class ImportDataError(ValueError):
    """Input that cannot be imported; the message names the file, the line and the field."""


_PROVIDER_FAILURES: tuple[tuple[InfraClass, re.Pattern[str]], ...] = (
    # Order matters: a 400 that says the credit balance is too low is quota, not a bad request.
    (
        "quota",
        re.compile(
            r"credit balance|insufficient[_ ]quota|exceeded your current quota|billing"
            r"|payment required|error code: 402",
            re.I,
        ),
    ),
    ("rate_limit", re.compile(r"rate[_ -]?limit|too many requests|error code: 429", re.I)),
    ("overloaded", re.compile(r"overloaded|error code: 529", re.I)),
    (
        "auth",
        re.compile(
            r"authenticat|unauthori[sz]ed|permission[_ ]?denied|api[_ -]?key"
            r"|error code: 40[13]",
            re.I,
        ),
    ),
    ("timeout", re.compile(r"timed out|timeout|error code: (408|504)", re.I)),
    (
        "connection",
        re.compile(
            r"connection ?error|connect ?error|connection (refused|reset|aborted)"
            r"|remote ?protocol ?error|network is unreachable|name or service not known",
            re.I,
        ),
    ),
    (
        "server_error",
        re.compile(
            r"internal ?server ?error|bad gateway|service unavailable|error code: 5\d\d", re.I
        ),
    ),
)


def classify_provider_failure(text: str) -> InfraClass | None:
    """The infra class of a provider failure named in an error text (the provider SDKs' own
    words and status codes), or None when the text names no provider failure.

    Deliberately narrow: a harness's own exception (a JSON parse of the model's answer, a
    crashed tool) says nothing about the provider, and each importer decides what such rows
    are."""
    for infra_class, pattern in _PROVIDER_FAILURES:
        if pattern.search(text):
            return infra_class
    return None


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def safe_id(text: str) -> str:
    """`text` usable in a trial id (trial ids name files): anything outside letters, digits
    and `._+-` becomes `_`."""
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", text)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportDataError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ImportDataError(f"{path}: not UTF-8 text: {exc}") from exc


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; a line that is not a JSON object is an
    error naming it."""
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportDataError(f"{path}:{number}: not valid JSON: {exc.msg}") from exc
        if not isinstance(row, dict):
            raise ImportDataError(f"{path}:{number}: expected a JSON object per line")
        yield number, row


@dataclass(frozen=True)
class Fields:
    """Typed reads of one input row, every error naming where the row is and the field."""

    row: dict[str, Any]
    at: str
    """`file:line`, as error messages and the trials' `extra.source` say it."""

    def _get(self, key: str) -> Any:
        if key not in self.row:
            raise ImportDataError(f"{self.at}: missing field {key!r}")
        return self.row[key]

    def _bad(self, key: str, value: Any, expected: str) -> ImportDataError:
        return ImportDataError(f"{self.at}: field {key!r}: expected {expected}, got {value!r}")

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value:
            raise self._bad(key, value, "a non-empty string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.row.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self._bad(key, value, "a string or null")
        return value

    def integer(self, key: str, *, minimum: int = 0) -> int:
        value = self._get(key)
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise self._bad(key, value, "a whole number") from None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._bad(key, value, f"a whole number ≥ {minimum}")
        return value

    def number(self, key: str) -> float:
        value = self._get(key)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise self._bad(key, value, "a number") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self._bad(key, value, "a number ≥ 0")
        return float(value)

    def boolean(self, key: str, default: bool | None = None) -> bool:
        if key not in self.row and default is not None:
            return default
        value = self._get(key)
        if isinstance(value, bool):
            return value
        if value in (0, 1, "0", "1", "true", "false", "True", "False"):
            return str(value).lower() in ("1", "true")
        raise self._bad(key, value, "true/false or 1/0")

    def mapping(self, key: str) -> Fields:
        value = self._get(key)
        if not isinstance(value, dict):
            raise self._bad(key, value, "an object")
        return Fields(value, f"{self.at}: {key}")


class Replicates:
    """Replicate numbers in reading order within each (arm, task) cell, so rows that share a
    published trial number (a failed attempt and its rerun) stay distinct trials."""

    def __init__(self) -> None:
        self._next: dict[tuple[str, str], int] = {}

    def next(self, arm: str, task: str) -> int:
        number = self._next.get((arm, task), 0)
        self._next[(arm, task)] = number + 1
        return number


@dataclass(frozen=True)
class ImportedRun:
    """Everything an imported run directory will hold, checked before anything is written."""

    importer: Importer
    name: str
    """Names the run directory (`<name>-<stamp>-<hex>`)."""
    source: Path
    """What the user pointed at (absolute): a folder or a file."""
    files: tuple[Path, ...]
    """Every file read; their sha256 go into the manifest."""
    config: dict[str, Any]
    """Stands in for a run config: the arms (kind, models by role, a description), the models
    (`provider`, `model`, `local`) as `reprice` reads them, and the tasks."""
    card: RateCard
    """The prices the data was costed with: the run's own rate card."""
    provenance: dict[str, str]
    trials: tuple[TrialRecord, ...]
    notes: tuple[str, ...]
    """Sentences saying what the data does not measure; every report shows them."""
    host: dict[str, Any] = field(default_factory=dict)
    """The machine the trials ran on, as far as the data says (not the one that imported)."""
    details: dict[str, Any] = field(default_factory=dict)
    """More of the manifest's `imported` record (e.g. rows not imported, and why)."""


def _file_key(path: Path, source: Path) -> str:
    base = source if source.is_dir() else source.parent
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path.resolve())


def _check(run: ImportedRun) -> None:
    """What would make a broken run: duplicate trial ids, a ledger row the card cannot price."""
    if not run.trials:
        raise ImportDataError(f"{run.source}: no trials to import")
    seen: set[str] = set()
    for trial in run.trials:
        if trial.trial_id in seen:
            raise ImportDataError(f"{run.source}: two rows make the same trial {trial.trial_id}")
        seen.add(trial.trial_id)
        for call in trial.calls:
            try:
                run.card.cost(f"{call.provider}/{call.model}", call.usage, seconds=call.latency_s)
            except UnknownPriceError as exc:
                raise ImportDataError(f"{run.source}: trial {trial.trial_id}: {exc}") from exc


def write_run(run: ImportedRun, out_parent: Path) -> RunDirectory:
    """Write `run` as a new run directory under `out_parent`; on any failure the directory is
    removed and the error raised. The manifest is written last, so even a killed import leaves
    nothing `RunDirectory.open` accepts."""
    _check(run)
    config_hash = hashlib.sha256(json.dumps(run.config, sort_keys=True).encode()).hexdigest()
    imported: dict[str, Any] = {
        "importer": run.importer,
        "source": str(run.source),
        "sha256": {_file_key(p, run.source): sha256_file(p) for p in run.files},
        "notes": list(run.notes),
        **run.details,
    }
    run_dir = RunDirectory.create(out_parent, run.name)
    try:
        with run_dir.database() as db:
            for trial in run.trials:
                db.record(trial)
        now = utc_now()
        manifest = Manifest(
            run_id=run_dir.run_id,
            name=run.name,
            armbench_version=VERSION,
            started_at=now,
            finished_at=now,
            config=run.config,
            config_hash=config_hash,
            config_source=str(run.source),
            checkers={},
            python=sys.version.split()[0],
            host=run.host,
            packs={},
            rate_card=card_record(run.card, run.provenance),
            simulated=False,
            trials_planned=len(run.trials),
            imported=imported,
        )
        run_dir.write_manifest(manifest)
    except BaseException:
        shutil.rmtree(run_dir.path, ignore_errors=True)
        raise
    return run_dir
