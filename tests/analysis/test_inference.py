"""Non-inferiority, expected cost per success and median intervals, each against a computation
made here by other means (a numerical maximum likelihood, scipy's t interval and Wilson's
formula, binomial sums) and, for coverage and level, a simulation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy import stats as sps

from armbench.analysis import stats
from armbench.analysis.noninferiority import non_inferiority, restricted_mle
from armbench.analysis.ratio import (
    cost_per_success_test,
    expected_cost_interval,
    expected_cost_per_success,
)


def numerical_mle(x_a: int, n_a: int, x_b: int, n_b: int, d: float) -> tuple[float, float]:
    """The restricted maximum likelihood found by a bounded search over p_b."""

    def minus_log_likelihood(p_b: float) -> float:
        p_a = p_b + d
        terms = [(x_a, p_a), (n_a - x_a, 1 - p_a), (x_b, p_b), (n_b - x_b, 1 - p_b)]
        return -sum(k * math.log(p) for k, p in terms if k)

    low, high = max(0.0, -d) + 1e-12, min(1.0, 1 - d) - 1e-12
    found = optimize.minimize_scalar(
        minus_log_likelihood, bounds=(low, high), method="bounded", options={"xatol": 1e-12}
    )
    return float(found.x) + d, float(found.x)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.data(), st.floats(-0.6, 0.6).filter(lambda d: d))
def test_the_restricted_mle_is_the_likelihoods_maximum(
    n_a: int, n_b: int, data: st.DataObject, d: float
) -> None:
    x_a = data.draw(st.integers(0, n_a))
    x_b = data.draw(st.integers(0, n_b))
    closed = restricted_mle(x_a, n_a, x_b, n_b, d)
    found = numerical_mle(x_a, n_a, x_b, n_b, d)
    assert closed == pytest.approx(found, abs=1e-5)


def _mn_z(x_a: int, n_a: int, x_b: int, n_b: int, d: float) -> float:
    p_a, p_b = numerical_mle(x_a, n_a, x_b, n_b, d)
    n = n_a + n_b
    variance = (p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b) * n / (n - 1)
    return (x_a / n_a - x_b / n_b - d) / math.sqrt(variance)


@pytest.mark.parametrize(
    ("x_a", "n_a", "x_b", "n_b"),
    [(56, 70, 48, 80), (9, 10, 10, 10), (59, 60, 60, 60), (5, 10, 10, 10)],
)
def test_non_inferiority_p_and_bound_from_the_score_statistic(
    x_a: int, n_a: int, x_b: int, n_b: int
) -> None:
    result = non_inferiority(x_a, n_a, x_b, n_b, 0.10)
    assert result.p == pytest.approx(sps.norm.sf(_mn_z(x_a, n_a, x_b, n_b, -0.10)), abs=1e-6)
    # the bound is the difference at which the statistic equals the one-sided 95% quantile
    assert _mn_z(x_a, n_a, x_b, n_b, result.lower_bound) == pytest.approx(
        sps.norm.ppf(0.95), abs=1e-4
    )


def test_non_inferiority_keeps_its_level_at_the_margin() -> None:
    """Simulated: both arms at the margin's edge (0.8 against 0.9), n = 40 each: the test
    declares non-inferiority in at most about 5% of samples."""
    rng = np.random.default_rng(11)
    sims = 3000
    x_a = rng.binomial(40, 0.8, sims)
    x_b = rng.binomial(40, 0.9, sims)
    tests = [non_inferiority(int(a), 40, int(b), 40, 0.10) for a, b in zip(x_a, x_b, strict=True)]
    rejected = sum(t.p < 0.05 for t in tests)
    rate = rejected / sims
    assert rate <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / sims), rate


def wilson_by_formula(x: int, n: int, confidence: float) -> tuple[float, float]:
    z = sps.norm.ppf(1 - (1 - confidence) / 2)
    centre = (x + z * z / 2) / (n + z * z)
    half = z * math.sqrt(x * (n - x) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


def test_the_cost_per_success_interval_divides_the_parts_intervals() -> None:
    rng = np.random.default_rng(4)
    for _ in range(10):
        n = int(rng.integers(3, 30))
        passed = (rng.random(n) < 0.7).tolist()
        passed[0] = True
        costs = rng.lognormal(0, 0.5, n).tolist()
        interval = expected_cost_interval(costs, passed)
        assert interval is not None and interval.high is not None
        cost_low, cost_high = sps.t.interval(0.975, n - 1, loc=np.mean(costs), scale=sps.sem(costs))
        pass_low, pass_high = wilson_by_formula(sum(passed), n, 0.975)
        assert interval.low == pytest.approx(max(cost_low, 0) / pass_high)
        assert interval.high == pytest.approx(cost_high / pass_low)
        estimate = sum(costs) / sum(passed)
        assert interval.low <= estimate <= interval.high


def test_the_cost_per_success_interval_covers_where_fieller_did_not() -> None:
    """Simulated: n = 6, nine passes in ten, failed attempts costing 1.5 times as much (where
    Fieller's interval covered 86%): at least 95% of intervals hold the true value."""
    rng = np.random.default_rng(8)
    truth = (0.9 + 0.1 * 1.5) * math.exp(0.5) / 0.9
    sims, held = 1500, 0
    for _ in range(sims):
        win = rng.random(6) < 0.9
        cost = rng.lognormal(0, 1.0, 6) * np.where(win, 1.0, 1.5)
        interval = expected_cost_interval(cost.tolist(), win.tolist())
        assert interval is not None
        held += interval.low <= truth and (interval.high is None or truth <= interval.high)
    assert held / sims >= 0.95 - 2 * math.sqrt(0.05 * 0.95 / sims), held / sims


def test_no_pass_still_gives_a_lower_bound() -> None:
    costs = [1.0, 1.2, 0.9, 1.1, 1.0, 1.05, 0.95, 1.0]
    none = expected_cost_interval(costs, [False] * 8)
    assert none is not None and none.high is None
    cost_low, _ = sps.t.interval(0.975, 7, loc=np.mean(costs), scale=sps.sem(costs))
    assert none.low == pytest.approx(cost_low / wilson_by_formula(0, 8, 0.975)[1])
    assert none.low > 0
    assert expected_cost_interval([1.0], [True]) is None


@pytest.mark.parametrize(("n", "k"), [(6, 1), (10, 2), (20, 6), (50, 18)])
def test_median_interval_takes_the_textbook_order_statistics(n: int, k: int) -> None:
    values = [float(v) for v in range(1, n + 1)]
    assert stats.median_interval(values[::-1]) == (float(k), float(n + 1 - k))
    coverage = 1 - 2 * sps.binom.cdf(k - 1, n, 0.5)
    assert coverage >= 0.95 and 1 - 2 * sps.binom.cdf(k, n, 0.5) < 0.95
    assert stats.median_interval(values[:5]) is None


def test_median_interval_covers_by_simulation() -> None:
    rng = np.random.default_rng(5)
    for n in (6, 9, 15):
        held = 0
        for _ in range(2000):
            sample = rng.exponential(1.0, n).tolist()
            interval = stats.median_interval(sample)
            assert interval is not None
            held += interval[0] <= math.log(2) <= interval[1]
        assert held / 2000 >= 0.95 - 2 * math.sqrt(0.05 * 0.95 / 2000)


def test_smallest_exact_p() -> None:
    assert stats.smallest_exact_p(1, 1) == 1.0
    assert stats.smallest_exact_p(3, 3) == pytest.approx(0.1)  # 2 of 20 splits
    assert stats.smallest_exact_p(3, 6) == pytest.approx(1 / 84)
    # reached: 3 of 3 passes against 0 of 6, as Fisher's exact test gives it
    result = stats.mann_whitney([1.0, 1.0, 1.0], [0.0] * 6)
    assert result.p_exact == pytest.approx(1 / 84)
    assert result.p_exact == pytest.approx(sps.fisher_exact([[3, 0], [0, 6]]).pvalue)


def test_expected_cost_per_success_counts_failed_attempts() -> None:
    costs, passed = [1.0, 2.0, 3.0, 2.0], [True, False, True, False]
    assert expected_cost_per_success(costs, passed) == pytest.approx(4.0)
    assert expected_cost_per_success([1.0], [False]) is None


def test_the_cloud_fraction_is_pooled_not_a_mean_of_ratios() -> None:
    # 90 of 100 tokens, then 0 of 900: a mean of the two ratios says 45%; the tokens say 9%
    found = stats.pooled_share([[(90, 100)], [(0, 900)]])
    assert found is not None and found[0] == pytest.approx(0.09)
    assert stats.pooled_share([[(0, 0)]]) is None
    assert stats.pooled_share([[(1, 4), (2, 4)]]) == (pytest.approx(3 / 8), None)


def test_the_pooled_share_interval_is_the_clustered_delta_method_on_the_logit() -> None:
    clusters = [[(30, 100), (10, 50)], [(5, 80)], [(60, 90), (1, 10)], [(20, 200)]]
    share, interval = stats.pooled_share(clusters) or (0.0, None)
    assert interval is not None
    parts = np.array([40.0, 5.0, 61.0, 20.0])
    wholes = np.array([150.0, 80.0, 100.0, 200.0])
    assert share == pytest.approx(parts.sum() / wholes.sum())

    # the logit of the ratio, differentiated numerically in each cluster's part and whole
    def logit_ratio(p: np.ndarray, w: np.ndarray) -> float:
        r = p.sum() / w.sum()
        return math.log(r / (1 - r))

    step = 1e-6
    gradient_p = [
        (logit_ratio(parts + step * np.eye(4)[j], wholes) - logit_ratio(parts, wholes)) / step
        for j in range(4)
    ]
    gradient_w = [
        (logit_ratio(parts, wholes + step * np.eye(4)[j]) - logit_ratio(parts, wholes)) / step
        for j in range(4)
    ]
    influence = np.array(gradient_p) * parts + np.array(gradient_w) * wholes
    influence -= influence.mean()  # each cluster's contribution, centred
    error = math.sqrt(4 / 3 * float(np.sum(influence**2)))
    centre = logit_ratio(parts, wholes)
    t = sps.t.ppf(0.975, 3)
    expected = (
        1 / (1 + math.exp(-(centre - t * error))),
        1 / (1 + math.exp(-(centre + t * error))),
    )
    assert interval == pytest.approx(expected, rel=1e-4)


def test_the_pooled_share_interval_covers_by_simulation() -> None:
    """Five tasks whose shares differ moderately (Beta(2, 3)), four trials each."""
    rng = np.random.default_rng(9)
    sims, held = 1000, 0
    for _ in range(sims):
        clusters = []
        for _task in range(5):
            share = rng.beta(2, 3)
            served = rng.integers(2_000, 20_000, 4)
            clusters.append([(int(rng.binomial(w, share)), int(w)) for w in served])
        found = stats.pooled_share(clusters)
        assert found is not None and found[1] is not None
        held += found[1][0] <= 0.4 <= found[1][1]
    assert held / sims >= 0.95 - 2 * math.sqrt(0.05 * 0.95 / sims), held / sims


def test_infra_rates_are_tested_by_permutation_as_fisher_would() -> None:
    # two arms: the permutation distribution is Fisher's hypergeometric one; the chi-square
    # ordering of tables agrees with Fisher's here, so p agrees within Monte Carlo error
    p = stats.rates_differ([(0, 10), (5, 10)], np.random.default_rng(0), resamples=20_000)
    assert p == pytest.approx(sps.fisher_exact([[0, 10], [5, 5]]).pvalue, abs=0.005)
    assert stats.rates_differ([(0, 5), (0, 7)], np.random.default_rng(0)) is None
    assert stats.rates_differ([(2, 5)], np.random.default_rng(0)) is None


def test_infra_rate_test_keeps_its_level() -> None:
    rng = np.random.default_rng(12)
    sims, rejected = 400, 0
    for _ in range(sims):
        counts = [(int(rng.binomial(30, 0.1)), 30) for _arm in range(3)]
        p = stats.rates_differ(counts, rng, resamples=500)
        rejected += p is not None and p < 0.05
    assert rejected / sims <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / sims), rejected / sims


def _permutation_p_by_hand(a: list[tuple[float, bool]], b: list[tuple[float, bool]]) -> float:
    """Every split of the pooled trials, counted one by one."""

    def shrunk(group: list[tuple[float, bool]]) -> float:
        return sum(c for c, _ in group) / (sum(w for _, w in group) + 0.5)

    pooled = a + b
    observed = abs(shrunk(a) - shrunk(b))
    splits = list(itertools.combinations(range(len(pooled)), len(a)))
    extreme = 0
    for chosen in splits:
        first = [pooled[i] for i in chosen]
        second = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        extreme += abs(shrunk(first) - shrunk(second)) >= observed - 1e-12
    return extreme / len(splits)


def test_the_cost_per_success_test_is_the_permutation_test_by_hand() -> None:
    a = [(1.0, True), (1.2, True), (0.9, False), (1.1, True)]
    b = [(3.0, True), (3.3, False), (2.9, True), (3.1, True), (2.5, False)]
    found = cost_per_success_test(
        [c for c, _ in a], [w for _, w in a], [c for c, _ in b], [w for _, w in b],
        np.random.default_rng(0),
    )  # fmt: skip
    assert found.method == "exact permutation"
    assert found.p == pytest.approx(_permutation_p_by_hand(a, b))
    assert found.smallest_p == pytest.approx(1 / math.comb(9, 4))
    # more trials: Monte Carlo, within its error of the same test
    rng = np.random.default_rng(3)
    costs_a, costs_b = rng.lognormal(0, 0.5, 12), rng.lognormal(0.4, 0.5, 12)
    wins_a, wins_b = rng.random(12) < 0.8, rng.random(12) < 0.6
    monte = cost_per_success_test(costs_a, wins_a, costs_b, wins_b, rng)
    assert monte.method == "monte carlo permutation" and 0 < monte.p <= 1


def test_the_cost_per_success_test_keeps_its_level() -> None:
    rng = np.random.default_rng(13)
    sims, rejected = 300, 0
    for _ in range(sims):
        costs = rng.lognormal(0, 0.8, 20)
        wins = rng.random(20) < 0.6
        found = cost_per_success_test(costs[:10], wins[:10], costs[10:], wins[10:], rng)
        rejected += found.p < 0.05
    assert rejected / sims <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / sims), rejected / sims
