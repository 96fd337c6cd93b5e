"""`armbench import fep|hce`: published per-trial data as ordinary runs that `show`, `export`
and `reprice` read like native ones.

Fixtures under tests/data/importers are small files of our own making in both formats; the
published data under ../shared/datasets (or $ARMBENCH_SHARED_DATASETS) is used when present.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

from armbench.analysis.facts import load_run_facts
from armbench.analysis.records import RunRecords as LoadedRun
from armbench.analysis.records import load_run_records as load_run
from armbench.analysis.summary import summarize
from armbench.cli import app
from armbench.core import TrialRecord, Usage
from armbench.importers.common import classify_provider_failure
from armbench.pricing.costing import call_cost, trial_cost, trial_tokens

runner = CliRunner()
FIXTURES = Path(__file__).parents[1] / "data" / "importers"
FEP, HCE = FIXTURES / "fep", FIXTURES / "hce"
SHARED = Path(
    os.environ.get("ARMBENCH_SHARED_DATASETS")
    or Path(__file__).resolve().parents[3] / "shared" / "datasets"
)
PUBLISHED_FEP = SHARED / "free-executor-paradox"
PUBLISHED_HCE = SHARED / "hybrid-coding-eval-run07"


pytestmark = pytest.mark.usefixtures("no_network")


def _import(kind: str, *args: str | Path, out: Path) -> Path:
    result = runner.invoke(app, ["import", kind, *map(str, args), "--out", str(out)])
    assert result.exit_code == 0, result.output
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert run_dir.parent == out and run_dir.is_dir()
    return run_dir


def _by_id(run: LoadedRun) -> dict[str, TrialRecord]:
    return {t.trial_id: t for t in run.trials}


def _runs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir()) if out.exists() else []


# --- free-executor-paradox, fixtures ------------------------------------------------------


def test_fep_jsonl_rows_become_trials_with_their_ledger_and_verdicts(tmp_path: Path) -> None:
    run = load_run(_import("fep", FEP, out=tmp_path))
    trials = _by_id(run)
    assert len(trials) == 8
    # The API failure and its rerun share (A, T1, 0): two trials, replicates in file order.
    failed, rerun = trials["A.T1.r0"], trials["A.T1.r1"]
    assert (failed.status, failed.infra_class, failed.stop_reason) == (
        "infra_error",
        "quota",
        "model_error",
    )
    assert "credit balance" in (failed.error or "") and failed.calls == () and failed.gates == ()
    assert rerun.status == "pass" and rerun.extra["source_trial"] == 0
    assert trials["D.T1.r0"].infra_class == "rate_limit"
    # Verification failed: a fail with its published counts as the gate.
    refactor = trials["A.T2.r0"]
    assert refactor.status == "fail"
    (gate,) = refactor.gates
    assert (gate.name, gate.passed, gate.exit_code) == ("verify", False, 1)
    assert gate.counts == {
        "mypy_errors": 2,
        "ruff_errors": 0,
        "pytest_passed": 9,
        "pytest_failed": 1,
        "pytest_collection_errors": 0,
    }
    # Blocked is the model's own declaration: kept, status still from verification.
    assert trials["D.T3.r0"].status == "fail" and trials["D.T3.r0"].extra["blocked"] is True
    # Roles and token kinds as the data names them.
    c = trials["C.T1.r0"]
    assert [(x.role, x.provider, x.model) for x in c.calls] == [
        ("orchestrator", "anthropic", "claude-opus-4-7"),
        ("executor", "anthropic", "claude-haiku-4-5-20251001"),
    ]
    assert c.calls[1].usage == Usage(
        input=10000, output=2000, cache_write_5m=3000, cache_read=40000
    )
    assert [x.role for x in trials["A.T1.r1"].calls] == ["solo"]
    # The local executor was never measured: no $0 row, the gap named instead.
    b = trials["B.T1.r0"]
    assert [x.role for x in b.calls] == ["orchestrator"]
    assert b.extra["unmeasured_roles"] == ["executor"]
    assert {t.arm_kind for t in run.trials if t.arm in "BC"} == {"orchestrated"}
    # Costs reproduce the published ones with the run's own card.
    for t in run.trials:
        assert trial_cost(t, run.rate_card) == pytest.approx(
            t.extra["published_cost_usd"], abs=1e-6
        )


def test_fep_manifest_says_where_the_data_came_from_and_what_it_lacks(tmp_path: Path) -> None:
    run = load_run(_import("fep", FEP, out=tmp_path))
    m = run.manifest
    assert m.imported is not None and not m.simulated and m.trials_planned == 8
    assert m.imported["importer"] == "fep" and m.imported["source"] == str(FEP.resolve())
    assert sorted(m.imported["sha256"]) == ["A.jsonl", "B.jsonl", "C.jsonl", "D.jsonl"]
    assert len(m.imported["sha256"]["A.jsonl"]) == 64
    notes = " ".join(m.imported["notes"])
    assert "unknown, not $0" in notes and "per model per trial" in notes
    assert m.config["arms"]["B"] == {
        "kind": "orchestrated",
        "description": "Opus orchestrating a local Qwen executor (Ollama)",
        "orchestrator": "claude-opus-4-7",
        "executor": "qwen-local",
    }
    assert m.config["models"]["qwen-local"]["local"] is True
    opus = m.rate_card["models"]["anthropic/claude-opus-4-7"]
    assert opus == {"input": 15.0, "output": 75.0, "cache_write_5m": 18.75, "cache_read": 1.5}


def test_fep_csv_gives_the_same_trials_but_cannot_name_failures(tmp_path: Path) -> None:
    from_jsonl = _by_id(load_run(_import("fep", FEP, out=tmp_path / "j")))
    from_csv = load_run(_import("fep", FEP / "trials.csv", out=tmp_path / "c"))
    assert from_csv.manifest.imported is not None
    assert list(from_csv.manifest.imported["sha256"]) == ["trials.csv"]
    for t in from_csv.trials:
        twin = from_jsonl[t.trial_id]
        assert (t.status, trial_tokens(t), t.wall_s) == (
            twin.status,
            trial_tokens(twin),
            twin.wall_s,
        )
        assert [c.role for c in t.calls] == [c.role for c in twin.calls]
        assert trial_cost(t, from_csv.rate_card) == pytest.approx(t.extra["published_cost_usd"])
    infra = [t for t in from_csv.trials if t.status == "infra_error"]
    assert [t.trial_id for t in infra] == ["A.T1.r0", "D.T1.r0"]
    assert all(t.infra_class == "harness" for t in infra)
    assert all("does not name the cause" in (t.error or "") for t in infra)


def test_fep_takes_jsonl_files_one_by_one(tmp_path: Path) -> None:
    run = load_run(_import("fep", FEP / "B.jsonl", FEP / "D.jsonl", out=tmp_path))
    assert {t.arm for t in run.trials} == {"B", "D"} and len(run.trials) == 4
    assert run.manifest.imported is not None
    assert sorted(run.manifest.imported["sha256"]) == ["B.jsonl", "D.jsonl"]


def test_show_export_and_reprice_read_an_imported_run(tmp_path: Path) -> None:
    run_dir = _import("fep", FEP, out=tmp_path)
    shown = runner.invoke(app, ["show", str(run_dir)])
    assert shown.exit_code == 0, shown.output
    assert "IMPORTED from" in shown.stdout  # and the notes on what the data does not measure
    for arm in ("A", "B", "C", "D"):
        assert f"\n {arm} " in shown.stdout
    exported = runner.invoke(app, ["export", str(run_dir), "--format", "csv"])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 8
    row = next(r for r in rows if r["trial_id"] == "C.T1.r0")
    assert float(row["cost_usd"]) == pytest.approx(0.2715)
    assert json.loads(row["gates"])[0]["name"] == "verify"
    assert row["delegation_tax_usd"] == ""  # orchestrated, but the study never measured it
    card = tmp_path / "half.toml"
    card.write_text(
        '[models."anthropic/claude-opus-4-7"]\n'
        "input = 7.5\noutput = 37.5\ncache_write_5m = 9.375\ncache_read = 0.75\n",
        encoding="utf-8",
    )
    repriced = runner.invoke(app, ["reprice", str(run_dir), "--rate-card", str(card)])
    assert repriced.exit_code == 0, repriced.output
    costs = json.loads(
        (Path(repriced.stdout.strip().splitlines()[-1]) / "costs.json").read_text("utf-8")
    )
    by_trial = {r["trial_id"]: r for r in costs["trials"]}
    assert by_trial["A.T1.r1"]["cost_usd"] == pytest.approx(0.5025 / 2)
    # Haiku keeps the run's own price: C's executor share is unchanged.
    assert by_trial["C.T1.r0"]["cost_usd"] == pytest.approx(0.24375 / 2 + 0.02775)


def test_resume_refuses_an_imported_run(tmp_path: Path) -> None:
    run_dir = _import("fep", FEP, out=tmp_path)
    result = runner.invoke(app, ["resume", str(run_dir)])
    assert result.exit_code == 2
    assert "nothing to resume" in result.output


# --- hybrid-coding-eval, fixtures ---------------------------------------------------------


def test_hce_routes_become_routed_arms_with_a_local_and_a_cloud_ledger_row(
    tmp_path: Path,
) -> None:
    run = load_run(_import("hce", HCE / "raw.jsonl", out=tmp_path))
    trials = _by_id(run)
    assert len(trials) == 7  # 8 rows; one has no functional verdict
    assert {t.arm_kind for t in run.trials} == {"routed"}
    r1 = trials["R1.humaneval-plus_HumanEval_1.r0"]
    assert r1.task == "humaneval-plus/HumanEval_1" and r1.extra["category"] == "A"
    assert r1.status == "pass" and r1.gates[0].counts == {"tests_passed": 1, "tests_total": 1}
    (cloud,) = r1.calls
    assert (cloud.route, cloud.provider, cloud.model, cloud.model_id) == (
        "cloud",
        "openai",
        "gpt-5.5",
        "gpt-5.5-2026-04-23",
    )
    assert cloud.usage == Usage(input=200, output=500, reasoning=300)
    assert trial_cost(r1, run.rate_card) == pytest.approx((200 * 5 + 500 * 30) / 1e6)
    assert r1.wall_s == 5.0 and cloud.latency_s == 5.0
    # Hybrid: cached and reasoning tokens on the cloud side; latency split per call.
    r3 = trials["R3.real-dev_d1-auth-login.r0"]
    local, cloud = r3.calls
    assert (local.route, local.provider, local.model) == ("local", "ollama", "devstral:24b")
    assert local.usage == Usage(input=4000, output=800)
    assert cloud.usage == Usage(input=2000, output=1500, cache_read=1000, reasoning=200)
    assert (local.latency_s, cloud.latency_s) == (9.0, 5.0)
    assert trial_cost(r3, run.rate_card) == pytest.approx((2000 * 5 + 1000 * 0.5 + 1500 * 30) / 1e6)
    # No backends named: models inferred, said so; time split unknown.
    r4 = trials["R4.real-dev_d1-auth-login.r0"]
    assert [c.model_id for c in r4.calls] == ["", ""]
    assert r4.extra["models_inferred"] == ["local: devstral:24b", "cloud: gpt-5.5"]
    assert r4.extra["latency_split"] == "unknown" and r4.iterations == 0
    # A provider failure is an infra error; a harness error without a verdict is a fail.
    limited = trials["R1.humaneval-plus_HumanEval_2.r0"]
    assert (limited.status, limited.infra_class) == ("infra_error", "rate_limit")
    crashed = trials["R5.humaneval-plus_HumanEval_2.r0"]
    assert crashed.status == "fail" and "JSONDecodeError" in (crashed.error or "")


def test_hce_manifest_prices_with_the_study_table_and_lists_skipped_rows(tmp_path: Path) -> None:
    run = load_run(_import("hce", HCE, out=tmp_path))
    m = run.manifest
    assert m.imported is not None
    assert sorted(m.imported["sha256"]) == ["pricing_tables.json", "raw.jsonl"]
    (skipped,) = m.imported["skipped"]
    assert skipped["task"] == "custom-arch/queue-design" and skipped["llm_judged"] is True
    assert skipped["source"].endswith("raw.jsonl:7")
    assert m.rate_card["models"]["openai/gpt-5.5"] == {
        "input": 5.0,
        "output": 30.0,
        "cache_read": 0.5,
    }
    assert m.rate_card["models"]["ollama/devstral:24b"]["local"] is True
    assert "pricing_tables.json" in m.rate_card["provenance"]["openai/gpt-5.5"]
    notes = " ".join(m.imported["notes"])
    assert "time-priced at $0 unless repriced" in notes and "1 trial (R4)" in notes
    assert m.config["arms"]["R3"]["local"] == "devstral:24b"
    assert m.config["arms"]["R1"]["local"] is None
    assert m.config["tasks"]["real-dev/d1-auth-login"] == {"category": "D"}
    assert m.host == {"hardware_profile_ref": "Test Box|16GB|fixture"}
    assert len(summarize(load_run_facts(run.directory.path))) == 7
    # Local time priced by a card: only trials whose local time is known get a cost for it.
    card = tmp_path / "time.toml"
    card.write_text('[models."ollama/devstral:24b"]\nlocal = true\nper_hour = 3600.0\n', "utf-8")
    repriced = runner.invoke(app, ["reprice", str(run.directory.path), "--rate-card", str(card)])
    assert repriced.exit_code == 0, repriced.output
    exported = runner.invoke(app, ["export", str(run.directory.path), "--rate-card", str(card)])
    rows = {r["trial_id"]: r for r in map(json.loads, exported.stdout.splitlines())}
    assert rows["R2.humaneval-plus_HumanEval_1.r0"]["cost_usd"] == pytest.approx(8.0)
    assert rows["R4.real-dev_d1-auth-login.r0"]["cost_usd"] == pytest.approx(
        (2000 * 5 + 1000 * 30) / 1e6
    )


def test_hce_without_a_pricing_table_prices_cloud_models_by_genai_prices(tmp_path: Path) -> None:
    alone = tmp_path / "data"
    alone.mkdir()
    shutil.copy(HCE / "raw.jsonl", alone / "raw.jsonl")
    run = load_run(_import("hce", alone / "raw.jsonl", out=tmp_path / "out"))
    assert run.manifest.imported is not None
    assert list(run.manifest.imported["sha256"]) == ["raw.jsonl"]
    assert "genai-prices" in run.manifest.rate_card["provenance"]["openai/gpt-5.5"]
    assert any("No pricing_tables.json" in n for n in run.manifest.imported["notes"])


def test_hce_rows_without_a_split_count_on_the_side_their_backends_name(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (HCE / "raw.jsonl").read_text("utf-8").splitlines()]
    local_only, cloud_only = rows[1], rows[0]
    for row in (local_only, cloud_only):
        row["tokens"].update(local_prompt=0, local_completion=0, cloud_prompt=0, cloud_completion=0)
    (tmp_path / "raw.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in (local_only, cloud_only)), encoding="utf-8"
    )
    shutil.copy(HCE / "pricing_tables.json", tmp_path)
    run = load_run(_import("hce", tmp_path, out=tmp_path / "out"))
    routes = {t.arm: [(c.route, c.usage.input) for c in t.calls] for t in run.trials}
    assert routes == {"R1": [("cloud", 200)], "R2": [("local", 1000)]}


def test_import_verbs_have_help() -> None:
    for verb in (["import"], ["import", "fep"], ["import", "hce"]):
        result = runner.invoke(app, [*verb, "--help"])
        assert result.exit_code == 0, verb
        assert "Usage" in result.output


# --- bad input: exit 2, the place named, nothing written ----------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "text", "expected"),
    [
        ("fep", "A.jsonl", '{"arm": "E", "task": "T1"}\n', "A.jsonl:1: field 'arm'"),
        ("fep", "A.jsonl", '{"arm": "A", "task": "T1", "trial": 0}\n', "missing field 'success'"),
        ("fep", "A.jsonl", "not json\n", "A.jsonl:1: not valid JSON"),
        ("fep", "trials.csv", "arm,task\nA,T1\n", "trials.csv:1: missing columns"),
        ("hce", "raw.jsonl", '{"task_id": "t"}\n', "raw.jsonl:1: missing field 'routing'"),
    ],
)
def test_bad_input_exits_2_naming_the_place_and_writes_nothing(
    tmp_path: Path, kind: str, name: str, text: str, expected: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["import", kind, str(tmp_path / name), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert expected in result.output.replace("\n", "")
    assert _runs(out) == []


def test_a_bad_row_deep_in_the_file_names_its_line(tmp_path: Path) -> None:
    lines = (HCE / "raw.jsonl").read_text("utf-8").splitlines()
    row = json.loads(lines[4])
    row["quality"]["functional_pass"] = "yes"
    lines[4] = json.dumps(row)
    (tmp_path / "raw.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "hce", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "raw.jsonl:5: quality.functional_pass" in result.output.replace("\n", "")


def test_a_failure_while_writing_leaves_no_run_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from armbench.store.db import RunDatabase

    written: list[str] = []
    original = RunDatabase.record

    def record_then_fail(self: RunDatabase, trial: TrialRecord) -> None:
        if written:
            raise OSError("disk full")
        original(self, trial)
        written.append(trial.trial_id)

    monkeypatch.setattr(RunDatabase, "record", record_then_fail)
    result = runner.invoke(app, ["import", "fep", str(FEP), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "disk full" in result.output
    assert written and _runs(tmp_path) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "BadRequestError: Error code: 400 - {'message': 'Your credit balance is too low'}",
            "quota",
        ),
        ("RateLimitError: Error code: 429 - rate_limit_error", "rate_limit"),
        ("InternalServerError: Error code: 529 - {'type': 'overloaded_error'}", "overloaded"),
        ("AuthenticationError: Error code: 401 - invalid x-api-key", "auth"),
        ("APITimeoutError: Request timed out.", "timeout"),
        ("APIConnectionError: Connection error.", "connection"),
        ("InternalServerError: Error code: 500 - Internal server error", "server_error"),
        ("devminion_error: JSONDecodeError: Expecting value", None),
    ],
)
def test_provider_failures_are_read_from_error_texts(text: str, expected: str | None) -> None:
    assert classify_provider_failure(text) == expected


# --- the published data (skipped without ../shared/datasets) ------------------------------


def _published(folder: Path) -> Path:
    if not folder.is_dir():
        pytest.skip(f"published data not found at {folder} (set ARMBENCH_SHARED_DATASETS)")
    return folder


README_MEDIANS = {
    ("A", "T1"): 1.74,
    ("A", "T2"): 1.11,
    ("A", "T3"): 0.17,
    ("B", "T1"): 2.27,
    ("B", "T2"): 1.38,
    ("B", "T3"): 0.42,
    ("C", "T1"): 1.67,
    ("C", "T2"): 0.92,
    ("C", "T3"): 0.38,
    ("D", "T1"): 0.30,
    ("D", "T2"): 0.23,
    ("D", "T3"): 0.08,
}
"""free-executor-paradox's README: success-only median cost per arm and task."""


def test_published_fep_reproduces_the_study(tmp_path: Path) -> None:
    run = load_run(_import("fep", _published(PUBLISHED_FEP), out=tmp_path))
    assert len(run.trials) == 41
    (infra,) = [t for t in run.trials if t.status == "infra_error"]
    assert infra.infra_class == "quota" and "credit balance" in (infra.error or "")
    for t in run.trials:
        assert abs(trial_cost(t, run.rate_card) - t.extra["published_cost_usd"]) < 0.005
    cells = summarize(load_run_facts(run.directory.path))
    medians = {(c.arm, c.task): c.median_cost_usd for c in cells}
    assert {k: round(v or 0, 2) for k, v in medians.items()} == README_MEDIANS
    # The same medians straight from the data, so a change to both sides cannot agree by luck.
    assert medians[("A", "T1")] == pytest.approx(
        statistics.median(
            t.extra["published_cost_usd"]
            for t in run.trials
            if (t.arm, t.task, t.status) == ("A", "T1", "pass")
        ),
        abs=1e-6,
    )
    assert all(
        t.extra["unmeasured_roles"] == ["executor"] and len(t.calls) == 1
        for t in run.trials
        if t.arm == "B"
    )
    for verb in (["show"], ["export", "--format", "csv"]):
        result = runner.invoke(app, [verb[0], str(run.directory.path), *verb[1:]])
        assert result.exit_code == 0, result.output
    card = tmp_path / "opus-now.toml"
    card.write_text(
        '[models."anthropic/claude-opus-4-7"]\n'
        "input = 5.0\noutput = 25.0\ncache_write_5m = 6.25\ncache_read = 0.5\n",
        encoding="utf-8",
    )
    repriced = runner.invoke(app, ["reprice", str(run.directory.path), "--rate-card", str(card)])
    assert repriced.exit_code == 0, repriced.output


def test_published_fep_csv_agrees_with_its_jsonl(tmp_path: Path) -> None:
    folder = _published(PUBLISHED_FEP)
    from_csv = load_run(_import("fep", folder / "trials.csv", out=tmp_path / "c"))
    from_jsonl = _by_id(load_run(_import("fep", folder, out=tmp_path / "j")))
    assert len(from_csv.trials) == 41
    for t in from_csv.trials:
        twin = from_jsonl[t.trial_id]
        assert (t.status, trial_tokens(t)) == (twin.status, trial_tokens(twin))
        assert abs(trial_cost(t, from_csv.rate_card) - t.extra["published_cost_usd"]) < 0.005


def test_published_hce_imports_every_judged_row(tmp_path: Path) -> None:
    folder = _published(PUBLISHED_HCE)
    run = load_run(_import("hce", folder / "raw.jsonl", out=tmp_path))
    assert run.manifest.imported is not None
    statuses = [t.status for t in run.trials]
    assert (len(statuses), statuses.count("pass"), statuses.count("fail")) == (165, 72, 93)
    assert len(run.manifest.imported["skipped"]) == 85
    assert {t.arm for t in run.trials} == {"R1", "R2", "R3", "R4", "R5"}
    assert sum(trial_cost(t, run.rate_card) for t in run.trials) > 0
    local = [c for t in run.trials for c in t.calls if c.route == "local"]
    assert local and all(call_cost(c, run.rate_card) == 0 for c in local)
    for verb in (["show"], ["export", "--format", "csv"]):
        result = runner.invoke(app, [verb[0], str(run.directory.path), *verb[1:]])
        assert result.exit_code == 0, result.output


# The study's own table for run 07 (results/runs/07-v3-devstral-all-routes/decision_matrix.md
# and aggregate.json at commit 68dec0b, default pricing openai-gpt5.5): per category and route,
# its functional pass rate over 10 rows and its median cost per task. In categories A and B
# every row has an executed verdict, so armbench's grouped report must give the same numbers.
PUBLISHED_BY_CATEGORY = {
    ("A", "R1"): (10, 0.0119),
    ("A", "R2"): (9, 0.0),
    ("A", "R3"): (10, 0.0380),
    ("A", "R4"): (10, 0.0659),
    ("A", "R5"): (4, 0.2488),
    ("B", "R1"): (3, 0.1058),
    ("B", "R2"): (0, 0.0),
    ("B", "R3"): (3, 0.1369),
    ("B", "R4"): (3, 0.2025),
    ("B", "R5"): (0, 0.3902),
}


def test_published_hce_grouped_by_category_reproduces_the_studys_table(tmp_path: Path) -> None:
    folder = _published(PUBLISHED_HCE)
    run = load_run(_import("hce", folder / "raw.jsonl", out=tmp_path))
    out = tmp_path / "report.json"
    path = str(run.directory.path)
    result = runner.invoke(app, ["report", path, "--group-by", "category", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    groups = {(g["group"], g["arm"]): g for g in report["groups"]}
    for key, (passes, median_cost) in PUBLISHED_BY_CATEGORY.items():
        assert (groups[key]["n_judged"], groups[key]["n_pass"]) == (10, passes), key
        assert round(groups[key]["median_cost_usd"], 4) == median_cost, key
    # the 85 rows without an executed verdict are in no cell, and their spend is shown apart:
    # with the 165 judged rows' it is the study's whole spend (its total, $39.34)
    unjudged = report["unjudged"]
    judged_spend = sum(a["spent_usd"] for a in report["arms"])
    assert unjudged["rows"] == 85 and set(unjudged["by_group"]) == {"C", "D"}
    assert round(judged_spend + unjudged["cost_usd"], 1) == 39.3
    refused = runner.invoke(app, ["report", path, "--group-by", "language"])
    assert refused.exit_code == 2 and "fields the tasks have: category" in refused.output
