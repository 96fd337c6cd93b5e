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

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
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
    costs: Sequence[float], passed: Sequence[bool], confidence: float = CONFIDENCE
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
    passes = int(sum(passed))
    rate = stats.binomtest(passes, n).proportion_ci(confidence_level=each, method="wilson")
    low = max(0.0, mean - spread) / float(rate.high)
    high = (mean + spread) / float(rate.low) if rate.low > 0 else None
    return RatioInterval(low, high, METHOD)
