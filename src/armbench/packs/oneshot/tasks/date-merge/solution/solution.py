"""Merge overlapping and adjacent date ranges."""

import sys
from datetime import date, timedelta


def parse(line: str) -> tuple[date, date]:
    start_text, sep, end_text = line.partition("..")
    start = date.fromisoformat(start_text.strip())
    end = date.fromisoformat(end_text.strip()) if sep else start
    if end < start:
        raise ValueError("ends before it starts")
    return start, end


def show(start: date, end: date) -> str:
    days = (end - start).days + 1
    if days == 1:
        return f"{start.isoformat()} (1 day)"
    return f"{start.isoformat()}..{end.isoformat()} ({days} days)"


def main(path: str) -> int:
    ranges = []
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                ranges.append(parse(line))
            except ValueError:
                print(f"line {number}: invalid booking", file=sys.stderr)
                return 2
    merged: list[list[date]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        print(show(start, end))
    total = sum((end - start).days + 1 for start, end in merged)
    print(f"total: {total} days")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
