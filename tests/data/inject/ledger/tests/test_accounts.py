import pytest

from ledger.accounts import Account, Journal
from ledger.money import Money, MoneyError


@pytest.fixture
def journal() -> Journal:
    return Journal("books", [Account("cash"), Account("bank")])


@pytest.mark.parametrize(
    ("source", "target", "cents"),
    [("cash", "bank", 500), ("bank", "cash", 125)],
)
def test_transfer(journal: Journal, source: str, target: str, cents: int) -> None:
    journal.transfer(source, target, Money(cents), memo="moving money")
    assert journal.accounts[target].balance().cents == cents
    assert journal.accounts[source].balance().cents == -cents
    assert journal.memos == ["moving money"]


@pytest.mark.parametrize("name, found", [("cash", True), ("nope", False)])
def test_find(journal: Journal, name: str, found: bool) -> None:
    assert (journal.find(name) is not None) == found


def test_duplicate_account(journal: Journal) -> None:
    with pytest.raises(MoneyError):
        journal.open(Account("cash"))


def test_closed_journal(journal: Journal) -> None:
    journal.close()
    with pytest.raises(MoneyError):
        journal.transfer("cash", "bank", Money(1))


@pytest.mark.parametrize(
    ("parent", "expected"), [(None, "cash"), ("assets", "assets:cash")]
)
def test_path(parent: str | None, expected: str) -> None:
    owner = Account(parent) if parent is not None else None
    assert Account("cash", parent=owner).path() == expected
