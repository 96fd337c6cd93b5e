"""`armbench export --format parquet`: the same rows as JSON lines, typed, nested, and written
whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from armbench.analysis.export import call_rows, call_schema, trial_rows, trial_schema
from armbench.analysis.records import load_run_records as load_run
from armbench.cli import app
from armbench.core import CallRecord, GateResult, TrialRecord, Usage
from armbench.pricing.ratecard import RateCard
from armbench.store.rundir import Manifest, RunDirectory

runner = CliRunner()

CARD = {
    "models": {
        "sim/strong": {
            "input": 5.0,
            "output": 25.0,
            "cache_write_5m": 6.25,
            "cache_write_1h": 10.0,
            "cache_read": 0.5,
        },
        "sim/cheap": {
            "input": 1.0,
            "output": 5.0,
            "cache_write_5m": 1.25,
            "cache_write_1h": 2.0,
            "cache_read": 0.1,
        },
        "sim/local": {"local": True, "per_hour": 0.5},
    }
}
ARMS: dict[str, Any] = {
    "solo": {"kind": "solo", "model": "strong"},
    "orch": {"kind": "orchestrated", "orchestrator": "strong", "executor": "cheap"},
    "routed": {
        "kind": "routed",
        "local": "local",
        "cloud": "strong",
        "strategy": {"name": "classifier", "classifier": "cheap"},
    },
    "shot": {"kind": "single_shot", "model": "cheap", "contract": False},
    "shot-c": {"kind": "single_shot", "model": "cheap", "contract": True},
}
BIG = Usage(input=20_000, output=3_000, cache_write_5m=4_000, cache_read=230_000, reasoning=800)
SMALL = Usage(input=1_500, output=700, cache_write_1h=2_000, cache_read=40_000)


def _call(seq: int, role: Any, model: str, usage: Usage, **more: Any) -> CallRecord:
    return CallRecord(
        seq=seq,
        role=role,
        provider="sim",
        model=model,
        model_id=f"sim-{model}" if more.get("status", "ok") == "ok" else "",
        attempt=more.pop("attempt", 1),
        status=more.pop("status", "ok"),
        usage=usage,
        latency_s=1.5 * seq,
        latency_simulated=True,
        started_at=1_790_000_000.0 + seq,
        request_id=more.pop("request_id", f"req-{seq}"),
        **more,
    )


def _gate(name: str, ok: bool, **counts: int) -> GateResult:
    return GateResult(
        name=name,
        kind=name,
        passed=ok,
        exit_code=0 if ok else 1,
        counts=counts,
        duration_s=0.8125,
    )


def _trial(trial_id: str, arm: str, calls: tuple[CallRecord, ...], **more: Any) -> TrialRecord:
    return TrialRecord(
        **{
            "trial_id": trial_id,
            "arm": arm,
            "arm_kind": ARMS[arm]["kind"],
            "task": "feature",
            "replicate": 0,
            "seed": 7,
            "status": "pass",
            "stop_reason": "finished",
            "wall_s": 30.1234,
            "iterations": len(calls),
            "simulated": True,
            "started_at": 1_790_000_000.0,
            "ended_at": 1_790_000_030.0,
            "calls": calls,
            **more,
        }
    )


def _make_run(parent: Path, trials: list[TrialRecord], card: dict[str, Any] = CARD) -> Path:
    run = RunDirectory.create(parent, "fmt")
    run.write_manifest(
        Manifest(
            run_id=run.run_id,
            name="fmt",
            armbench_version="0.1.0",
            started_at="2026-11-01T00:00:00Z",
            config={"name": "fmt", "arms": ARMS},
            config_hash="0" * 64,
            config_source="fmt.yaml",
            checkers={},
            python="3.11",
            host={},
            packs={},
            rate_card={"source": "test", **RateCard.from_mapping(card, source="t").to_mapping()},
            simulated=True,
            trials_planned=len(trials),
        )
    )
    with run.database() as db:
        for trial in trials:
            db.record(trial)
    return run.path


TRIALS = [
    _trial(
        "solo-0",
        "solo",
        (_call(1, "solo", "strong", SMALL), _call(2, "solo", "strong", BIG)),
        gates=(_gate("mypy", True, errors=0), _gate("pytest", True, passed=12, failed=0)),
    ),
    _trial(
        "orch-0",
        "orch",
        (
            _call(1, "orchestrator", "strong", SMALL),
            _call(2, "executor", "cheap", BIG),
            _call(3, "orchestrator", "strong", BIG),
        ),
        status="fail",
        gates=(_gate("ruff", False, errors=3),),
        extra={
            "delegation_tax": {
                "model": "sim/strong",
                "tokens": {
                    "input": 300,
                    "cache_write_5m": 0,
                    "cache_write_1h": 0,
                    "cache_read": 900,
                },
                "estimated": False,
            }
        },
    ),
    _trial(
        "routed-0",
        "routed",
        (
            _call(1, "router", "cheap", SMALL),
            _call(2, "solo", "local", BIG, route="local"),
            _call(3, "solo", "strong", SMALL, route="cloud"),
            _call(
                4,
                "solo",
                "strong",
                Usage(),
                route="cloud",
                status="error",
                error_class="overloaded",
                error="529",
                request_id=None,
            ),
        ),
        status="infra_error",
        stop_reason="model_error",
        infra_class="overloaded",
        error="529 overloaded after retries",
    ),
    _trial(
        "shot-0",
        "shot",
        (_call(1, "single_shot", "cheap", SMALL),),
        extra={"contract": False, "format_score": 0, "execution_score": 0},
        status="fail",
    ),
    _trial(
        "shot-c-0",
        "shot-c",
        (_call(1, "single_shot", "cheap", SMALL),),
        extra={"contract": True, "format_score": 1, "execution_score": 1},
    ),
    _trial("limit-0", "solo", (), status="limit", stop_reason="wall_clock", iterations=0),
]


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return _make_run(tmp_path / "runs", TRIALS)


def _export(run: Path, *args: str) -> Any:
    result = runner.invoke(app, ["export", str(run), *args])
    assert result.exit_code == 0, result.output
    return result


def _jsonl(run: Path, *args: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _export(run, *args).stdout.splitlines()]


def _parquet(run: Path, out: Path, *args: str) -> pa.Table:
    _export(run, "--format", "parquet", "-o", str(out), *args)
    return pq.read_table(out)


def _as_json_row(row: dict[str, Any]) -> dict[str, Any]:
    """A Parquet trial row in the JSON export's shape: unused roles (null struct fields)
    dropped, gate count maps (lists of pairs) back to objects."""
    row = dict(row)
    for column in ("tokens_by_role", "cost_by_role"):
        row[column] = {role: v for role, v in row[column].items() if v is not None}
    row["gates"] = [{**g, "counts": dict(g["counts"])} for g in row["gates"]]
    return row


def test_trial_parquet_holds_the_jsonl_rows(run_dir: Path, tmp_path: Path) -> None:
    table = _parquet(run_dir, tmp_path / "trials.parquet")
    assert table.schema.equals(trial_schema())
    expected = _jsonl(run_dir)
    got = [_as_json_row(r) for r in table.to_pylist()]
    assert len(got) == len(expected) == len(TRIALS)
    for mine, theirs in zip(got, expected, strict=True):
        assert mine == theirs, mine["trial_id"]

    by_id = {r["trial_id"]: r for r in table.to_pylist()}
    orch = by_id["orch-0"]
    assert orch["tokens"]["cache_read"] == 40_000 + 230_000 + 230_000
    assert orch["tokens_by_role"]["executor"] == BIG.as_dict()
    assert orch["tokens_by_role"]["solo"] is None  # unused role: null, not zeros
    assert orch["cost_by_role"]["executor"] == pytest.approx(
        (20_000 * 1 + 3_000 * 5 + 4_000 * 1.25 + 230_000 * 0.1) / 1e6
    )
    assert orch["delegation_tax_tokens"] == 1_200
    assert orch["gates"] == [
        {
            "name": "ruff",
            "passed": False,
            "exit_code": 1,
            "counts": [("errors", 3)],
            "duration_s": 0.812,
        }
    ]
    routed = by_id["routed-0"]
    assert routed["status"] == "infra_error" and routed["infra_class"] == "overloaded"
    assert routed["cloud_fraction_calls"] == 0.5
    assert set(k for k, v in routed["tokens_by_role"].items() if v) == {"router", "solo"}
    assert by_id["shot-0"]["contract"] is False
    assert by_id["shot-c-0"]["contract_effect"] == "execution_gain"
    assert by_id["limit-0"]["n_calls"] == 0 and by_id["limit-0"]["cost_usd"] == 0.0


def test_call_parquet_holds_the_jsonl_rows(run_dir: Path, tmp_path: Path) -> None:
    table = _parquet(run_dir, tmp_path / "calls.parquet", "--calls")
    assert table.schema.equals(call_schema())
    expected = _jsonl(run_dir, "--calls")
    assert table.to_pylist() == expected
    assert len(expected) == sum(len(t.calls) for t in TRIALS)
    roles = table.column("role").to_pylist()
    assert roles.count("orchestrator") == 2 and roles.count("router") == 1
    assert table.column("route").to_pylist().count("cloud") == 2


def test_the_schemas_name_every_exported_field_in_order(run_dir: Path) -> None:
    """A field added to the rows but not to the schema would silently vanish from Parquet."""
    run = load_run(run_dir)
    assert list(next(trial_rows(run))) == trial_schema().names
    assert list(next(call_rows(run))) == call_schema().names


def test_parquet_needs_an_output_file(run_dir: Path) -> None:
    result = runner.invoke(app, ["export", str(run_dir), "--format", "parquet"])
    assert result.exit_code == 2
    assert "-o/--output" in result.output


def test_an_empty_run_keeps_every_column_and_type(tmp_path: Path) -> None:
    run = _make_run(tmp_path / "runs", [])
    trials = _parquet(run, tmp_path / "t.parquet")
    calls = _parquet(run, tmp_path / "c.parquet", "--calls")
    assert trials.num_rows == calls.num_rows == 0
    assert trials.schema.equals(trial_schema())
    assert calls.schema.equals(call_schema())
    assert trials.schema.field("contract_effect").type == pa.string()
    assert trials.schema.field("tokens_by_role").type.field("executor").type.num_fields == 6
    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"t.{fmt}"
        _export(run, "--format", fmt, "-o", str(out))
        assert out.read_text() == ""


def test_a_column_null_in_every_row_keeps_its_type(tmp_path: Path) -> None:
    run = _make_run(tmp_path / "runs", [TRIALS[0]])
    table = _parquet(run, tmp_path / "t.parquet")
    assert table.column("cloud_fraction_calls").null_count == 1
    assert table.schema.equals(trial_schema())


def test_a_failed_export_leaves_nothing_half_written(tmp_path: Path) -> None:
    """`sim/local` has no price: the export fails at the second trial, after the first."""
    card = {"models": {k: v for k, v in CARD["models"].items() if k != "sim/local"}}
    run = _make_run(tmp_path / "runs", TRIALS, card)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    kept = out_dir / "kept.parquet"
    kept.write_bytes(b"an earlier export")
    for fmt in ("parquet", "csv"):
        result = runner.invoke(
            app, ["export", str(run), "--format", fmt, "-o", str(out_dir / f"new.{fmt}")]
        )
        assert result.exit_code == 2, result.output
        assert "sim/local" in result.output
    result = runner.invoke(app, ["export", str(run), "--format", "parquet", "-o", str(kept)])
    assert result.exit_code == 2
    assert sorted(p.name for p in out_dir.iterdir()) == ["kept.parquet"]
    assert kept.read_bytes() == b"an earlier export"


def test_csv_to_a_file_is_what_stdout_gets(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "calls.csv"
    _export(run_dir, "--format", "csv", "--calls", "-o", str(out))
    assert out.read_text() == _export(run_dir, "--format", "csv", "--calls").stdout
