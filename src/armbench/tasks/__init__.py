"""Tasks: the declarative format, packs, workspace preparation, breakage injection, validation."""
