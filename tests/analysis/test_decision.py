"""The decision rule (armbench.analysis.decision): the cheapest of the best arm and the arms
shown non-inferior to it, on trials made here with known pass counts and costs."""

from __future__ import annotations

from facts_helpers import trial_facts

from armbench.analysis.decision import decide
from armbench.analysis.facts import TrialFacts
from armbench.analysis.noninferiority import non_inferiority
from armbench.analysis.report import _cell


def _trials(arm: str, passes: int, n: int, cost: float, **extra: object) -> list[TrialFacts]:
    return [trial_facts(arm, i, i < passes, cost * (1 + 0.01 * i), **extra) for i in range(n)]


def _decide(margin: float = 0.10, **arms: list[TrialFacts]):  # type: ignore[no-untyped-def]
    cells = [_cell(arm, "t", trials) for arm, trials in arms.items()]
    return decide("t", cells, arms, margin, seed=0)


def test_half_the_passes_of_the_best_is_not_a_candidate_however_cheap() -> None:
    # 5/10 against 10/10 (Fisher p = 0.033): the old interval-overlap rule let it qualify
    decision = _decide(best=_trials("best", 10, 10, 1.0), cheap=_trials("cheap", 5, 10, 0.01))
    assert decision.arm == "best" and decision.candidates == ["best"]
    (test,) = decision.tests
    assert test.arm == "cheap" and not test.non_inferior and test.p > 0.05
    assert "no other arm is shown within 10%" in decision.reason


def test_one_of_three_is_never_picked_over_three_of_three() -> None:
    decision = _decide(sure=_trials("sure", 3, 3, 1.0), lucky=_trials("lucky", 1, 3, 0.001))
    assert decision.arm == "sure"


def test_a_cheaper_arm_shown_non_inferior_is_picked_with_its_support() -> None:
    best = _trials("best", 60, 60, 1.0)
    cheap = _trials("cheap", 59, 60, 0.2)
    decision = _decide(best=best, cheap=cheap)
    (test,) = decision.tests
    assert test.non_inferior and test.p_holm < 0.05
    expected = non_inferiority(59, 60, 60, 60, 0.10)
    assert test.p == expected.p and test.lower_bound == expected.lower_bound
    assert decision.arm == "cheap" and decision.candidates == ["best", "cheap"]
    assert decision.cheapest_support is not None and decision.cheapest_support > 0.99


def test_holm_adjusts_the_tests_against_the_best_together() -> None:
    decision = _decide(
        margin=0.2,
        best=_trials("best", 20, 20, 1.0),
        a=_trials("a", 18, 20, 0.5),
        b=_trials("b", 17, 20, 0.4),
    )
    (low, low_holm), (high, high_holm) = sorted((t.p, t.p_holm) for t in decision.tests)
    assert low < high < 1
    assert low_holm == min(1.0, 2 * low)  # the smallest p, times two
    assert high_holm == max(low_holm, high)  # then times one, kept monotone


def test_an_arm_with_an_unrecorded_role_is_not_picked_over_a_complete_one() -> None:
    best = _trials("best", 60, 60, 1.0)
    partial = _trials("partial", 60, 60, 0.1, unmeasured_roles=("executor",))
    decision = _decide(best=best, partial=partial)
    assert "partial" in decision.candidates
    assert decision.arm == "best" and decision.incomplete_cost == ["partial"]
    assert not decision.cost_lower_bound and "incomplete" in decision.reason


def test_no_pass_and_no_judged_trial_pick_nothing_and_say_why() -> None:
    assert _decide(a=_trials("a", 0, 4, 1.0)).reason == "no arm passed this task"
    infra = [TrialFacts("x", "a", "solo", "t", 1, 1, "infra_error", "rate_limit", 1.0, 0, False)]
    assert _decide(a=infra).reason == "every trial of this task was an infra error"


def test_a_free_arm_shown_non_inferior_is_the_cheapest_not_the_dearest() -> None:
    # A local model costs $0 per success: zero is a cost, the cheapest there is.
    decision = _decide(best=_trials("best", 60, 60, 1.0), free=_trials("free", 60, 60, 0.0))
    assert decision.candidates == ["best", "free"]
    assert decision.arm == "free" and decision.expected_cost_per_success == 0.0
