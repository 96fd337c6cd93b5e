"""Properties of the injector over random seeds and counts.

Planning and applying edits are pure and cheap, so they get many examples; full `inject` runs
use the real checkers and get only a few.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from armbench.checks import run_mypy, run_pytest, run_ruff
from armbench.env import LOCAL
from armbench.tasks.inject import InjectionError, InjectionRequest, inject, plan, restore
from armbench.tasks.inject.engine import Plan, read_sources

DATA = Path(__file__).parents[1] / "data" / "inject"
CACHES = shutil.ignore_patterns(".ruff_cache", ".mypy_cache", ".pytest_cache", "__pycache__")
REPOS = ("ledger", "textkit")
SOURCES = {name: read_sources(DATA / name) for name in REPOS}

requests = st.builds(
    InjectionRequest,
    mypy=st.integers(0, 4),
    ruff=st.integers(0, 5),
    collect=st.integers(0, 3),
    seed=st.integers(0, 2**32),
)


def try_plan(name: str, request: InjectionRequest) -> Plan:
    try:
        return plan(DATA / name, request)
    except InjectionError:
        assume(False)
        raise


@settings(max_examples=60)
@given(name=st.sampled_from(REPOS), request=requests)
def test_plan_is_exact(name: str, request: InjectionRequest) -> None:
    chosen = try_plan(name, request)
    for kind in ("mypy", "ruff", "collect"):
        assert sum(s.kind == kind for s in chosen.sites) == request.of(kind)
    for i, a in enumerate(chosen.sites):
        assert not any(a.collides(b) for b in chosen.sites[i + 1 :])
    collect_paths = [s.path for s in chosen.sites if s.kind == "collect"]
    assert len(collect_paths) == len(set(collect_paths)), "one collection error per module"


def fixed_plans() -> list[str]:
    """The sites and the seeded pool of plans for fixed requests, as text (also run by the
    second process below)."""
    out = []
    for name in REPOS:
        for seed in (0, 1, 2**31 + 7):
            for counts in ({"mypy": 2, "ruff": 3, "collect": 1}, {"mypy": 4, "ruff": 0}):
                chosen = plan(DATA / name, InjectionRequest(seed=seed, **counts))
                out.append(repr((name, seed, counts, chosen.sites, chosen.pool)))
    return out


def test_plans_are_the_same_in_another_process(other_process: Callable[[str], str]) -> None:
    # Planned again in a second interpreter with another hash seed: planning twice in this
    # one would share its hash seed, so could not show a plan that follows set order.
    here = fixed_plans()
    assert len(set(here)) == len(here)  # every request picks its own sites
    elsewhere = other_process(
        "import json, test_inject_properties as t\nprint(json.dumps(t.fixed_plans()))\n"
    )
    assert json.loads(elsewhere) == here


@settings(max_examples=60)
@given(name=st.sampled_from(REPOS), request=requests)
def test_inverse_edits_restore_the_original_bytes(name: str, request: InjectionRequest) -> None:
    chosen = try_plan(name, request)
    manifest = chosen.manifest()
    originals = SOURCES[name]
    mutated = chosen.contents()
    assert set(mutated) == set(manifest.touched_paths)
    assert all(mutated[p] != originals[p] for p in mutated)
    assert manifest.apply_forward(originals) == mutated
    restored = manifest.apply_inverse(mutated)
    assert restored == {p: originals[p] for p in manifest.touched_paths}


@given(seeds=st.lists(st.integers(0, 2**32), min_size=4, max_size=4, unique=True))
@settings(max_examples=10)
def test_different_seeds_pick_different_sites(seeds: list[int]) -> None:
    picks = {plan(DATA / "ledger", InjectionRequest(mypy=2, ruff=2, seed=s)).sites for s in seeds}
    assert len(picks) > 1


MYPY_CACHE = tempfile.TemporaryDirectory(prefix="inject-prop-mypy-")
"""One warm cache for every example's count (mypy re-checks what changed, by hash)."""


def counted(repo: Path) -> dict[str, int]:
    env = LOCAL(repo)
    mypy = run_mypy(env, python=sys.executable, cache_dir=Path(MYPY_CACHE.name))
    ruff = run_ruff(env, python=sys.executable)
    tests = run_pytest(env, python=sys.executable)
    return {
        "mypy": len(mypy.findings),
        "ruff": len(ruff.findings),
        "collect": tests.counts["collection_errors"],
    }


@pytest.mark.slow
@settings(
    max_examples=2,  # each injects and counts with the real checkers (~12 s); the engine's
    # tests cover both repositories with fixed requests
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    name=st.sampled_from(REPOS),
    request=st.builds(
        InjectionRequest,
        mypy=st.integers(0, 3),
        ruff=st.integers(0, 3),
        collect=st.integers(1, 2),
        seed=st.integers(0, 2**32),
    ),
)
def test_inject_reaches_exactly_the_requested_counts(name: str, request: InjectionRequest) -> None:
    with tempfile.TemporaryDirectory(prefix="inject-prop-") as tmp:
        repo = Path(tmp) / name
        shutil.copytree(DATA / name, repo, ignore=CACHES)
        manifest = inject(repo, request)
        assert counted(repo) == {
            "mypy": request.mypy,
            "ruff": request.ruff,
            "collect": request.collect,
        }
        restore(repo, manifest)
        assert read_sources(repo) == SOURCES[name]
