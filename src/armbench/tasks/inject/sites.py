"""The site machinery every operator builds on: edits, sites, parsed modules, operators.

A `Module` is a parsed source file with byte-offset helpers; an operator's finder walks it and
returns `Site`s, each holding one byte-exact `Edit` and the `extent` of code it owns (see the
catalogue's docstring in `catalogue`). The helpers at the end are the ones more than one
family of operators uses.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from armbench.core import parse_python

Kind = Literal["mypy", "ruff", "collect"]


@dataclass(frozen=True)
class Edit:
    """Replace bytes `[start, end)` of a file (which hold `old`) with `new`."""

    start: int
    end: int
    old: bytes
    new: bytes

    @property
    def delta(self) -> int:
        return len(self.new) - len(self.old)


@dataclass(frozen=True)
class Site:
    """One place where one operator can inject its mistake."""

    operator: str
    kind: Kind
    path: str
    line: int
    """1-based line of the edit in the original file."""
    edit: Edit
    extent: tuple[int, int]
    """Byte range of the code this mutation owns (collision and finding attribution)."""
    change: str
    """What the edit does, for people: "`x is None` → `x == None`"."""
    group: str = ""
    """Sites sharing a non-empty group collide (collect: one per test module)."""
    symbol: str = ""
    """The name a `remote` mutation changes the contract of (function, variable, attribute)."""

    @property
    def order_key(self) -> tuple[str, int, str]:
        return (self.path, self.edit.start, self.operator)

    def collides(self, other: Site) -> bool:
        if self.group and self.group == other.group:
            return True
        if self.path != other.path:
            return False
        (a, b), (c, d) = self.extent, other.extent
        return a < d and c < b


@dataclass(frozen=True)
class RepoContext:
    """What an operator may need to know about the repository beyond one module."""

    local_modules: frozenset[str] = frozenset()
    """Top-level module names the repo itself provides (they shadow the stdlib)."""


class Module:
    """A parsed source file with byte-offset helpers; built only for files it can map exactly."""

    def __init__(self, path: str, data: bytes, tree: ast.Module) -> None:
        self.path = path
        self.data = data
        self.tree = tree
        self.line_starts = [0]
        for line in data.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        self._parents: dict[int, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self._parents[id(child)] = node
        self._identifiers: frozenset[str] | None = None

    @classmethod
    def parse(cls, path: str, data: bytes) -> Module | None:
        """None for files whose AST offsets would not map onto their bytes (BOM, non-UTF-8)."""
        if data.startswith(b"\xef\xbb\xbf"):
            return None
        try:
            data.decode("utf-8")
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            if encoding not in ("utf-8", "utf-8-sig") and not data.isascii():
                return None
            tree = parse_python(data, filename=path)
        except (SyntaxError, ValueError, UnicodeDecodeError):
            return None
        return cls(path, data, tree)

    def offset(self, lineno: int, col: int) -> int:
        return self.line_starts[lineno - 1] + col

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def text(self, node: ast.AST) -> bytes:
        return self.data[self.start(node) : self.end(node)]

    def line_of(self, offset: int) -> int:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self._parents.get(id(node))

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        current = self.parent(node)
        while current is not None:
            yield current
            current = self.parent(current)

    @property
    def identifiers(self) -> frozenset[str]:
        """Every name spelt anywhere in the module: a typo must not land on one of them."""
        if self._identifiers is None:
            names: set[str] = set()
            for node in ast.walk(self.tree):
                for attr in ("id", "attr", "name", "arg", "asname"):
                    value = getattr(node, attr, None)
                    if isinstance(value, str):
                        names.add(value)
            self._identifiers = frozenset(names)
        return self._identifiers

    def definition_start(self, node: ast.stmt) -> int:
        """Start of a statement, decorators included, and its indentation when it opens a line.

        Starting at the line's beginning keeps a compound statement's header from reaching
        into the line of its first body statement.
        """
        decorators: list[ast.expr] = getattr(node, "decorator_list", [])
        first = min([node.lineno, *(d.lineno for d in decorators)])
        line_start = self.line_starts[first - 1]
        start = self.start(node) if not decorators else line_start
        return line_start if not self.data[line_start:start].strip() else start

    def statement_extent(self, node: ast.AST) -> tuple[int, int]:
        """The innermost statement holding `node`; only its header when it is compound."""
        stmt = node if isinstance(node, ast.stmt) else None
        if stmt is None:
            stmt = next(a for a in self.ancestors(node) if isinstance(a, ast.stmt))
        start = self.definition_start(stmt)
        children = [c for c in ast.iter_child_nodes(stmt) if isinstance(c, ast.stmt)]
        children += [s for h in getattr(stmt, "handlers", []) for s in h.body]
        children += [s for c in getattr(stmt, "cases", []) for s in c.body]
        if children:
            return (start, min(self.definition_start(c) for c in children))
        return (start, self.end(stmt))

    def site(
        self,
        operator: Operator,
        edit: Edit,
        extent: tuple[int, int],
        change: str,
        group: str = "",
        symbol: str = "",
    ) -> Site:
        return Site(
            operator=operator.id,
            kind=operator.kind,
            path=self.path,
            line=self.line_of(edit.start),
            edit=edit,
            extent=extent,
            change=change,
            group=group,
            symbol=symbol,
        )

    def replace(self, start: int, end: int, new: bytes) -> Edit:
        return Edit(start, end, self.data[start:end], new)


Finder = Callable[[Module, RepoContext], Iterator[Site]]


@dataclass(frozen=True)
class Operator:
    """A kind of mistake: its id, the checker that must see it, and where it can be made."""

    id: str
    kind: Kind
    description: str
    find: Finder = field(repr=False)
    remote: bool = False
    """May cause findings outside its own extent (callers, overrides, lost narrowing)."""


# --- shared helpers -------------------------------------------------------------------------


def typo(name: str, avoid: frozenset[str] | set[str]) -> str | None:
    """Swap two adjacent letters near the middle of `name`: the commonest slip of the fingers.

    Returns None when no swap gives a fresh identifier (too short, or every swap is taken).
    """
    lead = len(name) - len(name.lstrip("_"))
    core = name[lead:]
    if len(core) < 3 or name.startswith("__"):
        return None
    mid = (len(core) - 1) // 2
    for i in sorted(range(len(core) - 1), key=lambda i: (abs(i - mid), i)):
        a, b = core[i], core[i + 1]
        if a == b or not (a.isalpha() and b.isalpha()):
            continue
        candidate = name[:lead] + core[:i] + b + a + core[i + 2 :]
        if candidate not in avoid and not keyword.iskeyword(candidate):
            return candidate
    return None


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def short(text: bytes, limit: int = 40) -> str:
    shown = " ".join(text.decode("utf-8").split())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id
    return target.attr if isinstance(target, ast.Attribute) else ""
