"""Tests for armbench.judge.structural (verify_moved_function) and armbench.judge.rules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from armbench.checks import count_suppressions
from armbench.judge.structural import (
    Verdict,
    module_file,
    module_name,
    references,
    verify_moved_function,
)

FUNCTION = '''\
def parse_amount(text: str) -> Decimal:
    """Read an amount as people type it."""
    cleaned = text.strip().replace(",", "")
    return Decimal(cleaned)
'''

MONEY_BEFORE = f'''\
"""Money."""

from decimal import Decimal


{FUNCTION}

def total(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0))
'''

MONEY_AFTER = '''\
"""Money."""

from decimal import Decimal


def total(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0))
'''

PARSING = f'''\
"""Parsing."""

from decimal import Decimal


{FUNCTION}'''

ORIGINAL = {
    "pkg/__init__.py": "",
    "pkg/money.py": MONEY_BEFORE,
    "pkg/ledger.py": "from pkg.money import parse_amount\n\nX = parse_amount('1')\n",
    "pkg/report.py": "from pkg import money\n\n\ndef show(t):\n    return money.parse_amount(t)\n",
    "tests/test_money.py": "import pkg.money\n\n\ndef test_p():\n    pkg.money.parse_amount('2')\n",
    "tests/test_total.py": "from pkg.money import total\n",
}

MOVED = {
    "pkg/__init__.py": "",
    "pkg/money.py": MONEY_AFTER,
    "pkg/parsing.py": PARSING,
    "pkg/ledger.py": "from pkg.parsing import parse_amount\n\nX = parse_amount('1')\n",
    "pkg/report.py": (
        "from pkg import parsing\n\n\ndef show(t):\n    return parsing.parse_amount(t)\n"
    ),
    "tests/test_money.py": (
        "import pkg.parsing\n\n\ndef test_p():\n    pkg.parsing.parse_amount('2')\n"
    ),
    "tests/test_total.py": "from pkg.money import total\n",
}


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


FILES = {
    "init": "pkg/__init__.py",
    "money": "pkg/money.py",
    "parsing": "pkg/parsing.py",
    "ledger": "pkg/ledger.py",
    "report": "pkg/report.py",
    "test_money": "tests/test_money.py",
    "extra": "pkg/extra.py",
}


def _verify(tmp_path: Path, **changes: str | None) -> Verdict:
    """Judge MOVED with `changes` (file key -> new text, None to delete) against ORIGINAL."""
    original = _tree(tmp_path / "original", ORIGINAL)
    files: dict[str, str] = dict(MOVED)
    for key, text in changes.items():
        rel = FILES[key]
        if text is None:
            files.pop(rel)
        else:
            files[rel] = text
    workspace = _tree(tmp_path / "workspace", files)
    return verify_moved_function(workspace, original, "parse_amount", "pkg.money", "pkg.parsing")


# --- verify_moved_function -------------------------------------------------------------------


def test_correct_move_passes(tmp_path: Path) -> None:
    assert _verify(tmp_path) == Verdict(())


def test_correct_move_with_other_import_styles_passes(tmp_path: Path) -> None:
    verdict = _verify(
        tmp_path,
        ledger="from .parsing import parse_amount as pa\n\nX = pa('1')\n",
        report="from . import parsing as p\n\n\ndef show(t):\n    return p.parse_amount(t)\n",
        test_money="import pkg.parsing as pp\n\n\ndef test_p():\n    pp.parse_amount('2')\n",
    )
    assert verdict == Verdict(())


def test_moved_function_may_sit_anywhere_in_the_target(tmp_path: Path) -> None:
    parsing = f'"""Parsing."""\n\nfrom decimal import Decimal\n\nLIMIT = 3\n\n\n{FUNCTION}'
    parsing += "\n\ndef helper() -> int:\n    return LIMIT\n"
    assert _verify(tmp_path, parsing=parsing).passed


def test_body_changed_fails(tmp_path: Path) -> None:
    changed = PARSING.replace('replace(",", "")', 'replace(",", "").strip()')
    verdict = _verify(tmp_path, parsing=changed)
    assert verdict == Verdict(
        ("pkg.parsing.parse_amount differs from the original: it must move unchanged",)
    )


def test_docstring_or_signature_changed_fails(tmp_path: Path) -> None:
    no_doc = PARSING.replace('    """Read an amount as people type it."""\n', "")
    assert "differs from the original" in _verify(tmp_path / "a", parsing=no_doc).details
    renamed_arg = PARSING.replace("text", "raw")
    assert "differs" in _verify(tmp_path / "b", parsing=renamed_arg).details


def test_target_missing_or_broken_or_without_the_function(tmp_path: Path) -> None:
    assert _verify(tmp_path / "a", parsing=None).details.startswith(
        "module pkg.parsing does not exist"
    )
    assert _verify(tmp_path / "b", parsing="def (:\n").details.startswith(
        "module pkg.parsing does not parse"
    )
    nested = "class P:\n" + "".join(f"    {line}\n" for line in FUNCTION.splitlines())
    assert _verify(tmp_path / "c", parsing=nested).details.startswith(
        "pkg.parsing defines no top-level function parse_amount"
    )


def test_still_defined_in_source_fails(tmp_path: Path) -> None:
    verdict = _verify(tmp_path, money=MONEY_BEFORE)
    assert verdict.problems == ("pkg.money still defines parse_amount",)


@pytest.mark.parametrize(
    "reexport",
    [
        "from pkg.parsing import parse_amount",
        "from pkg.parsing import parse_amount as parse_amount",
        "from .parsing import parse_amount",
        "from pkg import parsing\nparse_amount = parsing.parse_amount",
    ],
)
def test_reexport_from_source_fails(tmp_path: Path, reexport: str) -> None:
    money = MONEY_AFTER + "\n" + reexport + "\n"
    line = len(money.splitlines())
    verdict = _verify(tmp_path, money=money)
    assert verdict.problems == (f"pkg.money still binds parse_amount (line {line}): no re-exports",)


def test_annotated_reexport_from_source_fails(tmp_path: Path) -> None:
    money = (
        MONEY_AFTER
        + "\nfrom collections.abc import Callable\n\nfrom pkg import parsing\n\n"
        + "parse_amount: Callable[[str], Decimal] = parsing.parse_amount\n"
    )
    verdict = _verify(tmp_path, money=money)
    assert not verdict.passed
    assert "pkg.money still binds parse_amount" in verdict.details


def test_from_source_import_still_used_fails(tmp_path: Path) -> None:
    verdict = _verify(
        tmp_path, ledger="from pkg.money import parse_amount\n\nX = parse_amount('1')\n"
    )
    assert verdict == Verdict(
        ("pkg/ledger.py still reaches parse_amount through pkg.money (lines [1])",)
    )


def test_from_package_import_module_attribute_fails(tmp_path: Path) -> None:
    report = "from pkg import money\n\n\ndef show(t):\n    return money.parse_amount(t)\n"
    verdict = _verify(tmp_path, report=report)
    assert verdict == Verdict(
        ("pkg/report.py still reaches parse_amount through pkg.money (lines [5])",)
    )


def test_import_dotted_module_attribute_fails(tmp_path: Path) -> None:
    test = "import pkg.money\n\n\ndef test_p():\n    pkg.money.parse_amount('2')\n"
    verdict = _verify(tmp_path, test_money=test)
    assert verdict == Verdict(
        ("tests/test_money.py still reaches parse_amount through pkg.money (lines [5])",)
    )


def test_relative_import_from_source_fails(tmp_path: Path) -> None:
    ledger = "from .money import parse_amount\n\nX = parse_amount('1')\n"
    verdict = _verify(tmp_path, ledger=ledger)
    assert verdict == Verdict(
        ("pkg/ledger.py still reaches parse_amount through pkg.money (lines [1])",)
    )


@pytest.mark.parametrize(
    ("ledger", "lines"),
    [
        ("from . import money\n\nX = money.parse_amount('1')\n", [3]),
        ("import pkg.money as pm\n\nX = pm.parse_amount('1')\n", [3]),
        ("from pkg import money as m\n\nX = m.parse_amount('1')\n", [3]),
        ("from pkg.money import *\n\nX = parse_amount('1')\n", [1]),
        ("def f():\n    from pkg.money import parse_amount as p\n    return p('1')\n", [2]),
    ],
)
def test_other_stale_import_styles_fail(tmp_path: Path, ledger: str, lines: list[int]) -> None:
    verdict = _verify(tmp_path, ledger=ledger)
    assert verdict == Verdict(
        (f"pkg/ledger.py still reaches parse_amount through pkg.money (lines {lines})",)
    )


def test_relative_import_in_a_package_init_fails(tmp_path: Path) -> None:
    verdict = _verify(tmp_path, init="from .money import parse_amount\n")
    assert verdict == Verdict(
        ("pkg/__init__.py still reaches parse_amount through pkg.money (lines [1])",)
    )


def test_attribute_chain_through_the_package_fails(tmp_path: Path) -> None:
    extra = "import pkg\n\nY = pkg.money.parse_amount('3')\n"
    verdict = _verify(tmp_path, init="from . import money as money\n", extra=extra)
    assert verdict == Verdict(
        ("pkg/extra.py still reaches parse_amount through pkg.money (lines [3])",)
    )


def test_user_that_deleted_its_use_fails(tmp_path: Path) -> None:
    report = "def show(t):\n    return t\n"
    verdict = _verify(tmp_path, report=report)
    assert verdict == Verdict(
        ("pkg/report.py used pkg.money.parse_amount but does not use pkg.parsing.parse_amount",)
    )


def test_deleted_test_module_fails(tmp_path: Path) -> None:
    verdict = _verify(tmp_path, test_money=None)
    assert verdict.problems == (
        "tests/test_money.py used pkg.money.parse_amount but does not use pkg.parsing.parse_amount",
    )


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    verdict = _verify(
        tmp_path,
        money=MONEY_BEFORE,
        ledger="from pkg.money import parse_amount\n",
        report="",
    )
    assert not verdict.passed
    assert verdict.details.split("; ") == [
        "pkg.money still defines parse_amount",
        "pkg/ledger.py still reaches parse_amount through pkg.money (lines [1])",
        "pkg/report.py used pkg.money.parse_amount but does not use pkg.parsing.parse_amount",
    ]


def test_function_missing_from_the_original_is_a_task_error(tmp_path: Path) -> None:
    original = _tree(tmp_path / "original", ORIGINAL)
    workspace = _tree(tmp_path / "workspace", MOVED)
    verdict = verify_moved_function(workspace, original, "nope", "pkg.money", "pkg.parsing")
    assert verdict.problems == ("task error: pkg.money.nope does not exist in the original tree",)


def test_src_layout(tmp_path: Path) -> None:
    original = _tree(tmp_path / "o", {f"src/{k}": v for k, v in ORIGINAL.items()})
    workspace = _tree(tmp_path / "w", {f"src/{k}": v for k, v in MOVED.items()})
    good = verify_moved_function(workspace, original, "parse_amount", "pkg.money", "pkg.parsing")
    assert good == Verdict(())
    (workspace / "src/pkg/ledger.py").write_text("from pkg.money import parse_amount\n")
    bad = verify_moved_function(workspace, original, "parse_amount", "pkg.money", "pkg.parsing")
    assert (
        bad.details == "src/pkg/ledger.py still reaches parse_amount through pkg.money (lines [1])"
    )


def test_module_helpers(tmp_path: Path) -> None:
    _tree(tmp_path, {"pkg/__init__.py": "", "pkg/money.py": "", "src/lib/__init__.py": ""})
    assert module_file(tmp_path, "pkg.money") == tmp_path / "pkg" / "money.py"
    assert module_file(tmp_path, "pkg") == tmp_path / "pkg" / "__init__.py"
    assert module_file(tmp_path, "lib") == tmp_path / "src" / "lib" / "__init__.py"
    assert module_file(tmp_path, "pkg.nothing") is None
    assert module_name(tmp_path, tmp_path / "pkg" / "money.py") == "pkg.money"
    assert module_name(tmp_path, tmp_path / "pkg" / "__init__.py") == "pkg"
    assert module_name(tmp_path, tmp_path / "src" / "lib" / "__init__.py") == "lib"


def test_references_resolves_parent_relative_imports() -> None:
    tree = ast.parse("from ..money import parse_amount\nfrom .. import money\nmoney.parse_amount\n")
    assert references(tree, "pkg.sub.mod", False, "pkg.money", "parse_amount") == [1, 3]
    # The same text one level higher points elsewhere.
    assert references(tree, "pkg.mod", False, "pkg.money", "parse_amount") == []
    # Names that merely look alike are not references.
    other = ast.parse("import pkg.moneyx\npkg.moneyx.parse_amount\nparse_amount = 1\n")
    assert references(other, "a", False, "pkg.money", "parse_amount") == []


# --- count_suppressions ----------------------------------------------------------------------

COUNTED = """\
import os  # noqa: F401
x: int = "s"  # type: ignore[assignment]
y = 1  # type: ignore  # noqa
z = 2  #NOQA
w = 3  # type:ignore[misc]
"""

NOT_COUNTED = '''\
A = "# noqa: F401"
B = """
# type: ignore[assignment]
"""
C = 1  # this is not a noqa
D = 2  # noqa_like_word
E = f"{A} # type: ignore"
'''


def test_count_suppressions_counts_comments_only(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "pkg/counted.py": COUNTED,
            "pkg/strings.py": NOT_COUNTED,
            "clean.py": "x = 1\n",
            "notes.txt": "# noqa\n# type: ignore\n",
            "pkg/__pycache__/cached.py": "x = 1  # noqa\n",
            ".venv/lib/site.py": "x = 1  # noqa\n",
        },
    )
    assert count_suppressions(tmp_path) == {"pkg/counted.py": 6}


def test_count_suppressions_on_untokenizable_file_falls_back_to_lines(tmp_path: Path) -> None:
    _tree(tmp_path, {"broken.py": "x = (1,  # noqa: E501\n"})
    assert count_suppressions(tmp_path) == {"broken.py": 1}


@pytest.mark.parametrize("comment", ["# ruff: noqa", "# ruff: noqa: F401", "# flake8: noqa"])
def test_count_suppressions_counts_file_level_noqa(tmp_path: Path, comment: str) -> None:
    _tree(tmp_path, {"m.py": f"{comment}\nimport os\n"})
    assert count_suppressions(tmp_path) == {"m.py": 1}


def test_count_suppressions_empty_tree(tmp_path: Path) -> None:
    assert count_suppressions(tmp_path) == {}


def test_every_kind_of_suppression_is_counted_by_kind(tmp_path: Path) -> None:
    from armbench.checks import find_suppressions, new_suppressions

    text = (
        "from typing import no_type_check  # pylint: disable=all\n"
        "x = 1  # type: ignore[misc]  # noqa: E501\n"
        "y = 2  # pyre-ignore[6]\n"
        "z = 3  # pyright: ignore[reportGeneralTypeIssues]\n"
        "# mypy: ignore-errors\n"
        "@no_type_check\n"
        "def f(a):\n"
        '    return "no_type_check in a string is not counted"\n'
    )
    _tree(tmp_path, {"m.py": text})
    found = find_suppressions(tmp_path)
    assert found == {
        "m.py": {
            "mypy-file": 1,
            "no-type-check": 2,
            "noqa": 1,
            "pylint-disable": 1,
            "pyre-ignore": 1,
            "pyright-ignore": 1,
            "type-ignore": 1,
        }
    }
    assert new_suppressions({"m.py": {"noqa": 1, "type-ignore": 1}}, found) == [
        "m.py: mypy-file +1",
        "m.py: no-type-check +2",
        "m.py: pylint-disable +1",
        "m.py: pyre-ignore +1",
        "m.py: pyright-ignore +1",
    ]


def test_test_functions_are_fingerprinted_by_ast_not_by_formatting(tmp_path: Path) -> None:
    from armbench.tasks import function_fingerprints, function_key

    tail = "\n\nclass TestB:\n    def test_c(self) -> None:\n        assert True\n"
    original = "def test_a() -> None:\n    assert 1 + 1 == 2\n" + tail
    reformatted = "# a comment\ndef test_a()->None:\n    assert (1 + 1) == 2  # same\n" + tail
    emptied = "def test_a() -> None:\n    return\n    assert 1 + 1 == 2\n" + tail
    ids = ["t.py::test_a", "t.py::TestB::test_c[x-1]"]
    assert function_key(ids[1]) == "t.py::TestB::test_c"
    prints = {}
    for name, text in (("original", original), ("reformatted", reformatted), ("emptied", emptied)):
        _tree(tmp_path / name, {"t.py": text})
        prints[name] = function_fingerprints(tmp_path / name, ids)
    assert set(prints["original"]) == {"t.py::test_a", "t.py::TestB::test_c"}
    assert prints["reformatted"] == prints["original"]
    assert prints["emptied"]["t.py::test_a"] != prints["original"]["t.py::test_a"]
    assert prints["emptied"]["t.py::TestB::test_c"] == prints["original"]["t.py::TestB::test_c"]
