"""The run directory: `manifest.json` (what ran, with what), `armbench.sqlite` (trials, the
ledger of model calls, gates; each trial written in one transaction) and transcripts."""

from armbench.store.db import RunDatabase
from armbench.store.integrity import RunDirectoryError
from armbench.store.rundir import (
    DATABASE,
    MANIFEST,
    TRANSCRIPTS,
    Manifest,
    RunDirectory,
    utc_now,
    write_atomic,
)
from armbench.store.schema import SCHEMA_VERSION

__all__ = [
    "DATABASE",
    "MANIFEST",
    "SCHEMA_VERSION",
    "TRANSCRIPTS",
    "Manifest",
    "RunDatabase",
    "RunDirectory",
    "RunDirectoryError",
    "utc_now",
    "write_atomic",
]
