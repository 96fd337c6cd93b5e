"""The mypy operators: mistakes that each add one mypy error.

`optional_default_dropped`, `attribute_typo` and `optional_return_dropped`; the catalogue
(`catalogue`) documents each, and why an attribute typo is taken only where its Any goes
nowhere.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from armbench.tasks.inject.sites import (
    Module,
    Operator,
    RepoContext,
    Site,
    decorator_name,
    functions,
    is_none,
    short,
    typo,
)

# --- finding sites --------------------------------------------------------------------------


def _find_optional_default(module: Module, ctx: RepoContext) -> Iterator[Site]:
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
            if arg.annotation is not None and is_none(default):
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
            and is_none(node.value)
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
    change = f"`{short(edit.old)}` → `{short(new)}`"
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
    for func in functions(module.tree):
        if func.returns is None or _optional_inner(func.returns) is None:
            continue
        if any(decorator_name(d) in ("overload", "abstractmethod") for d in func.decorator_list):
            continue
        own = list(_own_nodes(func))
        if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in own):
            continue
        returns = [n for n in own if isinstance(n, ast.Return)]
        nones = [r for r in returns if r.value is not None and is_none(r.value)]
        bare = [r for r in returns if r.value is None]
        last = func.body[-1]
        ends_explicitly = isinstance(last, ast.Raise) or (
            isinstance(last, ast.Return) and last.value is not None and not is_none(last.value)
        )
        if len(nones) == 1 and not bare and ends_explicitly:
            extent = (module.definition_start(func), module.end(func))
            site = _narrow_optional(
                module, OPTIONAL_RETURN_DROPPED, func.returns, extent, func.name
            )
            if site is not None:
                yield site


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
        if is_none(right) and not is_none(left):
            return left
        if is_none(left) and not is_none(right):
            return right
        return None
    if isinstance(annotation, ast.Subscript):
        value = annotation.value
        name = value.id if isinstance(value, ast.Name) else getattr(value, "attr", "")
        if name == "Optional" and not isinstance(annotation.slice, ast.Tuple):
            return annotation.slice
    return None


# --- the operators --------------------------------------------------------------------------

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
