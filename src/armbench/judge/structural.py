"""Structural verifiers: facts about the code read from its AST, not from grep.

`moved_function` checks a refactor: the function now lives in the target module with its body
unchanged, the source module neither defines nor re-exports it, and every module that used it
through the source module now uses it through the target — whatever the import style
(`from m import f`, `import m` then `m.f`, `import pkg.m` then `pkg.m.f`, `from pkg import m`,
relative imports).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from armbench.core import iter_files, parse_python


def module_file(root: Path, dotted: str) -> Path | None:
    """The file of module `dotted` under `root` (flat or src layout), if it exists."""
    parts = dotted.split(".")
    for base in (root, root / "src"):
        for candidate in (
            base.joinpath(*parts).with_suffix(".py"),
            base.joinpath(*parts, "__init__.py"),
        ):
            if candidate.is_file():
                return candidate
    return None


def module_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root)
    if rel.parts and rel.parts[0] == "src":
        rel = rel.relative_to("src")
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _parse(path: Path) -> ast.Module | None:
    try:
        return parse_python(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        return None


def top_level_function(
    tree: ast.Module, name: str
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    return None


def _absolute(module: str | None, level: int, importer: str, is_package: bool) -> str:
    if level == 0:
        return module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, module] if module else base)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def _module_spellings(tree: ast.Module, importer: str, is_package: bool, module: str) -> set[str]:
    """The dotted expressions that denote `module` in `tree` after its imports: `m` after
    `import pkg.m as m` or `from pkg import m`, `pkg.m` after `import pkg` or `import pkg.x`."""
    spellings: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname is None:
                    top = alias.name.split(".")[0]
                    if module == top or module.startswith(top + "."):
                        spellings.add(module)
                elif module == alias.name or module.startswith(alias.name + "."):
                    spellings.add(alias.asname + module[len(alias.name) :])
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node.module, node.level, importer, is_package)
            for alias in node.names:
                imported = f"{source}.{alias.name}" if source else alias.name
                if module == imported or module.startswith(imported + "."):
                    spellings.add((alias.asname or alias.name) + module[len(imported) :])
    return spellings


def references(
    tree: ast.Module, importer: str, is_package: bool, module: str, function: str
) -> list[int]:
    """Lines where `tree` reaches `module.function`: importing it, or an attribute access on
    any spelling of `module`."""
    hits: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node.module, node.level, importer, is_package)
            if source == module and any(a.name in (function, "*") for a in node.names):
                hits.append(node.lineno)
    spellings = _module_spellings(tree, importer, is_package, module)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == function
            and _dotted(node.value) in spellings
        ):
            hits.append(node.lineno)
    return sorted(hits)


def _python_modules(root: Path) -> Iterator[tuple[Path, str, ast.Module]]:
    for rel in iter_files(root):
        if rel.endswith(".py"):
            path = root / rel
            tree = _parse(path)
            if tree is not None:
                yield path, module_name(root, path), tree


@dataclass(frozen=True)
class Verdict:
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def details(self) -> str:
        return "; ".join(self.problems)


def _users(root: Path, module: str, function: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for path, name, tree in _python_modules(root):
        lines = references(tree, name, path.name == "__init__.py", module, function)
        if lines:
            found[path.relative_to(root).as_posix()] = lines
    return found


def verify_moved_function(
    workspace: Path, original: Path, function: str, source: str, target: str
) -> Verdict:
    """Judge a move of `function` from `source` to `target`; `original` is the pre-task tree."""
    problems: list[str] = []
    original_file = module_file(original, source)
    original_tree = _parse(original_file) if original_file else None
    original_def = top_level_function(original_tree, function) if original_tree else None
    if original_def is None:
        return Verdict((f"task error: {source}.{function} does not exist in the original tree",))

    target_file = module_file(workspace, target)
    target_tree = _parse(target_file) if target_file else None
    moved = top_level_function(target_tree, function) if target_tree else None
    if target_file is None:
        problems.append(f"module {target} does not exist")
    elif target_tree is None:
        problems.append(f"module {target} does not parse")
    elif moved is None:
        problems.append(f"{target} defines no top-level function {function}")
    elif ast.dump(moved) != ast.dump(original_def):
        problems.append(f"{target}.{function} differs from the original: it must move unchanged")

    source_file = module_file(workspace, source)
    source_tree = _parse(source_file) if source_file else None
    if source_tree is not None:
        if top_level_function(source_tree, function) is not None:
            problems.append(f"{source} still defines {function}")
        for node in ast.walk(source_tree):
            if not isinstance(node, ast.stmt):
                continue
            names: list[str] = []
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [a.asname or a.name for a in node.names]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            if function in names:
                problems.append(
                    f"{source} still binds {function} (line {node.lineno}): no re-exports"
                )

    stale = _users(workspace, source, function)
    for path, lines in sorted(stale.items()):
        problems.append(f"{path} still reaches {function} through {source} (lines {lines})")
    before = set(_users(original, source, function))
    after = set(_users(workspace, target, function))
    for path in sorted(before - after - set(stale)):
        problems.append(f"{path} used {source}.{function} but does not use {target}.{function}")

    return Verdict(tuple(problems))
