from decimal import Decimal

import pytest

from tallyho.money import AmountError, CurrencyMismatchError, Money, total
from tallyho.parsing import parse_amount


@pytest.mark.parametrize(
    "text, expected",
    [
        ("12", Money.of("12.00")),
        ("12.5", Money.of("12.50")),
        ("-3.20", Money.of("-3.20")),
        ("1,234.56", Money.of("1234.56")),
        ("€9.99", Money.of("9.99", "EUR")),
        ("$1,000", Money.of("1000", "USD")),
        ("19.99 CHF", Money.of("19.99", "CHF")),
        ("(20.00)", Money.of("-20.00")),
    ],
)
def test_parse_amount(text: str, expected: Money) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    "text",
    ["abc", "12.345", "1,23", "(-5)", "€5 USD"],
)
def test_parse_amount_rejects(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text)


def test_parse_amount_uses_the_given_currency_only_for_bare_amounts() -> None:
    assert parse_amount("5", "USD") == Money.of("5", "USD")
    assert parse_amount("£5", "USD") == Money.of("5", "GBP")


@pytest.mark.parametrize(
    "value, expected",
    [("0.125", "0.12"), ("0.135", "0.14"), ("-2.005", "-2.00")],
)
def test_money_rounds_half_to_even(value: str, expected: str) -> None:
    assert Money(Decimal(value)).amount == Decimal(expected)


def test_money_rejects_a_bad_currency_code() -> None:
    with pytest.raises(ValueError, match="currency code"):
        Money.of("1", "euro")


def test_arithmetic() -> None:
    a, b = Money.of("10.50"), Money.of("2.25")
    assert a + b == Money.of("12.75")
    assert a - b == Money.of("8.25")
    assert -a == Money.of("-10.50")
    assert abs(Money.of("-3")) == Money.of("3")
    assert b * 3 == Money.of("6.75")


def test_mixing_currencies_raises() -> None:
    with pytest.raises(CurrencyMismatchError) as caught:
        _ = Money.of("1", "EUR") + Money.of("1", "USD")
    assert (caught.value.expected, caught.value.actual) == ("EUR", "USD")
    with pytest.raises(CurrencyMismatchError):
        _ = Money.of("1", "EUR") < Money.of("2", "USD")


def test_ordering() -> None:
    amounts = [Money.of("3"), Money.of("-1"), Money.of("2.50")]
    assert sorted(amounts) == [Money.of("-1"), Money.of("2.50"), Money.of("3")]
    assert max(amounts) == Money.of("3")


@pytest.mark.parametrize(
    "money, expected",
    [
        (Money.of("1234.5"), "€1,234.50"),
        (Money.of("-3", "USD"), "-$3.00"),
        (Money.of("12", "CHF"), "12.00 CHF"),
    ],
)
def test_format(money: Money, expected: str) -> None:
    assert money.format() == expected
    assert str(money) == expected


def test_format_without_symbol() -> None:
    assert Money.of("-1234.5").format(symbol=False) == "-1,234.50 EUR"


def test_to_text_round_trips_through_parse_amount() -> None:
    for money in [Money.of("-1234.50"), Money.of("0.07", "GBP"), Money.of("99", "JPY")]:
        assert parse_amount(money.to_text()) == money


def test_total() -> None:
    assert total([]) == Money.zero()
    assert total([Money.of("1.10"), Money.of("2.20")]) == Money.of("3.30")
    assert total([], "USD") == Money.zero("USD")
