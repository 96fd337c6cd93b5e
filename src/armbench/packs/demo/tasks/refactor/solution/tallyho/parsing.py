"""Reading amounts of money as people type them."""

from __future__ import annotations

import re
from decimal import Decimal

from tallyho.money import DEFAULT_CURRENCY, SYMBOLS, AmountError, Money

_AMOUNT_PATTERN = re.compile(
    r"(?P<sign>[-+])?(?P<symbol>[€$£])?"
    r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
    r"(?:\s*(?P<code>[A-Z]{3}))?"
)


def parse_amount(text: str, currency: str | None = None) -> Money:
    """Read an amount as people write it: `12.5`, `-3`, `€1,234.50`, `(20.00)`, `19.99 USD`.

    Parentheses mark a negative amount, as on bank statements. A leading currency symbol or a
    trailing ISO code gives the currency; without either, `currency` does, or `DEFAULT_CURRENCY`
    when it is None. Raises AmountError for anything else, including more than two decimal
    places, a sign inside parentheses, and a symbol that contradicts the code.
    """
    cleaned = text.strip()
    in_parentheses = cleaned.startswith("(") and cleaned.endswith(")")
    if in_parentheses:
        cleaned = cleaned[1:-1].strip()
    match = _AMOUNT_PATTERN.fullmatch(cleaned)
    if match is None:
        raise AmountError(f"not an amount: {text!r}")
    if in_parentheses and match["sign"] is not None:
        raise AmountError(f"a sign inside parentheses: {text!r}")
    from_symbol = SYMBOLS[match["symbol"]] if match["symbol"] else None
    code = match["code"]
    if from_symbol is not None and code is not None and from_symbol != code:
        raise AmountError(f"{match['symbol']} is not {code}: {text!r}")
    value = Decimal(match["number"].replace(",", ""))
    if in_parentheses or match["sign"] == "-":
        value = -value
    return Money(value, code or from_symbol or currency or DEFAULT_CURRENCY)
