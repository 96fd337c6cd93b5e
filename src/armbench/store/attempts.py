"""The history of retried trials: earlier attempts, kept whole, never counted twice.

A trial recorded as an infra error can be run again (`armbench resume --retry-infra`). Its
record is then neither deleted nor overwritten: in one transaction its row, its ledger rows and
its gates move to `trial_attempts`, `call_attempts` and `gate_attempts` under its attempt number
(1 for the first), and its transcript becomes `transcripts/<trial>.attempt<k>.json`. The
current tables keep each trial's latest attempt only, so every view that counts trials counts
each once; but an earlier attempt's calls were paid for, so the run's spend and its budget
count the history too (`iter_attempts`, `attempt_call_totals`).

The transcript is linked under its new name before the transaction and its old name removed
after, so a kill at any point leaves the history's transcript in place; a name no row holds is
removed by the next execution (armbench.store.rundir.RunDirectory.remove_unrecorded).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator, Sequence
from typing import Any

from armbench.core import TOKEN_KINDS, TrialRecord
from armbench.store.db import RunDatabase
from armbench.store.rows import call_record, gate_result, trial_record
from armbench.store.rundir import RunDirectory

HISTORY = "trial_attempts"


def _has_history(db: RunDatabase) -> bool:
    """False for a run database of version 1, opened read-only (it never retried)."""
    return HISTORY in db.tables()


def _columns(db: RunDatabase, table: str) -> list[str]:
    return [r["name"] for r in db.query("SELECT name FROM pragma_table_info(?)", (table,))]


def earlier_attempts(db: RunDatabase) -> dict[str, int]:
    """Trial id → how many earlier attempts of it the history holds (absent: none)."""
    if not _has_history(db):
        return {}
    rows = db.query(f"SELECT trial_id, COUNT(*) AS n FROM {HISTORY} GROUP BY trial_id")
    return {r["trial_id"]: int(r["n"]) for r in rows}


def recorded_transcripts(db: RunDatabase) -> set[str]:
    """Every transcript a row names, current or earlier attempt."""
    names = {r["transcript"] for r in db.query("SELECT transcript FROM trials")}
    if _has_history(db):
        names |= {r["transcript"] for r in db.query(f"SELECT transcript FROM {HISTORY}")}
    return names


def retire(run_dir: RunDirectory, db: RunDatabase, trial_id: str) -> int:
    """Move the trial's current record to the history, so that it runs again; its attempt
    number. Only while no process runs the trials (RunDirectory.executing)."""
    current = db.query("SELECT transcript FROM trials WHERE trial_id = ?", (trial_id,))
    if not current:
        raise KeyError(f"no trial {trial_id!r} recorded")
    before = earlier_attempts(db).get(trial_id, 0)
    attempt = before + 1
    old = run_dir.path / current[0]["transcript"]
    name = run_dir.attempt_transcript(trial_id, attempt)
    new = run_dir.path / name
    new.unlink(missing_ok=True)  # left by a retire that was killed before it committed
    if old.is_file():
        try:
            os.link(old, new)
        except OSError:
            shutil.copy2(old, new)
    tables = {"trials": HISTORY, "calls": "call_attempts", "gates": "gate_attempts"}
    copied = {table: _columns(db, table) for table in tables}
    with db.transaction() as conn:
        for table, history in tables.items():
            rest = ", ".join(c for c in copied[table] if c != "trial_id")
            extra = ", retired_at" if table == "trials" else ""
            conn.execute(
                f"INSERT INTO {history} (trial_id, trial_attempt, {rest}{extra}) "
                f"SELECT trial_id, ?, {rest}{', ?' if extra else ''} FROM {table} "
                "WHERE trial_id = ?",
                (attempt, *((time.time(),) if extra else ()), trial_id),
            )
        conn.execute(
            f"UPDATE {HISTORY} SET transcript = ? WHERE trial_id = ? AND trial_attempt = ?",
            (name, trial_id, attempt),
        )
        for table in ("gates", "calls", "trials"):
            conn.execute(f"DELETE FROM {table} WHERE trial_id = ?", (trial_id,))
    old.unlink(missing_ok=True)
    return attempt


def iter_attempts(db: RunDatabase) -> Iterator[tuple[int, TrialRecord]]:
    """Every earlier attempt with its number, each with its ledger rows and gates."""
    if not _has_history(db):
        return
    for row in db.query(f"SELECT * FROM {HISTORY} ORDER BY trial_id, trial_attempt"):
        key = (row["trial_id"], row["trial_attempt"])
        where = "WHERE trial_id = ? AND trial_attempt = ? ORDER BY seq"
        calls = db.query(f"SELECT * FROM call_attempts {where}", key)
        gates = db.query(f"SELECT * FROM gate_attempts {where}", key)
        record = trial_record(row, tuple(map(call_record, calls)), tuple(map(gate_result, gates)))
        yield row["trial_attempt"], record


def attempt_call_totals(db: RunDatabase, thresholds: Sequence[int]) -> list[dict[str, Any]]:
    """The history's ledger summed per trial, role, model and price tier, like
    RunDatabase.call_totals: what earlier attempts cost."""
    if not _has_history(db):
        return []
    prompt = "(input + cache_write_5m + cache_write_1h + cache_read)"
    bucket = " + ".join(f"({prompt} > {int(t)})" for t in thresholds) or "0"
    sums = ", ".join(f"SUM({k}) AS {k}" for k in TOKEN_KINDS)
    return db.query(
        f"SELECT trial_id, role, provider, model, {bucket} AS tier, "
        f"MIN({prompt}) AS prompt, COUNT(*) AS n, {sums}, SUM(latency_s) AS latency_s "
        "FROM call_attempts GROUP BY trial_id, role, provider, model, tier"
    )
