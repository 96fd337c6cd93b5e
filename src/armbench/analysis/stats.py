"""The statistics of a report, each chosen for small samples and stated honestly.

- Success rates get a **Wilson score interval** (good coverage at n = 3, never outside [0, 1]).
- Medians get the **exact order-statistic interval** [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎], distribution-free:
  it holds the median with probability 1 - 2·P(B ≤ k - 1), B ~ Binomial(n, ½), and k is the
  largest that keeps this at or above 95%. Below 6 values none exists at all (even [min, max]
  covers the median with probability 1 - 2·0.5ⁿ, 94% at n = 5), so we say so rather than print
  a range that is not what it claims. (A percentile bootstrap covered 93.5-94.9% at n ≥ 6.)
- **Mann-Whitney U**: the exact p-value when the sizes allow — scipy's exact null distribution
  without ties, the exact permutation distribution of the midrank sum with ties, two-sided as
  P(|U - n₁n₂/2| ≥ observed), which stays right when ties make the distribution asymmetric —
  and always the normal approximation with tie and continuity corrections beside it, labelled.
  A comparison too small to reach the significance level whatever the data
  (`smallest_exact_p`) is reported as description, not as a test.
- **Cliff's delta** is positive when the first sample's values tend to be larger.
- **Holm** adjusts each declared family of comparisons (armbench.analysis.report).

Expected cost per success is in armbench.analysis.ratio; non-inferiority in
armbench.analysis.noninferiority.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

SIGNIFICANCE = 0.05
"""The level of every test: a p (Holm-adjusted where it says so) below it is significant; a
comparison that cannot reach it is not a test."""
CONFIDENCE = 1 - SIGNIFICANCE
BOOTSTRAP_RESAMPLES = 2000
"""Resamples of the bootstraps that remain: Pareto dominance support and the support of the
decision's cheapest pick."""
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


def median_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval | None:
    """The exact distribution-free interval for the median (module docstring); None below
    `MIN_N_FOR_INTERVAL` values."""
    n = len(values)
    if too_few_for_interval(n) is not None:
        return None
    k = _order_statistic(n, confidence)
    ordered = sorted(values)
    return float(ordered[k - 1]), float(ordered[n - k])


@functools.lru_cache(maxsize=4096)
def _order_statistic(n: int, confidence: float) -> int:
    """The largest k with 1 - 2·P(B ≤ k - 1) ≥ `confidence`, B ~ Binomial(n, ½)."""
    coverage = 1 - 2 * stats.binom.cdf(np.arange(n), n, 0.5)  # coverage[k - 1] for each k
    return int(np.flatnonzero(coverage >= confidence)[-1]) + 1


def median_intervals(columns: Mapping[str, Sequence[float]]) -> dict[str, Interval | None]:
    """`median_interval` of each column."""
    return {name: median_interval(values) for name, values in columns.items()}


def pooled_share(
    clusters: Sequence[Sequence[tuple[int, int]]], confidence: float = CONFIDENCE
) -> tuple[float, Interval | None] | None:
    """A share pooled over units — the sum of parts over the sum of wholes, each unit weighing
    what it holds — with a cluster-robust interval: the ratio estimator's linearised variance
    from the clusters' residuals P_j - R·W_j (units of one cluster, a task's trials, are not
    independent), on the logit scale, with a t quantile on k - 1 degrees of freedom. Measured
    by `benchmarks/share_coverage.py`: 94.8-96% when tasks' shares differ moderately, 89.5-94%
    when they differ extremely (README, "Statistics"). None when nothing was held; no
    interval below two clusters; [0, 1] when the share is 0 or 1."""
    parts = np.array([sum(p for p, _ in c) for c in clusters], dtype=float)
    wholes = np.array([sum(w for _, w in c) for c in clusters], dtype=float)
    if wholes.sum() <= 0:
        return None
    share = float(parts.sum() / wholes.sum())
    k = len(clusters)
    if k < 2:
        return share, None
    if share in (0.0, 1.0):
        return share, (0.0, 1.0)
    residuals = parts - share * wholes
    error = math.sqrt(k / (k - 1) * float(np.sum(residuals**2))) / float(wholes.sum())
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, k - 1)) * error / (share * (1 - share))
    centre = math.log(share / (1 - share))
    return share, (_expit(centre - half), _expit(centre + half))


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def rates_differ(
    counts: Sequence[tuple[int, int]], rng: np.random.Generator, resamples: int = 4000
) -> float | None:
    """p of "these groups share one rate", from (events, trials) per group: a permutation
    test of the k × 2 table's chi-square statistic, the events reshuffled among all trials
    with the margins fixed (Monte Carlo, seeded, p = (1 + as extreme) / (1 + resamples)),
    exact in level at any size, where the chi-square approximation is not at the counts
    infra errors come in. None with fewer than two groups or no event at all."""
    events = np.array([e for e, _ in counts])
    sizes = np.array([n for _, n in counts])
    if len(counts) < 2 or events.sum() == 0 or events.sum() == sizes.sum():
        return None

    def chi_square(observed: NDArray[np.int64]) -> NDArray[np.float64]:
        """Pearson's statistic of each row of `observed` (events per group)."""
        rate = events.sum() / sizes.sum()
        expected = sizes * rate
        return np.asarray(
            ((observed - expected) ** 2 / expected).sum(axis=-1)
            + ((observed - expected) ** 2 / (sizes - expected)).sum(axis=-1),
            dtype=float,
        )

    observed = chi_square(events)
    # The events reshuffled among all trials, margins fixed: a multivariate hypergeometric draw.
    drawn = rng.multivariate_hypergeometric(sizes, int(events.sum()), size=resamples)
    extreme = int(np.sum(chi_square(drawn) >= observed - 1e-9))
    return (1 + extreme) / (1 + resamples)


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
    p-value is the probability of a rank sum at least as far from its mean as the observed
    one, P(|U - n₁n₂/2| ≥ observed): with ties the distribution can be asymmetric, and twice
    the smaller tail would then overstate p (3 of 3 passes against 0 of 6: 0.024, where this,
    like Fisher's exact test, gives 1/84 = 0.012).
    """
    doubled = np.rint(2 * stats.rankdata(np.concatenate([x, y]))).astype(int)
    k = len(x)
    counts = np.zeros((k + 1, int(doubled.sum()) + 1))
    counts[0, 0] = 1.0
    for weight in doubled:
        counts[1:, weight:] += counts[:-1, : counts.shape[1] - weight].copy()
    distribution = counts[k] / counts[k].sum()
    centre = k * (len(doubled) + 1)  # twice the rank sum's mean
    deviation = abs(int(doubled[:k].sum()) - centre)
    far = np.abs(np.arange(len(distribution)) - centre) >= deviation
    return float(min(1.0, distribution[far].sum()))


def smallest_exact_p(n_a: int, n_b: int) -> float:
    """The smallest two-sided exact p a rank comparison of these sizes can give, whatever the
    values: one split of C(n_a + n_b, n_a) is the most extreme, two when the sizes are equal
    (its mirror image is as extreme). Where it is not below the significance level, the
    comparison cannot be a test."""
    return (2 if n_a == n_b else 1) / math.comb(n_a + n_b, n_a)


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
    nonzero = diffs[diffs != 0]
    tied = len(np.unique(np.abs(nonzero))) < len(nonzero)
    if (tied or len(nonzero) < len(diffs)) and len(nonzero) <= SIGN_FLIPS_MAX_N:
        return Paired(len(diffs), _sign_flip_p(nonzero), "wilcoxon")
    result = stats.wilcoxon(diffs, alternative="two-sided", zero_method="wilcox")
    return Paired(len(diffs), float(result.pvalue), "wilcoxon")


SIGN_FLIPS_MAX_N = 13
"""Up to this many non-zero differences with ties or zeros, the signed-rank test enumerates
every sign assignment (2¹³ = 8,192), as scipy would by a permutation test a thousand times
slower; above it, and without ties, scipy's exact or asymptotic test."""


def _sign_flip_p(nonzero: NDArray[np.float64]) -> float:
    """Exact two-sided p of the signed-rank statistic (midranks of |d|, zeros dropped) over
    every assignment of signs: P(|R+ - E| ≥ observed), E = half the rank sum."""
    ranks = stats.rankdata(np.abs(nonzero))
    signs = (np.arange(2 ** len(ranks))[:, None] >> np.arange(len(ranks))) & 1
    sums = signs @ ranks
    centre = ranks.sum() / 2
    observed = abs(float(ranks[nonzero > 0].sum()) - centre)
    return float(np.mean(np.abs(sums - centre) >= observed - 1e-9))


def paired_binary(a: Sequence[bool], b: Sequence[bool]) -> Paired:
    """McNemar's exact test: of the pairs where exactly one arm passed, is either arm more often
    the one? p is None without such discordant pairs."""
    only_a = sum(x and not y for x, y in zip(a, b, strict=True))
    only_b = sum(y and not x for x, y in zip(a, b, strict=True))
    if only_a + only_b == 0:
        return Paired(len(a), None, "mcnemar-exact")
    p = stats.binomtest(only_a, only_a + only_b, 0.5).pvalue
    return Paired(len(a), float(p), "mcnemar-exact")
