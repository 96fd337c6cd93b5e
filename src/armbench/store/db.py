"""The run database (SQLite): trials, the ledger of model calls, gate results.

A trial is written in one transaction with all its ledger rows and gates, so a killed run leaves
no half-written trial and loses nothing already committed. WAL journaling lets `show` read while
a run writes.

Writers create the schema (armbench.store.schema); readers open the file read-only and check
it against it (armbench.store.integrity).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from armbench.core import TOKEN_KINDS, TrialRecord
from armbench.store.integrity import RunDirectoryError, check_database, connect_read_only
from armbench.store.rows import call_record, gate_result, trial_record
from armbench.store.schema import (
    CALL_COLUMNS,
    GATE_COLUMNS,
    OLDER_SCHEMAS,
    SCHEMA,
    SCHEMA_VERSION,
    TRIAL_COLUMNS,
)


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


class RunDatabase:
    """One run's database. Safe to share between the threads of a run.

    A writer creates the schema, or brings an older armbench's file up to date, but refuses a
    file that is not an armbench database rather than write a fresh schema over it (a resume
    would run every trial again). `read_only` opens it with SQLite's `mode=ro` and requires
    exactly this schema. A bad file is a RunDirectoryError naming it."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self._lock = threading.Lock()
        if read_only:
            self._conn = connect_read_only(path)
        else:
            existed = path.exists()
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            if read_only or existed:
                check_database(
                    self._conn,
                    path,
                    schema=SCHEMA,
                    version=SCHEMA_VERSION,
                    writing=not read_only,
                    older=OLDER_SCHEMAS,
                )
            if not read_only:
                self._create_schema()
        except BaseException:
            self._conn.close()
            raise

    @staticmethod
    def check(path: Path) -> None:
        """RunDirectoryError unless a writer could open `path` (read-only: changes nothing)."""
        conn = connect_read_only(path)
        try:
            check_database(conn, path, schema=SCHEMA, version=SCHEMA_VERSION, writing=True)
        finally:
            conn.close()

    def _create_schema(self) -> None:
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            self._conn.executescript(SCHEMA)
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )
            self._conn.execute(f"PRAGMA user_version = {int(SCHEMA_VERSION)}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> RunDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, trial: TrialRecord) -> None:
        """Write a trial with its ledger rows and gates — all or nothing."""
        row = (
            trial.trial_id,
            trial.arm,
            trial.arm_kind,
            trial.task,
            trial.replicate,
            trial.seed,
            trial.status,
            trial.stop_reason,
            trial.infra_class,
            trial.error,
            trial.wall_s,
            trial.iterations,
            int(trial.simulated),
            trial.started_at,
            trial.ended_at,
            trial.transcript,
            json.dumps(trial.extra, sort_keys=True),
        )
        calls = [
            (
                trial.trial_id,
                c.seq,
                c.role,
                c.provider,
                c.model,
                c.model_id,
                c.attempt,
                c.status,
                c.error_class,
                c.error,
                *(getattr(c.usage, k) for k in TOKEN_KINDS),
                c.latency_s,
                int(c.latency_simulated),
                c.request_id,
                c.started_at,
                c.route,
            )
            for c in trial.calls
        ]
        gates = [
            (
                trial.trial_id,
                seq,
                g.name,
                g.kind,
                int(g.passed),
                g.exit_code,
                json.dumps(g.counts, sort_keys=True),
                g.duration_s,
                g.output_tail,
                g.details,
            )
            for seq, g in enumerate(trial.gates, 1)
        ]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(_insert("trials", TRIAL_COLUMNS), row)
                self._conn.executemany(_insert("calls", CALL_COLUMNS), calls)
                self._conn.executemany(_insert("gates", GATE_COLUMNS), gates)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def trial_ids(self) -> set[str]:
        return {r["trial_id"] for r in self._rows("SELECT trial_id FROM trials")}

    def query(self, sql: str, parameters: Sequence[object] = ()) -> list[dict[str, Any]]:
        """The rows of a read-only query, as dicts (for armbench.store.attempts)."""
        return self._rows(sql, parameters)

    def tables(self) -> set[str]:
        """The tables the file has (a reader of an older version sees fewer)."""
        return {r["name"] for r in self._rows("SELECT name FROM sqlite_master WHERE type='table'")}

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one write transaction — all or nothing — while no other
        thread of the run uses it."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def _rows(self, sql: str, parameters: Sequence[object] = ()) -> list[dict[str, Any]]:
        """The rows of a query as dicts. A file damaged past its header fails only here, so
        SQLite's error becomes one naming the file (never a traceback)."""
        with self._lock:
            try:
                cursor = self._conn.execute(sql, parameters)
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
            except sqlite3.DatabaseError as exc:
                raise RunDirectoryError(
                    f"{self.path}: cannot be read ({exc}); the file is damaged: restore it "
                    "from a backup, or run the config again"
                ) from exc

    def trial_rows(self) -> list[dict[str, Any]]:
        """Every trial's own columns (no transcript, `extra` still JSON text), in
        (arm, task, replicate) order: what a report reads when it must not load every call."""
        columns = ", ".join(c for c in TRIAL_COLUMNS if c != "transcript")
        return self._rows(f"SELECT {columns} FROM trials ORDER BY arm, task, replicate, trial_id")

    def call_totals(self, thresholds: Sequence[int]) -> list[dict[str, Any]]:
        """The ledger summed per trial, role, model, route and status — and per price tier: calls
        are grouped by how many of `thresholds` their prompt exceeds, so a tiered price can be
        applied to each group's sum exactly as to its calls one by one. `prompt` is one
        member's prompt size (all members fall in the same tier); `n` counts the calls."""
        prompt = "(input + cache_write_5m + cache_write_1h + cache_read)"
        bucket = " + ".join(f"({prompt} > {int(t)})" for t in thresholds) or "0"
        sums = ", ".join(f"SUM({k}) AS {k}" for k in TOKEN_KINDS)
        return self._rows(
            f"SELECT trial_id, role, provider, model, route, status, {bucket} AS tier, "
            f"MIN({prompt}) AS prompt, COUNT(*) AS n, {sums}, SUM(latency_s) AS latency_s "
            "FROM calls GROUP BY trial_id, role, provider, model, route, status, tier"
        )

    def prompt_growth(self, max_calls: int) -> list[dict[str, Any]]:
        """Mean prompt size (input plus cache writes and reads) of the k-th answered call of each
        role, per arm and task, for k up to `max_calls`: how context grows over a trial."""
        return self._rows(
            "SELECT t.task, t.arm, c.role, c.k, AVG(c.prompt) AS prompt, COUNT(*) AS n FROM ("
            "  SELECT trial_id, role,"
            "    input + cache_write_5m + cache_write_1h + cache_read AS prompt,"
            "    ROW_NUMBER() OVER (PARTITION BY trial_id, role ORDER BY seq) AS k"
            "  FROM calls WHERE status = 'ok'"
            f") c JOIN trials t USING (trial_id) WHERE c.k <= {int(max_calls)} "
            "GROUP BY t.task, t.arm, c.role, c.k ORDER BY t.task, t.arm, c.role, c.k"
        )

    def trials(self) -> list[TrialRecord]:
        """Every recorded trial with its calls and gates, in (arm, task, replicate) order."""
        return list(self.iter_trials())

    def iter_trials(self, *, calls: bool = True) -> Iterator[TrialRecord]:
        """The trials one at a time, in (arm, task, replicate) order, each with its calls and
        gates (or, with `calls=False`, neither): a run of millions of calls is never held
        whole."""
        for r in self._rows("SELECT * FROM trials ORDER BY arm, task, replicate, trial_id"):
            tid = r["trial_id"]
            yield trial_record(
                r,
                calls=tuple(map(call_record, self._rows_where("calls", tid))) if calls else (),
                gates=tuple(map(gate_result, self._rows_where("gates", tid))) if calls else (),
            )

    def _rows_where(self, table: str, trial_id: str) -> list[dict[str, Any]]:
        """One trial's rows of `calls` or `gates`, in order (their primary key's own order)."""
        return self._rows(f"SELECT * FROM {table} WHERE trial_id = ? ORDER BY seq", (trial_id,))
