"""The statistics of a report, each chosen for small samples and stated honestly.

- Success rates get a **Wilson score interval** (good coverage at n = 3, never outside [0, 1]).
- Medians get a **seeded percentile bootstrap** interval, but only from `MIN_N_FOR_INTERVAL`
  values on: below 6 values no distribution-free 95% interval for a median exists at all (even
  [min, max] covers it with probability 1 - 2·0.5ⁿ, 94% at n = 5), so we say so rather than
  print a range that is not what it claims. From 6 on the bootstrap interval is approximate
  (its coverage at small n is somewhat below 95%), as bootstrap intervals are.
- **Expected cost per success** is every judged attempt's cost over the passes (failed attempts
  cost money too); its interval resamples whole trials.
- **Mann-Whitney U**: the exact p-value when the sizes allow — scipy's exact null distribution
  without ties, the exact permutation distribution of the midrank sum with ties — and always
  the normal approximation with tie and continuity corrections beside it, labelled.
- **Cliff's delta** is positive when the first sample's values tend to be larger.
- **Holm** adjusts each family of comparisons (one task, one metric).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
MIN_N_FOR_INTERVAL = 6
"""Fewer values than this get no interval for their median (see the module docstring)."""
EXACT_MAX_N = 60
"""The exact p-value is computed when the two samples hold at most this many values in all;
above it only the normal approximation is given."""

Interval = tuple[float, float]


def rng_for(*names: object, seed: int = 0) -> np.random.Generator:
    """A generator seeded from `seed` and names (arm, task, ...), so each cell's resamples do
    not depend on which other cells the report holds or in what order they are computed."""
    key = "\x1f".join(str(n) for n in names).encode()
    return np.random.default_rng([seed, zlib.crc32(key)])


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval | None:
    """Wilson score interval for a proportion; None for n = 0."""
    if n == 0:
        return None
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def too_few_for_interval(n: int) -> str | None:
    """Why a median of `n` values gets no interval, or None when it gets one."""
    if n >= MIN_N_FOR_INTERVAL:
        return None
    return (
        f"n={n} < {MIN_N_FOR_INTERVAL}: no distribution-free 95% interval for a median exists "
        f"at this size ([min, max] would cover it only {1 - 2 * 0.5**n:.0%} of the time)"
        if n
        else "no values"
    )


def _percentile_interval(samples: NDArray[np.float64], confidence: float) -> Interval:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_medians(
    columns: Mapping[str, Sequence[float]],
    rng: np.random.Generator,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> dict[str, Interval | None]:
    """Percentile-bootstrap intervals for the medians of several equally long columns, resampling
    the same rows for all of them (the rows are trials). None when there are too few rows."""
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns differ in length: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    if too_few_for_interval(n) is not None:
        return dict.fromkeys(columns)
    rows = rng.integers(0, n, size=(resamples, n))
    intervals: dict[str, Interval | None] = {}
    for name, values in columns.items():
        medians = np.median(np.asarray(values, dtype=float)[rows], axis=1)
        intervals[name] = _percentile_interval(medians, confidence)
    return intervals


def expected_cost_per_success(costs: Sequence[float], passed: Sequence[bool]) -> float | None:
    """Total cost of every attempt over the number of passes; None when nothing passed."""
    passes = sum(passed)
    return sum(costs) / passes if passes else None


def expected_cost_interval(
    costs: Sequence[float],
    passed: Sequence[bool],
    rng: np.random.Generator,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> tuple[float, float | None] | None:
    """Bootstrap interval of expected cost per success, resampling trials. The upper end is None
    (unbounded) when more than the tail's share of resamples had no pass at all."""
    n = len(costs)
    if too_few_for_interval(n) is not None or not any(passed):
        return None
    rows = rng.integers(0, n, size=(resamples, n))
    cost = np.asarray(costs, dtype=float)[rows].sum(axis=1)
    wins = np.asarray(passed, dtype=float)[rows].sum(axis=1)
    ratio = cost / np.maximum(wins, 1)
    none = wins == 0
    # A resample without a pass has no finite cost per success: it sits above every other.
    ratio[none] = ratio.max() + 1
    low, high = _percentile_interval(ratio, confidence)
    unbounded = none.mean() > (1 - confidence) / 2
    return low, (None if unbounded else high)


@dataclass(frozen=True)
class MannWhitney:
    u: float
    """U of the first sample: pairs where it is larger, plus half the ties."""
    p_exact: float | None
    p_exact_method: Literal["exact", "permutation"] | None
    """`exact`: scipy's exact U distribution (no ties); `permutation`: the exact permutation
    distribution, which is exact with ties too; None when the sizes did not allow either."""
    p_asymptotic: float | None
    """Normal approximation with tie and continuity corrections; None when every value is the
    same (no variance to compare)."""
    cliffs_delta: float


def _exact_affordable(n_a: int, n_b: int) -> bool:
    return n_a + n_b <= EXACT_MAX_N


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> MannWhitney:
    """Two-sided Mann-Whitney U test of `a` against `b` (both non-empty)."""
    if len(a) == 0 or len(b) == 0:
        raise ValueError("Mann-Whitney needs two non-empty samples")
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = np.concatenate([x, y])
    ties = len(np.unique(both)) < len(both)
    constant = len(np.unique(both)) == 1
    asymptotic = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
    u = float(asymptotic.statistic)
    p_exact: float | None = None
    method: Literal["exact", "permutation"] | None = None
    if constant:
        p_exact, method = 1.0, "permutation"
    elif _exact_affordable(len(x), len(y)):
        if ties:
            p_exact, method = _exact_permutation_p(x, y), "permutation"
        else:
            exact = stats.mannwhitneyu(x, y, alternative="two-sided", method="exact")
            p_exact, method = float(exact.pvalue), "exact"
    p_asym = None if constant else float(asymptotic.pvalue)
    return MannWhitney(
        u=u,
        p_exact=None if p_exact is None else min(1.0, p_exact),
        p_exact_method=method,
        p_asymptotic=p_asym,
        cliffs_delta=2 * u / (len(x) * len(y)) - 1,
    )


def _exact_permutation_p(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """Two-sided exact permutation p of the rank sum of `x`, ties included (midranks).

    scipy's permutation test enumerates every split (184,756 for 10 vs 10: seconds per
    comparison); counting the splits by rank sum instead takes milliseconds. Midranks are
    halves at worst, so doubled they are integers: `counts[k, s]` is the number of ways to
    choose k of the pooled values with doubled rank sum s, built one value at a time. The
    p-value is twice the smaller tail, as scipy defines it for permutation tests.
    """
    doubled = np.rint(2 * stats.rankdata(np.concatenate([x, y]))).astype(int)
    k = len(x)
    counts = np.zeros((k + 1, int(doubled.sum()) + 1))
    counts[0, 0] = 1.0
    for weight in doubled:
        counts[1:, weight:] += counts[:-1, : counts.shape[1] - weight].copy()
    distribution = counts[k] / counts[k].sum()
    observed = int(doubled[:k].sum())
    low, high = distribution[: observed + 1].sum(), distribution[observed:].sum()
    return float(min(1.0, 2 * min(low, high)))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of one family; None stays None and is not counted."""
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[index] = running
    return adjusted


@dataclass(frozen=True)
class Paired:
    n_pairs: int
    p: float | None
    method: Literal["wilcoxon", "mcnemar-exact"]


def paired_numeric(a: Sequence[float], b: Sequence[float]) -> Paired:
    """Wilcoxon signed-rank test of paired values (same seed in both arms), two-sided; p is None
    when every difference is zero."""
    diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if not np.any(diffs):
        return Paired(len(diffs), None, "wilcoxon")
    result = stats.wilcoxon(diffs, alternative="two-sided", zero_method="wilcox")
    return Paired(len(diffs), float(result.pvalue), "wilcoxon")


def paired_binary(a: Sequence[bool], b: Sequence[bool]) -> Paired:
    """McNemar's exact test: of the pairs where exactly one arm passed, is either arm more often
    the one? p is None without such discordant pairs."""
    only_a = sum(x and not y for x, y in zip(a, b, strict=True))
    only_b = sum(y and not x for x, y in zip(a, b, strict=True))
    if only_a + only_b == 0:
        return Paired(len(a), None, "mcnemar-exact")
    p = stats.binomtest(only_a, only_a + only_b, 0.5).pvalue
    return Paired(len(a), float(p), "mcnemar-exact")
