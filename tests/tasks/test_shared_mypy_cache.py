"""The user's shared mypy cache: the first run publishes it, later ones start from it, and a
verdict never depends on what it holds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from armbench.checks import run_mypy
from armbench.env import LOCAL
from armbench.tasks.shared_mypy_cache import publish, seed, shared_cache

PYPROJECT = '[tool.mypy]\nstrict = true\nfiles = ["pkg"]\n'
CALLER = "from pkg.calc import add\n\n\ndef total() -> int:\n    return add(1, 2)\n"
INT_ADD = "def add(a: int, b: int) -> int:\n    return a + b\n"
STR_ADD = "def add(a: str, b: str) -> str:\n    return a + b\n"


def _repo(root: Path, calc: str, pyproject: str = PYPROJECT) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text(pyproject)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "calc.py").write_text(calc)
    (root / "pkg" / "use.py").write_text(CALLER)
    return root


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARMBENCH_CACHE", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache"


def test_projects_configured_alike_share_one_cache_and_others_do_not(tmp_path: Path) -> None:
    one = _repo(tmp_path / "one", INT_ADD)
    two = _repo(tmp_path / "two", STR_ADD)
    other = _repo(tmp_path / "other", INT_ADD, PYPROJECT.replace("strict = true", "strict = false"))
    py = sys.executable
    assert shared_cache(py, one, ()) == shared_cache(py, two, ())
    assert shared_cache(py, one, ()) != shared_cache(py, other, ())
    assert shared_cache(py, one, ()) != shared_cache(py, one, ("pkg",))


def test_a_seeded_cache_gives_the_verdict_a_cold_one_gives(tmp_path: Path) -> None:
    """The shared cache says `add` takes ints; the code under check says strings: mypy, started
    from it, still reports the caller's error, as it does cold."""
    one = _repo(tmp_path / "one", INT_ADD)
    shared = shared_cache(sys.executable, one, ())
    warm = tmp_path / "warm"
    assert not seed(warm, shared)
    assert run_mypy(LOCAL(one), python=sys.executable, cache_dir=warm).passed
    publish(warm, shared)
    assert any(shared.iterdir())

    two = _repo(tmp_path / "two", STR_ADD)
    seeded = tmp_path / "seeded"
    assert seed(seeded, shared)
    from_shared = run_mypy(LOCAL(two), python=sys.executable, cache_dir=seeded)
    cold = run_mypy(LOCAL(two), python=sys.executable, cache_dir=tmp_path / "cold")
    assert not from_shared.passed
    assert from_shared.findings == cold.findings
    assert {(f.path, f.code) for f in cold.findings} == {
        ("pkg/use.py", "arg-type"),
        ("pkg/use.py", "return-value"),
    }


def test_publishing_never_replaces_a_shared_cache(tmp_path: Path) -> None:
    shared = tmp_path / "user-cache" / "mypy" / "k"
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, text in ((first, "1"), (second, "2")):
        folder.mkdir()
        (folder / "meta.json").write_text(text)
    publish(first, shared)
    publish(second, shared)
    assert (shared / "meta.json").read_text() == "1"
    assert [p.name for p in shared.parent.iterdir()] == ["k"]  # no staging folder left
