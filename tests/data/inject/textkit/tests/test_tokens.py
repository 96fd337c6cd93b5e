import pytest

from textkit.tokens import Kind, Tokenizer


@pytest.mark.parametrize(
    ("line", "texts"),
    [
        ("key = value", ["key", "=", "value"]),
        ("list: [1, 2]", ["list", ":", "[", "1", ",", "2", "]"]),
        ("x = 1  # note", ["x", "=", "1"]),
    ],
)
def test_tokenize(line: str, texts: list[str]) -> None:
    assert [t.text for t in Tokenizer().tokenize(line)] == texts


@pytest.mark.parametrize(
    "line, kind, text",
    [("a = 12", Kind.NUMBER, "12"), ("a = 12", Kind.SYMBOL, "="), ("", None, None)],
)
def test_first(line: str, kind: Kind | None, text: str | None) -> None:
    token = Tokenizer().first(line, kind)
    assert (token.text if token is not None else None) == text


def test_counts_tokens() -> None:
    tokenizer = Tokenizer(comment=None)
    tokenizer.tokenize("a # b")
    assert tokenizer.count == 3
