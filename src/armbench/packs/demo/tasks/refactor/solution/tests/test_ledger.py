from datetime import date

import pytest

from tallyho import money, parsing
from tallyho.categories import UNCATEGORIZED, Rule
from tallyho.ledger import Ledger, Month, Transaction


@pytest.mark.parametrize(
    "text, expected",
    [("2024-03", Month(2024, 3)), (" 2025-1 ", Month(2025, 1))],
)
def test_month_parse(text: str, expected: Month) -> None:
    assert Month.parse(text) == expected


@pytest.mark.parametrize("text", ["24-03", "2024-13", "March"])
def test_month_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        Month.parse(text)


def test_month_arithmetic_and_text() -> None:
    assert Month(2024, 11).next() == Month(2024, 12)
    assert Month(2024, 12).next() == Month(2025, 1)
    assert list(Month(2024, 11).until(Month(2025, 2))) == [
        Month(2024, 11),
        Month(2024, 12),
        Month(2025, 1),
        Month(2025, 2),
    ]
    assert str(Month(987, 6)) == "0987-06"


def test_add_parses_amounts_and_keeps_date_order() -> None:
    book = Ledger()
    book.add(date(2024, 3, 9), "second", "-2")
    book.add(date(2024, 3, 1), "first", "1.50")
    book.add(date(2024, 3, 9), "third", money.Money.of("-3"))
    assert [t.description for t in book] == ["first", "second", "third"]
    assert len(book) == 3
    assert book.balance() == parsing.parse_amount("-3.50")


def test_add_categorizes_with_the_rules_unless_told() -> None:
    book = Ledger(rules=[Rule("bakery", "groceries")])
    assert book.add(date(2024, 1, 2), "Bakery", "-3").category == "groceries"
    assert book.add(date(2024, 1, 2), "Bakery", "-3", category="gifts").category == "gifts"
    assert book.add(date(2024, 1, 2), "Cinema", "-9").category == UNCATEGORIZED


def test_add_rejects_other_currencies() -> None:
    book = Ledger("EUR")
    with pytest.raises(money.CurrencyMismatchError):
        book.add(date(2024, 1, 2), "Souvenir", "-5 USD")


def test_extend_categorizes_only_uncategorized_transactions() -> None:
    book = Ledger(rules=[Rule("metro", "transport")])
    book.extend(
        [
            Transaction(date(2024, 2, 1), "Metro", money.Money.of("-2")),
            Transaction(date(2024, 2, 2), "Metro", money.Money.of("-2"), "work"),
        ]
    )
    assert [t.category for t in book] == ["transport", "work"]


def test_months_include_empty_ones(ledger: Ledger) -> None:
    assert ledger.span() == (date(2024, 3, 1), date(2024, 5, 12))
    assert ledger.months() == [Month(2024, 3), Month(2024, 4), Month(2024, 5)]
    assert Ledger().span() is None
    assert Ledger().months() == []


def test_balance_until(ledger: Ledger) -> None:
    assert ledger.balance(until=date(2024, 3, 2)) == money.Money.of("1450")
    assert ledger.balance() == money.Money.of("2619.00")
