"""Per-trial measures that only some arms have: delegation tax and cloud fraction.

Both are defined here; `export` applies them to loaded trials, and armbench.analysis.facts
(for `show` and `report`) to the ledger's sums, through the same helpers:

- **delegation tax**: the tokens of executor-returned text an orchestrator read in later calls
  (cache reads, cache writes, plain input), priced at the orchestrator's rates; exact for the
  sim, estimated for real providers (flagged); 0 for arms that do not delegate; not measured
  (None in reports) for orchestrated trials without a record, such as imported ones.
- **cloud fraction**: for routed arms, the share of answered model calls served by the cloud
  model (`calls`), and the share of their tokens — prompt plus output — served by it
  (`tokens`); None for other arms. The router's own calls are not counted.
- **contract effect**: for a single-shot trial, what the execution contract did, judged on the
  pair it forms with the trial of the same model, task and replicate run the other way
  (armbench.analysis.contract.classify_contract_effect); None without such a pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from armbench.analysis.contract import ContractEffect, classify_contract_effect
from armbench.core import CallRecord, TrialRecord, Usage
from armbench.pricing.ratecard import RateCard


@dataclass(frozen=True)
class Tax:
    tokens: int
    usd: float
    estimated: bool


NO_TAX = Tax(0, 0.0, False)


def delegation_tax(trial: TrialRecord, card: RateCard) -> Tax | None:
    return recorded_tax(trial.arm_kind, trial.extra, card)


def recorded_tax(kind: str, extra: dict[str, Any], card: RateCard) -> Tax | None:
    """The tax a trial recorded (`extra["delegation_tax"]`); None for an orchestrated trial
    without a record (imported data): not measured, which is not 0."""
    record = extra.get("delegation_tax")
    if not isinstance(record, dict):
        return None if kind == "orchestrated" else NO_TAX
    usage = Usage(**{k: int(v) for k, v in record["tokens"].items()})
    return Tax(
        tokens=usage.prompt_tokens,
        usd=card.cost(str(record["model"]), usage),
        estimated=bool(record.get("estimated")),
    )


@dataclass(frozen=True)
class CloudFraction:
    calls: float | None
    """Share of the trial's answered calls that went to the cloud; None when the calls were
    never counted (see `counted_calls`)."""
    cloud_tokens: int
    """Tokens (prompt and output) the cloud model served."""
    served_tokens: int
    """Tokens both models served: pooled over trials with `cloud_tokens`, they give an arm's
    share weighted by what each trial served (armbench.analysis.stats.pooled_share)."""

    @property
    def tokens(self) -> float:
        """Share of the trial's served tokens that the cloud model served (0 when none)."""
        return self.cloud_tokens / self.served_tokens if self.served_tokens else 0.0


def counted_calls(extra: dict[str, Any]) -> dict[str, int] | None:
    """Calls by route as a source counted them, for imported trials whose ledger holds one
    summed row per route (`extra["calls_by_route"]`): counting those rows would say 50%."""
    counted = extra.get("calls_by_route")
    return {str(k): int(v) for k, v in counted.items()} if isinstance(counted, dict) else None


def calls_fraction(ledger_calls: dict[str, int], counted: dict[str, int] | None) -> float | None:
    """Share of answered calls served by the cloud: from the ledger, or from the source's own
    count (`counted_calls`) when it has one (None when the source counted no calls)."""
    counts = counted or ledger_calls
    total = sum(counts.values())
    return counts.get("cloud", 0) / total if total else None


def cloud_fraction(trial: TrialRecord) -> CloudFraction | None:
    routed = [c for c in trial.calls if c.route is not None and c.status == "ok"]
    if trial.arm_kind != "routed" or not routed:
        return None
    cloud = [c for c in routed if c.route == "cloud"]
    by_route = {"cloud": len(cloud), "local": len(routed) - len(cloud)}
    return CloudFraction(
        calls=calls_fraction(by_route, counted_calls(trial.extra)),
        cloud_tokens=_served(cloud),
        served_tokens=_served(routed),
    )


def _served(calls: list[CallRecord]) -> int:
    return sum(c.usage.prompt_tokens + c.usage.output for c in calls)


def single_shot_scores(trial: TrialRecord) -> tuple[int, int] | None:
    return recorded_scores(trial.arm_kind, trial.extra)


def recorded_scores(kind: str, extra: dict[str, Any]) -> tuple[int, int] | None:
    """(format score, execution score) of a single-shot trial that was scored."""
    if kind != "single_shot" or "execution_score" not in extra:
        return None
    return int(extra["format_score"]), int(extra["execution_score"])


def contract_effects(trials: list[TrialRecord], arms: dict[str, Any]) -> dict[str, ContractEffect]:
    """Each single-shot trial's contract effect, by trial id (`arms`: the run's config)."""
    pairs: dict[tuple[str, str, int], dict[bool, TrialRecord]] = {}
    for trial in trials:
        arm = arms.get(trial.arm) or {}
        if trial.arm_kind == "single_shot" and single_shot_scores(trial) is not None:
            key = (str(arm.get("model")), trial.task, trial.replicate)
            pairs.setdefault(key, {})[bool(arm.get("contract"))] = trial
    effects: dict[str, ContractEffect] = {}
    for pair in pairs.values():
        if True in pair and False in pair:
            without, with_ = single_shot_scores(pair[False]), single_shot_scores(pair[True])
            assert without is not None and with_ is not None
            effect = classify_contract_effect(without, with_)
            effects[pair[False].trial_id] = effects[pair[True].trial_id] = effect
    return effects
