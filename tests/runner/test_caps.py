"""Per-trial caps in real trials (sim models, the demo pack): each one ends the trial as `limit`
naming itself, with its calls, gates and transcript kept; and a trial the budget refused before
its first call is not recorded at all."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest

from armbench.config import RunConfig, parse_config
from armbench.core import Redactor
from armbench.env import LOCAL
from armbench.models import Budget
from armbench.models.factory import ModelFactory
from armbench.pricing import RateCard, trial_cost
from armbench.runner import capacity_for
from armbench.runner.plan import plan_trials
from armbench.runner.prepared_cache import PreparedCache
from armbench.runner.run import arm_prompts
from armbench.runner.trial import TrialContext, run_trial
from armbench.tasks.packs import load_pack

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "armbench" / "examples"
CARD = RateCard.load(EXAMPLES / "demo-prices.toml")


def config(**changes: Any) -> RunConfig:
    raw: dict[str, Any] = {
        "name": "caps",
        "pack": "demo",
        "tasks": ["feature"],
        "seed": 42,
        "models": {"strong": {"provider": "sim", "skill": 0.95}},
        "arms": {"solo": {"kind": "solo", "model": "strong"}},
        **changes,
    }
    return parse_config(raw, source="test", base_dir=Path.cwd())


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedCache:
    """One template for every test here: the same task, the same injection seed."""
    return PreparedCache(tmp_path_factory.mktemp("prepared"), python=sys.executable)


def context(
    cfg: RunConfig, tmp_path: Path, prepared: PreparedCache, budget: Budget
) -> TrialContext:
    return TrialContext(
        config=cfg,
        work_root=tmp_path / "work",
        prepared=prepared,
        python=sys.executable,
        models=ModelFactory({}),
        redact=Redactor(),
        environments=LOCAL,
        prompts=arm_prompts(cfg),
        capacity=dataclasses.replace(capacity_for(cfg, CARD), budget=budget),
    )


@pytest.mark.parametrize(
    ("limits", "stop"),
    [
        ({"max_calls": 2}, "max_calls"),
        ({"max_tokens": 20_000}, "max_tokens"),
        ({"max_cost_usd": 0.3}, "max_cost"),
    ],
)
def test_each_cap_ends_the_trial_as_limit_naming_itself(
    limits: dict[str, Any], stop: str, tmp_path: Path, prepared: PreparedCache
) -> None:
    cfg = config(limits=limits)
    plan = plan_trials(cfg, load_pack("demo"))[0]
    result = run_trial(plan, context(cfg, tmp_path, prepared, Budget()))
    assert result is not None and result.transcript  # handed back, for the driver to write
    record = result.record
    assert (record.status, record.stop_reason) == ("limit", stop)
    assert record.calls and record.gates  # what it did is kept, and judged
    ((field, value),) = limits.items()
    assert record.extra["limit"].startswith(f"{field}:")
    assert record.extra["limits"][field] == value
    if stop == "max_calls":
        assert len(record.calls) == 2
    if stop == "max_tokens":
        total = sum(c.usage.prompt_tokens + c.usage.output for c in record.calls)
        assert total <= 20_000
    if stop == "max_cost":
        assert 0 < trial_cost(record, CARD) <= 0.3


def test_a_trial_the_budget_refuses_before_its_first_call_is_not_recorded(
    tmp_path: Path, prepared: PreparedCache
) -> None:
    cfg = config(budget_usd=0.01)  # less than one call's worst case
    plan = plan_trials(cfg, load_pack("demo"))[0]
    budget = Budget(0.01)
    ctx = context(cfg, tmp_path, prepared, budget)
    assert run_trial(plan, ctx) is None
    assert budget.exhausted and budget.spent_usd == 0
