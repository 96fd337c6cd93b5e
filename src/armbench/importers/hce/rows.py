"""Reading and checking hybrid-coding-eval's `raw.jsonl` rows (the fields are listed in
armbench.importers.hce): one `HceRow` per line, its tokens split between the local and the cloud
side, the sides its calls' backends name, and the models it names on each side. Nothing is
resolved or priced here (armbench.importers.hce.models) and no trial is built
(armbench.importers.hce.trials).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from armbench.core import ROUTES as SIDES  # the study's ROUTES (armbench.importers.hce): R1…R5
from armbench.core import Route
from armbench.importers.common import Fields, ImportDataError

RAW = "raw.jsonl"
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
