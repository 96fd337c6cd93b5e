"""A small run directory of known content, written through armbench.store, for the tests of the
verbs that read runs."""

from __future__ import annotations

from pathlib import Path

from armbench.core import CallRecord, TrialRecord, Usage
from armbench.pricing import RateCard
from armbench.store import Manifest, RunDirectory

CARD = {
    "models": {
        "anthropic/claude-test": {
            "input": 5.0,
            "output": 25.0,
            "cache_write_5m": 6.25,
            "cache_write_1h": 10.0,
            "cache_read": 0.5,
        }
    }
}


def trial(trial_id: str, status: str = "pass", **changes: object) -> TrialRecord:
    call = CallRecord(
        seq=1,
        role="solo",
        provider="anthropic",
        model="claude-test",
        model_id="claude-test-1",
        attempt=1,
        status="ok",
        usage=Usage(input=1000, output=200, cache_write_5m=500, cache_read=3000),
        latency_s=2.0,
        latency_simulated=False,
        started_at=1_790_000_000.0,
    )
    fields: dict[str, object] = {
        "trial_id": trial_id,
        "arm": "A",
        "arm_kind": "solo",
        "task": "t",
        "replicate": int(trial_id.rsplit("-", 1)[-1]),
        "seed": 7,
        "status": status,
        "stop_reason": "finished" if status != "infra_error" else "infra_error",
        "wall_s": 12.0,
        "iterations": 1,
        "simulated": False,
        "started_at": 1_790_000_000.0,
        "ended_at": 1_790_000_012.0,
        "calls": (call,) if status != "infra_error" else (),
        **changes,
    }
    return TrialRecord(**fields)  # type: ignore[arg-type]


def make_run(parent: Path, *, recorded: int = 3, planned: int = 3) -> RunDirectory:
    """A run of `planned` trials of arm A on task t, the first `recorded` of them in its
    database (all passes)."""
    run = RunDirectory.create(parent, "r")
    card = RateCard.from_mapping(CARD, source="test")
    run.write_manifest(
        Manifest(
            run_id=run.run_id,
            name="r",
            armbench_version="0",
            started_at="2026-12-01T00:00:00Z",
            config={
                "name": "r",
                "models": {"m": {"provider": "anthropic", "model": "claude-test"}},
            },
            config_hash="0" * 64,
            config_source="test",
            checkers={},
            python="3.11",
            host={},
            packs={},
            rate_card={"source": "test", "sha256": card.digest(), **card.to_mapping()},
            simulated=False,
            trials_planned=planned,
        )
    )
    with run.database() as db:
        for n in range(recorded):
            db.record(trial(f"A-t-{n}"))
    return run


def files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by relative path: what "nothing was written" compares."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}  # fmt: skip
