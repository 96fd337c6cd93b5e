"""Each catalogue operator: where it finds sites, that its edit is byte-exact and reversible.

These are pure (no checker runs); tests/test_inject_engine.py proves with the real checkers
that the edits yield exactly one error of their kind.
"""

from __future__ import annotations

import pytest
from inject_helpers import apply, mutations, sites_of

from armbench.tasks.inject.catalogue import CATALOGUE, KINDS, Module, RepoContext, typo


def test_catalogue_ids_are_unique_and_every_kind_is_covered() -> None:
    ids = [op.id for op in CATALOGUE]
    assert len(ids) == len(set(ids))
    assert {op.kind for op in CATALOGUE} == set(KINDS)
    assert all(op.description.strip() for op in CATALOGUE)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("total", "toatl"), ("amount", "amuont"), ("_require", "_reqiure"), ("ab", None)],
)
def test_typo_swaps_two_letters_near_the_middle(name: str, expected: str | None) -> None:
    assert typo(name, set()) == expected


def test_typo_avoids_taken_names_and_dunders() -> None:
    assert typo("total", {"toatl"}) not in ("toatl", "total", None)
    assert typo("__init__", set()) is None


# --- mypy operators -------------------------------------------------------------------------

OPTIONAL = """\
from typing import Optional


def f(a: int, b: int | None = None, *, c: Optional[str] = None, d: int = 0) -> None:
    pass


def g(e: None | list[int] = None) -> None:
    pass


limit: float | None = None
"""


def test_optional_default_dropped_narrows_each_optional_none_default() -> None:
    found = mutations("optional_default_dropped", OPTIONAL)
    assert len(found) == 4
    assert "def f(a: int, b: int = None, *, c: Optional[str] = None" in found[0]
    assert "*, c: str = None, d: int = 0)" in found[1]
    assert "def g(e: list[int] = None)" in found[2]
    assert "limit: float = None" in found[3]


def test_optional_default_sites_of_one_signature_collide() -> None:
    first, second = sites_of("optional_default_dropped", OPTIONAL)[:2]
    assert first.collides(second)
    assert first.symbol == "f"


ATTRIBUTES = """\
class Cart:
    def __init__(self) -> None:
        self.items: list[int] = []
        self.owner = "me"

    def add(self, item: int) -> None:
        self.items.append(item)
        print(self.owner)

    def size(self) -> int:
        if self.items:
            return len(self.items)
        total = self.owner
        return 0


class Dynamic:
    def __getattr__(self, name: str) -> int:
        return 1

    def use(self) -> None:
        print(self.anything)
"""


def test_attribute_typo_only_where_the_any_goes_nowhere() -> None:
    found = mutations("attribute_typo", ATTRIBUTES)
    assert len(found) == 2, "stores, returns, conditions and assignments are not sites"
    assert "        self.itmes.append(item)\n" in found[0]
    assert "        print(self.owenr)\n" in found[1]
    assert all("self.anything" in text for text in found), "__getattr__ classes are skipped"


RETURNS = """\
def find(names: list[str], wanted: str) -> str | None:
    if wanted not in names:
        return None
    return wanted


def bare(flag: bool) -> int | None:
    if flag:
        return
    return 1


def falls_off(flag: bool) -> int | None:
    if flag:
        return None
    print(flag)


def twice(flag: int) -> int | None:
    if flag:
        return None
    if flag > 3:
        return None
    return flag
"""


def test_optional_return_dropped_needs_exactly_one_return_none() -> None:
    found = mutations("optional_return_dropped", RETURNS)
    assert len(found) == 1
    assert "def find(names: list[str], wanted: str) -> str:\n" in found[0]


# --- ruff operators -------------------------------------------------------------------------

STRINGS = '''\
"""A docstring is never a site."""

PATTERN = r"\\d+ items"
MODE = "utf8"


def check(value: "Fancy type", data: dict[str, int]) -> str:
    """Nor is this one."""
    if value == "":
        raise ValueError("bad value here")
    key = data["some key"]
    joined = "left part " "right part"
    template = "{} braces".format(key)
    raw = b"bytes are not str"
    return "plain message"
'''


def test_f_string_only_plain_message_literals() -> None:
    found = mutations("f_string_without_placeholders", STRINGS)
    assert len(found) == 3
    assert 'PATTERN = fr"\\d+ items"' in found[0]
    assert 'raise ValueError(f"bad value here")' in found[1]
    assert 'return f"plain message"' in found[2]


NONES = """\
def f(a: int | None, b: list[int]) -> bool:
    if a is None:
        return False
    x = (a) is None
    y = a is None is b
    return b[0] is not None
"""


def test_comparison_to_none_rewrites_only_the_operator() -> None:
    found = mutations("comparison_to_none", NONES)
    assert len(found) == 2, "a parenthesised left side and chains are skipped"
    assert "    if a == None:\n" in found[0]
    assert "    return b[0] != None\n" in found[1]


MEMBERSHIP = """\
def f(a: int, b: list[int]) -> bool:
    if a not in b:
        return False
    c = (a) not in b
    return a + 1 not in b and a in b
"""


def test_membership_negated_moves_not_in_front() -> None:
    found = mutations("membership_test_negated", MEMBERSHIP)
    assert len(found) == 2
    assert "    if not a in b:\n" in found[0]
    assert "    return not a + 1 in b and a in b\n" in found[1]


IMPORTS = """\
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

json = 1


def f() -> str:
    return os.sep + sys.prefix + str(Path()) + str(pytest)
"""


def test_unused_import_lands_in_isort_order_inside_the_stdlib_block() -> None:
    found = sites_of("unused_import", IMPORTS, ctx=RepoContext(local_modules=frozenset({"abc"})))
    assert len(found) == 2
    first, middle = (apply(IMPORTS, s).decode() for s in found)
    assert "\nimport bisect\nimport os\nimport sys\n" in first, "abc is a local module here"
    stdlib = middle.split("\n\n")[1].splitlines()
    names = [line.split()[1] for line in stdlib if line.startswith("import ")]
    assert names == sorted(names) and len(names) == 3
    assert stdlib[-1] == "from pathlib import Path"
    assert "import json" not in first + middle, "json is a name in the module"
    assert found[0].collides(found[1]), "one unused import per import block"


def test_unused_import_after_the_last_plain_import() -> None:
    source = "import abc\n\nx = abc\n"
    found = [apply(source, s) for s in sites_of("unused_import", source)]
    assert found and all(text.startswith(b"import abc\nimport ") for text in found)


def test_unused_import_skips_package_inits_and_modules_without_stdlib_imports() -> None:
    assert not sites_of("unused_import", IMPORTS, path="pkg/__init__.py")
    assert not sites_of("unused_import", "import pytest\n\nx = pytest\n")


# --- collect operators ----------------------------------------------------------------------

PARAMETRIZED = """\
import pytest


@pytest.mark.parametrize("amount, cents", [(1, 100), (2, 200,), (3, 300)])
def test_amounts(amount: int, cents: int) -> None:
    assert amount * 100 == cents


@pytest.mark.parametrize(("low", "mid", "high"), [(1, 2, 3)])
def test_triples(low: int, mid: int, high: int) -> None:
    assert low < mid < high


@pytest.mark.parametrize("value", [1, 2], indirect=True)
def test_indirect(value: int) -> None:
    assert value


@pytest.mark.parametrize("x", [1])
def helper(x: int) -> None:
    pass
"""


def test_argname_typo_edits_one_name_inside_the_string() -> None:
    found = mutations("parametrize_argname_typo", PARAMETRIZED, "tests/test_mod.py")
    assert len(found) == 5
    assert '@pytest.mark.parametrize("amuont, cents",' in found[0]
    assert '@pytest.mark.parametrize("amount, cetns",' in found[1]
    assert '@pytest.mark.parametrize(("lwo", "mid", "high"),' in found[2]
    assert '@pytest.mark.parametrize("value"' in found[4], "indirect names are not sites"


def test_arity_drops_the_last_value_and_keeps_a_tuple() -> None:
    found = mutations("parametrize_arity", PARAMETRIZED, "tests/test_mod.py")
    assert len(found) == 4
    assert "[(1,), (2, 200,), (3, 300)]" in found[0]
    assert "[(1, 100), (2,), (3, 300)]" in found[1], "a trailing comma is kept, not doubled"
    assert "[(1, 2)])" in found[3]


def test_collect_sites_of_one_module_collide() -> None:
    typos = sites_of("parametrize_argname_typo", PARAMETRIZED, "tests/test_mod.py")
    arity = sites_of("parametrize_arity", PARAMETRIZED, "tests/test_mod.py")
    assert typos[0].collides(arity[-1]), "different tests, same module: one collection error"


# --- byte exactness -------------------------------------------------------------------------


def test_offsets_are_utf8_bytes_and_crlf_is_kept() -> None:
    source = 'def f(a: int | None) -> str:\r\n    s = "é"; t = a is None\r\n    return s\r\n'
    data = source.encode()
    (site,) = sites_of("comparison_to_none", data)
    assert apply(data, site) == data.replace(b"a is None", b"a == None")
    imports = sites_of("unused_import", b"import os\r\n\r\nx = os\r\n")
    assert imports and all(s.edit.new.endswith(b"\r\n") for s in imports)


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbfx = 1\n",
        b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
        b"def broken(:\n",
    ],
)
def test_files_whose_offsets_cannot_be_trusted_are_skipped(data: bytes) -> None:
    assert Module.parse("m.py", data) is None


def test_statement_extents_never_overlap_between_statements() -> None:
    source = "def f(a: int | None = None) -> bool:\n    b = a is None\n    return a is not None\n"
    first, second = sites_of("comparison_to_none", source)
    assert not first.collides(second)
    header = sites_of("optional_default_dropped", source)[0]
    assert not header.collides(first)
