"""The report's schema: what `armbench report --json` writes, and what the HTML, Markdown and
terminal views render. Every number in it is computed from ledger rows and a rate card
(armbench.analysis.report builds it); intervals are 95% and null where the data cannot support
one, with the reason beside it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

REPORT_FORMAT = 2
"""2: non-inferiority decisions, order-statistic median intervals, cost-per-success intervals
with their method, comparisons flagged when too small to be tests."""

Interval = tuple[float, float]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Medians(_Model):
    cost_usd: float | None = None
    wall_s: float | None = None
    iterations: float | None = None


class MedianIntervals(_Model):
    cost_usd: Interval | None = None
    wall_s: Interval | None = None
    iterations: Interval | None = None


class Cell(_Model):
    """One arm on one task."""

    arm: str
    arm_kind: str
    task: str
    n: int
    n_pass: int
    n_fail: int
    n_limit: int
    n_infra: int
    infra_classes: dict[str, int]
    pass_rate: float | None
    """Passes over judged trials (infra errors excluded); None when every trial was an infra
    error."""
    pass_rate_itt: float | None
    """Passes over all trials (intent to treat: an infra error counts as a miss)."""
    pass_rate_ci: Interval | None
    """Wilson 95% interval of `pass_rate`."""
    success_median: Medians
    """Medians over passing trials."""
    success_median_ci: MedianIntervals
    """Exact order-statistic 95% intervals (distribution-free); null below 6 passes."""
    interval_note: str | None
    """Why `success_median_ci` is null, when it is."""
    success_median_tokens: dict[str, float | None]
    """Median tokens of each kind over passing trials."""
    success_median_tokens_by_role: dict[str, dict[str, float | None]]
    """role → token kind → median over passing trials."""
    mean_cost_usd: float | None
    """Mean cost of a judged attempt, failed ones included."""
    mean_cost_by_role: dict[str, float]
    """role → mean dollars per judged attempt."""
    expected_cost_per_success: float | None
    """Cost of every judged attempt over the passes: what one success costs when failures are
    paid for and retried. None when nothing passed."""
    expected_cost_per_success_ci: tuple[float, float | None] | None
    """95% interval (armbench.analysis.ratio: the mean cost's t interval over the pass rate's
    Wilson interval, each at 97.5%); with no pass, a lower bound alone (upper end null). Null
    below two judged trials."""
    expected_cost_per_success_method: str | None
    """How `expected_cost_per_success_ci` was computed."""
    delegation_tax_tokens: float | None
    """Mean per judged trial, orchestrated arms only; None where it was not measured (imported
    data has no record of it)."""
    delegation_tax_usd: float | None
    delegation_tax_estimated: bool
    cloud_fraction_calls: float | None
    """Routed arms: mean over judged trials of each trial's share of calls sent to the cloud."""
    cloud_fraction_tokens: float | None
    """Routed arms: **the cloud fraction** — tokens the cloud model served (prompt and output)
    over all tokens served, pooled over judged trials (each weighs what it served)."""
    cloud_fraction_tokens_ci: Interval | None
    """95% interval of `cloud_fraction_tokens`, trials as clusters (armbench.analysis.stats.
    pooled_share: linearised ratio variance, logit scale, t on n - 1 df)."""
    unmeasured_roles: list[str]
    """Roles whose tokens were never recorded (imported data): their cost is unknown, and the
    cost columns of this cell leave it out."""
    simulated: bool


class PairedTest(_Model):
    n_pairs: int
    p: float | None
    method: Literal["wilcoxon", "mcnemar-exact"]
    p_holm: float | None
    """Holm-adjusted over the paired tests of the same task and metric."""


class CostPerSuccessTest(_Model):
    """Arm `a` against arm `b` on one task: does what one success costs differ? Over every
    judged trial of each, failed attempts included (armbench.analysis.ratio)."""

    task: str
    a: str
    b: str
    n_a: int
    n_b: int
    expected_cost_per_success_a: float | None
    expected_cost_per_success_b: float | None
    p: float
    """Two-sided permutation p (exact or Monte Carlo), or a normal approximation above 400
    trials: see `method`."""
    method: Literal["exact permutation", "monte carlo permutation", "normal approximation"]
    p_holm: float | None
    """Holm-adjusted over this task's cost-per-success tests; null when not `testable`."""
    testable: bool
    """False when no data of these sizes could give p below 0.05."""


class Comparison(_Model):
    """Arm `a` against arm `b` on one task and metric: cost_usd, wall_s and iterations over
    passing trials (as published analyses compare them); attempt_cost, the cost of every
    judged trial, failed ones included; success (1/0) over judged trials."""

    task: str
    metric: Literal["cost_usd", "wall_s", "iterations", "attempt_cost", "success"]
    a: str
    b: str
    n_a: int
    n_b: int
    median_a: float | None
    median_b: float | None
    u: float
    """Mann-Whitney U of `a`."""
    p_exact: float | None
    p_exact_method: Literal["exact", "permutation"] | None
    p_asymptotic: float | None
    """Normal approximation, tie- and continuity-corrected."""
    p_holm: float | None
    """Holm-adjusted over the comparisons of this task and metric, from `p_exact` where there
    is one, else `p_asymptotic`; null when the comparison is not a test."""
    testable: bool
    """False when no data of these sizes could give an exact p below the significance level
    (1 vs 1, 2 vs 2, 3 vs 3, ...): described, not tested, and left out of the Holm family."""
    cliffs_delta: float
    """Positive when `a`'s values tend to be larger."""
    paired: PairedTest | None
    """Over the replicates both arms have (replicate r of every arm starts from the same
    workspace); null for imported runs, whose trials were not seeded."""


class Dominance(_Model):
    arm: str
    support: float
    """Share of bootstrap resamples in which that arm was at least as good on both axes and
    better on one."""


class ParetoPoint(_Model):
    task: str
    axes: Literal["cost_wall", "cost_success"]
    """cost_wall: median cost and median wall of passing trials, lower is better on both.
    cost_success: mean cost per judged attempt (lower is better) and pass rate (higher); in the
    resamples the pass rate is drawn from its Jeffreys posterior."""
    arm: str
    x: float
    y: float
    on_frontier: bool
    """Not dominated by any arm with at least `support_needed` bootstrap support."""
    dominated_by: list[Dominance]
    """Every arm that dominates this one in at least half of the resamples."""
    support_needed: float
    """`Report.dominance_support` Bonferroni-corrected over the ordered pairs of arms ranked on
    these axes, so that it holds for the whole frontier: 1 - (1 - 0.95) / (k(k - 1))."""
    note: str | None
    """Why the arm is where it is, when that needs saying: not ranked (too few trials), kept on
    the frontier although another beats its point (too little support), or dominated (by
    which arm, with what support)."""


class NonInferiorityTest(_Model):
    """One arm against the task's best arm: is its pass rate within the margin of the best's?"""

    arm: str
    difference: float
    """Pass rate of this arm minus the best arm's."""
    lower_bound: float
    """One-sided 95% lower confidence bound of `difference` (Miettinen-Nurminen)."""
    p: float
    """One-sided p of "this arm is worse by the margin or more" (score test)."""
    p_holm: float
    """Holm-adjusted over the arms compared with the best on this task."""
    non_inferior: bool
    """`p_holm` below 0.05: shown to be within the margin."""


class Decision(_Model):
    """The cheapest arm for a task (by expected cost per success) among the best arm and the
    arms shown not to be worse than it by more than `margin` (armbench.analysis.decision)."""

    task: str
    arm: str | None
    expected_cost_per_success: float | None
    pass_rate: float | None
    best_arm: str | None
    """The arm with the highest pass rate (ties: the most judged trials, then the cheapest per
    success)."""
    best_pass_rate: float | None
    margin: float
    """The declared non-inferiority margin, in pass rate (0.10 = ten points)."""
    tests: list[NonInferiorityTest]
    candidates: list[str]
    """The best arm and every arm shown non-inferior to it."""
    cheapest_support: float | None
    """Share of bootstrap resamples in which the pick is still the cheapest candidate; null
    with a single candidate."""
    cost_lower_bound: bool
    """The pick's cost leaves out roles never recorded: it is a lower bound."""
    incomplete_cost: list[str]
    """Candidates whose incomplete cost is below the pick's: they might be cheaper or not."""
    reason: str


class GroupCell(_Model):
    """One arm over the tasks of one group (`report --group-by FIELD`)."""

    group_by: str
    group: str
    """The tasks' value of `group_by`."""
    arm: str
    tasks: int
    n: int
    n_judged: int
    n_pass: int
    pass_rate: float | None
    """Passes over judged trials, pooled over the group's tasks."""
    pass_rate_ci: Interval | None
    """95%, tasks as clusters (armbench.analysis.grouping); Wilson's when every trial agreed."""
    median_cost_usd: float | None
    """Over every judged trial of the group, failed ones included."""
    spent_usd: float
    """Every trial of the group, infra errors included."""


class Tally(_Model):
    rows: int
    cost_usd: float | None
    """Null when the source did not say what some of the rows cost."""


class Unjudged(Tally):
    """Imported rows the import could not judge (no executed verdict): money spent, kept out of
    every cell."""

    by_arm: dict[str, Tally]
    by_group: dict[str, Tally]
    """By the report's `group_by` field, where the rows carry it; empty otherwise."""


class ArmSpend(_Model):
    arm: str
    arm_kind: str
    trials: int
    spent_usd: float
    """What every trial of the arm cost, infra errors included (the calls they made before
    failing were paid for). Imported infra-error trials may have no record of theirs."""
    spent_judged_usd: float
    """The same over judged trials only: what the arm's results cost."""
    n_infra: int
    infra_rate: float
    """Infra errors over all of the arm's trials: rate limits grow with an arm's call count, so
    an arm can fail more often for reasons that are not its answers'."""
    infra_rate_ci: Interval
    """Wilson 95% interval of `infra_rate`."""
    mean_cost_by_role: dict[str, float]
    delegation_tax_usd: float | None
    delegation_tax_estimated: bool
    cloud_fraction_calls: float | None
    """Mean over judged trials of each trial's share of calls sent to the cloud."""
    cloud_fraction_tokens: float | None
    """Share of served tokens the cloud model served, pooled over the arm's judged trials."""
    cloud_fraction_tokens_ci: Interval | None
    """Cluster-robust 95% interval of `cloud_fraction_tokens` (armbench.analysis.stats.
    pooled_share): tasks are the clusters (the trials of one task share its prompts), or
    trials when the arm ran one task."""
    cloud_fraction_clusters: Literal["tasks", "trials"] | None
    """What the interval resampled; null for arms that are not routed."""


class Report(_Model):
    format: int = REPORT_FORMAT
    run_id: str
    name: str
    armbench_version: str
    simulated: bool
    """True when any trial's models were simulated: the numbers do not measure real models."""
    imported: dict[str, object] | None
    """Where imported data came from (armbench.store.rundir.Manifest.imported)."""
    rate_card_source: str
    notes: list[str]
    """What a reader must know: simulated models, unmeasured roles, infra errors excluded."""
    confidence: float
    margin: float
    """The non-inferiority margin of the decisions (`report --margin`)."""
    bootstrap_resamples: int
    bootstrap_seed: int
    dominance_support: float
    trials: int
    statuses: dict[str, int]
    infra_classes: dict[str, int]
    infra_rates_p: float | None
    """p of "every arm has the same infra-error rate" (permutation test of the arms × outcome
    table's chi-square, armbench.analysis.stats.rates_differ); null with one arm or no infra
    error."""
    cells: list[Cell]
    comparisons: list[Comparison]
    cost_per_success_tests: list[CostPerSuccessTest]
    pareto: list[ParetoPoint]
    decisions: list[Decision]
    arms: list[ArmSpend]
    group_by: str | None = None
    """The task field of `groups`, when the report was asked to group (`--group-by`)."""
    groups: list[GroupCell] = []
    unjudged: Unjudged | None = None
    """Null when the import judged every row (or the run was not imported)."""
