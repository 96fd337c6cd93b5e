"""Convert between integers and roman numerals."""

import sys

VALUES = [
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
]  # fmt: skip
CANONICAL: dict[str, int] = {}


def to_roman(number: int) -> str:
    parts = []
    for value, letters in VALUES:
        count, number = divmod(number, value)
        parts.append(letters * count)
    return "".join(parts)


def convert(line: str) -> str:
    if line.isascii() and line.isdigit():
        number = int(line)
        return to_roman(number) if 1 <= number <= 3999 else "invalid"
    if not CANONICAL:
        CANONICAL.update({to_roman(n): n for n in range(1, 4000)})
    return str(CANONICAL[line]) if line in CANONICAL else "invalid"


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.strip()
            if line:
                print(convert(line))


if __name__ == "__main__":
    main(sys.argv[1])
