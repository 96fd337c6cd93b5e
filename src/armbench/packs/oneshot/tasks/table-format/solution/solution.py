"""Format a CSV file as an aligned text table."""

import csv
import re
import sys

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def main(path: str) -> None:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row]
    header, body = rows[0], rows[1:]
    columns = list(zip(*rows, strict=True))
    widths = [max(len(cell) for cell in column) for column in columns]
    numeric = []
    for column in columns:
        cells = [cell for cell in column[1:] if cell]
        numeric.append(bool(cells) and all(NUMBER.fullmatch(cell) for cell in cells))

    def line(cells: list[str]) -> str:
        parts = [
            cell.rjust(width) if is_number else cell.ljust(width)
            for cell, width, is_number in zip(cells, widths, numeric, strict=True)
        ]
        return " | ".join(parts).rstrip()

    print(line(header))
    print("-+-".join("-" * width for width in widths))
    for row in body:
        print(line(row))


if __name__ == "__main__":
    main(sys.argv[1])
