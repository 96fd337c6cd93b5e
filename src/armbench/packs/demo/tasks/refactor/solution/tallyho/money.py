"""Money: an amount held to whole cents in one currency."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import total_ordering
from typing import Self

DEFAULT_CURRENCY = "EUR"
CENT = Decimal("0.01")

SYMBOLS: dict[str, str] = {"€": "EUR", "$": "USD", "£": "GBP"}
"""The currency symbols an amount may start with, and the code each one stands for."""

_SYMBOL_OF = {code: symbol for symbol, code in SYMBOLS.items()}


class AmountError(ValueError):
    """Text that cannot be read as an amount of money."""


class CurrencyMismatchError(ValueError):
    """Amounts in two different currencies were combined or compared."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"expected an amount in {expected}, got one in {actual}")
        self.expected = expected
        self.actual = actual


@total_ordering
@dataclass(frozen=True)
class Money:
    """An amount of one currency, rounded to whole cents (half to even) when created."""

    amount: Decimal
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if re.fullmatch(r"[A-Z]{3}", self.currency) is None:
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")
        object.__setattr__(self, "amount", self.amount.quantize(CENT, rounding=ROUND_HALF_EVEN))

    @classmethod
    def of(cls, value: int | str, currency: str = DEFAULT_CURRENCY) -> Self:
        """Shorthand for exact literals: `Money.of("12.50")`. There is no float variant."""
        return cls(Decimal(value), currency)

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Self:
        return cls(Decimal(0), currency)

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def _same_currency(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency)
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same_currency(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same_currency(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same_currency(other).amount

    def format(self, *, symbol: bool = True) -> str:
        """For people: `€1,234.50`, `-$3.00`, or `12.00 CHF` for a currency without a symbol."""
        sign = "-" if self.is_negative else ""
        digits = f"{abs(self.amount):,.2f}"
        prefix = _SYMBOL_OF.get(self.currency) if symbol else None
        if prefix is None:
            return f"{sign}{digits} {self.currency}"
        return f"{sign}{prefix}{digits}"

    def to_text(self) -> str:
        """For files: `-1234.50 EUR`, which `tallyho.parsing.parse_amount` reads back exactly."""
        return f"{self.amount} {self.currency}"

    def __str__(self) -> str:
        return self.format()


def total(amounts: Iterable[Money], currency: str = DEFAULT_CURRENCY) -> Money:
    """The sum of `amounts`, all in `currency`; zero when there are none."""
    result = Money.zero(currency)
    for amount in amounts:
        result += amount
    return result
