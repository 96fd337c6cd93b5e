"""Budgets: a monthly spending limit per category, and the months that went over them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tallyho.money import AmountError, Money
from tallyho.parsing import parse_amount
from tallyho.summary import MonthlySummary


class BudgetError(ValueError):
    """A budget file that cannot be read; the message names the line."""


@dataclass(frozen=True)
class Overspend:
    category: str
    limit: Money
    spent: Money

    @property
    def excess(self) -> Money:
        return self.spent - self.limit


def parse_budget(text: str, currency: str | None = None) -> dict[str, Money]:
    """Limits from lines such as `groceries = 350` or `travel = 120.50 USD`.

    `#` starts a comment. Amounts without a currency are in `currency` (see `parse_amount`).
    """
    limits: dict[str, Money] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        category, separator, amount = line.partition("=")
        category = category.strip()
        if not separator or not category:
            raise BudgetError(f"line {number}: expected 'category = amount', got {line!r}")
        if category in limits:
            raise BudgetError(f"line {number}: a second limit for {category!r}")
        try:
            limit = parse_amount(amount, currency)
        except AmountError as exc:
            raise BudgetError(f"line {number}: {exc}") from exc
        if limit.is_negative:
            raise BudgetError(f"line {number}: the limit for {category!r} is negative")
        limits[category] = limit
    return limits


def overspending(
    summary: MonthlySummary,
    limits: Mapping[str, Money],
    slack: Money | None = None,
) -> list[Overspend]:
    """The categories whose spending went over their limit by more than `slack` (default 0).

    Categories without a limit are never reported. The largest excess comes first.
    """
    allowed = slack if slack is not None else Money.zero(summary.spending.currency)
    found: list[Overspend] = []
    for category, limit in limits.items():
        spent = summary.by_category.get(category)
        if spent is not None and spent - limit > allowed:
            found.append(Overspend(category, limit, spent))
    return sorted(found, key=lambda o: (-o.excess.amount, o.category))


def remaining(summary: MonthlySummary, limits: Mapping[str, Money]) -> dict[str, Money]:
    """What is left of each limit after the month's spending (negative when overspent)."""
    zero = Money.zero(summary.spending.currency)
    return {
        category: limit - summary.by_category.get(category, zero)
        for category, limit in limits.items()
    }
