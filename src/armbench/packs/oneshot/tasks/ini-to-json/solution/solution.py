"""Convert an INI file to nested JSON."""

import json
import re
import sys

BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def convert(value: str) -> object:
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1]
    if re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    return BOOLEANS.get(value.lower(), value)


def parse(text: str) -> dict[str, object]:
    root: dict[str, object] = {}
    current = root
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = root
            for part in line[1:-1].strip().split("."):
                child = current.setdefault(part.strip(), {})
                assert isinstance(child, dict)
                current = child
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if cut < 0:
            continue
        current[line[:cut].strip().lower()] = convert(line[cut + 1 :].strip())
    return root


def main(source: str, target: str) -> None:
    with open(source, encoding="utf-8") as handle:
        data = parse(handle.read())
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
