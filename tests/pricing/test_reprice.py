"""Tests for armbench.pricing.reprice: new prices for a recorded run, the run left untouched."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from armbench.analysis.export import call_rows, trial_rows
from armbench.analysis.records import load_run_records as load_run
from armbench.core import CallRecord, TrialRecord, Usage
from armbench.pricing.costing import trial_cost
from armbench.pricing.effective import card_record, effective_card, priced_models
from armbench.pricing.ratecard import RateCard, UnknownPriceError
from armbench.pricing.reprice import REPRICINGS, reprice
from armbench.store.rundir import Manifest, RunDirectory

pytestmark = pytest.mark.usefixtures("no_network")


CONFIG_MODELS: dict[str, Any] = {
    "strong": {"provider": "sim", "model": None, "skill": 0.9},
    "opus": {"provider": "anthropic", "model": "claude-opus-4-6", "base_url": None},
    "qwen": {
        "provider": "openai",
        "model": "qwen3.5:9b",
        "base_url": "http://localhost:11434/v1",
        "local": True,
    },
}
RUN_CARD = """\
[models."sim/strong"]
input = 5.0
output = 25.0
cache_write_5m = 6.25
cache_write_1h = 10.0
cache_read = 0.5

[models."openai/qwen3.5:9b"]
local = true
per_hour = 0.5
"""
DOUBLED = """\
[models."sim/strong"]
input = 10.0
output = 50.0
cache_write_5m = 12.5
cache_write_1h = 20.0
cache_read = 1.0

[models."anthropic/claude-opus-4-6"]
input = 10.0
output = 50.0
cache_write_5m = 12.5
cache_write_1h = 20.0
cache_read = 1.0

[models."openai/qwen3.5:9b"]
local = true
per_hour = 1.0
"""
RUN_DAY = datetime(2026, 11, 1, tzinfo=UTC)
"""Opus 4.6 had no long-context surcharge then; before 2026-03-13 it did."""


def _call(seq: int, provider: str, model: str, usage: Usage, latency_s: float) -> CallRecord:
    return CallRecord(
        seq=seq,
        role="solo",
        provider=provider,
        model=model,
        model_id=model,
        attempt=1,
        status="ok",
        usage=usage,
        latency_s=latency_s,
        latency_simulated=provider == "sim",
        started_at=1_790_000_000.0 + seq,
    )


def _trial(
    run: RunDirectory, trial_id: str, arm: str, calls: tuple[CallRecord, ...]
) -> TrialRecord:

    transcript = f"transcripts/{trial_id}.json"  # written directly: its format is not ours
    (run.path / transcript).write_text(json.dumps({"trial_id": trial_id, "messages": []}))
    return TrialRecord(
        trial_id=trial_id,
        arm=arm,
        arm_kind="solo",
        task="feature",
        replicate=int(trial_id[-1]),
        seed=7,
        status="pass",
        stop_reason="finished",
        wall_s=30.0,
        iterations=len(calls),
        simulated=arm == "strong",
        started_at=1_790_000_000.0,
        ended_at=1_790_000_030.0,
        calls=calls,
        transcript=transcript,
    )


LONG = Usage(input=20_000, cache_read=230_000, cache_write_5m=4_000, output=3_000, reasoning=800)
SHORT = Usage(input=1_500, cache_read=40_000, cache_write_1h=2_000, output=700)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = RunDirectory.create(tmp_path / "runs", "demo")
    card_path = tmp_path / "run-prices.toml"
    card_path.write_text(RUN_CARD)
    card, provenance = effective_card(
        priced_models(CONFIG_MODELS), RateCard.load(card_path), at=RUN_DAY
    )
    run.write_manifest(
        Manifest(
            run_id=run.run_id,
            name="demo",
            armbench_version="0.1.0",
            started_at="2026-11-01T00:00:00Z",
            config={"name": "demo", "models": CONFIG_MODELS},
            config_hash="0" * 64,
            config_source=str(tmp_path / "demo.yaml"),
            checkers={},
            python="3.11",
            host={},
            packs={},
            rate_card=card_record(card, provenance),
            simulated=True,
            trials_planned=4,
        )
    )
    with run.database() as db:
        for i in (1, 2):
            db.record(
                _trial(run, f"strong-{i}", "strong", (
                    _call(1, "sim", "strong", SHORT, 2.0),
                    _call(2, "sim", "strong", LONG, 3.5),
                ))
            )  # fmt: skip
            db.record(
                _trial(run, f"opus-{i}", "opus", (
                    _call(1, "anthropic", "claude-opus-4-6", SHORT, 4.0),
                    _call(2, "anthropic", "claude-opus-4-6", LONG, 9.0 * i),
                ))
            )  # fmt: skip
            db.record(
                _trial(run, f"qwen-{i}", "qwen", (
                    _call(1, "openai", "qwen3.5:9b", SHORT, 36.0 * i),
                ))
            )  # fmt: skip
    return run.path


def _fingerprint(run: Path) -> dict[str, str]:
    """Hash of every file of the run except repricings."""
    return {
        str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run.rglob("*"))
        if p.is_file() and REPRICINGS not in p.relative_to(run).parts
    }


def _costs(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "costs.json").read_text())
    return data


def test_the_run_is_costed_with_its_own_card(run_dir: Path) -> None:
    run = load_run(run_dir)
    by_id = {t.trial_id: t for t in run.trials}
    # 36 s of a $0.50/hour local model; its tokens are free.
    assert trial_cost(by_id["qwen-1"], run.rate_card) == 0.005
    assert trial_cost(by_id["qwen-2"], run.rate_card) == 0.01
    rows = {r["trial_id"]: r for r in trial_rows(run)}
    assert rows["qwen-2"]["cost_usd"] == 0.01
    assert [r["cost_usd"] for r in call_rows(run) if r["trial_id"] == "qwen-1"] == [0.005]
    # Opus 4.6 at 2026-11 list prices ($5/$25, no long-context tier).
    short = (1_500 * 5 + 40_000 * 0.5 + 2_000 * 10 + 700 * 25) / 1e6
    long = (20_000 * 5 + 230_000 * 0.5 + 4_000 * 6.25 + 3_000 * 25) / 1e6
    assert trial_cost(by_id["opus-1"], run.rate_card) == pytest.approx(short + long, abs=1e-12)


def test_reprice_with_a_card_that_doubles_prices(run_dir: Path, tmp_path: Path) -> None:
    before = _fingerprint(run_dir)
    card_path = tmp_path / "doubled.toml"
    card_path.write_text(DOUBLED)
    folder = reprice(run_dir, rate_card=card_path)

    assert folder.parent == run_dir / REPRICINGS
    assert folder.name.endswith("-card-doubled")
    assert sorted(p.name for p in folder.iterdir()) == ["card.toml", "costs.json"]
    assert _fingerprint(run_dir) == before  # manifest, database, transcripts: byte for byte

    costs = _costs(folder)
    assert costs["basis"] == {"rate_card": str(card_path)}
    assert len(costs["trials"]) == 6
    for row in costs["trials"]:
        assert row["original_cost_usd"] > 0
        assert row["cost_usd"] == 2 * row["original_cost_usd"]  # exact: tokens are exact
    for arm, totals in costs["arms"].items():
        assert totals["trials"] == 2, arm
        assert totals["cost_usd"] == 2 * totals["original_cost_usd"]
    assert costs["total"]["cost_usd"] == 2 * costs["total"]["original_cost_usd"]
    qwen = {r["trial_id"]: r for r in costs["trials"]}["qwen-2"]
    assert (qwen["original_cost_usd"], qwen["cost_usd"]) == (0.01, 0.02)

    card = RateCard.load(folder / "card.toml")
    assert card.digest() == costs["card"]["sha256"]
    assert set(costs["card"]["provenance"].values()) == {f"rate card {card_path}"}
    manifest = RunDirectory.open(run_dir).read_manifest()
    assert costs["original_card"]["sha256"] == manifest.rate_card["sha256"]
    assert costs["original_card"]["recorded_sha256"] == manifest.rate_card["sha256"]


def test_models_the_card_does_not_name_keep_the_runs_prices(run_dir: Path, tmp_path: Path) -> None:
    card_path = tmp_path / "sim-only.toml"
    card_path.write_text(DOUBLED.split('[models."anthropic')[0])
    costs = _costs(reprice(run_dir, rate_card=card_path))
    for row in costs["trials"]:
        factor = 2 if row["arm"] == "strong" else 1
        assert row["cost_usd"] == factor * row["original_cost_usd"], row["trial_id"]
    provenance = costs["card"]["provenance"]
    assert provenance["sim/strong"] == f"rate card {card_path}"
    assert provenance["anthropic/claude-opus-4-6"] == (
        "the run's own card (genai-prices 0.2.3 at 2026-11-01 (anthropic/claude-opus-4-6))"
    )


def test_reprice_at_a_price_date_uses_genai_then(run_dir: Path) -> None:
    before = _fingerprint(run_dir)
    folder = reprice(run_dir, price_date=date(2026, 3, 12))
    assert folder.name.endswith("-genai-2026-03-12")
    assert _fingerprint(run_dir) == before
    costs = _costs(folder)
    assert costs["basis"] == {"price_date": "2026-03-12"}
    rows = {r["trial_id"]: r for r in costs["trials"]}
    # Sim and local models keep the run's own prices.
    for tid in ("strong-1", "strong-2", "qwen-1", "qwen-2"):
        assert rows[tid]["cost_usd"] == rows[tid]["original_cost_usd"]
    # On 2026-03-12 Opus 4.6 still charged double for prompts over 200k tokens.
    short = (1_500 * 5 + 40_000 * 0.5 + 2_000 * 10 + 700 * 25) / 1e6
    long = (20_000 * 10 + 230_000 * 1.0 + 4_000 * 12.5 + 3_000 * 37.5) / 1e6
    assert rows["opus-1"]["cost_usd"] == pytest.approx(short + long, abs=1e-12)
    assert rows["opus-1"]["cost_usd"] == pytest.approx(0.6575, abs=1e-12)
    assert rows["opus-1"]["original_cost_usd"] == pytest.approx(0.38, abs=1e-12)
    provenance = costs["card"]["provenance"]
    assert provenance["anthropic/claude-opus-4-6"] == (
        "genai-prices 0.2.3 at 2026-03-12 (anthropic/claude-opus-4-6)"
    )
    assert provenance["sim/strong"].startswith("the run's own card (rate card ")
    assert costs["card"]["source"].startswith("effective card: the run's own card (2 models); ")
    card = RateCard.load(folder / "card.toml")
    assert card.digest() == costs["card"]["sha256"]
    assert card.rates["anthropic/claude-opus-4-6"].tiers


def test_exactly_one_basis(run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        reprice(run_dir)
    with pytest.raises(ValueError, match="exactly one"):
        reprice(run_dir, rate_card=tmp_path / "x.toml", price_date=date(2026, 1, 1))


def test_clear_errors(run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the rate card"):
        reprice(run_dir, rate_card=tmp_path / "missing.toml")
    with pytest.raises(ValueError, match="not a run directory"):
        reprice(tmp_path, price_date=date(2026, 1, 1))
    assert not (run_dir / REPRICINGS).exists() or not any((run_dir / REPRICINGS).iterdir())


def test_a_model_nobody_prices_is_named(run_dir: Path) -> None:
    run = RunDirectory.open(run_dir)
    manifest = run.read_manifest()
    models = manifest.rate_card["models"]
    del models["sim/strong"]
    run.write_manifest(manifest)
    with pytest.raises(UnknownPriceError, match="no price for sim/strong") as info:
        reprice(run_dir, price_date=date(2026, 3, 12))
    assert "a simulated model is priced only by a rate card" in str(info.value)


def test_two_repricings_in_the_same_second_do_not_collide(run_dir: Path) -> None:
    first = reprice(run_dir, price_date=date(2026, 3, 12))
    second = reprice(run_dir, price_date=date(2026, 3, 12))
    assert first != second and first.is_dir() and second.is_dir()
    assert not [p for p in (run_dir / REPRICINGS).iterdir() if p.name.startswith(".")]
