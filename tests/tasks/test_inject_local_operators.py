"""The local mypy operators: where they find sites (pure), that mypy sees exactly one error at
the edit and none elsewhere, and that selection takes them before remote ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from textwrap import dedent

from inject_helpers import mutations

from armbench.tasks.inject import InjectionRequest, plan
from armbench.tasks.inject.catalogue import OPERATORS

SOURCE = """\
from __future__ import annotations

import math

TAU = math.tau


def area(radius: float, scale: int = 2) -> float:
    if radius < 0:
        return 0.0
    return math.pi * radius * radius * scale


def label(name: str | None = None, width: float = 1.5) -> str | None:
    if name is None:
        return None
    return name.upper()


def unused_local(x: int) -> int:
    doubled = x * 2
    return doubled


def gen(n: int) -> int:
    yield n
"""


def test_return_value_dropped_takes_plain_returns_only() -> None:
    found = mutations("return_value_dropped", SOURCE)
    # area's two returns; not label (Optional), not a value whose local goes unused, not gen.
    assert len(found) == 2
    assert all("return\n" in m for m in found)
    assert all("def label" in m and "return None" in m for m in found)
    assert not any("    return\n" in m.split("def unused_local")[1] for m in found)


def test_default_quoted_quotes_numeric_defaults_of_annotated_parameters() -> None:
    found = mutations("default_quoted", SOURCE)
    assert len(found) == 2
    assert any('scale: int = "2"' in m for m in found)
    assert any('width: float = "1.5"' in m for m in found)


def _mypy(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "mod.py").write_text(text)
    (tmp_path / "use.py").write_text(
        "from mod import area, label\n\nx: float = area(1.0)\ny = label('a', 2.0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "mod.py", "use.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    return [line for line in done.stdout.splitlines() if ": error:" in line]


def test_each_local_mutation_is_one_mypy_error_at_the_edit_and_none_at_callers(
    tmp_path: Path,
) -> None:
    clean = dedent(SOURCE).replace("def gen(n: int) -> int:", "def gen(n: int) -> object:")
    assert _mypy(tmp_path, clean) == []
    for operator in ("return_value_dropped", "default_quoted"):
        for mutated in mutations(operator, clean):
            errors = _mypy(tmp_path, mutated)
            assert len(errors) == 1, (operator, errors)
            assert errors[0].startswith("mod.py:"), errors


def test_selection_takes_local_operators_before_remote_ones(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(SOURCE)
    chosen = plan(tmp_path, InjectionRequest(mypy=3, seed=7)).sites
    assert len(chosen) == 3
    local = [s for s in chosen if not OPERATORS[s.operator].remote]
    # Four local sites exist (two returns, two defaults; collisions aside): no remote is needed.
    assert len(local) == len(chosen)
