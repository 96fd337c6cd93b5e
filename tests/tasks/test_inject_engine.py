"""The injector end to end on the fixture repositories under tests/data/inject.

The slow tests run the real mypy, ruff and pytest: they are what proves that the catalogue's
edits yield exactly one error each and that a failed injection leaves the repository alone.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from itertools import pairwise
from pathlib import Path

import pytest

from armbench.checks import run_mypy, run_pytest, run_ruff
from armbench.env import LOCAL
from armbench.tasks.inject import (
    CATALOGUE,
    InjectionError,
    InjectionManifest,
    InjectionRequest,
    Scope,
    discover_scope,
    inject,
    plan,
    restore,
)
from armbench.tasks.inject.apply import write_copy
from armbench.tasks.inject.catalogue import Site
from armbench.tasks.inject.checkers import Checkers
from armbench.tasks.inject.engine import candidates, read_sources, repo_context
from armbench.tasks.inject.verification import _verdict

DATA = Path(__file__).parents[1] / "data" / "inject"
CACHES = shutil.ignore_patterns(".ruff_cache", ".mypy_cache", ".pytest_cache", "__pycache__")
REPOS = ("ledger", "textkit")
MYPY_IGNORED = {"ledger": "ledger/legacy.py", "textkit": "textkit/compat.py"}
RUFF_EXCLUDED = {"ledger": "ledger/_generated.py", "textkit": "textkit/tables.py"}


def copy_repo(name: str, parent: Path) -> Path:
    target = parent / name
    shutil.copytree(DATA / name, target, ignore=CACHES)
    return target


def snapshot(repo: Path) -> dict[str, bytes]:
    return {p.relative_to(repo).as_posix(): p.read_bytes() for p in repo.rglob("*") if p.is_file()}


def checker_counts(repo: Path) -> dict[str, int]:
    """What the three checkers report on `repo`, counted the way a task is judged."""
    env = LOCAL(repo)
    with tempfile.TemporaryDirectory(prefix="inject-test-mypy-") as cache:
        mypy = run_mypy(env, python=sys.executable, cache_dir=Path(cache))
    ruff = run_ruff(env, python=sys.executable)
    tests = run_pytest(env, python=sys.executable)
    assert mypy.parsed and ruff.parsed and tests.parsed
    return {
        "mypy": len(mypy.findings),
        "ruff": len(ruff.findings),
        "collect": tests.counts["collection_errors"],
    }


def test_static_scope_honours_mypy_markers_and_finds_test_modules() -> None:
    for name in REPOS:
        sources = read_sources(DATA / name)
        static = Scope.static(DATA / name, sources)
        assert MYPY_IGNORED[name] not in static.mypy
        assert MYPY_IGNORED[name] in static.ruff, "ruff still checks a mypy-ignored file"
        assert static.collect == {p for p in sources if p.startswith("tests/")}


def test_zero_request_changes_nothing(tmp_path: Path) -> None:
    repo = copy_repo("ledger", tmp_path)
    before = snapshot(repo)
    manifest = inject(repo, InjectionRequest(seed=1))
    assert manifest.mutations == () and manifest.touched_paths == []
    assert snapshot(repo) == before


def test_plan_manifest_restores_and_restore_refuses_changed_files(tmp_path: Path) -> None:
    repo = copy_repo("textkit", tmp_path)
    before = snapshot(repo)
    chosen = plan(repo, InjectionRequest(mypy=2, ruff=2, collect=1, seed=3))
    manifest = chosen.manifest()
    for path, data in chosen.contents().items():
        (repo / path).write_bytes(data)
    assert manifest.apply_forward({p: before[p] for p in manifest.touched_paths}) == {
        p: (repo / p).read_bytes() for p in manifest.touched_paths
    }
    victim = repo / manifest.touched_paths[0]
    victim.write_bytes(victim.read_bytes() + b"# edited by an agent\n")
    injected = snapshot(repo)
    with pytest.raises(InjectionError, match="changed after injection"):
        restore(repo, manifest)
    assert snapshot(repo) == injected, "a refused restore writes nothing"
    victim.write_bytes(victim.read_bytes().removesuffix(b"# edited by an agent\n"))
    restore(repo, manifest)
    assert snapshot(repo) == before


@pytest.mark.slow
def test_ignored_and_excluded_files_are_never_candidates() -> None:
    for name in REPOS:
        scope = discover_scope(DATA / name)
        assert RUFF_EXCLUDED[name] not in scope.ruff, "ruff's own exclude is honoured"
        assert MYPY_IGNORED[name] not in scope.mypy
        for seed in range(40):
            request = InjectionRequest(mypy=2, ruff=2, collect=1, seed=seed)
            for site in plan(DATA / name, request, scope=scope).sites:
                assert not (site.kind == "mypy" and site.path == MYPY_IGNORED[name])
                assert not (site.kind == "ruff" and site.path == RUFF_EXCLUDED[name])


@pytest.mark.slow
@pytest.mark.parametrize("name", REPOS)
def test_inject_gives_exact_counts_and_restore_gives_original_bytes(
    name: str, tmp_path: Path
) -> None:
    repo = copy_repo(name, tmp_path)
    before = snapshot(repo)
    request = InjectionRequest(mypy=3, ruff=3, collect=2, seed=7)
    manifest = inject(repo, request)

    assert checker_counts(repo) == {"mypy": 3, "ruff": 3, "collect": 2}
    assert sorted(m.kind for m in manifest.mutations).count("collect") == 2
    assert all(m.finding is not None for m in manifest.mutations)
    assert set(manifest.checkers) == {"mypy", "pytest", "ruff"}
    changed = {p for p in before if snapshot(repo)[p] != before[p]}
    assert changed == set(manifest.touched_paths)
    assert not {p for p in snapshot(repo)} - set(before), "no cache or temp file left behind"
    for m in manifest.mutations:
        assert not (m.kind == "mypy" and m.path == MYPY_IGNORED[name])
        assert not (m.kind == "ruff" and m.path == RUFF_EXCLUDED[name])

    reloaded = InjectionManifest.from_json(manifest.to_json())
    assert reloaded == manifest
    restore(repo, reloaded)
    assert snapshot(repo) == before


@pytest.mark.slow
def test_same_seed_gives_identical_bytes_and_other_seeds_other_sites(tmp_path: Path) -> None:
    request = InjectionRequest(mypy=2, ruff=2, collect=1, seed=11)
    first = copy_repo("ledger", tmp_path / "a")
    second = copy_repo("ledger", tmp_path / "b")
    third = copy_repo("ledger", tmp_path / "c")
    one = inject(first, request)
    two = inject(second, request)
    other = inject(third, request.model_copy(update={"seed": 12}))
    assert one.to_json() == two.to_json()
    assert snapshot(first) == snapshot(second)
    sites = [{(m.path, m.forward.offset, m.operator) for m in x.mutations} for x in (one, other)]
    assert sites[0] != sites[1]


@pytest.mark.slow
def test_a_repository_that_is_not_green_is_rejected_untouched(tmp_path: Path) -> None:
    repo = copy_repo("ledger", tmp_path)
    money = repo / "ledger" / "money.py"
    money.write_bytes(money.read_bytes().replace(b"import re\n", b"import os\nimport re\n"))
    before = snapshot(repo)
    with pytest.raises(InjectionError) as caught:
        inject(repo, InjectionRequest(mypy=1, ruff=1, collect=1, seed=1))
    message = str(caught.value)
    assert "not green under ruff" in message
    assert "ledger/money.py:5: [F401]" in message
    assert snapshot(repo) == before


@pytest.mark.slow
def test_more_collect_mutations_than_test_modules_fails_untouched(tmp_path: Path) -> None:
    repo = copy_repo("ledger", tmp_path)
    before = snapshot(repo)
    with pytest.raises(InjectionError, match=r"collect: asked for 4, could place only 3.*3 test"):
        inject(repo, InjectionRequest(collect=4, seed=1))
    assert snapshot(repo) == before


@pytest.mark.slow
def test_rules_the_repository_does_not_enable_are_never_counted(tmp_path: Path) -> None:
    repo = copy_repo("textkit", tmp_path)
    config = repo / "pyproject.toml"
    config.write_text(
        config.read_text().replace('select = ["E", "F", "W", "I", "UP"]', 'select = ["E501"]')
    )
    before = snapshot(repo)
    with pytest.raises(InjectionError, match=r"ruff: asked for 2.*is the rule enabled"):
        inject(repo, InjectionRequest(ruff=2, seed=5))
    assert snapshot(repo) == before


@pytest.mark.slow
def test_every_operator_yields_exactly_one_error_of_its_kind(tmp_path: Path) -> None:
    """One site per operator, all applied at once to a copy, checked in one run."""
    sites: list[Site] = []
    for name in REPOS:
        repo = copy_repo(name, tmp_path)
        sources = read_sources(repo)
        pool = candidates(sources, discover_scope(repo), repo_context(sources))
        chosen = _one_per_operator(pool, {s.operator for s in sites}, sources)
        sites += chosen
        write_copy(repo, sources, chosen, set(), 0)
        reports = Checkers(repo, sys.executable, tmp_path / f"cache-{name}").run()
        verdict = _verdict(reports, sources, chosen)
        assert verdict.clean, verdict.notes
        assert set(verdict.good) == set(chosen)
    assert {s.operator for s in sites} == {op.id for op in CATALOGUE}


def _one_per_operator(pool: list[Site], done: set[str], sources: dict[str, bytes]) -> list[Site]:
    """The first site of each operator not yet covered that collides with none chosen.

    A dropped None default only where no other file mentions the function: a test calling it
    with None would add an error elsewhere, which `inject` handles by dropping the site, but
    this test wants each operator's own, single error.
    """
    chosen: list[Site] = []
    for site in pool:
        if site.operator in done or any(site.collides(c) for c in chosen):
            continue
        others = [data for path, data in sources.items() if path != site.path]
        if site.operator == "optional_default_dropped" and any(
            site.symbol.encode() in d for d in others
        ):
            continue
        chosen.append(site)
        done = done | {site.operator}
    return chosen


def test_manifest_lists_edits_in_application_order() -> None:
    chosen = plan(DATA / "ledger", InjectionRequest(mypy=3, ruff=4, collect=3, seed=2))
    manifest = chosen.manifest()
    keys = [(m.path, m.forward.offset) for m in manifest.mutations]
    assert keys == sorted(keys)
    assert all(a != b for a, b in pairwise(keys))


def test_a_silent_site_bans_its_operator_only_for_ruff() -> None:
    """A ruff rule that stays silent is probably disabled in that file; a mypy site that stays
    silent says nothing about the operator's other sites (regression: a single silent
    attribute typo once ruled out every mypy site of a one-module repository)."""
    from armbench.tasks.inject.selection import Selection

    request = InjectionRequest(mypy=1, ruff=1, seed=0)
    pool = plan(DATA / "ledger", request).pool

    def same_operator_pairs(kind: str) -> tuple[Site, Site]:
        sites = [s for s in pool if s.kind == kind]
        for a in sites:
            for b in sites:
                if a != b and (a.operator, a.path) == (b.operator, b.path):
                    return a, b
        raise AssertionError(f"the ledger repo has no two {kind} sites of one operator in a file")

    for kind, still_usable in (("mypy", True), ("ruff", False)):
        silent, sibling = same_operator_pairs(kind)
        selection = Selection(pool, request)
        selection.silence(silent)
        assert not selection.usable(silent)
        assert selection.usable(sibling) is still_usable
