"""Per-arm measures of analysis.arms: delegation tax, cloud fraction, single-shot scores and
contract effects."""

from __future__ import annotations

from typing import Any

import pytest

from armbench.analysis.arms import (
    NO_TAX,
    CloudFraction,
    Tax,
    cloud_fraction,
    contract_effects,
    delegation_tax,
    single_shot_scores,
)
from armbench.arms.tax import DelegationTax
from armbench.core import (
    CallRecord,
    Role,
    TrialRecord,
    Usage,
)
from armbench.pricing.ratecard import RateCard


def trial(
    trial_id: str,
    *,
    arm: str = "arm",
    arm_kind: str = "solo",
    task: str = "t1",
    replicate: int = 0,
    calls: tuple[CallRecord, ...] = (),
    extra: dict[str, Any] | None = None,
) -> TrialRecord:
    return TrialRecord(
        trial_id=trial_id,
        arm=arm,
        arm_kind=arm_kind,
        task=task,
        replicate=replicate,
        seed=0,
        status="pass",
        stop_reason="finished",
        wall_s=1.0,
        iterations=len(calls),
        simulated=True,
        started_at=0.0,
        ended_at=1.0,
        calls=calls,
        extra=extra or {},
    )


def row(seq: int, role: Role, route: Any, usage: Usage, status: str = "ok") -> CallRecord:
    return CallRecord(
        seq=seq,
        role=role,
        provider="sim",
        model="m",
        model_id="m",
        attempt=1,
        status=status,  # type: ignore[arg-type]
        usage=usage,
        latency_s=0.1,
        latency_simulated=True,
        started_at=0.0,
        route=route,
    )


CARD = RateCard.from_mapping(
    {
        "models": {
            "sim/boss": {
                "input": 3.0,
                "output": 15.0,
                "cache_write_5m": 3.75,
                "cache_write_1h": 6.0,
                "cache_read": 0.3,
            }
        }
    },
    source="test card",
)


def test_delegation_tax_is_priced_at_the_orchestrator_rates() -> None:
    record = {
        "model": "sim/boss",
        "tokens": {
            "input": 1000,
            "output": 0,
            "cache_write_5m": 2000,
            "cache_write_1h": 100,
            "cache_read": 10000,
            "reasoning": 0,
        },
        "estimated": True,
    }
    tax = delegation_tax(trial("t", extra={"delegation_tax": record}), CARD)
    assert tax.tokens == 13100 and tax.estimated is True
    assert tax.usd == pytest.approx((1000 * 3 + 2000 * 3.75 + 100 * 6 + 10000 * 0.3) / 1e6)


def test_delegation_tax_reads_a_recorded_tax() -> None:
    tax = DelegationTax("sim/boss")
    tax.tokens.update(cache_read=400.2, input=9.6)
    parsed = delegation_tax(trial("t", extra={"delegation_tax": tax.record()}), CARD)
    assert (parsed.tokens, parsed.estimated) == (410, False)
    assert parsed.usd == pytest.approx((10 * 3 + 400 * 0.3) / 1e6)


def test_no_tax_without_a_record() -> None:
    assert delegation_tax(trial("t"), CARD) == NO_TAX == Tax(0, 0.0, False)
    assert delegation_tax(trial("t", extra={"delegation_tax": None}), CARD) == NO_TAX


def test_cloud_fraction_counts_answered_routed_calls_only() -> None:
    calls = (
        row(1, "router", None, Usage(input=5000, output=1)),
        row(2, "solo", "local", Usage(input=100, output=10)),
        row(3, "router", None, Usage(input=5000, output=1)),
        row(4, "solo", "cloud", Usage(input=999), status="error"),
        row(5, "solo", "cloud", Usage(input=300, cache_read=100, output=50)),
        row(6, "solo", "local", Usage(input=40)),
    )
    fraction = cloud_fraction(trial("t", arm_kind="routed", calls=calls))
    assert fraction is not None
    assert fraction.calls == pytest.approx(1 / 3)
    assert fraction.tokens == pytest.approx(450 / 600)


def test_cloud_fraction_of_all_cloud_and_of_no_tokens() -> None:
    calls = (row(1, "solo", "cloud", Usage()), row(2, "solo", "cloud", Usage()))
    assert cloud_fraction(trial("t", arm_kind="routed", calls=calls)) == CloudFraction(1.0, 0, 0)


def test_cloud_fraction_is_none_for_other_arms_and_unanswered_routed_trials() -> None:
    ok = (row(1, "solo", "cloud", Usage(input=10)),)
    assert cloud_fraction(trial("t", arm_kind="solo", calls=ok)) is None
    assert cloud_fraction(trial("t", arm_kind="orchestrated", calls=ok)) is None
    failed = (
        row(1, "router", None, Usage(input=3)),
        row(2, "solo", "local", Usage(), status="error"),
    )
    assert cloud_fraction(trial("t", arm_kind="routed", calls=failed)) is None
    assert cloud_fraction(trial("t", arm_kind="routed")) is None


def scored(
    trial_id: str, arm: str, task: str, replicate: int, fmt: int, execution: int
) -> TrialRecord:
    return trial(
        trial_id,
        arm=arm,
        arm_kind="single_shot",
        task=task,
        replicate=replicate,
        extra={"format_score": fmt, "execution_score": execution},
    )


ARMS = {
    "plain": {"kind": "single_shot", "model": "m1", "contract": False},
    "strict": {"kind": "single_shot", "model": "m1", "contract": True},
    "other": {"kind": "single_shot", "model": "m2", "contract": False},
    "solo": {"kind": "solo", "model": "m1"},
}


def test_contract_effects_pair_trials_by_model_task_and_replicate() -> None:
    trials = [
        scored("p-t1-0", "plain", "t1", 0, 0, 0),
        scored("s-t1-0", "strict", "t1", 0, 1, 1),
        scored("p-t1-1", "plain", "t1", 1, 0, 1),
        scored("s-t1-1", "strict", "t1", 1, 1, 1),
        scored("p-t2-0", "plain", "t2", 0, 1, 1),
        scored("s-t2-0", "strict", "t2", 0, 0, 0),
        scored("p-t3-0", "plain", "t3", 0, 1, 1),  # its pair ran replicate 1 only
        scored("s-t3-1", "strict", "t3", 1, 1, 1),
        scored("o-t1-0", "other", "t1", 0, 0, 0),  # another model: pairs with nothing
        trial("x-t4-0", arm="strict", arm_kind="single_shot", task="t4"),  # not scored
        scored("p-t4-0", "plain", "t4", 0, 0, 0),
        trial("solo-t1-0", arm="solo", arm_kind="solo", task="t1"),
    ]
    assert contract_effects(trials, ARMS) == {
        "p-t1-0": "execution_gain",
        "s-t1-0": "execution_gain",
        "p-t1-1": "format_only",
        "s-t1-1": "format_only",
        "p-t2-0": "regression",
        "s-t2-0": "regression",
    }


def test_single_shot_scores_only_for_scored_single_shot_trials() -> None:
    assert single_shot_scores(scored("x", "strict", "t", 0, 1, 0)) == (1, 0)
    assert single_shot_scores(trial("x", arm_kind="single_shot")) is None
    solo = trial("x", arm_kind="solo", extra={"format_score": 1, "execution_score": 1})
    assert single_shot_scores(solo) is None
