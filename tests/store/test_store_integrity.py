"""Tests for how armbench.store opens a run database: readers open it read-only and refuse any
file that is not exactly this schema; writers refuse a file that is not armbench's instead of
writing a fresh schema over it. Every refusal names the file and changes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from armbench.core import CallRecord, TrialRecord, Usage
from armbench.store import DATABASE, SCHEMA_VERSION, RunDatabase, RunDirectory, RunDirectoryError
from armbench.store import db as store_db


def _trial(trial_id: str) -> TrialRecord:
    call = CallRecord(
        seq=1,
        role="solo",
        provider="anthropic",
        model="m",
        model_id="m-1",
        attempt=1,
        status="ok",
        usage=Usage(input=10, output=5, cache_read=100),
        latency_s=1.0,
        latency_simulated=True,
        started_at=1.0,
    )
    return TrialRecord(
        trial_id=trial_id,
        arm="A",
        arm_kind="solo",
        task="t",
        replicate=0,
        seed=1,
        status="pass",
        stop_reason="finished",
        wall_s=1.0,
        iterations=1,
        simulated=True,
        started_at=1.0,
        ended_at=2.0,
        calls=(call,),
        transcript="transcripts/x.json",
    )


def _written(folder: Path, trials: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DATABASE
    with RunDatabase(path) as db:
        for n in range(trials):
            db.record(_trial(f"t-{n:03}"))
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _garbage_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:16] = b"not a database!!"
    path.write_bytes(bytes(data))


def _another_programs(path: Path) -> None:
    path.unlink()
    _sql(path, "CREATE TABLE notes (text TEXT)")


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "zero bytes": (_empty, "an empty file (0 bytes)"),
    "garbage header": (_garbage_header, "not a readable SQLite database"),
    "another program's": (_another_programs, "not an armbench run database"),
    "dropped ledger": (lambda p: _sql(p, "DROP TABLE calls"), "no table calls"),
    "dropped column": (
        lambda p: _sql(p, "ALTER TABLE gates DROP COLUMN details"),
        "no column gates.details",
    ),
    "newer schema": (
        lambda p: _sql(
            p,
            f"UPDATE meta SET value = '{SCHEMA_VERSION + 1}'",
            f"PRAGMA user_version = {SCHEMA_VERSION + 1}",
        ),
        "written by a newer armbench",
    ),
    "version disagreement": (
        lambda p: _sql(p, f"PRAGMA user_version = {SCHEMA_VERSION + 7}"),
        "disagrees with meta.schema_version",
    ),
}


def test_a_reader_reads_and_leaves_every_byte_as_it_was(tmp_path: Path) -> None:
    path = _written(tmp_path / "run", trials=3)
    before = _files(path.parent)
    with RunDatabase(path, read_only=True) as db:
        assert db.trial_ids() == {"t-000", "t-001", "t-002"}
        assert [t.calls[0].usage.cache_read for t in db.iter_trials()] == [100] * 3
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.record(_trial("t-new"))
    assert _files(path.parent) == before  # not even a -wal or -shm file


def test_a_reader_sees_what_a_live_writer_committed(tmp_path: Path) -> None:
    path = _written(tmp_path)
    with RunDatabase(path) as writer:
        writer.record(_trial("t-late"))
        assert path.with_name(f"{DATABASE}-wal").exists()  # still being written
        with RunDatabase(path, read_only=True) as reader:
            assert reader.trial_ids() == {"t-000", "t-late"}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_reader_refuses_a_bad_file_naming_it_and_changes_nothing(
    tmp_path: Path, damage: str
) -> None:
    path = _written(tmp_path)
    harm, expected = DAMAGE[damage]
    harm(path)
    before = _files(tmp_path)
    with pytest.raises(RunDirectoryError) as info:
        RunDatabase(path, read_only=True)
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
    assert _files(tmp_path) == before


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_writer_refuses_to_write_a_schema_over_a_bad_file(tmp_path: Path, damage: str) -> None:
    """What made `resume` run every trial again over the old transcripts."""
    path = _written(tmp_path)
    harm, expected = DAMAGE[damage]
    harm(path)
    before = _files(tmp_path)
    with pytest.raises(RunDirectoryError) as writing:
        RunDatabase(path)
    with pytest.raises(RunDirectoryError) as checking:
        RunDatabase.check(path)
    assert expected in str(writing.value) and expected in str(checking.value)
    assert _files(tmp_path) == before


def test_damage_past_the_header_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = _written(tmp_path, trials=200)
    data = bytearray(path.read_bytes())
    assert len(data) > 4096 * 12
    data[4096 * 4 : 4096 * 10] = b"\xab" * (4096 * 6)
    path.write_bytes(bytes(data))
    with RunDatabase(path, read_only=True) as db, pytest.raises(RunDirectoryError) as info:
        list(db.iter_trials())
    assert str(info.value).startswith(f"{path}: cannot be read (database disk image is malformed)")


def test_an_older_schema_is_refused_by_readers_and_brought_up_to_date_by_a_writer(
    tmp_path: Path,
) -> None:
    path = _written(tmp_path)
    _sql(path, "DROP TABLE gates", "UPDATE meta SET value = '0'", "PRAGMA user_version = 0")
    with pytest.raises(RunDirectoryError) as info:
        RunDatabase(path, read_only=True)
    assert "schema version 0, written by an older armbench (this one reads version " in str(
        info.value
    )
    assert f"`armbench resume {tmp_path}`" in str(info.value)
    RunDatabase(path).close()  # a writer (resume) upgrades it
    with RunDatabase(path, read_only=True) as db:
        assert db.trial_ids() == {"t-000"}
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert conn.execute("SELECT value FROM meta").fetchall() == [(str(SCHEMA_VERSION),)]
    conn.close()


def test_the_expected_tables_come_from_the_schema_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table added to the schema is checked with no second list to update."""
    old = _written(tmp_path / "old")
    monkeypatch.setattr(
        store_db, "SCHEMA", store_db.SCHEMA + "CREATE TABLE IF NOT EXISTS later (x TEXT);\n"
    )
    with pytest.raises(RunDirectoryError, match="no table later"):
        RunDatabase(old, read_only=True)
    new = _written(tmp_path / "new")
    with RunDatabase(new, read_only=True) as db:
        assert db.trial_ids() == {"t-000"}


def test_opening_a_run_refuses_an_empty_database_before_anything_writes_it(
    tmp_path: Path,
) -> None:
    run = RunDirectory.create(tmp_path, "r")
    (run.path / "manifest.json").write_text("{}")
    (run.path / DATABASE).write_bytes(b"")
    with pytest.raises(RunDirectoryError, match="an empty file"):
        RunDirectory.open(run.path)
    with pytest.raises(RunDirectoryError, match="an empty file"):
        run.read_database()
    assert (run.path / DATABASE).read_bytes() == b""
