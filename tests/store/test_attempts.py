"""The history of retried trials, the run's lock and its stray transcripts: what resume relies
on to run a trial again without losing the earlier attempt, and never to run one twice."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from armbench.core import CallRecord, GateResult, TrialRecord, Usage
from armbench.store import SCHEMA_VERSION, RunDatabase, RunDirectory
from armbench.store import schema as store_schema
from armbench.store.attempts import (
    attempt_call_totals,
    earlier_attempts,
    iter_attempts,
    recorded_transcripts,
    retire,
)
from armbench.store.rundir import RunBusy


def _trial(trial_id: str, status: str = "infra_error", calls: int = 2) -> TrialRecord:
    return TrialRecord(
        trial_id=trial_id,
        arm="A",
        arm_kind="solo",
        task="t",
        replicate=1,
        seed=7,
        status=status,  # type: ignore[arg-type]
        stop_reason="model_error" if status == "infra_error" else "finished",
        wall_s=2.5,
        iterations=calls,
        simulated=True,
        started_at=10.0,
        ended_at=12.5,
        infra_class="server_error" if status == "infra_error" else None,
        error="500 from the provider" if status == "infra_error" else None,
        calls=tuple(
            CallRecord(
                seq=n,
                role="solo",
                provider="anthropic",
                model="m",
                model_id="m-1",
                attempt=1,
                status="ok",
                usage=Usage(input=100 * n, output=10 * n, cache_read=1000),
                latency_s=0.5,
                latency_simulated=True,
                started_at=10.0 + n,
            )
            for n in range(1, calls + 1)
        ),
        gates=(
            GateResult(
                name="pytest", kind="pytest", passed=False, exit_code=1, counts={}, duration_s=1.0
            ),
        ),
        transcript=f"transcripts/{trial_id}.json",
        extra={"judge_s": 0.25},
    )


def _recorded(run: RunDirectory, trial: TrialRecord) -> None:
    run.write_transcript(trial.trial_id, json.dumps({"attempt": trial.wall_s}))
    with run.database() as db:
        db.record(trial)


def test_a_retired_attempt_moves_whole_to_the_history_with_its_transcript(
    tmp_path: Path,
) -> None:
    run = RunDirectory.create(tmp_path, "r")
    first = _trial("A.t.r1")
    _recorded(run, first)
    _recorded(run, _trial("A.t.r2", status="pass", calls=1))
    with run.database() as db:
        assert retire(run, db, "A.t.r1") == 1
        assert db.trial_ids() == {"A.t.r2"}  # the trial is no longer recorded: it runs again
        assert db.query("SELECT count(*) AS n FROM calls")[0]["n"] == 1
        assert earlier_attempts(db) == {"A.t.r1": 1}
        [(number, kept)] = list(iter_attempts(db))
    assert number == 1
    assert kept == dataclasses.replace(first, transcript="transcripts/A.t.r1.attempt1.json")
    assert not (run.path / "transcripts/A.t.r1.json").exists()
    assert json.loads((run.path / kept.transcript).read_text()) == {"attempt": 2.5}

    second = dataclasses.replace(first, wall_s=4.0)  # the second attempt, recorded and retired
    _recorded(run, second)
    with run.database() as db:
        assert retire(run, db, "A.t.r1") == 2
        assert earlier_attempts(db) == {"A.t.r1": 2}
        assert [n for n, _ in iter_attempts(db)] == [1, 2]
        assert recorded_transcripts(db) == {
            "transcripts/A.t.r2.json",
            "transcripts/A.t.r1.attempt1.json",
            "transcripts/A.t.r1.attempt2.json",
        }
        # Both attempts' ledgers are kept: 2 calls each, summed per trial for their cost.
        [totals] = attempt_call_totals(db, [])
    assert (totals["trial_id"], totals["n"], totals["input"]) == ("A.t.r1", 4, 600)
    with run.read_database() as db:  # and readers see it
        assert earlier_attempts(db) == {"A.t.r1": 2}


def test_transcripts_no_row_names_are_removed_and_the_historys_kept(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path, "r")
    _recorded(run, _trial("A.t.r1"))
    with run.database() as db:
        retire(run, db, "A.t.r1")
    _recorded(run, _trial("A.t.r2"))
    run.write_transcript("A.t.r3", "{}")  # written, then killed before its transaction
    (run.path / "transcripts" / ".A.t.r4.json.x1y2.tmp").write_text("{")  # killed mid-write
    with run.database() as db:
        removed = run.remove_unrecorded(recorded_transcripts(db))
    assert removed == ["transcripts/.A.t.r4.json.x1y2.tmp", "transcripts/A.t.r3.json"]
    assert sorted(os.listdir(run.path / "transcripts")) == [
        "A.t.r1.attempt1.json",
        "A.t.r2.json",
    ]


def test_only_one_process_runs_a_runs_trials_until_it_dies(tmp_path: Path) -> None:
    run = RunDirectory.create(tmp_path, "r")
    with run.executing(), pytest.raises(RunBusy, match=f"pid {os.getpid()} on "), run.executing():
        pass
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from armbench.store import RunDirectory; "
            f"lock = RunDirectory(Path({str(run.path)!r})).executing(); lock.__enter__(); "
            "print('held', flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(RunBusy, match=f"pid {holder.pid} on "), run.executing():
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with run.executing():  # the kernel let go of a killed holder's lock
        pass


def test_a_version_1_database_still_opens_and_a_writer_brings_it_up_to_date(
    tmp_path: Path,
) -> None:
    path = tmp_path / "armbench.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(store_schema.SCHEMA_1)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with RunDatabase(path, read_only=True) as db:  # an old run opens for reading as it is
        assert db.trial_ids() == set() and earlier_attempts(db) == {}
        assert "trial_attempts" not in db.tables()
    with RunDatabase(path) as db:  # a resume brings it to this version
        db.record(_trial("A.t.r1"))
    with RunDatabase(path, read_only=True) as db:
        assert {"trial_attempts", "call_attempts", "gate_attempts"} <= db.tables()
        assert db.query("SELECT value FROM meta")[0]["value"] == str(SCHEMA_VERSION) == "2"


def test_a_runs_database_appears_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed while its schema is made, a run must not be left with an empty database file,
    which a resume refuses (it cannot tell it from a damaged one): the run never started."""
    run = RunDirectory.create(tmp_path, "r")

    def killed(self: RunDatabase) -> None:
        raise KeyboardInterrupt  # as if the process died while the schema was being made

    monkeypatch.setattr(RunDatabase, "_create_schema", killed)
    with pytest.raises(KeyboardInterrupt):
        run.create_database()
    assert sorted(os.listdir(run.path)) == ["transcripts"]
    monkeypatch.undo()
    run.create_database()
    assert sorted(os.listdir(run.path)) == ["armbench.sqlite", "transcripts"]
    with run.read_database() as db:
        assert db.trial_ids() == set()
