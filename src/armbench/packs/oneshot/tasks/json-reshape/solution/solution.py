"""Reshape a list of orders into per-customer summaries."""

import json
import sys


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        orders = json.load(handle)
    names: dict[str, str] = {}
    counts: dict[str, int] = {}
    spent: dict[str, int] = {}
    skus: dict[str, set[str]] = {}
    cancelled = []
    for order in orders:
        customer = order["customer"]["id"]
        names[customer] = order["customer"]["name"]
        counts[customer] = counts.get(customer, 0) + 1
        spent.setdefault(customer, 0)
        skus.setdefault(customer, set())
        if order["status"] == "cancelled":
            cancelled.append(order["id"])
            continue
        for item in order["items"]:
            spent[customer] += item["qty"] * item["unit_price_cents"]
            skus[customer].add(item["sku"])
    customers = [
        {
            "id": customer,
            "name": names[customer],
            "orders": counts[customer],
            "spent_cents": spent[customer],
            "skus": sorted(skus[customer]),
        }
        for customer in sorted(names, key=lambda c: (-spent[c], c))
    ]
    report = {
        "customers": customers,
        "cancelled": sorted(cancelled),
        "revenue_cents": sum(spent.values()),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
