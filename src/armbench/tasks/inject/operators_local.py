"""mypy operators whose error stays where it is made: nothing outside the edited statement or
signature sees a changed type, so on a tightly connected code base (typer and its vendored
click) they add exactly one error, where a changed signature adds one at every caller.

`return_value_dropped` and `default_quoted`; the catalogue (`catalogue`) documents both.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from armbench.tasks.inject.operators_mypy import _optional_inner, _own_nodes
from armbench.tasks.inject.sites import (
    Module,
    Operator,
    RepoContext,
    Site,
    decorator_name,
    functions,
    is_none,
    short,
)

_NO_VALUE_TYPES = frozenset({"None", "Any", "object", "NoReturn", "Never", "Generator"})
"""Return annotations a bare `return` may satisfy or that hide it (Any, object), and those of
functions that never return a value at all."""


def _annotation_names(annotation: ast.expr) -> set[str]:
    names = set()
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Constant):
            names.add(str(node.value))  # a string annotation, or None
    return names


def _plain_return_type(annotation: ast.expr | None) -> bool:
    """An annotation every bare `return` violates: present, not Optional, not Any/object/None,
    not a generator's, and not a string mypy would have to parse."""
    if annotation is None or _optional_inner(annotation) is not None:
        return False
    if isinstance(annotation, ast.Constant):
        return False
    names = _annotation_names(annotation)
    return not names & _NO_VALUE_TYPES and "Iterator" not in names and "Iterable" not in names


def _find_return_value_dropped(module: Module, ctx: RepoContext) -> Iterator[Site]:
    for func in functions(module.tree):
        if not _plain_return_type(func.returns):
            continue
        if any(decorator_name(d) in ("overload", "abstractmethod") for d in func.decorator_list):
            continue
        own = list(_own_nodes(func))
        if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in own):
            continue
        for node in own:
            if not (isinstance(node, ast.Return) and node.value is not None):
                continue
            if is_none(node.value) or node.end_lineno != node.lineno:
                continue
            if _sole_use(module, own, node.value):
                continue
            edit = module.replace(module.start(node), module.end(node), b"return")
            change = f"`{short(edit.old)}` → `return`"
            yield module.site(
                RETURN_VALUE_DROPPED, edit, module.statement_extent(node), change, symbol=func.name
            )


def _loads(nodes: list[ast.AST]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            counts[node.id] = counts.get(node.id, 0) + 1
    return counts


def _sole_use(module: Module, own: list[ast.AST], value: ast.expr) -> bool:
    """Whether dropping `value` leaves a name unused: a local assigned for this return alone
    (ruff's F841) or an import only it used (F401) — a second finding, away from the edit."""
    here = _loads(list(ast.walk(value)))
    parameters = {n.arg for n in own if isinstance(n, ast.arg)}
    here = {name: count for name, count in here.items() if name not in parameters}
    stored = {n.id for n in own if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    in_function = _loads(own)
    in_module = _loads(list(ast.walk(module.tree)))
    return any(
        (in_function if name in stored else in_module).get(name, 0) <= count
        for name, count in here.items()
    )


def _find_default_quoted(module: Module, ctx: RepoContext) -> Iterator[Site]:
    for func in functions(module.tree):
        if any(decorator_name(d) == "overload" for d in func.decorator_list):
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
            if arg.annotation is None or not _numeric(default):
                continue
            if _annotation_names(arg.annotation) & {"Any", "object", "str"}:
                continue
            text = module.text(default)
            edit = module.replace(module.start(default), module.end(default), b'"' + text + b'"')
            change = f'default `{arg.arg}={short(text)}` → `{arg.arg}="{short(text)}"`'
            yield module.site(DEFAULT_QUOTED, edit, header, change, symbol=func.name)


def _numeric(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Constant)
        and type(node.value) in (int, float)
        and node.end_lineno == node.lineno
    )


RETURN_VALUE_DROPPED = Operator(
    "return_value_dropped",
    "mypy",
    "A `return <value>` left bare in a function declared to return a value.",
    _find_return_value_dropped,
)
DEFAULT_QUOTED = Operator(
    "default_quoted",
    "mypy",
    'A numeric default written as a string (`retries: int = "3"`).',
    _find_default_quoted,
)
