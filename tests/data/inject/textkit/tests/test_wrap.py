import pytest

from textkit.compat import OldSlugger
from textkit.tables import plain
from textkit.wrap import WrapError, first_longer_than, longest, wrap


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("the quick brown fox", 10, ["the quick", "brown fox"]),
        ("short", 72, ["short"]),
        ("", 5, []),
    ],
)
def test_wrap(text: str, width: int, lines: list[str]) -> None:
    assert wrap(text, width) == lines


def test_indent() -> None:
    assert wrap("a b", 3, indent="> ") == ["> a", "> b"]
    with pytest.raises(WrapError):
        wrap("a", 2, indent="> ")


@pytest.mark.parametrize(
    ("lines", "limit", "expected"), [(["ab", "abcd"], 3, "abcd"), (["ab"], 3, None)]
)
def test_first_longer_than(lines: list[str], limit: int, expected: str | None) -> None:
    assert first_longer_than(lines, limit) == expected
    assert longest(lines) == max(lines, key=len)


def test_compat_and_tables() -> None:
    assert OldSlugger().make("A b") == "a_b"
    assert plain("\u201chi\u201d") == '"hi"'
