"""The run directory: manifest, SQLite ledger and trials, transcripts."""
