"""Accounts and the journal of transfers between them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ledger.money import Money, MoneyError


@dataclass
class Account:
    name: str
    currency: str = "EUR"
    parent: Account | None = None
    entries: list[Money] = field(default_factory=list)

    def balance(self) -> Money:
        result = Money(0, self.currency)
        for entry in self.entries:
            result = result + entry
        return result

    def path(self) -> str:
        if self.parent is None:
            return self.name
        return self.parent.path() + ":" + self.name


class Journal:
    def __init__(self, name: str, accounts: Iterable[Account] = ()) -> None:
        self.name = name
        self.accounts: dict[str, Account] = {}
        self.memos: list[str] = []
        self.closed = False
        for account in accounts:
            self.open(account)

    def open(self, account: Account) -> None:
        if account.name in self.accounts:
            raise MoneyError("account already exists: " + account.name)
        self.accounts[account.name] = account

    def find(self, name: str) -> Account | None:
        if name not in self.accounts:
            return None
        return self.accounts[name]

    def transfer(
        self, source: str, target: str, amount: Money, memo: str | None = None
    ) -> None:
        if self.closed:
            raise MoneyError("the journal is closed for new transfers")
        debit = self._require(source)
        credit = self._require(target)
        debit.entries.append(amount.negated())
        credit.entries.append(amount)
        if memo is not None:
            self.memos.append(memo)

    def _require(self, name: str) -> Account:
        account = self.find(name)
        if account is None:
            raise MoneyError("no such account: " + name)
        return account

    def close(self) -> None:
        self.closed = True

    def balances(self) -> dict[str, Money]:
        return {name: acc.balance() for name, acc in sorted(self.accounts.items())}
