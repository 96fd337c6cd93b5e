"""Run-length encoding and decoding on the command line."""

import re
import sys
from itertools import groupby


def encode(text: str) -> str:
    parts = []
    for char, group in groupby(text):
        length = len(list(group))
        while length > 0:
            step = min(length, 9)
            parts.append(f"{step}{char}")
            length -= step
    return "".join(parts)


def decode(code: str) -> str:
    if not re.fullmatch(r"(?:[1-9]\D)*", code, flags=re.S):
        raise ValueError(code)
    return "".join(int(code[i]) * code[i + 1] for i in range(0, len(code), 2))


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("encode", "decode"):
        print("usage: solution.py encode TEXT | decode CODE", file=sys.stderr)
        return 2
    if argv[0] == "encode":
        print(encode(argv[1]))
        return 0
    try:
        print(decode(argv[1]))
    except ValueError:
        print("invalid code", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
