# mypy: ignore-errors
"""The old CSV import, kept for archived exports; mypy is told not to check it."""

from __future__ import annotations


class CsvImporter:
    def __init__(self, delimiter: str | None = None) -> None:
        self.delimiter = delimiter or ","
        self.rows = []

    def feed(self, line: str) -> None:
        cells = line.strip().split(self.delimiter)
        self.rows.append(cells)

    def column(self, index: int | None = None) -> list[str]:
        position = 0 if index is None else index
        return [row[position] for row in self.rows if len(row) > position]
