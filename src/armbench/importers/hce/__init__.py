"""hybrid-coding-eval (github.com/RunanywhereAI/hybrid-coding-eval): one routing sweep, a row
per task × route, with the tokens split between a local and a cloud model.

`raw.jsonl` rows: `task_id, category, route, tokens{prompt, completion, cached, reasoning,
local_prompt, local_completion, cloud_prompt, cloud_completion}, latency{wall_ms, per_call_ms},
quality{functional_pass, ...}, routing{total_calls, local_calls, cloud_calls,
per_call_backends}, error`; `pricing_tables.json` beside it holds the prices they were costed
with (`rates_per_m`: input, output and cache_read per model; `__local__` for local backends).

How rows become trials, and why — each module says its part:

- `armbench.importers.hce.rows`: reading and checking the rows (`HceRow`, `parse_row`);
- `armbench.importers.hce.models`: which model each side used, and the rate card pricing them
  (`Models`, `read_pricing`, `build_card`);
- `armbench.importers.hce.trials`: a row as a trial — routes as arms, status, tokens and
  latencies (`build_trial`);
- here: the run — which rows are imported, its config, the manifest's notes (`load`).

Rows with neither a verdict nor an error were scored only by an LLM judge or not at all:
armbench judges by executed checks, so they are not imported — the manifest lists each of them
with the reason.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from armbench.core import ROUTES as SIDES  # the study's ROUTES below are its R1…R5
from armbench.core import TrialRecord
from armbench.importers.common import ImportDataError, ImportedRun, Replicates, read_jsonl
from armbench.importers.hce.models import (
    LOCAL_KEY,
    LOCAL_PROVIDER,
    PRICING,
    Model,
    Models,
    build_card,
    cloud_provider,
    read_pricing,
    table_key,
)
from armbench.importers.hce.rows import RAW, TOKEN_KEYS, HceRow, backend_side, parse_row
from armbench.importers.hce.trials import build_trial

__all__ = [
    "LOCAL_KEY",
    "LOCAL_PROVIDER",
    "PRICING",
    "RAW",
    "ROUTES",
    "TOKEN_KEYS",
    "HceRow",
    "Model",
    "Models",
    "backend_side",
    "build_card",
    "build_trial",
    "cloud_provider",
    "load",
    "parse_row",
    "read_pricing",
    "table_key",
]

ROUTES = {
    "R1": "cloud only",
    "R2": "local only",
    "R3": "hybrid architect: a cloud planner, local steps, a cloud synthesis",
    "R4": "Minion: a cloud supervisor asks, a local worker answers",
    "R5": "DevMinion: a cloud runbook and reviews, a local worker implements each step",
}
"""The study's runners (runners/r1_cloud_only.py … r5_devminion.py)."""


def _counted(by_route: Counter[str]) -> str:
    """`3 trials (R4, R5)`."""
    n = sum(by_route.values())
    return f"{n} trial{'' if n == 1 else 's'} ({', '.join(sorted(by_route))})"


def _notes(
    rows: list[HceRow], skipped: list[dict[str, Any]], trials: list[TrialRecord], table_used: bool
) -> list[str]:
    said = [
        "Imported from hybrid-coding-eval's published per-row data, not run by armbench: "
        "verdicts are the study's own functional tests (quality.functional_pass, gate "
        "`functional`), not armbench's judge.",
        "Tokens are per route side per trial, not per call: each trial has at most one "
        "`local` and one `cloud` ledger row. cloud_fraction_calls is taken from the calls the "
        "study counted (extra.calls_by_route; none where it counted none), and a rate card "
        "with long-context tiers would misprice these sums.",
        "Cached and reasoning tokens are the cloud side's: cached tokens are priced as cloud "
        "cache reads, reasoning as part of output.",
    ]
    if any(c.route == "local" for t in trials for c in t.calls):
        said.append(
            "The local model is priced at $0 per token, as the study priced it, and its time "
            "is not priced: its cost is time-priced at $0 unless repriced with a card that "
            "prices its time (local = true with per_hour, or watts and usd_per_kwh)."
        )
    if not table_used:
        said.append(
            f"No {PRICING} was found beside {RAW}: cloud prices are genai-prices' as of the "
            "sweep's first day, not necessarily those the study used."
        )
    unknown = Counter(t.arm for t in trials if t.extra.get("latency_split") == "unknown")
    if unknown:
        said.append(
            f"No split of time between the local and the cloud model in {_counted(unknown)}: "
            "their ledger rows carry no latency (0), so a card pricing local time prices none "
            "of theirs."
        )
    inferred = Counter(t.arm for t in trials if "models_inferred" in t.extra)
    if inferred:
        said.append(
            f"No model named for a side they used in {_counted(inferred)}: that side's tokens "
            "are attributed to the only model the file names on it (ledger model_id left "
            "empty, extra.models_inferred)."
        )
    no_calls = Counter(t.arm for t in trials if t.iterations == 0 and t.calls)
    if no_calls:
        said.append(
            f"Tokens but no calls counted (routing.total_calls = 0) in {_counted(no_calls)}: "
            "their iterations read 0."
        )
    if skipped:
        judged = sum(1 for s in skipped if s["llm_judged"])
        said.append(
            "Rows without a functional verdict (quality.functional_pass null) are not imported, "
            f"since armbench judges by executed checks: {len(skipped)} of {len(rows)} rows "
            f"({judged} scored only by an LLM judge, {len(skipped) - judged} not scored), "
            "listed in the manifest's imported.skipped."
        )
    return said


def _paths(path: Path) -> tuple[Path, Path]:
    raw = path / RAW if path.is_dir() else path
    if not raw.is_file():
        raise ImportDataError(f"{raw}: no such file")
    return raw, raw.parent / PRICING


def load(path: Path) -> ImportedRun:
    """Read and check a raw.jsonl (and the pricing_tables.json beside it); nothing is written.
    Raises ImportDataError naming the file, the line and the field of the first problem."""
    raw, pricing = _paths(path.resolve())
    rows = [parse_row(row, f"{raw}:{n}") for n, row in read_jsonl(raw)]
    if not rows:
        raise ImportDataError(f"{raw}: no rows")
    table = read_pricing(pricing) if pricing.is_file() else None
    models = Models(rows, table)
    replicates = Replicates()
    trials: list[TrialRecord] = []
    priced: set[Model] = set()
    skipped: list[dict[str, Any]] = []
    unjudged_calls: list[tuple[dict[str, Any], TrialRecord]] = []
    for row in rows:
        if row.functional_pass is None and row.error is None:
            # Not judged, but paid for: its calls are priced with the run's card below.
            record, used = build_trial(row, 0, models)
            priced |= used
            entry = {
                "source": row.at,
                "task": row.task,
                "route": row.route,
                "category": row.category,
                "llm_judged": bool(row.judged),
                "reason": "no functional verdict (quality.functional_pass is null)",
            }
            skipped.append(entry)
            unjudged_calls.append((entry, record))
            continue
        trial, used = build_trial(row, replicates.next(row.route, row.task), models)
        trials.append(trial)
        priced |= used
    starts = [r.started_at for r in rows if r.started_at]
    at = datetime.fromtimestamp(min(starts), UTC) if starts else datetime.now(UTC)
    card, provenance = build_card(priced, table, pricing, at)
    for entry, record in unjudged_calls:
        entry["cost_usd"] = sum(card.cost(f"{c.provider}/{c.model}", c.usage) for c in record.calls)
    hosts = sorted({r.host for r in rows if r.host})
    return ImportedRun(
        importer="hce",
        name="hybrid-coding-eval",
        source=path.resolve(),
        files=(raw, pricing) if table is not None else (raw,),
        config=_config(rows, trials),
        card=card,
        provenance=provenance,
        trials=tuple(trials),
        notes=tuple(_notes(rows, skipped, trials, table is not None)),
        host={"hardware_profile_ref": hosts[0] if len(hosts) == 1 else hosts} if hosts else {},
        details={"skipped": skipped},
    )


def _config(rows: list[HceRow], trials: list[TrialRecord]) -> dict[str, Any]:
    models: dict[str, dict[str, Any]] = {}
    arms: dict[str, dict[str, Any]] = {}
    for trial in trials:
        arm = arms.setdefault(
            trial.arm,
            {"kind": "routed", "description": ROUTES.get(trial.arm, f"route {trial.arm}")},
        )
        for call in trial.calls:
            assert call.route is not None
            models[call.model] = {
                "provider": call.provider,
                "model": call.model,
                "local": call.route == "local",
            }
            sides = arm.setdefault(call.route, [])
            if call.model not in sides:
                sides.append(call.model)
    for arm in arms.values():
        for side in SIDES:
            names = arm.get(side)
            arm[side] = None if not names else names[0] if len(names) == 1 else names
    categories: dict[str, list[str]] = {}
    for row in rows:
        bench = row.task.split("/", 1)[0]
        if bench not in categories.setdefault(row.category, []):
            categories[row.category].append(bench)
    return {
        "name": "hybrid-coding-eval",
        "pack": None,
        "tasks": {r.task: {"category": r.category} for r in rows},
        "categories": categories,
        "models": dict(sorted(models.items())),
        "arms": dict(sorted(arms.items())),
    }
