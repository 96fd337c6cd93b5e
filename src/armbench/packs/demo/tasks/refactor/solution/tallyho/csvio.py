"""CSV import and export of transactions, with a `date,description,amount,category` header."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from typing import TextIO

from tallyho.categories import UNCATEGORIZED
from tallyho.ledger import Transaction
from tallyho.parsing import parse_amount

FIELDS = ("date", "description", "amount", "category")
REQUIRED = ("date", "description", "amount")


class CsvFormatError(ValueError):
    """CSV that is not a list of transactions; the message names the line."""


def read_transactions(stream: TextIO, currency: str | None = None) -> list[Transaction]:
    """Transactions from CSV. The category column is optional; `currency` is for bare amounts."""
    reader = csv.DictReader(stream, restval="")
    columns = reader.fieldnames or ()
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise CsvFormatError(f"line 1: missing column(s): {', '.join(missing)}")
    transactions: list[Transaction] = []
    for row in reader:
        try:
            day = date.fromisoformat(row["date"].strip())
            amount = parse_amount(row["amount"], currency)
        except ValueError as exc:
            raise CsvFormatError(f"line {reader.line_num}: {exc}") from exc
        category = (row.get("category") or "").strip() or UNCATEGORIZED
        transactions.append(Transaction(day, row["description"].strip(), amount, category))
    return transactions


def write_transactions(transactions: Iterable[Transaction], stream: TextIO) -> int:
    """Write the header and one row per transaction; returns the number of rows written."""
    rows = [
        (t.day.isoformat(), t.description, t.amount.to_text(), t.category) for t in transactions
    ]
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(FIELDS)
    writer.writerows(rows)
    return len(rows)
