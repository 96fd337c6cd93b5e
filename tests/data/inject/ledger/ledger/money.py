"""Amounts of money held as integer cents, with parsing and formatting."""

from __future__ import annotations

import re
from dataclasses import dataclass

_AMOUNT = re.compile(r"^(-)?(\d+)(?:\.(\d{1,2}))?$")


class MoneyError(ValueError):
    """An amount could not be parsed or combined."""


@dataclass(frozen=True, order=True)
class Money:
    cents: int
    currency: str = "EUR"

    def __add__(self, other: Money) -> Money:
        self._check_currency(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check_currency(other)
        return Money(self.cents - other.cents, self.currency)

    def _check_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError("cannot combine different currencies")

    def negated(self) -> Money:
        cents = -self.cents
        return Money(cents, self.currency)

    def format(self, symbol: str | None = None) -> str:
        sign = "-" if self.cents < 0 else ""
        whole, frac = divmod(abs(self.cents), 100)
        unit = self.currency if symbol is None else symbol
        return f"{sign}{whole}.{frac:02d} {unit}"


def parse(text: str, currency: str = "EUR") -> Money:
    match = _AMOUNT.match(text.strip())
    if match is None:
        raise MoneyError("not an amount: " + repr(text))
    sign, whole, frac = match.groups()
    cents = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    return Money(-cents if sign else cents, currency)


def total(amounts: list[Money], currency: str | None = None) -> Money:
    if not amounts:
        return Money(0, currency or "EUR")
    result = Money(0, amounts[0].currency if currency is None else currency)
    for amount in amounts:
        result = result + amount
    return result
