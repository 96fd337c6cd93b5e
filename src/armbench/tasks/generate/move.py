"""Move a top-level function to a new module beside its own: the reference solution of a
move-refactor task, computed from the AST and edited byte-exactly.

The function's text moves unchanged (decorators included). The new module imports what the
function uses: the same imports the old module had for names it imported, and the old module
itself for names it defines. The old module loses the function and any import only the function
used; every `from <old> import <function>` elsewhere becomes `from <new> import <function>`
(relative or absolute, as it was). Candidates are limited to what this can do safely: a function
the old module does not call itself (the new module imports the old one, so the old one must not
import it back), that is not in `__all__`, whose users all import it by name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from armbench.core import parse_python


@dataclass(frozen=True)
class MoveCandidate:
    function: str
    source: str
    """Dotted module the function is in."""
    source_path: str
    importers: tuple[str, ...]
    """Paths of the modules that import it by name (`from <source> import <function>`)."""


def module_name(rel: str) -> str:
    parts = rel.removesuffix(".py").split("/")
    if parts[0] == "src" and len(parts) > 1:
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _absolute(module: str | None, level: int, importer: str, is_package: bool) -> str:
    if level == 0:
        return module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, module] if module else base)


def _trees(sources: Mapping[str, bytes]) -> Iterator[tuple[str, ast.Module]]:
    for rel, data in sources.items():
        try:
            yield rel, parse_python(data, filename=rel)
        except (SyntaxError, ValueError):
            continue


def _imports_by_name(
    tree: ast.Module, rel: str, source: str, function: str
) -> list[ast.ImportFrom]:
    importer = module_name(rel)
    is_package = rel.endswith("__init__.py")
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and _absolute(node.module, node.level, importer, is_package) == source
        and any(a.name == function for a in node.names)
    ]


def move_candidates(sources: Mapping[str, bytes], code_paths: set[str]) -> list[MoveCandidate]:
    """Top-level functions in `code_paths` (non-test modules) imported by name from at least
    two other modules, that this module can move safely (see the module docstring)."""
    trees = dict(_trees(sources))
    found: list[MoveCandidate] = []
    for rel in sorted(code_paths):
        tree = trees.get(rel)
        if tree is None or rel.endswith("__init__.py"):
            continue
        source = module_name(rel)
        exported = _all_names(tree)
        defined = [
            n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            name = node.name
            # Overloads (one name, several definitions) and exports are not moved.
            if name in exported or defined.count(name) > 1 or _used_outside(tree, node):
                continue
            importers = []
            for other, other_tree in trees.items():
                if other == rel:
                    continue
                if _imports_by_name(other_tree, other, source, name):
                    importers.append(other)
            if len(importers) >= 2:
                found.append(MoveCandidate(name, source, rel, tuple(sorted(importers))))
    return found


def _all_names(tree: ast.Module) -> set[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return {
                e.value
                for e in ast.walk(node.value)
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            }
    return set()


def _used_outside(tree: ast.Module, func: ast.AST) -> bool:
    inside = {id(n) for n in ast.walk(func)}
    name = getattr(func, "name", "")
    return any(
        isinstance(n, ast.Name) and n.id == name and id(n) not in inside for n in ast.walk(tree)
    )


# --- the move -------------------------------------------------------------------------------


def _lines_span(data: bytes, node: ast.stmt) -> tuple[int, int]:
    """Byte offsets of the whole lines `node` occupies, decorators included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    lines = data.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: first - 1])
    end = sum(len(line) for line in lines[: node.end_lineno])
    return start, end


def _free_names(func: ast.AST) -> set[str]:
    """Names the function reads that nothing inside it binds (an over-approximation of what it
    needs from its module, which is then intersected with the module's bindings)."""
    loads: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
        bound.discard(func.name)
    return loads - bound


@dataclass(frozen=True)
class _Binding:
    statement: ast.stmt
    """An import, or the definition or assignment that binds the name at module level."""
    alias: ast.alias | None = None


def _module_bindings(tree: ast.Module) -> dict[str, _Binding]:
    """Each name bound at module level (imports also inside `if`/`try` blocks)."""
    bindings: dict[str, _Binding] = {}

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    name = alias.asname or alias.name.split(".")[0]
                    bindings.setdefault(name, _Binding(node, alias))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bindings.setdefault(node.name, _Binding(node))
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for n in ast.walk(target):
                        if isinstance(n, ast.Name):
                            bindings.setdefault(n.id, _Binding(node))
            elif isinstance(node, ast.If | ast.Try):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(tree.body)
    return bindings


def _import_line(node: ast.Import | ast.ImportFrom, alias: ast.alias) -> str:
    name = f"{alias.name} as {alias.asname}" if alias.asname else alias.name
    if isinstance(node, ast.Import):
        return f"import {name}"
    return f"from {'.' * node.level}{node.module or ''} import {name}"


def move_function(
    sources: Mapping[str, bytes], candidate: MoveCandidate, target_basename: str
) -> dict[str, str]:
    """The files a move of `candidate` to module `<package>.<target_basename>` writes: the new
    module, the old one without the function, and each importer (posix path → new text)."""
    data = sources[candidate.source_path]
    tree = parse_python(data, filename=candidate.source_path)
    func = next(
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == candidate.function
    )
    start, end = _lines_span(data, func)
    function_text = data[start:end].decode("utf-8")
    bindings = _module_bindings(tree)
    needed = sorted(_free_names(func) & bindings.keys())
    relative = any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(tree))
    source_base = candidate.source.rsplit(".", 1)[-1]

    header: list[str] = [f'"""`{candidate.function}`, moved here from `{candidate.source}`."""', ""]
    if any(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in tree.body):
        header += ["from __future__ import annotations", ""]
    imports, own = [], []
    for name in needed:
        binding = bindings[name]
        if isinstance(binding.statement, ast.Import | ast.ImportFrom) and binding.alias:
            statement = binding.statement
            if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                continue
            imports.append(_import_line(binding.statement, binding.alias))
        else:
            own.append(name)
    if own:
        prefix = f".{source_base}" if relative else candidate.source
        imports.append(f"from {prefix} import {', '.join(own)}")
    new_module = "\n".join([*header, *imports, "", "", function_text.rstrip("\n"), ""])

    target_path = str(Path(candidate.source_path).with_name(f"{target_basename}.py").as_posix())
    out = {target_path: new_module}
    out[candidate.source_path] = _without(data, tree, func, start, end, needed, bindings)
    for rel in candidate.importers:
        out[rel] = _retarget(sources[rel], rel, candidate, target_basename)
    return out


def _without(
    data: bytes,
    tree: ast.Module,
    func: ast.stmt,
    start: int,
    end: int,
    needed: list[str],
    bindings: Mapping[str, _Binding],
) -> str:
    """The old module without the function and without imports only it used."""
    rest = {id(n) for n in ast.walk(func)}
    still_used = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in rest
    } | _all_names(tree)
    drop: dict[int, list[ast.alias]] = {}
    for name in needed:
        binding = bindings[name]
        if isinstance(binding.statement, ast.Import | ast.ImportFrom) and name not in still_used:
            assert binding.alias is not None
            drop.setdefault(id(binding.statement), []).append(binding.alias)
    edits: list[tuple[int, int, bytes]] = [(start, end, b"")]
    for node in ast.walk(tree):
        if id(node) not in drop or not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        kept = [a for a in node.names if a not in drop[id(node)]]
        s, e = _lines_span(data, node)
        if kept:
            indent = data[s : s + node.col_offset].decode()
            replacement = indent + _statement_text(node, kept) + "\n"
            edits.append((s, e, replacement.encode()))
        else:
            edits.append((s, e, b""))
    text = data
    for s, e, new in sorted(edits, reverse=True):
        text = text[:s] + new + text[e:]
    return _squeeze_blank_lines(text.decode("utf-8"))


def _statement_text(node: ast.Import | ast.ImportFrom, names: list[ast.alias]) -> str:
    parts = [f"{a.name} as {a.asname}" if a.asname else a.name for a in names]
    if isinstance(node, ast.Import):
        return "import " + ", ".join(parts)
    return f"from {'.' * node.level}{node.module or ''} import {', '.join(parts)}"


def _squeeze_blank_lines(text: str) -> str:
    """At most two blank lines in a row, and one newline at the end (what removing a function
    between two others leaves is three or four)."""
    lines = text.split("\n")
    out: list[str] = []
    blanks = 0
    for line in lines:
        blanks = blanks + 1 if not line.strip() else 0
        if blanks <= 2:
            out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"


def _retarget(data: bytes, rel: str, candidate: MoveCandidate, target_basename: str) -> str:
    """`rel` with each `from <source> import <function>` pointing at the new module."""
    tree = parse_python(data, filename=rel)
    edits: list[tuple[int, int, bytes]] = []
    for node in _imports_by_name(tree, rel, candidate.source, candidate.function):
        s, e = _lines_span(data, node)
        indent = data[s : s + node.col_offset].decode()
        moved = [a for a in node.names if a.name == candidate.function]
        kept = [a for a in node.names if a.name != candidate.function]
        module = node.module or ""
        new_module = (
            module.rsplit(".", 1)[0] + "." + target_basename if "." in module else target_basename
        )
        if not module:  # `from . import f`: the package's __init__ re-exported it; not a move
            raise ValueError(f"{rel}: imports {candidate.function} from a package")
        moved_line = f"from {'.' * node.level}{new_module} import " + ", ".join(
            f"{a.name} as {a.asname}" if a.asname else a.name for a in moved
        )
        lines = ([indent + _statement_text(node, kept)] if kept else []) + [indent + moved_line]
        edits.append((s, e, ("\n".join(lines) + "\n").encode()))
    text = data
    for s, e, new in sorted(edits, reverse=True):
        text = text[:s] + new + text[e:]
    return text.decode("utf-8")
