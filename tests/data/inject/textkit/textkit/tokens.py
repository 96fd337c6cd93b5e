"""A small tokenizer for configuration-like lines."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    WORD = "word"
    NUMBER = "number"
    SYMBOL = "symbol"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    column: int


class Tokenizer:
    def __init__(self, symbols: str = "=:,[]", comment: str | None = "#") -> None:
        self.symbols = symbols
        self.comment = comment
        self.count = 0

    def tokenize(self, line: str) -> list[Token]:
        if self.comment is not None and self.comment in line:
            line = line[: line.index(self.comment)]
        tokens: list[Token] = []
        column = 0
        while column < len(line):
            if line[column].isspace():
                column += 1
                continue
            end = self._word_end(line, column)
            text = line[column:end]
            tokens.append(Token(self._kind(text), text, column))
            column = end
        self.count += len(tokens)
        return tokens

    def _kind(self, text: str) -> Kind:
        if text in self.symbols:
            return Kind.SYMBOL
        return Kind.NUMBER if text.isdigit() else Kind.WORD

    def _word_end(self, line: str, start: int) -> int:
        if line[start] in self.symbols:
            return start + 1
        end = start
        while end < len(line) and line[end] not in self.symbols:
            if line[end].isspace():
                break
            end += 1
        return end

    def first(self, line: str, kind: Kind | None = None) -> Token | None:
        for token in self.tokenize(line):
            if kind is None or token.kind is kind:
                return token
        return None
