"""Reading runs: summaries, exports (and later statistics and reports). Reads only the store."""
