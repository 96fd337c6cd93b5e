"""Is an arm's success rate not worse than the best arm's by more than a declared margin?

The test is one-sided, on the difference of two independent proportions d = p_arm - p_best:
H₀: d ≤ -margin against H₁: d > -margin, by the **Miettinen-Nurminen score statistic**

    z = (p̂_arm - p̂_best + margin) / √V,  V = (p̃_a(1 - p̃_a)/n_a + p̃_b(1 - p̃_b)/n_b) · N/(N - 1)

where p̃ are the maximum-likelihood estimates restricted to d = -margin (Farrington and
Manning's closed form, the root of a cubic) and N = n_a + n_b. Score statistics keep their
level at small n far better than the Wald statistic, and never divide by a zero variance when
an arm passed every time or never. The matching lower confidence bound of d inverts the same
statistic (the Miettinen-Nurminen interval). Holm's adjustment over the arms compared with the
best is applied by the caller (armbench.analysis.decision).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize, stats

DEFAULT_MARGIN = 0.10
"""Ten percentage points of pass rate: the default margin of `armbench report --margin`."""


def restricted_mle(x_a: int, n_a: int, x_b: int, n_b: int, d: float) -> tuple[float, float]:
    """The maximum-likelihood (p_a, p_b) of two binomial samples under p_a - p_b = d
    (Farrington and Manning 1990, eq. 3; Miettinen and Nurminen 1985)."""
    p_a, p_b = x_a / n_a, x_b / n_b
    theta = n_b / n_a
    a = 1 + theta
    b = -(1 + theta + p_a + theta * p_b + d * (theta + 2))
    c = d * d + d * (2 * p_a + theta + 1) + p_a + theta * p_b
    e = -p_a * d * (1 + d)
    v = b**3 / (27 * a**3) - b * c / (6 * a**2) + e / (2 * a)
    u_squared = b * b / (9 * a * a) - c / (3 * a)
    u = math.copysign(math.sqrt(max(u_squared, 0.0)), v) if v else math.sqrt(max(u_squared, 0.0))
    if u == 0:  # a triple root
        root = -b / (3 * a)
    else:
        w = (math.pi + math.acos(max(-1.0, min(1.0, v / u**3)))) / 3
        root = 2 * u * math.cos(w) - b / (3 * a)
    tilde_a = min(1.0, max(0.0, root))
    tilde_b = min(1.0, max(0.0, tilde_a - d))
    return tilde_a, tilde_b


def score(x_a: int, n_a: int, x_b: int, n_b: int, d: float) -> float:
    """The Miettinen-Nurminen z of the observed difference against the hypothesised `d`."""
    tilde_a, tilde_b = restricted_mle(x_a, n_a, x_b, n_b, d)
    n = n_a + n_b
    variance = (tilde_a * (1 - tilde_a) / n_a + tilde_b * (1 - tilde_b) / n_b) * n / (n - 1)
    observed = x_a / n_a - x_b / n_b - d
    if variance <= 0:
        return math.copysign(math.inf, observed) if observed else 0.0
    return observed / math.sqrt(variance)


@dataclass(frozen=True)
class NonInferiority:
    difference: float
    """p̂_arm - p̂_best."""
    lower_bound: float
    """One-sided lower confidence bound of the difference (Miettinen-Nurminen)."""
    p: float
    """One-sided p of H₀: difference ≤ -margin (unadjusted)."""


def non_inferiority(
    x_a: int, n_a: int, x_b: int, n_b: int, margin: float, confidence: float = 0.95
) -> NonInferiority:
    """Arm a (x_a passes of n_a judged trials) against the best arm b, at `margin` (> 0)."""
    if not 0 < margin < 1:
        raise ValueError(f"the non-inferiority margin must be between 0 and 1, not {margin}")
    if n_a < 1 or n_b < 1:
        raise ValueError("non-inferiority needs at least one judged trial in each arm")
    difference = x_a / n_a - x_b / n_b
    p = float(stats.norm.sf(score(x_a, n_a, x_b, n_b, -margin)))
    critical = float(stats.norm.ppf(confidence))
    # The score falls as the hypothesised difference rises: the bound is where it crosses.
    low_end = -1 + 1e-12
    if score(x_a, n_a, x_b, n_b, low_end) <= critical or difference <= low_end:
        bound = -1.0
    else:
        bound = float(
            optimize.brentq(
                lambda d: score(x_a, n_a, x_b, n_b, d) - critical, low_end, difference, xtol=1e-10
            )
        )
    return NonInferiority(difference=difference, lower_bound=bound, p=p)
