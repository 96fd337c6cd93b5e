"""The bodies of a repository's test functions, as fingerprints that ignore formatting.

A test the reference solution passes must still pass in a trial (by node id); where the task
lets the agent edit tests, it must also still be the same test. Each test function is reduced
to a sha256 of its AST (so reformatting, comments and blank lines do not count, while an
emptied or weakened body does), keyed `path::Class::function` like pytest's node ids without
their parameters.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

from armbench.core import parse_python, read_regular


def function_key(node_id: str) -> str:
    """The function a pytest node id names: `path::Class::test[param]` → `path::Class::test`."""
    return node_id.split("[", 1)[0]


def _functions(tree: ast.Module) -> dict[str, ast.AST]:
    found: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                    found[f"{node.name}::{member.name}"] = member
    return found


def function_fingerprints(root: Path, node_ids: Iterable[str]) -> dict[str, str]:
    """sha256 of the AST of each test function `node_ids` name, by `function_key` (a test whose
    file or function cannot be found or parsed is left out)."""
    wanted: dict[str, set[str]] = {}
    for node_id in node_ids:
        path, _, name = function_key(node_id).partition("::")
        wanted.setdefault(path, set()).add(name)
    bodies: dict[str, str] = {}
    for path, names in wanted.items():
        data = read_regular(root / path)
        if data is None:
            continue
        try:
            functions = _functions(parse_python(data, filename=path))
        except (SyntaxError, ValueError):
            continue
        for name in names & functions.keys():
            dumped = ast.dump(functions[name], include_attributes=False)
            bodies[f"{path}::{name}"] = hashlib.sha256(dumped.encode()).hexdigest()
    return bodies
