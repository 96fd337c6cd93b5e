"""Expected cost per success: every judged attempt's cost over the passes, and its interval.

The quantity is a ratio, θ = E[cost of an attempt] / P(pass). Its interval divides the two
parts' own intervals: the mean cost's t interval and the pass rate's Wilson interval, each at
97.5%, so that by Bonferroni both hold together — and so does [cost low / pass high, cost high /
pass low] — with at least 95%. It is conservative by design (measured 97.7-99.8%,
`benchmarks/ratio_coverage.py`, README "Statistics"), where the alternatives fall short in the
cases that matter: Fieller's interval covered 86% when nearly every trial passes (a sample
where all pass has no variance in its denominator), a percentile bootstrap 81-93%.

With no pass at all there is no estimate and the interval has no upper end (the pass rate's
lower bound is 0; upper = None), but its lower bound still holds and is given.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from armbench.analysis import stats as analysis_stats

METHOD = "mean cost t / pass-rate Wilson, each at 97.5% (Bonferroni)"


@dataclass(frozen=True)
class RatioInterval:
    low: float
    high: float | None
    """None: unbounded above (no pass: the pass rate's lower bound is 0)."""
    method: str


def expected_cost_per_success(costs: Sequence[float], passed: Sequence[bool]) -> float | None:
    """Total cost of every attempt over the number of passes; None when nothing passed."""
    passes = sum(passed)
    return sum(costs) / passes if passes else None


def expected_cost_interval(
    costs: Sequence[float], passed: Sequence[bool], confidence: float = analysis_stats.CONFIDENCE
) -> RatioInterval | None:
    """The interval of expected cost per success (module docstring); None below two trials."""
    n = len(costs)
    if n < 2:
        return None
    each = 1 - (1 - confidence) / 2  # Bonferroni: both parts at 97.5% for 95% together
    cost = np.asarray(costs, dtype=float)
    mean = float(cost.mean())
    quantile = float(stats.t.ppf(1 - (1 - each) / 2, n - 1))
    spread = quantile * float(cost.std(ddof=1)) / math.sqrt(n)
    rate = analysis_stats.wilson(int(sum(passed)), n, each)
    assert rate is not None  # n ≥ 2
    low = max(0.0, mean - spread) / rate[1]
    high = (mean + spread) / rate[0] if rate[0] > 0 else None
    return RatioInterval(low, high, METHOD)


EXACT_SPLITS = 5000
"""Up to this many ways to split the pooled trials, the permutation test enumerates them all."""
PERMUTATIONS = 4000
MAX_PERMUTED = 400
"""Above this many trials in all, the normal approximation replaces permutations."""


@dataclass(frozen=True)
class RatioTest:
    p: float
    method: Literal["exact permutation", "monte carlo permutation", "normal approximation"]
    smallest_p: float
    """The smallest p these sizes could give (a test only where it is below the level)."""


def _statistic(
    cost: np.ndarray, wins: np.ndarray, first: np.ndarray, total: tuple[float, float]
) -> np.ndarray:
    """|cost/(passes + ½)| of the trials in `first` (indices, one split per row) minus the
    same of the rest, found from the totals: expected cost per success with half a pass added
    is finite without a pass, and any statistic gives a test of the right level."""
    cost_a, wins_a = cost[first].sum(axis=-1), wins[first].sum(axis=-1)
    cost_b, wins_b = total[0] - cost_a, total[1] - wins_a
    return np.asarray(np.abs(cost_a / (wins_a + 0.5) - cost_b / (wins_b + 0.5)), dtype=float)


def cost_per_success_test(
    costs_a: Sequence[float],
    passed_a: Sequence[bool],
    costs_b: Sequence[float],
    passed_b: Sequence[bool],
    rng: np.random.Generator,
) -> RatioTest:
    """Two-sided test of "the two arms' attempts are exchangeable" against a difference in
    expected cost per success: a permutation test of |cost/(passes + ½)| differences, the
    judged trials (each its cost and verdict) reassigned between the arms. Exact by
    enumeration up to `EXACT_SPLITS` splits, Monte Carlo (p = (1 + as extreme) / (1 +
    `PERMUTATIONS`)) up to `MAX_PERMUTED` trials; above that, the difference of the two
    ratio estimators over its delta-method standard error, as a normal deviate."""
    cost = np.concatenate([np.asarray(costs_a, float), np.asarray(costs_b, float)])
    wins = np.concatenate([np.asarray(passed_a, float), np.asarray(passed_b, float)])
    k, n = len(costs_a), len(cost)
    if k == 0 or k == n:
        raise ValueError("a cost-per-success test needs trials in both arms")
    total = (float(cost.sum()), float(wins.sum()))
    splits = math.comb(n, k)
    smallest = (2 if 2 * k == n else 1) / splits
    observed = float(_statistic(cost, wins, np.arange(k), total))
    if splits <= EXACT_SPLITS:
        chosen = np.array(list(itertools.combinations(range(n), k)))
        spread = _statistic(cost, wins, chosen, total)
        return RatioTest(float(np.mean(spread >= observed - 1e-12)), "exact permutation", smallest)
    if n <= MAX_PERMUTED:
        first = rng.permuted(np.tile(np.arange(n), (PERMUTATIONS, 1)), axis=1)[:, :k]
        extreme = int(np.sum(_statistic(cost, wins, first, total) >= observed - 1e-12))
        floor = max(smallest, 1 / (1 + PERMUTATIONS))
        return RatioTest((1 + extreme) / (1 + PERMUTATIONS), "monte carlo permutation", floor)
    return RatioTest(
        _normal_ratio_p(cost[:k], wins[:k], cost[k:], wins[k:]), "normal approximation", 0.0
    )


def _normal_ratio_p(
    cost_a: np.ndarray, win_a: np.ndarray, cost_b: np.ndarray, win_b: np.ndarray
) -> float:
    def estimate(cost: np.ndarray, win: np.ndarray) -> tuple[float, float]:
        n, rate = len(cost), max(float(win.mean()), 0.5 / len(cost))
        ratio = float(cost.sum()) / max(float(win.sum()), 0.5)
        residual = cost - ratio * win
        return ratio, float(residual.var(ddof=1)) / (n * rate**2)

    (ra, va), (rb, vb) = estimate(cost_a, win_a), estimate(cost_b, win_b)
    if va + vb <= 0:
        return 1.0 if ra == rb else 0.0
    return float(2 * stats.norm.sf(abs(ra - rb) / math.sqrt(va + vb)))
