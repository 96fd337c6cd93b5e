"""Plain-text reports of a journal."""

from __future__ import annotations

import textwrap

from ledger.accounts import Journal
from ledger.money import Money, total

HEADER = "Account balances"
RULE = "-" * 24


def format_line(name: str, amount: Money, width: int = 16) -> str:
    return name.ljust(width) + amount.format()


def balance_report(journal: Journal, title: str | None = None) -> str:
    lines = [title if title is not None else HEADER, RULE]
    for name, amount in journal.balances().items():
        lines.append(format_line(name, amount))
    if not journal.accounts:
        lines.append("(no accounts yet)")
    return "\n".join(lines)


def summary(journal: Journal, note: str | None = None) -> str:
    amounts = list(journal.balances().values())
    grand = total(amounts) if amounts else None
    text = "Total: " + (grand.format() if grand is not None else "nothing")
    if note is not None:
        text += " - " + textwrap.shorten(note, width=30, placeholder=" ...")
    return text
