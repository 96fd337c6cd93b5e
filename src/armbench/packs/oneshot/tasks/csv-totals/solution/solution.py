"""Totals per category from a CSV file of expenses."""

import csv
import sys
from decimal import Decimal


def main(path: str) -> None:
    totals: dict[str, Decimal] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            amount = (row["amount"] or "").strip()
            if not amount:
                continue
            category = row["category"].strip().lower()
            totals[category] = totals.get(category, Decimal(0)) + Decimal(amount)
    for category, total in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        print(f"{category}: {total:.2f}")
    print(f"TOTAL: {sum(totals.values(), Decimal(0)):.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
