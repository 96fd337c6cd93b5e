"""Tests for armbench.store: the run database, records, and the run directory."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from armbench.core import CallRecord, GateResult, TrialRecord, Usage
from armbench.store import RunDirectoryError
from armbench.store.db import RunDatabase
from armbench.store.rundir import (
    DATABASE,
    MANIFEST,
    TRANSCRIPTS,
    Manifest,
    RunDirectory,
    write_atomic,
)
from armbench.store.schema import SCHEMA_VERSION


def _call(seq: int, **changes: Any) -> CallRecord:
    call = CallRecord(
        seq=seq,
        role="solo",
        provider="sim",
        model="strong",
        model_id="sim-strong-1",
        attempt=1,
        status="ok",
        usage=Usage(
            input=100 + seq,
            output=20 + seq,
            cache_write_5m=300 + seq,
            cache_write_1h=40 + seq,
            cache_read=5000 + seq,
            reasoning=7 + seq,
        ),
        latency_s=1.25 * seq,
        latency_simulated=True,
        started_at=1_700_000_000.5 + seq,
        request_id=f"req-{seq}",
    )
    return replace(call, **changes)


def _trial(trial_id: str = "t-001", **changes: Any) -> TrialRecord:
    trial = TrialRecord(
        trial_id=trial_id,
        arm="strong-solo",
        arm_kind="solo",
        task="refactor",
        replicate=0,
        seed=12345,
        status="fail",
        stop_reason="finished",
        wall_s=12.5,
        iterations=3,
        simulated=True,
        started_at=1_700_000_000.25,
        ended_at=1_700_000_012.75,
        calls=(
            _call(1),
            _call(
                2,
                status="error",
                model_id="",
                error_class="rate_limit",
                error="429 slow down",
                request_id=None,
                latency_simulated=False,
            ),
            _call(3, attempt=2),
        ),
        gates=(
            GateResult("mypy", "mypy", True, 0, {"errors": 0}, 1.5, "Success", ""),
            GateResult(
                "pytest",
                "pytest",
                False,
                1,
                {"passed": 75, "failed": 1, "errored": 0, "skipped": 0, "collection_errors": 0},
                3.25,
                "1 failed",
                "1 test failed",
            ),
        ),
        transcript=f"transcripts/{trial_id}.json",
        extra={"diff_lines": 42, "notes": ["a", "b"], "nested": {"k": None}},
    )
    return replace(trial, **changes)


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        count: int = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    return count


# --- database --------------------------------------------------------------------------------


def test_trial_round_trip_with_calls_and_gates(tmp_path: Path) -> None:
    trial = _trial()
    with RunDatabase(tmp_path / "run.sqlite") as db:
        db.record(trial)
        (loaded,) = db.trials()
    assert loaded == trial
    assert loaded.calls[0].usage == Usage(
        input=101, output=21, cache_write_5m=301, cache_write_1h=41, cache_read=5001, reasoning=8
    )
    assert loaded.calls[1].error_class == "rate_limit"
    assert loaded.calls[1].request_id is None
    assert loaded.gates[1].counts["passed"] == 75


def test_infra_error_trial_without_calls_round_trips(tmp_path: Path) -> None:
    trial = _trial(
        status="infra_error",
        stop_reason="harness_error",
        infra_class="harness",
        error="RuntimeError: boom",
        calls=(),
        gates=(),
        extra={},
    )
    with RunDatabase(tmp_path / "run.sqlite") as db:
        db.record(trial)
        assert db.trials() == [trial]


def test_usage_columns_hold_each_kind(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    with RunDatabase(path) as db:
        db.record(_trial())
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT input, output, cache_write_5m, cache_write_1h, cache_read, reasoning "
            "FROM calls WHERE seq = 3"
        ).fetchone()
        gate_seqs = [r[0] for r in conn.execute("SELECT seq FROM gates ORDER BY seq")]
        version = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    assert row == (103, 23, 303, 43, 5003, 10)
    assert gate_seqs == [1, 2]
    assert version == (str(SCHEMA_VERSION),)


def test_trials_are_ordered_by_arm_task_replicate(tmp_path: Path) -> None:
    trials = [
        _trial("t4", arm="b", task="a", replicate=0),
        _trial("t3", arm="a", task="b", replicate=1),
        _trial("t2", arm="a", task="b", replicate=0),
        _trial("t1", arm="a", task="a", replicate=2),
    ]
    with RunDatabase(tmp_path / "run.sqlite") as db:
        for trial in trials:
            db.record(trial)
        assert [t.trial_id for t in db.trials()] == ["t1", "t2", "t3", "t4"]
        assert db.trial_ids() == {"t1", "t2", "t3", "t4"}
        # Calls and gates stay with their own trial.
        assert all(len(t.calls) == 3 and len(t.gates) == 2 for t in db.trials())


def test_duplicate_trial_id_rolls_back_and_keeps_the_first(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    first = _trial("dup")
    with RunDatabase(path) as db:
        db.record(first)
        second = _trial("dup", calls=(*first.calls, _call(4)), task="other")
        with pytest.raises(sqlite3.IntegrityError):
            db.record(second)
        assert db.trials() == [first]
        # The connection is usable after the rollback.
        db.record(_trial("next"))
        assert db.trial_ids() == {"dup", "next"}
    assert _count(path, "calls") == 6
    assert _count(path, "gates") == 4


def test_failure_after_the_trial_row_leaves_no_partial_rows(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    # The trial row inserts, then the second call (same seq) violates the primary key.
    broken = _trial("broken", calls=(_call(1), _call(1)))
    with RunDatabase(path) as db:
        with pytest.raises(sqlite3.IntegrityError):
            db.record(broken)
        assert db.trial_ids() == set()
        assert db.trials() == []
    assert _count(path, "trials") == 0
    assert _count(path, "calls") == 0
    assert _count(path, "gates") == 0


def test_failure_in_gates_rolls_back_trial_and_calls(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    # The trial row and its three calls insert; the gate's NULL name then violates NOT NULL.
    nameless = GateResult(None, "mypy", True, 0, {}, 0.0)  # type: ignore[arg-type]
    with RunDatabase(path) as db:
        with pytest.raises(sqlite3.IntegrityError):
            db.record(_trial("late-failure", gates=(*_trial().gates, nameless)))
        assert db.trials() == []
    for table in ("trials", "calls", "gates"):
        assert _count(path, table) == 0


def test_refused_rows_leave_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    # A status the schema's CHECK refuses (in the trial, or in a later call); an unserialisable
    # gate count. Each must leave the database empty.
    with RunDatabase(path) as db:
        with pytest.raises(sqlite3.IntegrityError):
            db.record(_trial("bad-status", status="weird"))  # type: ignore[arg-type]
        bad_gate = GateResult("g", "k", True, 0, {"x": object()}, 0.0)  # type: ignore[dict-item]
        with pytest.raises(TypeError):
            db.record(_trial("bad-gate", gates=(bad_gate,)))
        bad_call = _call(2, status="maybe")
        with pytest.raises(sqlite3.IntegrityError):
            db.record(_trial("bad-call", calls=(_call(1), bad_call)))
        assert db.trial_ids() == set()
    for table in ("trials", "calls", "gates"):
        assert _count(path, table) == 0


def test_second_database_on_the_same_file_sees_committed_trials(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    writer = RunDatabase(path)
    try:
        writer.record(_trial("a"))
        reader = RunDatabase(path)
        try:
            assert reader.trial_ids() == {"a"}
            writer.record(_trial("b"))
            assert reader.trial_ids() == {"a", "b"}
            assert reader.trials() == writer.trials()
        finally:
            reader.close()
    finally:
        writer.close()
    # Reopening later keeps everything (and does not reset the schema).
    with RunDatabase(path) as again:
        assert again.trial_ids() == {"a", "b"}


# --- write_atomic ----------------------------------------------------------------------------


def test_write_atomic_writes_and_replaces_without_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    write_atomic(target, "one\n")
    assert target.read_text() == "one\n"
    write_atomic(target, "two ✓\n")
    assert target.read_text(encoding="utf-8") == "two ✓\n"
    assert os.listdir(tmp_path) == ["manifest.json"]


def test_write_atomic_failure_keeps_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    target.write_text("old\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "half \ud800 written")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["manifest.json"]


# --- RunDirectory ----------------------------------------------------------------------------


def _manifest(**changes: Any) -> Manifest:
    fields: dict[str, Any] = dict(
        run_id="demo-20250101-000000-abcd",
        name="demo",
        armbench_version="0.1.0",
        started_at="2025-01-01T00:00:00Z",
        config={"name": "demo", "replicates": 3, "models": {"x": {"provider": "sim"}}},
        config_hash="0" * 64,
        config_source="/somewhere/demo.yaml",
        checkers={"mypy": "2.4.1", "ruff": "0.17.6", "pytest": "9.2.0"},
        python="3.11.7",
        host={"os": "linux", "cpus": 8},
        packs={"demo": {"sha256": "f" * 64}},
        rate_card={"source": "prices.toml", "sha256": "e" * 64, "models": {}},
        simulated=True,
        trials_planned=18,
    )
    fields.update(changes)
    return Manifest(**fields)


def test_create_makes_a_unique_named_directory(tmp_path: Path) -> None:
    parent = tmp_path / "runs"
    run = RunDirectory.create(parent, "demo")
    assert run.path.parent == parent
    assert re.fullmatch(r"demo-\d{8}-\d{6}-[0-9a-f]{4}", run.run_id)
    assert (run.path / TRANSCRIPTS).is_dir()
    other = RunDirectory.create(parent, "demo")
    assert other.path != run.path


def test_create_under_a_file_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "runs"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        RunDirectory.create(blocker, "demo")


def test_open_refuses_a_folder_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(RunDirectoryError) as info:
        RunDirectory.open(tmp_path)
    assert str(info.value) == f"{tmp_path}: not a run directory (no {MANIFEST})"


def test_open_refuses_a_run_without_database(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path, "demo")
    run.write_manifest(_manifest())
    with pytest.raises(RunDirectoryError, match="it never started"):
        RunDirectory.open(run.path)
    run.database().close()
    assert (run.path / DATABASE).is_file()
    assert RunDirectory.open(run.path).path == run.path


def test_manifest_round_trip(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path, "demo")
    manifest = _manifest()
    run.write_manifest(manifest)
    assert run.read_manifest() == manifest
    assert json.loads((run.path / MANIFEST).read_text())["trials_planned"] == 18
    finished = manifest.model_copy(update={"finished_at": "2025-01-01T01:00:00Z"})
    run.write_manifest(finished)
    assert run.read_manifest() == finished
    assert sorted(os.listdir(run.path)) == [MANIFEST, TRANSCRIPTS]


def test_unreadable_manifest_is_a_run_directory_error(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path, "demo")
    (run.path / MANIFEST).write_text("{not json")
    with pytest.raises(RunDirectoryError, match="unreadable manifest"):
        run.read_manifest()
    (run.path / MANIFEST).write_text(json.dumps({"run_id": "x"}))
    with pytest.raises(RunDirectoryError, match="unreadable manifest"):
        run.read_manifest()
    payload = json.loads(_manifest().model_dump_json())
    payload["surprise"] = 1
    (run.path / MANIFEST).write_text(json.dumps(payload))
    with pytest.raises(RunDirectoryError, match="unreadable manifest"):
        run.read_manifest()


def test_transcript_round_trip(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path, "demo")
    payload = {"messages": [{"role": "user", "content": "héllo"}], "diff": "+x\n"}
    relative = run.write_transcript("t-001", json.dumps(payload))
    assert relative == f"{TRANSCRIPTS}/t-001.json"
    assert run.read_transcript(relative) == payload
    assert os.listdir(run.path / TRANSCRIPTS) == ["t-001.json"]


def test_database_lives_in_the_run_directory(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path, "demo")
    with run.database() as db:
        db.record(_trial())
    with RunDirectory(run.path).database() as db:
        assert db.trial_ids() == {"t-001"}
    assert (run.path / DATABASE).is_file()


def test_run_directories_are_absolute_whatever_the_out_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trials run commands elsewhere: a relative run directory once made every warm mypy cache
    miss. Both creating and opening give absolute paths."""
    monkeypatch.chdir(tmp_path)
    created = RunDirectory.create(Path("runs"), "demo")
    assert created.path.is_absolute() and created.path.parent == tmp_path / "runs"
    (created.path / "manifest.json").write_text("{}")
    created.database().close()
    opened = RunDirectory.open(Path("runs") / created.path.name)
    assert opened.path == created.path
