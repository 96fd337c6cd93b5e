"""The config of budgets, caps, rate limits and CPU slots: validated, and invisible in the
canonical hash while unset (so runs made before them resume)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from armbench.config import ConfigError, parse_config
from armbench.core import Limits


def raw(**changes: Any) -> dict[str, Any]:
    return {
        "name": "t",
        "pack": "demo",
        "models": {
            "a": {"provider": "sim"},
            "qwen": {"provider": "openai", "model": "q", "local": True},
        },
        "arms": {"A": {"kind": "solo", "model": "a"}},
        **changes,
    }


def test_unset_fields_stay_out_of_the_dump_and_the_hash() -> None:
    plain = parse_config(raw(), source="t", base_dir=Path.cwd())
    dumped = plain.model_dump(mode="json")
    for name in ("budget_usd", "judge_concurrency", "rate_limits"):
        assert name not in dumped
    assert set(dumped["limits"]) == {"max_iterations", "wall_s", "bash_timeout_s"}
    capped = parse_config(
        raw(budget_usd=5, limits={"max_calls": 9}), source="t", base_dir=Path.cwd()
    )
    assert capped.canonical_hash() != plain.canonical_hash()
    assert capped.model_dump(mode="json")["limits"]["max_calls"] == 9


def test_a_config_round_trips_through_its_dump_with_the_same_hash() -> None:
    """What resume does: the manifest's dump is parsed again and must hash the same."""
    config = parse_config(
        raw(
            budget_usd=2.5,
            judge_concurrency=3,
            rate_limits={"openai": {"rpm": 60}, "qwen": {"max_connections": 1}},
            limits={"max_cost_usd": 0.5, "max_tokens": 100_000},
        ),
        source="t",
        base_dir=Path.cwd(),
    )
    again = parse_config(config.model_dump(mode="json"), source="t", base_dir=Path.cwd())
    assert again.canonical_hash() == config.canonical_hash()
    assert again.rate_limits["qwen"].max_connections == 1


def test_rate_limits_name_a_provider_or_a_model_key() -> None:
    with pytest.raises(ConfigError, match="anthropik is neither a provider"):
        parse_config(raw(rate_limits={"anthropik": {"rpm": 5}}), source="t", base_dir=Path.cwd())


@pytest.mark.parametrize(
    "bad",
    [
        {"budget_usd": -1},
        {"judge_concurrency": 0},
        {"limits": {"max_calls": 0}},
        {"rate_limits": {"openai": {"max_connections": 0}}},
        {"rate_limits": {"openai": {"connections": 4}}},
    ],
)
def test_nonsense_is_refused_naming_the_field(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=next(iter(bad))):
        parse_config(raw(**bad), source="t", base_dir=Path.cwd())


def test_trial_caps_resolve_like_the_other_limits() -> None:
    arm = Limits(max_calls=5)
    assert arm.over(Limits(max_cost_usd=1.0, max_calls=9)) == Limits(max_calls=5, max_cost_usd=1.0)
