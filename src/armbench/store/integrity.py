"""Checking a run database before it is used: is it SQLite, is it armbench's, is it this schema.

SQLite opens anything: a zero-byte file is an empty database to it, and `CREATE TABLE IF NOT
EXISTS` would quietly fill it (or a damaged one) with an empty schema, after which a trial whose
ledger was lost reads as a pass at $0 and a resume runs every trial again. So every opening is
checked first, and a file that fails is a RunDirectoryError naming it and saying what to do.

The expected tables and columns are read from the schema text itself (executed in an in-memory
database), so they cannot drift from what the writer creates.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Mapping
from pathlib import Path

RESTORE = "restore it from a backup, or run the config again (`armbench run`)"


class RunDirectoryError(ValueError):
    """A run directory, or its database, that cannot be used; the message names the file and
    the fix."""


def connect_read_only(path: Path) -> sqlite3.Connection:
    """`path` opened with SQLite's `mode=ro`: never created, never written.

    A database with a `-wal` file beside it is being written (or its writer was killed with
    commits still in the log): it is read through SQLite's locking, which keeps the `-shm`
    index it needs. One without is closed and whole in its file: it is read as `immutable`,
    so nothing at all (not even a `-shm`) appears in the run directory, and a run on a
    read-only disk can still be read. (A writer that starts during such a read may make it
    fail; it never changes what the writer writes.)"""
    immutable = "" if path.with_name(f"{path.name}-wal").exists() else "&immutable=1"
    uri = f"{path.absolute().as_uri()}?mode=ro{immutable}"
    try:
        return sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    except sqlite3.Error as exc:
        raise RunDirectoryError(f"{path}: cannot open the run database ({exc})") from exc


def _tables(conn: sqlite3.Connection) -> dict[str, set[str]]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {
        name: {r[0] for r in conn.execute("SELECT name FROM pragma_table_info(?)", (name,))}
        for name in names
    }


@functools.cache
def schema_tables(schema: str) -> dict[str, frozenset[str]]:
    """Table → its columns, as `schema` (SQL text) creates them."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(schema)
        return {name: frozenset(columns) for name, columns in _tables(conn).items()}
    finally:
        conn.close()


def _stored_version(conn: sqlite3.Connection) -> tuple[str | None, int]:
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    user_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    return (None if row is None else str(row[0])), user_version


def check_database(
    conn: sqlite3.Connection,
    path: Path,
    *,
    schema: str,
    version: int,
    writing: bool,
    older: Mapping[int, str] | None = None,
) -> None:
    """Refuse the database open on `conn` unless it is armbench's: SQLite, with a
    `meta.schema_version` this armbench knows, and every table and column of `schema`.

    A writer (`writing`) may open an older schema version, which it then brings up to date;
    a reader must find exactly `version`, or a version in `older` with every table and
    column of that version's schema (a run made before a table was added). Reads only."""
    try:
        tables = _tables(conn)
        stored, user_version = _stored_version(conn) if "meta" in tables else (None, 0)
    except sqlite3.DatabaseError as exc:
        raise RunDirectoryError(
            f"{path}: not a readable SQLite database ({exc}): the file is damaged; {RESTORE}"
        ) from exc
    if not tables:
        what = (
            "an empty file (0 bytes)" if path.stat().st_size == 0 else "a database with no tables"
        )
        raise RunDirectoryError(
            f"{path}: {what}, not the run's database; nothing was changed: {RESTORE}"
        )
    if stored is None or not stored.isdigit():
        raise RunDirectoryError(
            f"{path}: not an armbench run database (no meta.schema_version); {RESTORE}"
        )
    found = int(stored)
    if user_version not in (0, found):
        raise RunDirectoryError(
            f"{path}: PRAGMA user_version {user_version} disagrees with meta.schema_version "
            f"{found}: the file was altered; {RESTORE}"
        )
    if found > version:
        raise RunDirectoryError(
            f"{path}: schema version {found}, written by a newer armbench (this one reads "
            f"version {version}); upgrade armbench to read it"
        )
    if found < version:
        if writing:
            return  # the writer adds what is missing
        if older is not None and found in older:
            schema = older[found]  # still readable: checked against what that version had
        else:
            raise RunDirectoryError(
                f"{path}: schema version {found}, written by an older armbench (this one "
                f"reads version {version}); `armbench resume {path.parent}` brings a run up "
                "to date (an imported run: import it again)"
            )
    missing: list[str] = []
    for name, columns in sorted(schema_tables(schema).items()):
        if name not in tables:
            missing.append(f"table {name}")
        else:
            missing += [f"column {name}.{column}" for column in sorted(columns - tables[name])]
    if missing:
        raise RunDirectoryError(
            f"{path}: no {', '.join(missing)}, which schema version {found} has: the database "
            f"was altered or damaged; {RESTORE}"
        )
