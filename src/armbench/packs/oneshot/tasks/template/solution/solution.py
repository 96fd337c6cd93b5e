"""A tiny template renderer: {{ path | filter }} placeholders filled from a JSON context."""

import json
import re
import sys

PLACEHOLDER = re.compile(r"\\\{\{|\{\{\s*([^{}|]*?)\s*(?:\|\s*(\w+)\s*)?\}\}")
FILTERS = {"upper": str.upper, "lower": str.lower, "title": str.title}


class Missing(Exception):
    pass


def lookup(context: object, path: str) -> object:
    value = context
    for name in path.split("."):
        if isinstance(value, dict) and name in value:
            value = value[name]
        elif isinstance(value, list) and name.isdigit() and int(name) < len(value):
            value = value[int(name)]
        else:
            raise Missing(path)
    return value


def as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value)


def render(template: str, context: object) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "\\{{":
            return "{{"
        text = as_text(lookup(context, match.group(1)))
        name = match.group(2)
        return FILTERS[name](text) if name else text

    return PLACEHOLDER.sub(replace, template)


def main(template_path: str, context_path: str) -> int:
    with open(template_path, encoding="utf-8") as handle:
        template = handle.read()
    with open(context_path, encoding="utf-8") as handle:
        context = json.load(handle)
    try:
        text = render(template, context)
    except Missing as exc:
        print(f"missing: {exc}", file=sys.stderr)
        return 3
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
