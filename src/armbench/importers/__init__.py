"""Importers of per-trial data published by other projects, into ordinary armbench runs.

An imported run is a run directory like any other — manifest, database, ledger, gates — so
`show`, `export`, `reprice` and reports read it unchanged. What makes it different is said in
the manifest's `imported` record: where the data came from (paths and sha256 of every file
read) and, in plain sentences, what the data does not measure (tokens never recorded, verdicts
that are the peer's own, ledger rows that sum many calls). Nothing is invented to fill a gap: a
number the data lacks is left out and the gap is named, never written as a measured zero.

- `armbench.importers.fep`: free-executor-paradox (`trials.csv`, `A.jsonl` … `D.jsonl`);
- `armbench.importers.hce`: hybrid-coding-eval (`raw.jsonl`, `pricing_tables.json`);
- `armbench.importers.common`: what both share — the error type, infra-error classes read
  from error texts, and writing a run directory all at once or not at all.

Modules are imported by the CLI only when an import command runs, so `armbench` starts fast.
"""

from armbench.importers import fep, hce
from armbench.importers.common import ImportDataError, ImportedRun, write_run

__all__ = ["ImportDataError", "ImportedRun", "fep", "hce", "write_run"]
