"""Count the lines of a log file by level and component."""

import json
import re
import sys

LINE = re.compile(
    r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (DEBUG|INFO|WARNING|ERROR) \[([A-Za-z0-9_-]+)\](?: .*)?"
)


def main(path: str) -> None:
    levels: dict[str, int] = {}
    components: dict[str, dict[str, int]] = {}
    malformed = 0
    first_error = None
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            match = LINE.fullmatch(line)
            if match is None:
                malformed += 1
                continue
            when, level, component = match.groups()
            levels[level] = levels.get(level, 0) + 1
            counts = components.setdefault(component, {"lines": 0, "errors": 0})
            counts["lines"] += 1
            if level == "ERROR":
                counts["errors"] += 1
                if first_error is None:
                    first_error = when
    report = {
        "levels": levels,
        "components": components,
        "malformed": malformed,
        "first_error": first_error,
    }
    print(json.dumps(report, indent=2, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])
