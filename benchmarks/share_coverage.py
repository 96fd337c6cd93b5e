"""Does the cloud fraction's interval cover what it claims? A simulation.

A routed arm's cloud fraction is pooled: tokens the cloud model served over all tokens served,
over its judged trials (armbench.analysis.stats.pooled_share), with tasks as clusters. Here
each of k tasks has its own share, drawn from Beta(a, b); each of its four trials serves a
log-normal number of tokens, of which the cloud serves the task's share plus noise (sd 0.05,
clipped to [0, 1]). The true pooled share is measured on 100,000 tasks. For each k and (a, b),
--sims (2000) samples: printed is the share of intervals that hold it (nominal 95%).

    .venv/bin/python benchmarks/share_coverage.py [--sims 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from armbench.analysis.stats import pooled_share

SHAPES = ((2.0, 3.0), (0.5, 5.0), (5.0, 0.5))
TASKS = (2, 3, 5, 10, 20)


def tasks(rng: np.random.Generator, k: int, a: float, b: float) -> list[list[tuple[int, int]]]:
    clusters = []
    for _ in range(k):
        share = rng.beta(a, b)
        served = rng.lognormal(9, 0.5, 4).astype(int)
        cloud = (served * np.clip(share + rng.normal(0, 0.05, 4), 0, 1)).astype(int)
        clusters.append([(int(c), int(w)) for c, w in zip(cloud, served, strict=True)])
    return clusters


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{'a':>4} {'b':>4} {'tasks':>5} {'coverage':>9} {'±2se':>6}")
    for a, b in SHAPES:
        population = tasks(np.random.default_rng(0), 100_000, a, b)
        truth = sum(c for t in population for c, _ in t) / sum(w for t in population for _, w in t)
        for k in TASKS:
            rng = np.random.default_rng(args.seed)
            held = 0
            for _ in range(args.sims):
                found = pooled_share(tasks(rng, k, a, b))
                assert found is not None and found[1] is not None
                held += found[1][0] <= truth <= found[1][1]
            se = 2 * math.sqrt(0.95 * 0.05 / args.sims)
            print(f"{a:>4} {b:>4} {k:>5} {held / args.sims:>9.3f} {se:>6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
