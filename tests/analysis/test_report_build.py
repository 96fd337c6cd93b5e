"""Tests for armbench.analysis.report: a report's numbers from a run whose answers are known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from armbench.analysis import stats
from armbench.analysis.facts import load_facts, prompt_growth
from armbench.analysis.records import load_run_records as load_run
from armbench.analysis.report import build_report
from armbench.cli import app
from armbench.core import CallRecord, TrialRecord, Usage
from armbench.pricing.costing import trial_cost
from armbench.pricing.ratecard import RateCard
from armbench.store.rundir import Manifest, RunDirectory

CARD = """\
[models."anthropic/big"]
input = 3.0
output = 15.0
cache_write_5m = 3.75
cache_write_1h = 6.0
cache_read = 0.3

[[models."anthropic/big".tiers]]
above_input_tokens = 200000
input = 6.0
output = 22.5
cache_read = 0.6

[models."openai/small"]
local = true
per_hour = 0.36

[models."anthropic/mid"]
input = 1.0
output = 5.0
cache_write_5m = 1.25
cache_write_1h = 2.0
cache_read = 0.1
"""


def _call(seq: int, role: str, model: str, usage: Usage, **kw: object) -> CallRecord:
    provider, name = model.split("/")
    return CallRecord(
        seq=seq,
        role=role,  # type: ignore[arg-type]
        provider=provider,
        model=name,
        model_id=name,
        attempt=1,
        status="ok",
        usage=usage,
        latency_s=2.0 + seq,
        latency_simulated=False,
        started_at=1_790_000_000.0 + seq,
        **kw,  # type: ignore[arg-type]
    )


def _usage(prompt: int, output: int = 500) -> Usage:
    return Usage(input=prompt // 10, cache_read=prompt - prompt // 10, output=output)


def _trial(
    arm: str, kind: str, rep: int, status: str, calls: list[CallRecord], **kw: object
) -> TrialRecord:
    return TrialRecord(
        trial_id=f"{arm}-t-{rep}",
        arm=arm,
        arm_kind=kind,
        task="t",
        replicate=rep,
        seed=100 + rep,
        status=status,  # type: ignore[arg-type]
        stop_reason="finished" if status != "infra_error" else "infra_error",  # type: ignore[arg-type]
        wall_s=10.0 * (rep + 1) + len(arm),
        iterations=len(calls),
        simulated=False,
        started_at=1_790_000_000.0,
        ended_at=1_790_000_100.0,
        calls=tuple(calls),
        **kw,  # type: ignore[arg-type]
    )


def _trials() -> list[TrialRecord]:
    trials = []
    for rep in range(8):
        # solo on the big model: prompts that cross the 200k tier on the later calls
        solo = [_call(i, "solo", "anthropic/big", _usage(60_000 * (i + 1) + rep)) for i in range(4)]
        trials.append(_trial("solo", "solo", rep, "pass" if rep != 3 else "fail", solo))
        orch = [
            _call(1, "orchestrator", "anthropic/big", _usage(20_000 + rep)),
            _call(2, "executor", "anthropic/mid", _usage(8_000)),
            _call(3, "orchestrator", "anthropic/big", _usage(90_000 + rep * 1000)),
        ]
        tax = {"model": "anthropic/big", "tokens": {"cache_read": 4_000 + rep}, "estimated": False}
        status = "infra_error" if rep == 0 else "pass"
        trials.append(
            _trial(
                "orch",
                "orchestrated",
                rep,
                status,
                orch,
                infra_class="rate_limit" if rep == 0 else None,
                extra={"delegation_tax": tax},
            )
        )
        routed = [
            _call(1, "solo", "openai/small", _usage(3_000), route="local"),
            _call(2, "solo", "anthropic/mid", _usage(9_000), route="cloud"),
            _call(3, "solo", "openai/small", _usage(4_000), route="local"),
        ]
        trials.append(_trial("routed", "routed", rep, "pass" if rep % 2 else "fail", routed))
    return trials


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = RunDirectory.create(tmp_path / "runs", "r")
    card = RateCard.load(_write(tmp_path / "c.toml", CARD))
    run.write_manifest(
        Manifest(
            run_id=run.run_id,
            name="r",
            armbench_version="0",
            started_at="2026-11-01T00:00:00Z",
            config={"name": "r"},
            config_hash="0" * 64,
            config_source="test",
            checkers={},
            python="3.11",
            host={},
            packs={},
            rate_card={"source": "test", "sha256": card.digest(), **card.to_mapping()},
            simulated=False,
            trials_planned=24,
        )
    )
    with run.database() as db:
        for trial in _trials():
            db.record(trial)
    return run.path


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_bulk_facts_cost_exactly_what_the_ledger_rows_cost(run_dir: Path) -> None:
    run = load_run(run_dir)
    facts = {f.trial_id: f for f in load_facts(run.directory, run.rate_card)}
    assert len(facts) == len(run.trials) == 24
    for trial in run.trials:
        assert facts[trial.trial_id].cost_usd == pytest.approx(trial_cost(trial, run.rate_card))
        assert facts[trial.trial_id].n_calls == len(trial.calls)
    # the solo trials' later calls crossed the tier: a flat price would have cost less
    solo = next(t for t in run.trials if t.arm == "solo")
    flat = sum(
        c.usage.input * 3 + c.usage.cache_read * 0.3 + c.usage.output * 15 for c in solo.calls
    )
    assert facts[solo.trial_id].cost_usd > flat / 1e6


def test_cells_separate_infra_errors_and_count_failed_attempts(run_dir: Path) -> None:
    report = build_report(run_dir)
    cells = {c.arm: c for c in report.cells}
    orch = cells["orch"]
    assert (orch.n, orch.n_pass, orch.n_infra, orch.infra_classes) == (8, 7, 1, {"rate_limit": 1})
    assert orch.pass_rate == 1.0 and orch.pass_rate_itt == pytest.approx(7 / 8)
    assert orch.pass_rate_ci is not None and orch.pass_rate_ci[1] == pytest.approx(1.0)
    # over judged trials: the infra error (replicate 0) says nothing about the arm
    assert orch.delegation_tax_tokens == pytest.approx(sum(4_000 + r for r in range(1, 8)) / 7)
    assert orch.cloud_fraction_calls is None and cells["solo"].delegation_tax_usd is None
    routed = cells["routed"]
    assert routed.cloud_fraction_calls == pytest.approx(1 / 3)
    assert routed.cloud_fraction_tokens == pytest.approx(9_500 / (3_500 + 9_500 + 4_500))
    # expected cost per success: every judged attempt's cost over the passes
    run = load_run(run_dir)
    costs = [trial_cost(t, run.rate_card) for t in run.trials if t.arm == "routed"]
    assert routed.expected_cost_per_success == pytest.approx(sum(costs) / 4)
    assert routed.success_median.iterations == 3
    solo = cells["solo"]
    assert solo.n_pass == 7 and solo.success_median_ci.cost_usd is not None
    assert solo.interval_note is None
    low, high = solo.success_median_ci.cost_usd
    assert low <= (solo.success_median.cost_usd or 0) <= high
    assert any("infra error" in note for note in report.notes)


def test_spend_counts_infra_errors_beside_judged_trials_and_rates_are_tested(
    run_dir: Path,
) -> None:
    report = build_report(run_dir)
    run = load_run(run_dir)
    orch = next(a for a in report.arms if a.arm == "orch")
    trials = [t for t in run.trials if t.arm == "orch"]
    assert orch.spent_usd == pytest.approx(sum(trial_cost(t, run.rate_card) for t in trials))
    judged = [t for t in trials if t.status != "infra_error"]
    assert orch.spent_judged_usd == pytest.approx(sum(trial_cost(t, run.rate_card) for t in judged))
    assert orch.spent_usd > orch.spent_judged_usd  # the rate-limited trial's calls were paid
    assert (orch.n_infra, orch.infra_rate) == (1, 1 / 8)
    assert orch.infra_rate_ci[0] < 1 / 8 < orch.infra_rate_ci[1]
    # one infra error in 24 trials, all in one arm of three: not evidence the arms differ
    assert report.infra_rates_p is not None and report.infra_rates_p > 0.05


def test_comparisons_are_holm_adjusted_per_family_and_paired_by_seed(run_dir: Path) -> None:
    report = build_report(run_dir)
    cost = [c for c in report.comparisons if c.metric == "cost_usd"]
    assert {(c.a, c.b) for c in cost} == {("orch", "routed"), ("orch", "solo"), ("routed", "solo")}
    for c in report.comparisons:
        base = c.p_exact if c.p_exact is not None else c.p_asymptotic
        assert c.p_holm is None or (base is not None and c.p_holm >= base)
    solo_vs_routed = next(c for c in cost if (c.a, c.b) == ("routed", "solo"))
    # every routed pass is far cheaper than every solo pass: delta -1, exact p = 2/C(11,4)
    assert solo_vs_routed.cliffs_delta == -1
    assert solo_vs_routed.p_exact_method == "permutation"  # the routed passes tie
    assert solo_vs_routed.p_exact == pytest.approx(2 / 330)
    assert solo_vs_routed.paired is not None and solo_vs_routed.paired.method == "wilcoxon"
    success = next(
        c for c in report.comparisons if c.metric == "success" and (c.a, c.b) == ("routed", "solo")
    )
    assert success.paired is not None and success.paired.method == "mcnemar-exact"
    # the paired p-values are Holm-adjusted within their family too
    for metric in ("cost_usd", "attempt_cost", "success"):
        family = [c.paired for c in report.comparisons if c.metric == metric and c.paired]
        expected = stats.holm([t.p for t in family])
        assert [t.p_holm for t in family] == expected
    # per-attempt cost is compared over every judged trial, failed ones included
    attempt = next(
        c
        for c in report.comparisons
        if c.metric == "attempt_cost" and (c.a, c.b) == ("routed", "solo")
    )
    assert (attempt.n_a, attempt.n_b) == (8, 8)
    # and expected cost per success has a test of its own, one Holm family per task
    per_success = {(t.a, t.b): t for t in report.cost_per_success_tests}
    assert set(per_success) == {("orch", "routed"), ("orch", "solo"), ("routed", "solo")}
    assert all(t.method == "monte carlo permutation" for t in per_success.values())
    assert per_success[("routed", "solo")].p_holm is not None


def test_pareto_and_decision(run_dir: Path) -> None:
    report = build_report(run_dir)
    wall = {p.arm: p for p in report.pareto if p.axes == "cost_wall"}
    assert wall["routed"].on_frontier
    for point in report.pareto:
        assert point.on_frontier == all(
            d.support < report.dominance_support for d in point.dominated_by
        )
    (decision,) = report.decisions
    # orch passed all 7 judged trials; solo 7 of 8 and routed 4 of 8 are not shown within
    # ten points of it at these sizes: orch is the only candidate
    assert (decision.best_arm, decision.best_pass_rate) == ("orch", 1.0)
    assert decision.candidates == ["orch"] and decision.arm == "orch"
    assert {t.arm: t.non_inferior for t in decision.tests} == {"routed": False, "solo": False}
    cells = {c.arm: c for c in report.cells}
    assert decision.expected_cost_per_success == cells["orch"].expected_cost_per_success
    # with a margin of 60 points solo (7/8) is shown within it, routed (4/8) is not
    wide = build_report(run_dir, margin=0.6).decisions[0]
    assert wide.candidates == ["orch", "solo"] and wide.margin == 0.6
    cheaper = min(("orch", "solo"), key=lambda a: cells[a].expected_cost_per_success or 0.0)
    assert wide.arm == cheaper and wide.cheapest_support is not None


def test_report_cli_writes_json_with_the_contract_fields(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["report", str(run_dir), "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    cell_keys = {
        "arm", "task", "n", "n_pass", "n_fail", "n_limit", "n_infra", "pass_rate",
        "pass_rate_itt", "pass_rate_ci", "success_median", "success_median_ci",
        "expected_cost_per_success",
    }  # fmt: skip
    assert cell_keys <= set(data["cells"][0])
    assert set(data["cells"][0]["success_median"]) == {"cost_usd", "wall_s", "iterations"}
    comparison_keys = {
        "task", "metric", "a", "b", "n_a", "n_b", "u", "p_exact", "p_asymptotic", "p_holm",
        "cliffs_delta",
    }  # fmt: skip
    assert comparison_keys <= set(data["comparisons"][0])
    assert "orch" in result.output
    assert data["infra_classes"] == {"rate_limit": 1}


def test_report_with_an_unpriced_model_fails_cleanly(run_dir: Path, tmp_path: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    del manifest["rate_card"]["models"]["anthropic/mid"]
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "never.json"
    result = CliRunner().invoke(app, ["report", str(run_dir), "--json", str(out)])
    assert result.exit_code == 2
    assert "anthropic/mid" in result.output
    assert not out.exists()


def test_prompt_growth_follows_each_role(run_dir: Path) -> None:
    rows = prompt_growth(run_dir)
    solo = [r for r in rows if r["arm"] == "solo" and r["role"] == "solo"]
    assert [r["k"] for r in solo] == [1, 2, 3, 4]
    assert solo[0]["prompt"] < solo[-1]["prompt"]
    executor = [r for r in rows if r["role"] == "executor"]
    assert [r["k"] for r in executor] == [1] and executor[0]["prompt"] == 8_000
