"""The pytest-collection operators: mistakes that each make one test module fail collection.

`parametrize_argname_typo` and `parametrize_arity`, on `pytest.mark.parametrize` decorators of
collectable tests; the catalogue (`catalogue`) documents both. Their sites share a group per
test module, so at most one lands in each.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from armbench.tasks.inject.sites import (
    Edit,
    Module,
    Operator,
    RepoContext,
    Site,
    functions,
    short,
    typo,
)

# --- finding sites --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parametrize:
    test: ast.FunctionDef | ast.AsyncFunctionDef
    call: ast.Call
    argnames: ast.expr
    argvalues: ast.expr | None


def _parametrizations(module: Module) -> Iterator[_Parametrize]:
    for func in functions(module.tree):
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
            change = f"case `{short(module.text(case))}` of `{param.test.name}` lost its last value"
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


# --- the operators --------------------------------------------------------------------------

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
