"""The ledger: dated transactions in one currency, and the calendar months that group them."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Self

from tallyho import money, parsing
from tallyho.categories import UNCATEGORIZED, Rule, categorize


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, written `2024-03`."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"no month number {self.month}")

    @classmethod
    def of(cls, day: date) -> Self:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str) -> Self:
        year, separator, month = text.strip().partition("-")
        if not (separator and len(year) == 4 and year.isdigit() and month.isdigit()):
            raise ValueError(f"not a month (YYYY-MM): {text!r}")
        return cls(int(year), int(month))

    def next(self) -> Month:
        if self.month == 12:
            return Month(self.year + 1, 1)
        return Month(self.year, self.month + 1)

    def until(self, last: Month) -> Iterator[Month]:
        """This month and every one after it up to `last`, inclusive."""
        current = self
        while current <= last:
            yield current
            current = current.next()

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Transaction:
    """Money in (a positive amount) or out (a negative one) on one day."""

    day: date
    description: str
    amount: money.Money
    category: str = UNCATEGORIZED

    @property
    def month(self) -> Month:
        return Month.of(self.day)

    @property
    def is_expense(self) -> bool:
        return self.amount.is_negative


class Ledger:
    """Transactions in one currency, kept in date order (same-day ones in the order added)."""

    def __init__(self, currency: str = money.DEFAULT_CURRENCY, rules: Sequence[Rule] = ()) -> None:
        self.currency = currency
        self.rules = tuple(rules)
        self._transactions: list[Transaction] = []

    def add(
        self,
        day: date,
        description: str,
        amount: money.Money | str,
        category: str | None = None,
    ) -> Transaction:
        """Record a transaction and return it.

        A string amount is parsed, in the ledger's currency unless it names another; a missing
        category comes from the ledger's rules.
        """
        if isinstance(amount, str):
            amount = parsing.parse_amount(amount, self.currency)
        if amount.currency != self.currency:
            raise money.CurrencyMismatchError(self.currency, amount.currency)
        if category is None:
            category = categorize(description, self.rules)
        transaction = Transaction(day, description.strip(), amount, category)
        bisect.insort_right(self._transactions, transaction, key=lambda t: t.day)
        return transaction

    def extend(self, transactions: Iterable[Transaction]) -> None:
        """Add each transaction; the uncategorized ones are categorized by the rules."""
        for t in transactions:
            category = None if t.category == UNCATEGORIZED else t.category
            self.add(t.day, t.description, t.amount, category)

    def __iter__(self) -> Iterator[Transaction]:
        return iter(self._transactions)

    def __len__(self) -> int:
        return len(self._transactions)

    def in_month(self, month: Month) -> list[Transaction]:
        return [t for t in self._transactions if t.month == month]

    def span(self) -> tuple[date, date] | None:
        """The days of the first and the last transaction; None when there are none."""
        if not self._transactions:
            return None
        return self._transactions[0].day, self._transactions[-1].day

    def months(self) -> list[Month]:
        """Every month from the first transaction's to the last one's, empty ones included."""
        span = self.span()
        if span is None:
            return []
        first, last = span
        return list(Month.of(first).until(Month.of(last)))

    def balance(self, until: date | None = None) -> money.Money:
        """The sum of all transactions, or of those on or before `until`."""
        amounts = (t.amount for t in self._transactions if until is None or t.day <= until)
        return money.total(amounts, self.currency)
