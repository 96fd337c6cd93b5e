import pytest

import tallyho.money
import tallyho.parsing
from tallyho.budget import BudgetError, Overspend, overspending, parse_budget, remaining
from tallyho.ledger import Ledger, Month
from tallyho.summary import summarize_month

BUDGET = """
# monthly limits
groceries = 120
fun       = 60.00   # concerts, cinema
transport = 49
"""


def eur(text: str) -> tallyho.money.Money:
    return tallyho.parsing.parse_amount(text, "EUR")


def test_parse_budget() -> None:
    assert parse_budget(BUDGET) == {
        "groceries": eur("120"),
        "fun": eur("60"),
        "transport": eur("49"),
    }


def test_parse_budget_currency() -> None:
    assert parse_budget("travel = 300", currency="USD") == {"travel": eur("300 USD")}
    assert parse_budget("travel = £300", currency="USD") == {"travel": eur("300 GBP")}


@pytest.mark.parametrize(
    "text, message",
    [
        ("groceries 120", "line 1: expected 'category = amount'"),
        ("fun = 10\nfun = 20", "line 2: a second limit for 'fun'"),
        ("fun = lots", "line 1: not an amount"),
        ("fun = -10", "line 1: the limit for 'fun' is negative"),
    ],
)
def test_parse_budget_rejects(text: str, message: str) -> None:
    with pytest.raises(BudgetError, match=message):
        parse_budget(text)


def test_overspending(ledger: Ledger) -> None:
    march = summarize_month(ledger, Month(2024, 3))
    limits = parse_budget(BUDGET) | {"housing": eur("900")}
    assert overspending(march, limits) == [
        Overspend("housing", eur("900"), eur("950")),
        Overspend("fun", eur("60"), eur("85")),
    ]
    assert overspending(march, limits)[0].excess == eur("50")


def test_overspending_with_slack(ledger: Ledger) -> None:
    march = summarize_month(ledger, Month(2024, 3))
    limits = parse_budget(BUDGET) | {"housing": eur("900")}
    assert [o.category for o in overspending(march, limits, slack=eur("25"))] == ["housing"]
    assert overspending(march, limits, slack=eur("50")) == []


def test_remaining(ledger: Ledger) -> None:
    march = summarize_month(ledger, Month(2024, 3))
    assert remaining(march, parse_budget(BUDGET) | {"books": eur("15")}) == {
        "groceries": eur("43"),
        "fun": eur("-25"),
        "transport": eur("0"),
        "books": eur("15"),
    }
