import pytest

from ledger.accounts import Account, Journal
from ledger.money import Money
from ledger.report import balance_report, format_line, summary


@pytest.mark.parametrize(
    ("name", "cents", "width", "expected"),
    [("cash", 150, 6, "cash  1.50 EUR"), ("bank", -20, 5, "bank -0.20 EUR")],
)
def test_format_line(name: str, cents: int, width: int, expected: str) -> None:
    assert format_line(name, Money(cents), width) == expected


def test_empty_report() -> None:
    report = balance_report(Journal("empty"), title="Nothing")
    assert report.splitlines() == ["Nothing", "-" * 24, "(no accounts yet)"]


@pytest.mark.parametrize(
    ("note", "suffix"), [(None, "0.00 EUR"), ("checked", "0.00 EUR - checked")]
)
def test_summary(note: str | None, suffix: str) -> None:
    journal = Journal("books", [Account("cash")])
    assert summary(journal, note) == "Total: " + suffix
