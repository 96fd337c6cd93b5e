"""The most frequent words of a text file, ties at the cut kept."""

import re
import sys
from collections import Counter


def words(text: str) -> list[str]:
    found = []
    for run in re.findall(r"[A-Za-z']+", text):
        word = run.strip("'").lower()
        if any(c.isalpha() for c in word):
            found.append(word)
    return found


def main(path: str, n: int) -> None:
    with open(path, encoding="utf-8") as handle:
        counts = Counter(words(handle.read()))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if n <= 0 or not ranked:
        return
    cut = ranked[min(n, len(ranked)) - 1][1]
    for i, (word, count) in enumerate(ranked):
        if i >= n and count != cut:
            break
        print(word, count)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
