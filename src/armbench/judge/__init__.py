"""The judge: gates that execute checks and read their machine-readable output."""
