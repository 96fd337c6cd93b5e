import pytest

from ledger.money import Money, MoneyError, parse, total


@pytest.mark.parametrize(
    ("text", "cents"),
    [("1", 100), ("1.5", 150), ("-2.05", -205), (" 3.10 ", 310)],
)
def test_parse(text: str, cents: int) -> None:
    assert parse(text).cents == cents


@pytest.mark.parametrize("text", ["", "abc", "1.234", "1,5"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(MoneyError):
        parse(text)


@pytest.mark.parametrize(
    "cents, symbol, expected",
    [(150, None, "1.50 EUR"), (-5, "$", "-0.05 $"), (0, "GBP", "0.00 GBP")],
)
def test_format(cents: int, symbol: str | None, expected: str) -> None:
    assert Money(cents).format(symbol) == expected


def test_mixed_currencies_are_refused() -> None:
    with pytest.raises(MoneyError):
        Money(1) + Money(1, "USD")


def test_total() -> None:
    assert total([Money(1), Money(2)]).cents == 3
    assert total([], "USD") == Money(0, "USD")
