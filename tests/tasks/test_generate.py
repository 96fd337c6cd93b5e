"""The generator's candidates and reference solutions (pure: AST in, text out). The judge's
view of them (the move verifier, the checkers) is in tests/e2e/test_tasks_make.py."""

from __future__ import annotations

import ast
from pathlib import Path

from armbench.judge.structural import verify_moved_function
from armbench.tasks.generate import (
    implement_candidates,
    move_candidates,
    move_function,
    remove_body,
)
from armbench.tasks.inject import read_sources

SHAPES = Path(__file__).resolve().parents[1] / "data" / "make" / "shapes"


def _sources() -> dict[str, bytes]:
    return read_sources(SHAPES)


def test_a_function_imported_by_name_from_two_modules_is_a_move_candidate() -> None:
    sources = _sources()
    code = {p for p in sources if p.startswith("shapes/")}
    found = {(c.function, c.source): c.importers for c in move_candidates(sources, code)}
    assert found[("to_metres", "shapes.units")] == (
        "shapes/area.py",
        "shapes/perimeter.py",
        "tests/test_units.py",
    )
    # describe is imported by one test module only: not enough users.
    assert ("describe", "shapes.units") not in found


def test_a_function_its_module_uses_or_exports_or_overloads_is_not_moved() -> None:
    lib = (
        b"from typing import overload\n__all__ = ['exported']\n\n"
        b"def exported() -> int:\n    return 1\n\n"
        b"def used() -> int:\n    return 2\n\n"
        b"def caller() -> int:\n    return used()\n\n"
        b"@overload\ndef over(x: int) -> int: ...\n@overload\ndef over(x: str) -> str: ...\n"
        b"def over(x: object) -> object:\n    return x\n"
    )
    user = b"from pkg.lib import exported, used, over, caller\n"
    sources = {"pkg/lib.py": lib, "pkg/a.py": user, "pkg/b.py": user}
    assert [c.function for c in move_candidates(sources, {"pkg/lib.py"})] == ["caller"]


def test_the_move_is_exact_and_passes_the_verifier(tmp_path: Path) -> None:
    sources = _sources()
    candidate = next(c for c in move_candidates(sources, set(sources)) if c.function == "to_metres")
    files = move_function(sources, candidate, "_to_metres")
    assert set(files) == {
        "shapes/_to_metres.py",
        "shapes/units.py",
        "shapes/area.py",
        "shapes/perimeter.py",
        "tests/test_units.py",
    }
    new = files["shapes/_to_metres.py"]
    assert "from shapes.units import FACTORS, UnitError" in new
    old_def = sources["shapes/units.py"].decode()
    body = old_def[old_def.index("def to_metres") : old_def.index("def describe")].rstrip()
    assert body in new
    assert "def to_metres" not in files["shapes/units.py"]
    assert "from shapes._to_metres import to_metres" in files["shapes/area.py"]
    assert "from shapes.units import UnitError, describe" in files["tests/test_units.py"]
    for text in files.values():
        ast.parse(text)
    workspace = tmp_path / "repo"
    workspace.mkdir()
    for rel, data in sources.items():
        (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        (workspace / rel).write_bytes(files[rel].encode() if rel in files else data)
    (workspace / "shapes" / "_to_metres.py").write_text(new)
    verdict = verify_moved_function(
        workspace, SHAPES, "to_metres", "shapes.units", "shapes._to_metres"
    )
    assert verdict.passed, verdict.details


def test_an_implement_candidate_is_tested_documented_and_keeps_its_docstring() -> None:
    sources = _sources()
    code = {p for p in sources if p.startswith("shapes/")}
    tests = {p for p in sources if p.startswith("tests/")}
    found = {c.function: c for c in implement_candidates(sources, code, tests)}
    assert found["to_metres"].tests == ("tests/test_units.py",)
    assert found["to_metres"].has_docstring
    # square_perimeter's body is one statement: too little to ask for.
    assert "square_perimeter" not in found
    stub = remove_body(sources["shapes/units.py"], found["to_metres"])
    assert '"""`value` in `unit`, converted to metres; UnitError for an unknown unit."""\n' in stub
    assert "    raise NotImplementedError\n\n\ndef describe" in stub
    assert "FACTORS[key]" not in stub
    assert stub.count("\n") < sources["shapes/units.py"].decode().count("\n")


def test_a_moved_function_gets_a_module_name_that_is_free() -> None:
    """`_helper` goes to `_helper.py` (not `__helper.py`), and a name a module or a package
    already has beside it gets `_moved` added (a move must never overwrite a module)."""
    from types import SimpleNamespace

    from armbench.judge.make_pack import _Maker
    from armbench.tasks.generate.move import MoveCandidate

    def name(function: str, *paths: str) -> str:
        maker = SimpleNamespace(sources=dict.fromkeys(("pkg/core.py", *paths), b""))
        candidate = MoveCandidate(function, "pkg.core", "pkg/core.py", ("pkg/a.py",))
        return _Maker._new_module_name(maker, candidate)  # type: ignore[arg-type]

    assert name("_helper") == "_helper"
    assert name("helper") == "_helper"
    assert name("helper", "pkg/_helper.py") == "_helper_moved"
    assert name("helper", "pkg/_helper/__init__.py") == "_helper_moved"
    assert name("helper", "other/_helper.py") == "_helper"
