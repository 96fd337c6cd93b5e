"""Tests for armbench.analysis.stats: each statistic against a value worked out by other means."""

from __future__ import annotations

import itertools
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armbench.analysis import stats


def brute_force_two_sided_p(a: list[float], b: list[float]) -> float:
    """Exact permutation p of Mann-Whitney U by enumerating every split (ties included): the
    share of splits whose U is at least as far from n_a·n_b/2 as the observed one."""
    pooled = a + b

    def u_of(group: list[float], other: list[float]) -> float:
        return sum((x > y) + 0.5 * (x == y) for x in group for y in other)

    centre = len(a) * len(b) / 2
    observed = abs(u_of(a, b) - centre)
    us = []
    for chosen in itertools.combinations(range(len(pooled)), len(a)):
        rest = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        us.append(u_of([pooled[i] for i in chosen], rest))
    return sum(abs(u - centre) >= observed - 1e-9 for u in us) / len(us)


def cliffs_delta_by_pairs(a: list[float], b: list[float]) -> float:
    """(#pairs with a > b - #pairs with a < b) / (len(a)·len(b)), counted pair by pair."""
    return sum((x > y) - (x < y) for x in a for y in b) / (len(a) * len(b))


def test_exact_p_without_ties_matches_enumeration() -> None:
    a, b = [1.2, 3.4, 2.2], [5.0, 6.1, 4.4, 7.7]
    result = stats.mann_whitney(a, b)
    assert result.p_exact_method == "exact"
    assert result.u == 0
    assert result.p_exact == pytest.approx(brute_force_two_sided_p(a, b))  # 2/35
    assert result.p_exact == pytest.approx(2 / 35)
    assert result.cliffs_delta == -1


def test_exact_p_with_ties_is_a_full_permutation_test() -> None:
    a, b = [3.0, 3.0, 5.0, 2.0], [3.0, 1.0, 1.0, 2.0, 4.0]
    result = stats.mann_whitney(a, b)
    assert result.p_exact_method == "permutation"
    assert result.p_exact == pytest.approx(brute_force_two_sided_p(a, b))
    assert result.p_asymptotic is not None and result.p_asymptotic != result.p_exact
    for single, rest in (([3.0], [3.0, 1.0, 5.0, 3.0]), ([1.0, 1.0, 2.0], [2.0])):
        one = stats.mann_whitney(single, rest)
        assert one.p_exact == pytest.approx(brute_force_two_sided_p(single, rest))


def test_large_tied_samples_get_only_the_asymptotic_p() -> None:
    a = [float(i % 7) for i in range(40)]
    b = [float(i % 5) for i in range(40)]
    result = stats.mann_whitney(a, b)
    assert result.p_exact is None and result.p_exact_method is None
    assert result.p_asymptotic is not None and 0 < result.p_asymptotic <= 1


def test_identical_samples_have_no_asymptotic_p() -> None:
    result = stats.mann_whitney([2.0, 2.0], [2.0, 2.0, 2.0])
    assert result.p_asymptotic is None
    assert result.p_exact == 1.0
    assert result.cliffs_delta == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=1, max_size=7),
    st.lists(st.integers(0, 6), min_size=1, max_size=7),
)
def test_cliffs_delta_sign_and_agreement_with_u(a: list[int], b: list[int]) -> None:
    fa, fb = [float(x) for x in a], [float(x) for x in b]
    mw = stats.mann_whitney(fa, fb)
    direct = cliffs_delta_by_pairs(fa, fb)
    assert mw.cliffs_delta == pytest.approx(direct)
    assert -1 <= direct <= 1
    assert cliffs_delta_by_pairs(fb, fa) == pytest.approx(-direct)
    if min(fa) > max(fb):
        assert direct == 1


def test_holm_by_hand() -> None:
    # sorted: 0.01 (×3) = 0.03, 0.03 (×2) = 0.06, 0.04 (×1) = 0.04 → monotone: 0.06
    assert stats.holm([0.04, 0.01, None, 0.03]) == [
        pytest.approx(0.06),
        pytest.approx(0.03),
        None,
        pytest.approx(0.06),
    ]
    assert stats.holm([0.9, 0.8]) == [1.0, 1.0]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_holm_never_lowers_a_p_value(ps: list[float]) -> None:
    adjusted = stats.holm(ps)
    for p, q in zip(ps, adjusted, strict=True):
        assert q is not None and p <= q <= 1


def test_wilson_interval_known_values() -> None:
    low, high = stats.wilson(3, 3) or (0.0, 0.0)
    assert low == pytest.approx(0.4385, abs=1e-4) and high == pytest.approx(1.0)
    low, high = stats.wilson(0, 10) or (1.0, 1.0)
    assert low == pytest.approx(0.0) and high == pytest.approx(0.2775, abs=1e-4)
    assert stats.wilson(0, 0) is None


def test_small_samples_get_no_median_interval_and_a_reason() -> None:
    assert stats.median_intervals({"cost": [1.0, 2.0, 3.0]}) == {"cost": None}
    reason = stats.too_few_for_interval(3)
    assert reason is not None and "75%" in reason
    assert stats.too_few_for_interval(6) is None


def test_median_interval_brackets_the_median_within_the_range() -> None:
    values = [float(v) for v in (5, 1, 9, 3, 7, 2, 8, 4, 6, 10, 11, 0)]
    interval = stats.median_intervals({"x": values})["x"]
    assert interval is not None
    assert interval[0] <= statistics.median(values) <= interval[1]
    assert min(values) <= interval[0] and interval[1] <= max(values)


def test_paired_tests() -> None:
    wil = stats.paired_numeric([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2.0, 3.5, 3.1, 6.0, 8.0, 6.5])
    assert wil.method == "wilcoxon" and wil.n_pairs == 6
    assert wil.p == pytest.approx(2 / 64)  # all six differences negative: exact 2·(1/2)^6
    assert stats.paired_numeric([1.0, 2.0], [1.0, 2.0]).p is None
    mc = stats.paired_binary([True, True, True, False], [False, False, False, False])
    assert mc.p == pytest.approx(0.25) and mc.method == "mcnemar-exact"
    assert stats.paired_binary([True], [True]).p is None


def test_rng_for_depends_on_names_not_call_order() -> None:
    first = stats.rng_for("x", "y").integers(0, 1_000_000)
    stats.rng_for("other").integers(0, 10)
    assert stats.rng_for("x", "y").integers(0, 1_000_000) == first
    # names and the report's seed both select the stream (the vacuous isnan check it replaces
    # could not fail)
    assert stats.rng_for("x", "z").integers(0, 1_000_000) != first
    assert stats.rng_for("x", "y", seed=1).integers(0, 1_000_000) != first


def test_paired_signed_rank_with_ties_is_scipys_permutation_test() -> None:
    from scipy import stats as sps

    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(15):
        n = int(rng.integers(2, 10))
        a, b = rng.integers(0, 4, n).astype(float), rng.integers(0, 4, n).astype(float)
        if not (a - b).any():
            continue
        method = sps.PermutationMethod(n_resamples=2**10)  # ≥ 2⁹: every sign assignment
        expected = sps.wilcoxon(a - b, zero_method="wilcox", method=method).pvalue
        assert stats.paired_numeric(a.tolist(), b.tolist()).p == pytest.approx(expected)
        checked += 1
    assert checked >= 12
