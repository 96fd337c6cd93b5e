"""hybrid-coding-eval (github.com/RunanywhereAI/hybrid-coding-eval): one routing sweep, a row
per task × route, with the tokens split between a local and a cloud model.

`raw.jsonl` rows: `task_id, category, route, tokens{prompt, completion, cached, reasoning,
local_prompt, local_completion, cloud_prompt, cloud_completion}, latency{wall_ms, per_call_ms},
quality{functional_pass, ...}, routing{total_calls, local_calls, cloud_calls,
per_call_backends}, error`; `pricing_tables.json` beside it holds the prices they were costed
with (`rates_per_m`: input, output and cache_read per model; `__local__` for local backends).

How rows become trials, and why:

- A route (R1, R2, …) is an arm of kind `routed`; the task is `task_id`, its category kept in
  `extra` and in the config's task table.
- Status: a row whose `error` names a provider failure is `infra_error` with the class read
  from the text; otherwise `quality.functional_pass` decides pass or fail, and a row with an
  error but no verdict is a fail. Rows with neither a verdict nor an error were scored only by
  an LLM judge or not at all: armbench judges by executed checks, so they are not imported —
  the manifest lists each of them with the reason.
- Tokens: one ledger row per route side per trial (route `local`, `cloud`) — the data has
  per-side totals, not calls. `cached` and `reasoning` are the cloud side's: only the cloud
  API reports them, and the study's cost formula prices cached tokens at the cloud model's
  cache-read rate. Cached tokens are part of the prompt, so the cloud row's `input` is
  `cloud_prompt - cached`; reasoning is part of output and never priced twice.
- Models come from the row (`cloud_model_id`, `local_model_id`), else from the backends its
  calls name (`planner/cloud/gpt-5.5`, `devstral:24b`), else — for rows that name none — the
  only model the file names on that side, marked as inferred. A `name:tag` model is local
  (Ollama's convention, as the study's own pricing assumes).
- Latency: per side from `per_call_ms` where it lines up with the backends; the whole wall
  time when only one side was used; otherwise unknown (0 on the ledger rows, said in `extra`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from armbench.core import ROUTES as SIDES  # the study's ROUTES below are its R1…R5
from armbench.core import CallRecord, GateResult, InfraClass, Route, TrialRecord, TrialStatus, Usage
from armbench.importers.common import (
    Fields,
    ImportDataError,
    ImportedRun,
    Replicates,
    classify_provider_failure,
    read_jsonl,
    read_text,
    safe_id,
)
from armbench.pricing.effective import PricedModel, effective_card
from armbench.pricing.ratecard import ModelRates, RateCard, UnknownPriceError

RAW = "raw.jsonl"
PRICING = "pricing_tables.json"
LOCAL_KEY = "__local__"
LOCAL_PROVIDER = "ollama"
ROUTES = {
    "R1": "cloud only",
    "R2": "local only",
    "R3": "hybrid architect: a cloud planner, local steps, a cloud synthesis",
    "R4": "Minion: a cloud supervisor asks, a local worker answers",
    "R5": "DevMinion: a cloud runbook and reviews, a local worker implements each step",
}
"""The study's runners (runners/r1_cloud_only.py … r5_devminion.py)."""
TOKEN_KEYS = (
    "prompt",
    "completion",
    "cached",
    "reasoning",
    "local_prompt",
    "local_completion",
    "cloud_prompt",
    "cloud_completion",
)
_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def backend_side(entry: str, at: str) -> tuple[Route, str | None]:
    """Which side a `per_call_backends` entry is, and the model it names (None: not named)."""
    parts = entry.split("/")
    if len(parts) >= 3 and parts[1] in SIDES:
        return ("local" if parts[1] == "local" else "cloud"), "/".join(parts[2:])
    if len(parts) == 2 and parts[1] in ("always-local", "always-cloud"):
        return ("local" if parts[1] == "always-local" else "cloud"), None
    if len(parts) == 1 and entry:
        return ("local" if ":" in entry else "cloud"), entry
    raise ImportDataError(f"{at}: routing.per_call_backends: unrecognised backend {entry!r}")


def cloud_provider(model: str) -> str:
    lowered = model.lower()
    if lowered.startswith("claude"):
        return "anthropic"
    if lowered.startswith("gemini"):
        return "google"
    return "openai"  # the study reaches its cloud models through an OpenAI-compatible proxy


def table_key(model_id: str, table: dict[str, Any]) -> str | None:
    """The study's own normalisation (core/pricing.py `normalise_model_id`): local for
    `name:tag`, else exact, else without a date suffix, else ever shorter `-` prefixes."""
    name = model_id.lower().strip()
    if ":" in name:
        return LOCAL_KEY if LOCAL_KEY in table else None
    if name in table:
        return name
    name = _DATE_SUFFIX.sub("", name)
    parts = name.split("-")
    while parts:
        candidate = "-".join(parts)
        if candidate in table:
            return candidate
        parts.pop()
    return None


def read_pricing(path: Path) -> dict[str, dict[str, float]]:
    """`rates_per_m` of a pricing_tables.json, checked."""
    try:
        raw = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise ImportDataError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    rates = raw.get("rates_per_m") if isinstance(raw, dict) else None
    if not isinstance(rates, dict):
        raise ImportDataError(f"{path}: expected an object with `rates_per_m`")
    table: dict[str, dict[str, float]] = {}
    for key, entry in rates.items():
        f = Fields(entry if isinstance(entry, dict) else {}, f"{path}: rates_per_m.{key}")
        table[str(key).lower()] = {k: f.number(k) for k in ("input", "output", "cache_read")}
    return table


@dataclass
class HceRow:
    at: str
    task: str
    category: str
    route: str
    tokens: dict[str, int]
    wall_s: float
    per_call_s: list[float]
    functional_pass: bool | None
    tests: dict[str, int]
    judged: dict[str, float]
    """LLM-judge scores the data has (judge_win_rate, composite), kept in `extra` only."""
    total_calls: int
    calls_by_side: dict[Route, int]
    backends: list[tuple[Route, str | None]]
    named: dict[Route, set[str]]
    """Model ids the row names per side."""
    error: str | None
    seed: int
    started_at: float
    ended_at: float
    host: str | None
    split: bool = True
    """False for a row without a local/cloud split: its tokens are the side its backends name,
    else the cloud's, as the study's own repricing counts them."""


def _timestamp(f: Fields, key: str) -> float | None:
    text = f.optional_text(key)
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ImportDataError(f"{f.at}: field {key!r}: not an ISO time: {text!r}") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _optional_int(f: Fields, key: str) -> int | None:
    return None if f.row.get(key) is None else f.integer(key)


def parse_row(row: dict[str, Any], at: str) -> HceRow:
    f = Fields(row, at)
    routing = f.mapping("routing")
    raw_backends = routing.row.get("per_call_backends") or []
    if not isinstance(raw_backends, list) or not all(isinstance(b, str) for b in raw_backends):
        raise ImportDataError(f"{at}: routing.per_call_backends: expected a list of strings")
    backends = [backend_side(b, at) for b in raw_backends]
    tokens_f = f.mapping("tokens")
    tokens = {k: tokens_f.integer(k) if k in tokens_f.row else 0 for k in TOKEN_KEYS}
    split = any(tokens[f"{s}_{k}"] for s in SIDES for k in ("prompt", "completion"))
    if not split:
        side = "local" if {s for s, _ in backends} == {"local"} else "cloud"
        tokens.update(
            {f"{side}_prompt": tokens["prompt"], f"{side}_completion": tokens["completion"]}
        )
    elif (tokens["prompt"], tokens["completion"]) != (
        tokens["local_prompt"] + tokens["cloud_prompt"],
        tokens["local_completion"] + tokens["cloud_completion"],
    ):
        raise ImportDataError(f"{at}: tokens: local + cloud do not add up to prompt, completion")
    if tokens["cached"] > tokens["cloud_prompt"]:
        raise ImportDataError(f"{at}: tokens: more cached tokens than the cloud prompt had")
    if tokens["reasoning"] > tokens["cloud_completion"]:
        raise ImportDataError(f"{at}: tokens: more reasoning tokens than the cloud completion had")
    latency = f.mapping("latency")
    per_call = latency.row.get("per_call_ms") or []
    if not isinstance(per_call, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in per_call
    ):
        raise ImportDataError(f"{at}: latency.per_call_ms: expected a list of milliseconds")
    quality = f.mapping("quality")
    verdict = quality.row.get("functional_pass")
    if verdict is not None and not isinstance(verdict, bool):
        raise ImportDataError(f"{at}: quality.functional_pass: expected true, false or null")
    named: dict[Route, set[str]] = {
        s: {m for side, m in backends if side == s and m} for s in SIDES
    }
    for side in SIDES:
        explicit = f.optional_text(f"{side}_model_id")
        if explicit is not None:
            named[side] = {explicit}
    wall_s = latency.number("wall_ms") / 1000
    started = _timestamp(f, "started_at")
    ended = _timestamp(f, "finished_at")
    seed = row.get("seed")
    return HceRow(
        at=at,
        task=f.text("task_id"),
        category=f.text("category"),
        route=f.text("route"),
        tokens=tokens,
        wall_s=wall_s,
        per_call_s=[v / 1000 for v in per_call],
        functional_pass=verdict,
        tests={
            k: v
            for k in ("tests_passed", "tests_total")
            if (v := _optional_int(quality, k)) is not None
        },
        judged={
            k: float(quality.row[k])
            for k in ("judge_win_rate", "composite")
            if isinstance(quality.row.get(k), int | float)
        },
        total_calls=routing.integer("total_calls"),
        calls_by_side={s: routing.integer(f"{s}_calls") for s in SIDES},
        backends=backends,
        named=named,
        error=f.optional_text("error"),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else 0,
        started_at=started or 0.0,
        ended_at=ended or ((started + wall_s) if started is not None else 0.0),
        host=f.optional_text("hardware_profile_ref"),
        split=split,
    )


@dataclass(frozen=True)
class Model:
    """A model as the ledger names it."""

    provider: str
    name: str
    """Pricing name: `provider/name` is the rate-card key."""
    local: bool


class Models:
    """Resolves each row's local and cloud model and names it as the rate card does."""

    def __init__(self, rows: list[HceRow], table: dict[str, dict[str, float]] | None) -> None:
        self.table = table
        self.only: dict[Route, Model | None] = {}
        for side in SIDES:
            seen = {self.model(m, side) for r in rows for m in r.named[side]}
            self.only[side] = next(iter(seen)) if len(seen) == 1 else None

    def resolve(self, row: HceRow, side: Route) -> tuple[Model, str]:
        """The model of `side` in `row` and the id the row names ("" when it names none and
        the model is inferred: the only one the file names on that side)."""
        named = row.named[side]
        if len(named) == 1:
            model_id = next(iter(named))
            return self.model(model_id, side), model_id
        if len(named) > 1:
            raise ImportDataError(
                f"{row.at}: the {side} side names several models ({', '.join(sorted(named))}); "
                "its tokens are one total and cannot be split among them"
            )
        only = self.only[side]
        if only is None:
            raise ImportDataError(
                f"{row.at}: the row used {side} tokens but names no {side} model, and the file "
                f"does not name exactly one (set {side}_model_id)"
            )
        return only, ""

    def model(self, model_id: str, side: Route) -> Model:
        if side == "local":
            return Model(LOCAL_PROVIDER, model_id, local=True)
        key = table_key(model_id, self.table) if self.table is not None else None
        name = key if key is not None else _DATE_SUFFIX.sub("", model_id)
        return Model(cloud_provider(name), name, local=False)


def _side_usage(row: HceRow, side: Route) -> Usage:
    t = row.tokens
    if side == "local":
        return Usage(input=t["local_prompt"], output=t["local_completion"])
    return Usage(
        input=t["cloud_prompt"] - t["cached"],
        output=t["cloud_completion"],
        cache_read=t["cached"],
        reasoning=t["reasoning"],
    )


def _latencies(row: HceRow, used: list[Route]) -> tuple[dict[Route, float], str]:
    if row.backends and len(row.per_call_s) == len(row.backends):
        per_side: dict[Route, float] = dict.fromkeys(SIDES, 0.0)
        for (side, _), seconds in zip(row.backends, row.per_call_s, strict=True):
            per_side[side] += seconds
        return per_side, "per_call"
    if len(used) == 1:
        return {used[0]: row.wall_s}, "one_side"
    return {}, "unknown" if used else "no_tokens"


def _status(row: HceRow) -> tuple[TrialStatus, InfraClass | None]:
    infra = classify_provider_failure(row.error) if row.error else None
    if infra is not None:
        return "infra_error", infra
    if row.functional_pass is None:
        return "fail", None  # only rows with an error get here (the others are skipped)
    return ("pass" if row.functional_pass else "fail"), None


def build_trial(row: HceRow, replicate: int, models: Models) -> tuple[TrialRecord, set[Model]]:
    used = [s for s in SIDES if _side_usage(row, s) != Usage()]
    latency, latency_split = _latencies(row, used)
    extra: dict[str, Any] = {
        "source": row.at,
        "category": row.category,
        "routing": {
            "total_calls": row.total_calls,
            **{f"{s}_calls": n for s, n in row.calls_by_side.items()},
        },
        "latency_split": latency_split,
        # The ledger has one summed row per side: the study's own call counts give the cloud
        # fraction of calls (armbench.analysis.arms.counted_calls).
        "calls_by_route": dict(row.calls_by_side),
        **row.judged,
    }
    if not row.split:
        extra["unsplit_tokens"] = "no local/cloud split: counted on the side the backends name"
    unmeasured = [s for s in SIDES if row.calls_by_side[s] and s not in used]
    if unmeasured:
        extra["unmeasured_routes"] = unmeasured
    calls = []
    priced: set[Model] = set()
    inferred = []
    for seq, side in enumerate(used, 1):
        model, model_id = models.resolve(row, side)
        priced.add(model)
        if not model_id:
            inferred.append(f"{side}: {model.name}")
        calls.append(
            CallRecord(
                seq=seq,
                role="solo",
                provider=model.provider,
                model=model.name,
                model_id=model_id,
                attempt=1,
                status="ok",
                usage=_side_usage(row, side),
                latency_s=latency.get(side, 0.0),
                latency_simulated=False,
                started_at=row.started_at,
                route=side,
            )
        )
    if inferred:
        extra["models_inferred"] = inferred
    status, infra_class = _status(row)
    gates: tuple[GateResult, ...] = ()
    if row.functional_pass is not None and status != "infra_error":
        tests = f"{row.tests.get('tests_passed', '?')}/{row.tests.get('tests_total', '?')}"
        gates = (
            GateResult(
                name="functional",
                kind="published",
                passed=row.functional_pass,
                exit_code=None,
                counts=dict(row.tests),
                duration_s=0.0,
                details=""
                if row.functional_pass
                else f"published functional tests: {tests} passed",
            ),
        )
    trial = TrialRecord(
        trial_id=f"{safe_id(row.route)}.{safe_id(row.task)}.r{replicate}",
        arm=row.route,
        arm_kind="routed",
        task=row.task,
        replicate=replicate,
        seed=row.seed,
        status=status,
        stop_reason="model_error" if status == "infra_error" else "finished",
        wall_s=row.wall_s,
        iterations=row.total_calls,
        simulated=False,
        started_at=row.started_at,
        ended_at=row.ended_at,
        infra_class=infra_class,
        error=row.error,
        calls=tuple(calls),
        gates=gates,
        extra=extra,
    )
    return trial, priced


def build_card(
    priced: set[Model], table: dict[str, dict[str, float]] | None, table_path: Path, at: datetime
) -> tuple[RateCard, dict[str, str]]:
    """The study's prices for the models it names (its table), genai-prices as of the sweep
    for cloud models the table lacks, $0 for local models the table does not price."""
    override: dict[str, ModelRates] = {}
    for m in priced:
        key = table_key(m.name, table) if table is not None else None
        if table is None or key is None:
            continue
        prices = table[key]
        override[f"{m.provider}/{m.name}"] = ModelRates(
            input=prices["input"],
            output=prices["output"],
            cache_read=prices["cache_read"],
            local=m.local,
        )
    models = [
        PricedModel(key=f"{m.provider}/{m.name}", provider=m.provider, model=m.name, local=m.local)
        for m in sorted(priced, key=lambda m: (m.provider, m.name))
    ]
    try:
        return effective_card(models, RateCard(override, str(table_path)), at=at)
    except UnknownPriceError as exc:
        raise ImportDataError(
            f"{exc}\n(put the study's {PRICING} beside {RAW} to price with its own prices)"
        ) from exc


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
    for row in rows:
        if row.functional_pass is None and row.error is None:
            skipped.append(
                {
                    "source": row.at,
                    "task": row.task,
                    "route": row.route,
                    "llm_judged": bool(row.judged),
                    "reason": "no functional verdict (quality.functional_pass is null)",
                }
            )
            continue
        trial, used = build_trial(row, replicates.next(row.route, row.task), models)
        trials.append(trial)
        priced |= used
    starts = [r.started_at for r in rows if r.started_at]
    at = datetime.fromtimestamp(min(starts), UTC) if starts else datetime.now(UTC)
    card, provenance = build_card(priced, table, pricing, at)
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
