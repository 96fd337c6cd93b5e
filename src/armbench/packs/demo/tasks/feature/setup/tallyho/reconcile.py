"""Reconciliation: checking the ledger against the bank's statement of the same account."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tallyho.ledger import Transaction


@dataclass(frozen=True)
class Reconciliation:
    """What `reconcile` found."""

    matched: list[tuple[Transaction, Transaction]]
    """(ledger transaction, statement transaction) pairs, in the order they were paired."""
    missing_from_ledger: list[Transaction]
    """Statement transactions that nothing in the ledger records, in the order considered."""
    missing_from_statement: list[Transaction]
    """Ledger transactions that nothing on the statement records, in ledger order."""

    @property
    def is_balanced(self) -> bool:
        return not self.missing_from_ledger and not self.missing_from_statement


def reconcile(
    ledger: Iterable[Transaction],
    statement: Iterable[Transaction],
    *,
    tolerance_days: int = 3,
) -> Reconciliation:
    """Pair each statement transaction with the ledger transaction that records it.

    Banks book a payment a few days after it was made and describe it in their own words, so a
    ledger transaction and a statement transaction match when their amounts are equal (same
    value and same currency) and their days are at most `tolerance_days` apart. Descriptions
    and categories are ignored.

    Statement transactions are paired one at a time in order of day; those on the same day in
    the order they have in `statement`. Each is paired with the still-unpaired matching ledger
    transaction whose day is closest to its own; among equally close ones the earlier day wins,
    then the one that comes first in `ledger`. A statement transaction with no unpaired match
    left goes to `missing_from_ledger`. Every transaction is paired at most once; the ledger
    transactions left unpaired at the end go to `missing_from_statement`.

    Raises ValueError when `tolerance_days` is negative.
    """
    raise NotImplementedError
