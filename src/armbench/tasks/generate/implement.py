"""Implement tasks: a tested top-level function's body removed, its docstring and signature
kept, the tests that exercise it protected; the reference solution is the original file.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

from armbench.core import parse_python
from armbench.tasks.generate.move import module_name

MIN_STATEMENTS = 3
"""A body shorter than this is too little to ask for."""


@dataclass(frozen=True)
class ImplementCandidate:
    function: str
    module: str
    path: str
    tests: tuple[str, ...]
    """Test files that name the function (protected in the task)."""
    has_docstring: bool


def _body_size(func: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = func.body[1:] if ast.get_docstring(func) is not None else func.body
    return sum(1 for node in body for _ in ast.walk(node) if isinstance(_, ast.stmt))


def implement_candidates(
    sources: Mapping[str, bytes], code_paths: set[str], test_paths: set[str]
) -> list[ImplementCandidate]:
    """Top-level functions in `code_paths` with a body of some substance that a test file in
    `test_paths` names; documented ones first (their docstring is the specification)."""
    named: dict[str, set[str]] = {}
    for rel in sorted(test_paths):
        try:
            tree = parse_python(sources[rel], filename=rel)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
            if isinstance(node, ast.alias):
                name = node.asname or node.name
            if isinstance(name, str):
                named.setdefault(name, set()).add(rel)
    found = []
    for rel in sorted(code_paths):
        try:
            tree = parse_python(sources[rel], filename=rel)
        except (SyntaxError, ValueError):
            continue
        defined = [
            n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if node.name.startswith("__") or defined.count(node.name) > 1:
                continue
            if _body_size(node) < MIN_STATEMENTS or node.name not in named:
                continue
            found.append(
                ImplementCandidate(
                    function=node.name,
                    module=module_name(rel),
                    path=rel,
                    tests=tuple(sorted(named[node.name])),
                    has_docstring=ast.get_docstring(node) is not None,
                )
            )
    return sorted(found, key=lambda c: not c.has_docstring)


def remove_body(data: bytes, candidate: ImplementCandidate) -> str:
    """The module with `candidate`'s body replaced by its docstring (if any) and
    `raise NotImplementedError`, every other byte as it was."""
    tree = parse_python(data, filename=candidate.path)
    func = next(
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == candidate.function
    )
    lines = data.decode("utf-8").splitlines(keepends=True)
    first = func.body[0]
    keep_docstring = ast.get_docstring(func) is not None
    start_line = (first.end_lineno or first.lineno) if keep_docstring else first.lineno - 1
    indent = " " * (func.body[-1].col_offset if not keep_docstring else first.col_offset)
    end_line = func.end_lineno or func.lineno
    if not keep_docstring and first.lineno == func.lineno:  # `def f(): return x` on one line
        raise ValueError(f"{candidate.function}: a one-line body is not a task")
    stub = f"{indent}raise NotImplementedError\n"
    return "".join([*lines[:start_line], stub, *lines[end_line:]])
