"""The breakage catalogue: realistic mistakes, each adding exactly one error to one checker.

Every operator finds candidate sites in a parsed module and turns each into one byte-exact
text edit computed from AST positions, so every byte it does not touch stays identical (no
`ast.unparse`). The injector verifies each chosen edit with the real checkers and drops the
ones that do not yield exactly one error of their kind, so the site filters below only need to
be good heuristics; they are tuned to keep that rejection rate low.

| id                              | kind    | the mistake, and what the checker says           |
|---------------------------------|---------|--------------------------------------------------|
| `optional_default_dropped`      | mypy    | `x: T | None = None` → `x: T = None`: [assignment] |
| `attribute_typo`                | mypy    | `self.total` → `self.toatl`: [attr-defined]      |
| `optional_return_dropped`       | mypy    | `-> T | None` → `-> T` over one `return None`:   |
|                                 |         | [return-value]                                   |
| `f_string_without_placeholders` | ruff    | `"no accounts"` → `f"no accounts"`: F541         |
| `comparison_to_none`            | ruff    | `x is None` → `x == None` (`!=`): E711           |
| `membership_test_negated`       | ruff    | `a not in b` → `not a in b`: E713                |
| `unused_import`                 | ruff    | `import copy` added in isort order: F401         |
| `parametrize_argname_typo`      | collect | `"amount, cents"` → `"amuont, cents"`: "function |
|                                 |         | uses no argument 'amuont'"                       |
| `parametrize_arity`             | collect | one case `(1, 2)` → `(1,)`: "the number of names |
|                                 |         | (2) must be equal to the number of values (1)"   |

Why each is realistic:

* `optional_default_dropped` — the pre-PEP 484 implicit-Optional habit, still common in code
  ported from older type-hinted projects; no runtime change.
* `attribute_typo` — two swapped keys; mypy sees it, ruff cannot; the code fails only when run.
* `optional_return_dropped` — a signature "tidied" without reading the body; no runtime change.
* `f_string_without_placeholders` — an f-string whose placeholder was edited away.
* `comparison_to_none` — equality habit from other languages.
* `membership_test_negated` — English word order ("not x in y").
* `unused_import` — an import left behind by a refactor.
* `parametrize_argname_typo` — a parameter renamed in the test but not in the decorator.
* `parametrize_arity` — a case written with a value missing (or a column added elsewhere).

Kinds: `mypy` and `ruff` mutations each add one finding of that checker; `collect` mutations
each make one test module fail pytest collection (so at most one per module). None of them
changes what the code does at runtime, except `attribute_typo`, which may make a test fail
(realistic, and not counted).

Sites are filtered to avoid known side effects. A misspelt attribute has type Any, so typos
are taken only where that Any goes nowhere — a discarded expression (`self.items.append(x)`)
or a direct call argument — never in a `return` (mypy adds `[no-any-return]`), a condition (a
lost narrowing adds errors) or an assignment (the Any spreads). f-strings are never made from
docstrings, annotations, subscripts, dict keys or identifier-like strings (`Literal` values,
modes, keys), whose literal type matters to mypy. Overloads are left alone.

A site's `extent` is the code it belongs to: the statement (only the header of a compound
statement) for expression-level edits, the signature for a default, the whole function for a
return annotation or a test's parametrize, the import block for an import. Two mutations never
share any byte of extent, so they cannot land in the same statement or test function, and the
injector attributes each checker finding to the mutation whose extent contains its line.
"""

from __future__ import annotations

import ast
import io
import keyword
import re
import sys
import tokenize
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["mypy", "ruff", "collect"]
KINDS: tuple[Kind, ...] = ("mypy", "ruff", "collect")


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
            tree = ast.parse(data, filename=path)
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


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _own_nodes(func: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function body, not descending into nested functions, lambdas or classes."""
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            stack.extend(ast.iter_child_nodes(node))


def _optional_inner(annotation: ast.expr) -> ast.expr | None:
    """`T` for an annotation spelt `T | None`, `None | T` or `Optional[T]`; None otherwise."""
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        left, right = annotation.left, annotation.right
        if _is_none(right) and not _is_none(left):
            return left
        if _is_none(left) and not _is_none(right):
            return right
        return None
    if isinstance(annotation, ast.Subscript):
        value = annotation.value
        name = value.id if isinstance(value, ast.Name) else getattr(value, "attr", "")
        if name == "Optional" and not isinstance(annotation.slice, ast.Tuple):
            return annotation.slice
    return None


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _short(text: bytes, limit: int = 40) -> str:
    shown = " ".join(text.decode("utf-8").split())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


# --- mypy operators -------------------------------------------------------------------------


def _find_optional_default(module: Module, ctx: RepoContext) -> Iterator[Site]:
    for func in _functions(module.tree):
        if any(_decorator_name(d) == "overload" for d in func.decorator_list):
            continue
        args = func.args
        positional = [*args.posonlyargs, *args.args]
        pairs = list(
            zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
        )
        pairs += [
            (a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None
        ]
        header = (module.definition_start(func), module.definition_start(func.body[0]))
        for arg, default in pairs:
            if arg.annotation is not None and _is_none(default):
                site = _narrow_optional(
                    module, OPTIONAL_DEFAULT_DROPPED, arg.annotation, header, func.name
                )
                if site is not None:
                    yield site
    for node in ast.walk(module.tree):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.value is not None
            and _is_none(node.value)
        ):
            extent = module.statement_extent(node)
            name = node.target.id
            site = _narrow_optional(module, OPTIONAL_DEFAULT_DROPPED, node.annotation, extent, name)
            if site is not None:
                yield site


def _narrow_optional(
    module: Module, operator: Operator, annotation: ast.expr, extent: tuple[int, int], symbol: str
) -> Site | None:
    inner = _optional_inner(annotation)
    if inner is None:
        return None
    new = module.text(inner)
    edit = module.replace(module.start(annotation), module.end(annotation), new)
    change = f"`{_short(edit.old)}` → `{_short(new)}`"
    return module.site(operator, edit, extent, change, symbol=symbol)


def _find_attribute_typo(module: Module, ctx: RepoContext) -> Iterator[Site]:
    for cls in ast.walk(module.tree):
        if not isinstance(cls, ast.ClassDef):
            continue
        methods = [n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        if any(m.name in ("__getattr__", "__getattribute__") for m in methods):
            continue
        for method in methods:
            params = [*method.args.posonlyargs, *method.args.args]
            if not params or params[0].arg != "self":
                continue
            for node in _own_nodes(method):
                site = _attribute_site(module, node)
                if site is not None:
                    yield site


def _attribute_site(module: Module, node: ast.AST) -> Site | None:
    if not (
        isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and node.end_lineno == node.value.end_lineno
    ):
        return None
    if any(_narrows_or_returns(module, a) for a in [node, *module.ancestors(node)]):
        return None
    if not (_in_expression_statement(module, node) or _direct_argument(module, node)):
        return None
    new_name = typo(node.attr, module.identifiers)
    if new_name is None:
        return None
    name_start = module.end(node) - len(node.attr.encode())
    edit = module.replace(name_start, module.end(node), new_name.encode())
    if edit.old != node.attr.encode():
        return None
    change = f"`self.{node.attr}` → `self.{new_name}`"
    extent = module.statement_extent(node)
    return module.site(ATTRIBUTE_TYPO, edit, extent, change, symbol=node.attr)


def _in_expression_statement(module: Module, node: ast.AST) -> bool:
    """The value is discarded (`self.items.append(x)`), so the typo's Any goes nowhere."""
    return isinstance(next(a for a in module.ancestors(node) if isinstance(a, ast.stmt)), ast.Expr)


def _direct_argument(module: Module, node: ast.AST) -> bool:
    """`f(self.x)`: the call's declared type, not Any, flows on."""
    parent = module.parent(node)
    if isinstance(parent, ast.keyword):
        parent = module.parent(parent)
    return isinstance(parent, ast.Call) and parent.func is not node


def _narrows_or_returns(module: Module, node: ast.AST) -> bool:
    """A place where an Any-typed typo would add errors: a return, a condition, a boolean op."""
    if isinstance(node, ast.Return | ast.BoolOp | ast.JoinedStr | ast.Yield | ast.YieldFrom):
        return True
    parent = module.parent(node)
    if isinstance(parent, ast.If | ast.While | ast.IfExp | ast.Assert) and parent.test is node:
        return True
    return isinstance(parent, ast.comprehension) and node in parent.ifs


def _find_optional_return(module: Module, ctx: RepoContext) -> Iterator[Site]:
    for func in _functions(module.tree):
        if func.returns is None or _optional_inner(func.returns) is None:
            continue
        if any(_decorator_name(d) in ("overload", "abstractmethod") for d in func.decorator_list):
            continue
        own = list(_own_nodes(func))
        if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in own):
            continue
        returns = [n for n in own if isinstance(n, ast.Return)]
        nones = [r for r in returns if r.value is not None and _is_none(r.value)]
        bare = [r for r in returns if r.value is None]
        last = func.body[-1]
        ends_explicitly = isinstance(last, ast.Raise) or (
            isinstance(last, ast.Return) and last.value is not None and not _is_none(last.value)
        )
        if len(nones) == 1 and not bare and ends_explicitly:
            extent = (module.definition_start(func), module.end(func))
            site = _narrow_optional(
                module, OPTIONAL_RETURN_DROPPED, func.returns, extent, func.name
            )
            if site is not None:
                yield site


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id
    return target.attr if isinstance(target, ast.Attribute) else ""


# --- ruff operators -------------------------------------------------------------------------

_LITERAL_TYPED_CALLS = frozenset(
    {
        "namedtuple",
        "NamedTuple",
        "TypedDict",
        "TypeVar",
        "NewType",
        "ParamSpec",
        "TypeVarTuple",
        "TypeAliasType",
        "cast",
        "Enum",
        "open",
        "getattr",
        "setattr",
        "hasattr",
        "delattr",
        "Literal",
    }
)
"""Calls whose string arguments mypy reads as literals (names, modes, type expressions)."""


def _find_f_string(module: Module, ctx: RepoContext) -> Iterator[Site]:
    for node in ast.walk(module.tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        value = node.value
        if len(value) < 4 or value.isidentifier() or "{" in value or "}" in value:
            continue
        if _literal_context(module, node):
            continue
        source = module.text(node)
        if not _single_plain_string(source):
            continue
        edit = module.replace(module.start(node), module.start(node), b"f")
        change = f"`{_short(source)}` → `f{_short(source)}`"
        yield module.site(F_STRING, edit, module.statement_extent(node), change)


def _single_plain_string(source: bytes) -> bool:
    """One string token with no prefix or just `r`, and no braces in its source."""
    if b"{" in source or b"}" in source or b"\n" in source.strip():
        return False
    try:
        tokens = list(tokenize.tokenize(io.BytesIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    strings = [t for t in tokens if t.type == tokenize.STRING]
    others = [t for t in tokens if t.type not in _LAYOUT_TOKENS]
    if len(strings) != 1 or others:
        return False
    prefix = re.match(r"[A-Za-z]*", strings[0].string)
    return prefix is not None and prefix.group().lower() in ("", "r")


_LAYOUT_TOKENS = frozenset(
    {
        tokenize.STRING,
        tokenize.ENCODING,
        tokenize.NEWLINE,
        tokenize.NL,
        tokenize.ENDMARKER,
        tokenize.INDENT,
        tokenize.DEDENT,
    }
)


def _literal_context(module: Module, node: ast.expr) -> bool:
    """Inside a docstring, annotation, subscript, dict key, pattern, f-string or typing call."""
    parent = module.parent(node)
    if isinstance(parent, ast.Expr):
        return True  # a docstring or a bare string statement
    if isinstance(parent, ast.Dict) and any(k is node for k in parent.keys):
        return True
    child: ast.AST = node
    for ancestor in module.ancestors(node):
        if _annotation_of(ancestor, child) or isinstance(
            ancestor, ast.Subscript | ast.JoinedStr | ast.MatchValue | ast.match_case
        ):
            return True
        if isinstance(ancestor, ast.Call) and _decorator_name(ancestor) in _LITERAL_TYPED_CALLS:
            return True
        if isinstance(ancestor, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in ("__all__", "__slots__", "__match_args__")
            for t in ancestor.targets
        ):
            return True
        child = ancestor
    return False


def _annotation_of(parent: ast.AST, child: ast.AST) -> bool:
    if isinstance(parent, ast.arg | ast.AnnAssign):
        return parent.annotation is child
    if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef):
        return parent.returns is child
    return False


def _single_compare(node: ast.AST) -> tuple[ast.Compare, ast.cmpop] | None:
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        return node, node.ops[0]
    return None


def _outside_f_string(module: Module, node: ast.AST) -> bool:
    return not any(isinstance(a, ast.JoinedStr) for a in module.ancestors(node))


_IS_NONE = re.compile(rb"\s+(is(?:\s+not)?)\s+")


def _find_comparison_to_none(module: Module, ctx: RepoContext) -> Iterator[Site]:
    for node in ast.walk(module.tree):
        found = _single_compare(node)
        if found is None or not isinstance(found[1], ast.Is | ast.IsNot):
            continue
        compare = found[0]
        if not _is_none(compare.comparators[0]) or _is_none(compare.left):
            continue
        if not _outside_f_string(module, compare):
            continue
        gap_start = module.end(compare.left)
        gap = module.data[gap_start : module.start(compare.comparators[0])]
        match = _IS_NONE.fullmatch(gap)
        if match is None:
            continue
        op_start, op_end = gap_start + match.start(1), gap_start + match.end(1)
        new = b"!=" if isinstance(found[1], ast.IsNot) else b"=="
        edit = module.replace(op_start, op_end, new)
        before = _short(module.text(compare))
        after = before.replace(" is not None", " != None").replace(" is None", " == None")
        yield module.site(
            COMPARISON_TO_NONE, edit, module.statement_extent(compare), f"`{before}` → `{after}`"
        )


_NOT_IN = re.compile(rb"(\s+)not\s+in(\s+)")


def _find_membership_negated(module: Module, ctx: RepoContext) -> Iterator[Site]:
    for node in ast.walk(module.tree):
        found = _single_compare(node)
        if found is None or not isinstance(found[1], ast.NotIn):
            continue
        compare = found[0]
        if not _outside_f_string(module, compare):
            continue
        left_start, left_end = module.start(compare.left), module.end(compare.left)
        right_start = module.start(compare.comparators[0])
        match = _NOT_IN.fullmatch(module.data[left_end:right_start])
        if match is None or not _bare_compare(module, compare):
            continue
        new = b"not " + module.data[left_start:left_end] + match.group(1) + b"in" + match.group(2)
        edit = module.replace(left_start, right_start, new)
        before = _short(module.text(compare))
        after = _short(new + module.text(compare.comparators[0]))
        yield module.site(
            MEMBERSHIP_NEGATED, edit, module.statement_extent(compare), f"`{before}` → `{after}`"
        )


def _bare_compare(module: Module, compare: ast.Compare) -> bool:
    """The comparison starts where its left operand does (no parenthesis or prefix to keep)."""
    return module.start(compare) == module.start(compare.left)


_IMPORTABLE = (
    "abc",
    "bisect",
    "calendar",
    "collections",
    "copy",
    "csv",
    "dataclasses",
    "decimal",
    "difflib",
    "enum",
    "fnmatch",
    "fractions",
    "functools",
    "glob",
    "hashlib",
    "heapq",
    "itertools",
    "json",
    "math",
    "operator",
    "os",
    "pathlib",
    "pprint",
    "random",
    "re",
    "shutil",
    "statistics",
    "string",
    "sys",
    "tempfile",
    "textwrap",
    "time",
    "uuid",
    "warnings",
)
"""Stdlib modules that are cheap and side-effect free to import, and plausible leftovers."""

_STDLIB = frozenset(sys.stdlib_module_names) - {"__future__"}


def _find_unused_import(module: Module, ctx: RepoContext) -> Iterator[Site]:
    if module.path.rsplit("/", 1)[-1] == "__init__.py":
        return  # re-exports live there; an unused import is not clearly a mistake
    taken = module.identifiers | ctx.local_modules | _imported_modules(module.tree)
    for run in _import_runs(module.tree):
        plain = [s for s in run if isinstance(s, ast.Import) and _stdlib(s)]
        froms = [s for s in run if isinstance(s, ast.ImportFrom) and _stdlib(s)]
        if not (plain or froms) or any(len(s.names) != 1 for s in plain):
            continue
        extent_start, extent_end = module.start(run[0]), module.end(run[-1])
        placed = [
            (name, at)
            for name in _IMPORTABLE
            if name not in taken
            and (at := _import_position(module, name, plain, froms)) is not None
        ]
        # Two choices per block (first and middle of the alphabet) keep this operator from
        # outnumbering the others in the draw just because many module names would fit.
        for name, at in sorted({placed[0], placed[len(placed) // 2]} if placed else set()):
            newline = b"\r\n" if module.data[: module.line_starts[1]].endswith(b"\r\n") else b"\n"
            edit = module.replace(at, at, b"import " + name.encode() + newline)
            extent = (min(extent_start, at), max(extent_end, at))
            yield module.site(UNUSED_IMPORT, edit, extent, f"added `import {name}`")
        return  # one import block per module: the first one holding stdlib imports


def _import_position(
    module: Module, name: str, plain: Sequence[ast.Import], froms: Sequence[ast.ImportFrom]
) -> int | None:
    """Where isort (ruff's I001 defaults) would put `import name` among the stdlib imports."""
    for stmt in plain:
        if stmt.names[0].name.lower() > name:
            return module.line_starts[stmt.lineno - 1]
    if plain:
        last = plain[-1]
        if last.end_lineno is None or last.end_lineno >= len(module.line_starts) - 1:
            return None  # no newline after the last import: nowhere clean to insert
        return module.line_starts[last.end_lineno]
    return module.line_starts[froms[0].lineno - 1]


def _stdlib(stmt: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(stmt, ast.ImportFrom):
        return stmt.level == 0 and (stmt.module or "").split(".")[0] in _STDLIB
    return all(alias.name.split(".")[0] in _STDLIB for alias in stmt.names)


def _import_runs(tree: ast.Module) -> Iterator[list[ast.Import | ast.ImportFrom]]:
    run: list[ast.Import | ast.ImportFrom] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            run.append(stmt)
            continue
        if run:
            yield run
        run = []
    if run:
        yield run


def _imported_modules(tree: ast.Module) -> frozenset[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return frozenset(names)


# --- collect operators ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Parametrize:
    test: ast.FunctionDef | ast.AsyncFunctionDef
    call: ast.Call
    argnames: ast.expr
    argvalues: ast.expr | None


def _parametrizations(module: Module) -> Iterator[_Parametrize]:
    for func in _functions(module.tree):
        if not func.name.startswith("test") or not _collectable(module, func):
            continue
        for decorator in func.decorator_list:
            if not (isinstance(decorator, ast.Call) and _is_parametrize(decorator.func)):
                continue
            keywords = {k.arg: k.value for k in decorator.keywords}
            if "indirect" in keywords:
                continue
            positional = list(decorator.args)
            argnames = positional[0] if positional else keywords.get("argnames")
            argvalues = positional[1] if len(positional) > 1 else keywords.get("argvalues")
            if argnames is not None:
                yield _Parametrize(func, decorator, argnames, argvalues)


def _is_parametrize(func: ast.expr) -> bool:
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "parametrize"
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "mark"
    )


def _collectable(module: Module, func: ast.AST) -> bool:
    """A module-level test function, or a method of a module-level `Test*` class."""
    parent = module.parent(func)
    if isinstance(parent, ast.Module):
        return True
    return (
        isinstance(parent, ast.ClassDef)
        and parent.name.startswith("Test")
        and isinstance(module.parent(parent), ast.Module)
    )


def _names(module: Module, argnames: ast.expr) -> list[tuple[str, int]]:
    """Each parametrize argname with the byte offset of its spelling in the source."""
    literals = argnames.elts if isinstance(argnames, ast.List | ast.Tuple) else [argnames]
    found: list[tuple[str, int]] = []
    for literal in literals:
        if not (isinstance(literal, ast.Constant) and isinstance(literal.value, str)):
            return []
        source = module.text(literal)
        if len(source) < 2 or source[0] not in b"'\"" or source[1:-1] != literal.value.encode():
            return []  # prefixed, triple-quoted or escaped: offsets would not be exact
        offset = module.start(literal) + 1
        for part in literal.value.split(","):
            name = part.strip()
            if name:
                found.append((name, offset + len(part[: len(part) - len(part.lstrip())].encode())))
            offset += len(part.encode()) + 1
    return found


def _test_extent(module: Module, func: ast.AST) -> tuple[int, int]:
    assert isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
    return (module.definition_start(func), module.end(func))


def _find_argname_typo(module: Module, ctx: RepoContext) -> Iterator[Site]:
    for param in _parametrizations(module):
        args = param.test.args
        params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        for name, offset in _names(module, param.argnames):
            if name not in params:
                continue
            new_name = typo(name, params | module.identifiers)
            if new_name is None:
                continue
            edit = module.replace(offset, offset + len(name.encode()), new_name.encode())
            change = f"parametrize name `{name}` → `{new_name}` on `{param.test.name}`"
            extent = _test_extent(module, param.test)
            yield module.site(ARGNAME_TYPO, edit, extent, change, group=f"collect:{module.path}")


def _find_arity(module: Module, ctx: RepoContext) -> Iterator[Site]:
    for param in _parametrizations(module):
        count = len(_names(module, param.argnames))
        values = param.argvalues
        if count < 2 or not isinstance(values, ast.List | ast.Tuple):
            continue
        for case in values.elts:
            if not _is_case_tuple(module, case, count):
                continue
            assert isinstance(case, ast.Tuple)
            edit = _drop_last(module, case)
            change = (
                f"case `{_short(module.text(case))}` of `{param.test.name}` lost its last value"
            )
            extent = _test_extent(module, param.test)
            yield module.site(
                PARAMETRIZE_ARITY, edit, extent, change, group=f"collect:{module.path}"
            )


def _is_case_tuple(module: Module, case: ast.expr, count: int) -> bool:
    return (
        isinstance(case, ast.Tuple)
        and len(case.elts) == count
        and not any(isinstance(e, ast.Starred) for e in case.elts)
        and module.data[module.start(case) : module.start(case) + 1] == b"("
    )


def _drop_last(module: Module, case: ast.Tuple) -> Edit:
    """Delete the last element, keeping a trailing comma so a 1-tuple stays a tuple."""
    last_end = module.end(case.elts[-1])
    trailing = module.data[last_end : module.end(case)].strip()
    start = module.end(case.elts[-2])
    keep_comma = len(case.elts) == 2 and trailing == b")"
    return module.replace(start, last_end, b"," if keep_comma else b"")


# --- the catalogue --------------------------------------------------------------------------

OPTIONAL_DEFAULT_DROPPED = Operator(
    "optional_default_dropped",
    "mypy",
    "A None default whose annotation lost its `| None` (implicit Optional).",
    _find_optional_default,
    remote=True,
)
ATTRIBUTE_TYPO = Operator(
    "attribute_typo",
    "mypy",
    "An attribute of `self` misspelt by two swapped letters.",
    _find_attribute_typo,
    remote=True,
)
OPTIONAL_RETURN_DROPPED = Operator(
    "optional_return_dropped",
    "mypy",
    "A return annotation narrowed from `T | None` to `T` although one path returns None.",
    _find_optional_return,
    remote=True,
)
F_STRING = Operator(
    "f_string_without_placeholders",
    "ruff",
    "A plain string literal written as an f-string with no placeholder (F541).",
    _find_f_string,
)
COMPARISON_TO_NONE = Operator(
    "comparison_to_none",
    "ruff",
    "A None test written with `==`/`!=` instead of `is`/`is not` (E711).",
    _find_comparison_to_none,
)
MEMBERSHIP_NEGATED = Operator(
    "membership_test_negated",
    "ruff",
    "A membership test written `not a in b` instead of `a not in b` (E713).",
    _find_membership_negated,
)
UNUSED_IMPORT = Operator(
    "unused_import",
    "ruff",
    "A stdlib module imported but never used, left behind by a refactor (F401).",
    _find_unused_import,
)
ARGNAME_TYPO = Operator(
    "parametrize_argname_typo",
    "collect",
    "A parametrize argname that no longer matches the test function's parameter.",
    _find_argname_typo,
)
PARAMETRIZE_ARITY = Operator(
    "parametrize_arity",
    "collect",
    "A parametrize case with one value fewer than there are argnames.",
    _find_arity,
)

CATALOGUE: tuple[Operator, ...] = (
    OPTIONAL_DEFAULT_DROPPED,
    ATTRIBUTE_TYPO,
    OPTIONAL_RETURN_DROPPED,
    F_STRING,
    COMPARISON_TO_NONE,
    MEMBERSHIP_NEGATED,
    UNUSED_IMPORT,
    ARGNAME_TYPO,
    PARAMETRIZE_ARITY,
)
OPERATORS: dict[str, Operator] = {op.id: op for op in CATALOGUE}


def find_sites(module: Module, ctx: RepoContext, kinds: frozenset[Kind]) -> list[Site]:
    """Every site in `module` for operators of the given kinds: catalogue order, source order."""
    sites: list[Site] = []
    for operator in CATALOGUE:
        if operator.kind in kinds:
            found = sorted(operator.find(module, ctx), key=lambda s: (s.edit.start, s.edit.end))
            sites.extend(_dedupe(found))
    return sites


def _dedupe(sites: list[Site]) -> list[Site]:
    """One site per edit (a node can be reached twice, e.g. nested classes)."""
    seen: set[tuple[int, int, bytes]] = set()
    unique: list[Site] = []
    for site in sites:
        key = (site.edit.start, site.edit.end, site.edit.new)
        if key not in seen:
            seen.add(key)
            unique.append(site)
    return unique
