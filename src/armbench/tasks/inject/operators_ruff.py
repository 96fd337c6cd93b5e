"""The ruff operators: mistakes that each add one ruff finding.

`f_string_without_placeholders` (F541), `comparison_to_none` (E711), `membership_test_negated`
(E713) and `unused_import` (F401); the catalogue (`catalogue`) documents each, and which string
literals are never made f-strings.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from collections.abc import Iterator, Sequence

from armbench.tasks.inject.sites import (
    Module,
    Operator,
    RepoContext,
    Site,
    decorator_name,
    is_none,
    short,
)

# --- finding sites --------------------------------------------------------------------------

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
        change = f"`{short(source)}` → `f{short(source)}`"
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
        if isinstance(ancestor, ast.Call) and decorator_name(ancestor) in _LITERAL_TYPED_CALLS:
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
        if not is_none(compare.comparators[0]) or is_none(compare.left):
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
        before = short(module.text(compare))
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
        before = short(module.text(compare))
        after = short(new + module.text(compare.comparators[0]))
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


# --- the operators --------------------------------------------------------------------------

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
