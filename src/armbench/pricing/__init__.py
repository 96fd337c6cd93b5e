"""Rate cards: dollars per million tokens per kind. Cost is always derived, never stored."""
