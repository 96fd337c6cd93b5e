from datetime import date

import pytest

from tallyho.ledger import Ledger, Transaction
from tallyho.money import Money
from tallyho.reconcile import reconcile


def tx(day: int, amount: str, description: str = "", currency: str = "EUR") -> Transaction:
    """A transaction in March 2024."""
    return Transaction(date(2024, 3, day), description, Money.of(amount, currency))


def test_nothing_to_reconcile() -> None:
    result = reconcile([], [])
    assert result.matched == []
    assert result.is_balanced


def test_pairs_equal_amounts_and_ignores_descriptions() -> None:
    rent, salary = tx(1, "-950", "Rent"), tx(1, "2400", "Salary")
    bank_salary, bank_rent = tx(1, "2400", "ACME PAYROLL"), tx(1, "-950", "SO LANDLORD LTD")
    result = reconcile([rent, salary], [bank_salary, bank_rent])
    assert result.matched == [(salary, bank_salary), (rent, bank_rent)]
    assert result.is_balanced


@pytest.mark.parametrize(
    "ledger_day, statement_day, tolerance, paired",
    [
        (10, 13, 3, True),
        (13, 10, 3, True),
        (10, 14, 3, False),
        (10, 11, 0, False),
        (10, 10, 0, True),
    ],
)
def test_tolerance(ledger_day: int, statement_day: int, tolerance: int, paired: bool) -> None:
    recorded, booked = tx(ledger_day, "-20"), tx(statement_day, "-20")
    result = reconcile([recorded], [booked], tolerance_days=tolerance)
    if paired:
        assert result.matched == [(recorded, booked)]
        assert result.is_balanced
    else:
        assert result.matched == []
        assert result.missing_from_ledger == [booked]
        assert result.missing_from_statement == [recorded]


def test_amounts_must_agree_in_value_and_currency() -> None:
    ledger = [tx(5, "-12.00", currency="USD"), tx(5, "-12.01")]
    statement = [tx(5, "-12.00")]
    result = reconcile(ledger, statement)
    assert result.matched == []
    assert result.missing_from_ledger == statement
    assert result.missing_from_statement == ledger


def test_the_closest_day_wins() -> None:
    far, near = tx(2, "-5", "far"), tx(5, "-5", "near")
    booked = tx(6, "-5")
    result = reconcile([far, near], [booked])
    assert result.matched == [(near, booked)]
    assert result.missing_from_statement == [far]


def test_equally_close_the_earlier_day_then_the_ledger_order_wins() -> None:
    after, before = tx(12, "-8", "after"), tx(8, "-8", "before")
    result = reconcile([after, before], [tx(10, "-8")])
    assert [pair[0] for pair in result.matched] == [before]

    first, second = tx(9, "-8", "first"), tx(9, "-8", "second")
    result = reconcile([first, second], [tx(10, "-8")])
    assert [pair[0] for pair in result.matched] == [first]


def test_each_transaction_is_paired_once() -> None:
    coffees = [tx(3, "-2.50", "coffee"), tx(3, "-2.50", "coffee"), tx(4, "-2.50", "coffee")]
    statement = [tx(4, "-2.50"), tx(4, "-2.50")]
    result = reconcile(coffees, statement)
    assert result.matched == [(coffees[2], statement[0]), (coffees[0], statement[1])]
    assert result.missing_from_ledger == []
    assert result.missing_from_statement == [coffees[1]]


def test_statement_is_taken_in_order_of_day() -> None:
    early, late = tx(10, "-30", "early"), tx(14, "-30", "late")
    statement = [tx(15, "-30", "booked late"), tx(11, "-30", "booked early")]
    result = reconcile([early, late], statement)
    assert result.matched == [(early, statement[1]), (late, statement[0])]


def test_missing_lists_keep_their_order() -> None:
    ledger = [tx(1, "-3"), tx(2, "-1"), tx(3, "-2")]
    statement = [tx(9, "-6"), tx(2, "-1"), tx(7, "-4"), tx(7, "-5")]
    result = reconcile(ledger, statement, tolerance_days=1)
    assert result.missing_from_statement == [ledger[0], ledger[2]]
    assert result.missing_from_ledger == [statement[2], statement[3], statement[0]]


def test_reconciles_a_ledger() -> None:
    book = Ledger()
    salary = book.add(date(2024, 3, 1), "Salary", "2400")
    rent = book.add(date(2024, 3, 2), "Rent", "-950")
    result = reconcile(book, [tx(3, "-950"), tx(28, "-15")])
    assert [pair[0] for pair in result.matched] == [rent]
    assert result.missing_from_statement == [salary]
    assert [t.amount for t in result.missing_from_ledger] == [Money.of("-15")]


def test_negative_tolerance_is_an_error() -> None:
    with pytest.raises(ValueError, match="tolerance_days"):
        reconcile([], [], tolerance_days=-1)
