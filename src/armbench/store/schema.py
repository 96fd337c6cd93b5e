"""The run database's schema, as data: its tables in SQL, its version, and the columns each
row writer fills (armbench.store.db writes and reads by them, armbench.store.integrity checks a
file against them).

Adding a table or a column: add it to `SCHEMA` and bump `SCHEMA_VERSION`; writers bring an
older file up to date, readers refuse it with that fix.
"""

from __future__ import annotations

from armbench.core import TOKEN_KINDS

SCHEMA_VERSION = 2
"""Stored in `meta.schema_version` and in `PRAGMA user_version`. 1: trials, calls, gates;
2: the history of retried trials (`trial_attempts`, `call_attempts`, `gate_attempts`)."""


SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    trial_id     TEXT PRIMARY KEY,
    arm          TEXT NOT NULL,
    arm_kind     TEXT NOT NULL,
    task         TEXT NOT NULL,
    replicate    INTEGER NOT NULL,
    seed         INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'limit', 'infra_error')),
    stop_reason  TEXT NOT NULL,
    infra_class  TEXT,
    error        TEXT,
    wall_s       REAL NOT NULL,
    iterations   INTEGER NOT NULL,
    simulated    INTEGER NOT NULL,
    started_at   REAL NOT NULL,
    ended_at     REAL NOT NULL,
    transcript   TEXT NOT NULL,
    extra        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    trial_id          TEXT NOT NULL REFERENCES trials (trial_id),
    seq               INTEGER NOT NULL,
    role              TEXT NOT NULL,
    provider          TEXT NOT NULL,
    model             TEXT NOT NULL,
    model_id          TEXT NOT NULL,
    attempt           INTEGER NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    error_class       TEXT,
    error             TEXT,
    input             INTEGER NOT NULL,
    output            INTEGER NOT NULL,
    cache_write_5m    INTEGER NOT NULL,
    cache_write_1h    INTEGER NOT NULL,
    cache_read        INTEGER NOT NULL,
    reasoning         INTEGER NOT NULL,
    latency_s         REAL NOT NULL,
    latency_simulated INTEGER NOT NULL,
    request_id        TEXT,
    started_at        REAL NOT NULL,
    route             TEXT,
    PRIMARY KEY (trial_id, seq)
);
CREATE TABLE IF NOT EXISTS gates (
    trial_id    TEXT NOT NULL REFERENCES trials (trial_id),
    seq         INTEGER NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    passed      INTEGER NOT NULL,
    exit_code   INTEGER,
    counts      TEXT NOT NULL,
    duration_s  REAL NOT NULL,
    output_tail TEXT NOT NULL,
    details     TEXT NOT NULL,
    PRIMARY KEY (trial_id, seq)
);
"""
SCHEMA = (
    SCHEMA_1
    + """
CREATE TABLE IF NOT EXISTS trial_attempts (
    trial_id      TEXT NOT NULL,
    trial_attempt INTEGER NOT NULL,
    arm           TEXT NOT NULL,
    arm_kind      TEXT NOT NULL,
    task          TEXT NOT NULL,
    replicate     INTEGER NOT NULL,
    seed          INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'limit', 'infra_error')),
    stop_reason   TEXT NOT NULL,
    infra_class   TEXT,
    error         TEXT,
    wall_s        REAL NOT NULL,
    iterations    INTEGER NOT NULL,
    simulated     INTEGER NOT NULL,
    started_at    REAL NOT NULL,
    ended_at      REAL NOT NULL,
    transcript    TEXT NOT NULL,
    extra         TEXT NOT NULL,
    retired_at    REAL NOT NULL,
    PRIMARY KEY (trial_id, trial_attempt)
);
CREATE TABLE IF NOT EXISTS call_attempts (
    trial_id          TEXT NOT NULL,
    trial_attempt     INTEGER NOT NULL,
    seq               INTEGER NOT NULL,
    role              TEXT NOT NULL,
    provider          TEXT NOT NULL,
    model             TEXT NOT NULL,
    model_id          TEXT NOT NULL,
    attempt           INTEGER NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    error_class       TEXT,
    error             TEXT,
    input             INTEGER NOT NULL,
    output            INTEGER NOT NULL,
    cache_write_5m    INTEGER NOT NULL,
    cache_write_1h    INTEGER NOT NULL,
    cache_read        INTEGER NOT NULL,
    reasoning         INTEGER NOT NULL,
    latency_s         REAL NOT NULL,
    latency_simulated INTEGER NOT NULL,
    request_id        TEXT,
    started_at        REAL NOT NULL,
    route             TEXT,
    PRIMARY KEY (trial_id, trial_attempt, seq),
    FOREIGN KEY (trial_id, trial_attempt) REFERENCES trial_attempts (trial_id, trial_attempt)
);
CREATE TABLE IF NOT EXISTS gate_attempts (
    trial_id      TEXT NOT NULL,
    trial_attempt INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    passed        INTEGER NOT NULL,
    exit_code     INTEGER,
    counts        TEXT NOT NULL,
    duration_s    REAL NOT NULL,
    output_tail   TEXT NOT NULL,
    details       TEXT NOT NULL,
    PRIMARY KEY (trial_id, trial_attempt, seq),
    FOREIGN KEY (trial_id, trial_attempt) REFERENCES trial_attempts (trial_id, trial_attempt)
);
"""
)
"""Version 2 appends the history of retried trials (armbench.store.attempts): a trial's
earlier attempts, each with its number (`trial_attempt`, from 1), moved there whole — row,
ledger, gates — when the trial is run again. The tables above hold the current attempt only,
so every view that counts trials counts each once."""
OLDER_SCHEMAS = {1: SCHEMA_1}
"""Versions a reader still opens, with what they hold: a run made before version 2 has no
history (it never retried a trial), and must still open read-only."""

TRIAL_COLUMNS = (
    "trial_id",
    "arm",
    "arm_kind",
    "task",
    "replicate",
    "seed",
    "status",
    "stop_reason",
    "infra_class",
    "error",
    "wall_s",
    "iterations",
    "simulated",
    "started_at",
    "ended_at",
    "transcript",
    "extra",
)
CALL_COLUMNS = (
    "trial_id",
    "seq",
    "role",
    "provider",
    "model",
    "model_id",
    "attempt",
    "status",
    "error_class",
    "error",
    *TOKEN_KINDS,
    "latency_s",
    "latency_simulated",
    "request_id",
    "started_at",
    "route",
)
GATE_COLUMNS = (
    "trial_id",
    "seq",
    "name",
    "kind",
    "passed",
    "exit_code",
    "counts",
    "duration_s",
    "output_tail",
    "details",
)
