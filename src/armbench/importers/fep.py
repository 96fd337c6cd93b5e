"""free-executor-paradox (github.com/kenimo49/free-executor-paradox): four arms on three tasks
on typer 0.26.8 — A Opus solo, B Opus orchestrating a local Qwen executor, C Opus orchestrating
Haiku, D Haiku solo; T1 breakage, T2 refactor, T3 feature-add.

Two forms of the same trials: `data/results/{A,B,C,D}.jsonl` (tokens per model id, the error
text of a failed trial, the verification summary) and `data/trials.csv` flattened from them
(tokens per model family in columns, the verification's exit code, no error texts). A folder is
read through its jsonl files when it has any, since they say more.

How rows become trials, and why:

- Every row is a trial, in file order. Rows that share (arm, task, trial) — an API failure and
  its rerun — get their own replicate numbers; the published trial number stays in `extra`.
- Status is the published verdict (`success`: the verification's exit code was 0). A row whose
  trial raised (`error` set, no verification) is `infra_error`: its class is read from the
  error text (a 400 "credit balance is too low" is `quota`), or `harness` when the text names
  no provider failure — it was the peer's harness that stopped, and the trial has no verdict.
  In the CSV such a row shows only as an empty `verify_exit`; the CSV does not name the cause,
  and the trial's error says so.
- No trial is `limit`: the data does not say whether a trial stopped at its iteration cap (the
  caps varied between runs), and `blocked` is the model's own "BLOCKED" declaration in its last
  message, not a cap. Both are kept in `extra`.
- Tokens: one ledger row per model per trial (the data has totals, not calls), priced as the
  data was: `cache_creation_input_tokens` are 5-minute cache writes (input × 1.25),
  `cache_read_input_tokens` cache reads (input × 0.10).
- The local Qwen executor's tokens were never recorded (zeros, or `qwen_present` in the CSV).
  A zero-token ledger row would read as a measured $0, so there is none: the trial lists the
  role in `extra.unmeasured_roles`, and a manifest note says its cost is unknown, not $0.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from armbench.core import CallRecord, GateResult, InfraClass, Role, TrialRecord, TrialStatus, Usage
from armbench.importers.common import (
    Fields,
    ImportDataError,
    ImportedRun,
    Replicates,
    classify_provider_failure,
    read_jsonl,
    read_text,
)
from armbench.pricing.effective import PricedModel, effective_card
from armbench.pricing.ratecard import ModelRates, RateCard

Family = Literal["opus", "haiku", "qwen"]


@dataclass(frozen=True)
class FepArm:
    kind: Literal["solo", "orchestrated"]
    description: str
    roles: dict[Family, Role]


ARMS: dict[str, FepArm] = {
    "A": FepArm("solo", "Opus solo", {"opus": "solo"}),
    "B": FepArm(
        "orchestrated",
        "Opus orchestrating a local Qwen executor (Ollama)",
        {"opus": "orchestrator", "qwen": "executor"},
    ),
    "C": FepArm(
        "orchestrated",
        "Opus orchestrating a Haiku executor",
        {"opus": "orchestrator", "haiku": "executor"},
    ),
    "D": FepArm("solo", "Haiku solo", {"haiku": "solo"}),
}
TASKS = {
    "T1": "breakage: make typer 0.26.8 pass mypy, ruff and pytest again after injected errors",
    "T2": "refactor",
    "T3": "feature-add",
}
MODEL_IDS: dict[Family, str] = {
    "opus": "claude-opus-4-7",
    "haiku": "claude-haiku-4-5-20251001",
    "qwen": "qwen-local",
}
"""The ids the data uses; the CSV names only families, and these are the jsonl files' ids."""
PROVIDERS: dict[Family, str] = {"opus": "anthropic", "haiku": "anthropic", "qwen": "ollama"}
PRICES: dict[Family, tuple[float, float]] = {"opus": (15.0, 75.0), "haiku": (1.0, 5.0)}
"""$ per million input and output tokens, as the data was costed."""
CACHE_WRITE, CACHE_READ = 1.25, 0.10
PRICE_SOURCE = (
    "free-executor-paradox's own prices (Opus $15/$75, Haiku $1/$5 per MTok; "
    "cache write ×1.25, cache read ×0.10 of input)"
)
USAGE_KEYS = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_creation_input_tokens": "cache_write_5m",
    "cache_read_input_tokens": "cache_read",
}
CSV_COLUMNS = {"in": "input", "out": "output", "cache_w": "cache_write_5m", "cache_r": "cache_read"}
ROLE_ORDER: tuple[Role, ...] = ("solo", "orchestrator", "executor")
CLOUD_FAMILIES: tuple[Family, ...] = ("opus", "haiku")


def family_of(model_id: str, at: str) -> Family:
    lowered = model_id.lower()
    if "opus" in lowered:
        return "opus"
    if "haiku" in lowered:
        return "haiku"
    if "qwen" in lowered:
        return "qwen"
    raise ImportDataError(
        f"{at}: usage_by_role: unknown model {model_id!r} (the study used Opus, Haiku and a "
        "local Qwen)"
    )


@dataclass
class FepRow:
    """One published trial, read and checked."""

    at: str
    arm: str
    task: str
    trial: int
    success: bool
    blocked: bool
    wall_s: float
    iterations: int
    published_cost: float | None
    usage: dict[str, Usage] = field(default_factory=dict)
    """Model id → tokens, for models that used any."""
    unmeasured: list[str] = field(default_factory=list)
    """Model ids the data lists without tokens it measured (the local Qwen executor)."""
    verify_exit: int | None = None
    verify_summary: str | None = None
    error: str | None = None
    infra_class: InfraClass | None = None


def _arm_and_task(f: Fields) -> tuple[str, str]:
    arm, task = f.text("arm"), f.text("task")
    if arm not in ARMS:
        raise ImportDataError(f"{f.at}: field 'arm': unknown arm {arm!r} (known: A, B, C, D)")
    if task not in TASKS:
        raise ImportDataError(f"{f.at}: field 'task': unknown task {task!r} (known: T1, T2, T3)")
    return arm, task


def _base(f: Fields) -> FepRow:
    arm, task = _arm_and_task(f)
    return FepRow(
        at=f.at,
        arm=arm,
        task=task,
        trial=f.integer("trial"),
        success=f.boolean("success"),
        blocked=f.boolean("blocked", default=False),
        wall_s=f.number("wall_sec"),
        iterations=f.integer("iterations"),
        published_cost=None,
    )


def _usage(f: Fields, model_id: str) -> Usage:
    raw = f.mapping(model_id)
    unknown = sorted(set(raw.row) - set(USAGE_KEYS))
    if unknown:
        raise ImportDataError(f"{raw.at}: unknown token kinds {unknown}")
    return Usage(**{kind: raw.integer(key) for key, kind in USAGE_KEYS.items() if key in raw.row})


def parse_jsonl_row(row: dict[str, Any], at: str) -> FepRow:
    f = Fields(row, at)
    parsed = _base(f)
    if "total_cost_usd" in row:
        parsed.published_cost = f.number("total_cost_usd")
    by_model = f.mapping("usage_by_role")
    for model_id in by_model.row:
        usage = _usage(by_model, model_id)
        if family_of(model_id, at) == "qwen" and usage == Usage():
            parsed.unmeasured.append(model_id)
        elif usage != Usage():
            parsed.usage[model_id] = usage
    verify = row.get("verify_final") or {}
    if not isinstance(verify, dict):
        raise ImportDataError(f"{at}: field 'verify_final': expected an object")
    verified = Fields(verify, f"{at}: verify_final")
    if verify.get("exit_code") is not None:
        parsed.verify_exit = verified.integer("exit_code")
    parsed.verify_summary = verified.optional_text("summary")
    parsed.error = f.optional_text("error")
    if parsed.error is not None:
        parsed.infra_class = classify_provider_failure(parsed.error) or "harness"
    elif parsed.verify_exit is None:
        parsed.error = "the trial recorded no verification (verify_final is empty) and no error"
        parsed.infra_class = "harness"
    return parsed


def parse_csv_row(row: dict[str, Any], at: str) -> FepRow:
    f = Fields(row, at)
    parsed = _base(f)
    parsed.published_cost = f.number("cost_usd")
    for family in CLOUD_FAMILIES:
        usage = Usage(**{kind: f.integer(f"{family}_{col}") for col, kind in CSV_COLUMNS.items()})
        if usage != Usage():
            parsed.usage[MODEL_IDS[family]] = usage
    if f.boolean("qwen_present"):
        parsed.unmeasured.append(MODEL_IDS["qwen"])
    if f.optional_text("verify_exit") is None:
        spent = "tokens" if parsed.usage else "no tokens"
        parsed.error = (
            f"no verification (verify_exit is empty) and {spent}: the trial stopped before it "
            "was verified (an API or harness failure); trials.csv does not name the cause — "
            "the jsonl files carry the error text"
        )
        parsed.infra_class = "harness"
    else:
        parsed.verify_exit = f.integer("verify_exit")
    return parsed


def read_csv(path: Path) -> list[FepRow]:
    reader = csv.DictReader(io.StringIO(read_text(path)))
    missing = sorted(
        {
            "arm",
            "task",
            "trial",
            "success",
            "wall_sec",
            "iterations",
            "cost_usd",
            "qwen_present",
            "verify_exit",
            *(f"{family}_{col}" for family in CLOUD_FAMILIES for col in CSV_COLUMNS),
        }
        - set(reader.fieldnames or ())
    )
    if missing:
        raise ImportDataError(f"{path}:1: missing columns {', '.join(missing)}")
    # Line numbers count the header as line 1 (rows have no embedded newlines in this data).
    return [parse_csv_row(row, f"{path}:{number}") for number, row in enumerate(reader, 2)]


def read_rows(paths: Sequence[Path]) -> tuple[list[FepRow], list[Path], Literal["jsonl", "csv"]]:
    """The rows of PATH(s), the files read, and which form they came in."""
    if not paths:
        raise ImportDataError("give a folder, trials.csv, or *.jsonl files")
    if len(paths) == 1 and paths[0].is_dir():
        folder = paths[0]
        files = sorted(folder.glob("*.jsonl"))
        if not files:
            if not (folder / "trials.csv").is_file():
                raise ImportDataError(f"{folder}: no *.jsonl files and no trials.csv")
            files = [folder / "trials.csv"]
    else:
        files = list(paths)
    for path in files:
        if not path.is_file():
            raise ImportDataError(f"{path}: no such file")
    kinds = {p.suffix.lower() for p in files}
    if kinds == {".csv"} and len(files) == 1:
        return read_csv(files[0]), files, "csv"
    if kinds != {".jsonl"}:
        raise ImportDataError(
            "give one trials.csv or any number of *.jsonl files (not both: they hold the same "
            f"trials), got {', '.join(str(p) for p in files)}"
        )
    rows = [parse_jsonl_row(row, f"{p}:{n}") for p in files for n, row in read_jsonl(p)]
    return rows, files, "jsonl"


_COUNT = re.compile(r"([a-z_]+(?: [a-z_]+)?)=(-?\d+)")


def verify_counts(summary: str | None) -> dict[str, int]:
    """`exit_code=1, mypy errors=15, ruff errors=21, pytest passed=1356 failed=0
    collection_errors=0` → {mypy_errors: 15, ruff_errors: 21, pytest_passed: 1356, ...}."""
    counts: dict[str, int] = {}
    for key, value in _COUNT.findall(summary or ""):
        name = key.replace(" ", "_")
        if name == "exit_code":
            continue
        if name in ("failed", "collection_errors"):
            name = f"pytest_{name}"
        counts[name] = int(value)
    return counts


def role_of(row: FepRow, model_id: str) -> Role:
    family = family_of(model_id, row.at)
    role = ARMS[row.arm].roles.get(family)
    if role is None:
        raise ImportDataError(
            f"{row.at}: arm {row.arm} ({ARMS[row.arm].description}) has no {family} model, "
            f"but the row lists {model_id}"
        )
    return role


def _calls(row: FepRow) -> tuple[CallRecord, ...]:
    entries = [(role_of(row, m), m, usage) for m, usage in row.usage.items()]
    entries.sort(key=lambda e: (ROLE_ORDER.index(e[0]), e[1]))
    return tuple(
        CallRecord(
            seq=seq,
            role=role,
            provider=PROVIDERS[family_of(model_id, row.at)],
            model=model_id,
            model_id=model_id,
            attempt=1,
            status="ok",
            usage=usage,
            latency_s=0.0,
            latency_simulated=False,
            started_at=0.0,
        )
        for seq, (role, model_id, usage) in enumerate(entries, 1)
    )


def _trial(row: FepRow, replicate: int) -> TrialRecord:
    arm = ARMS[row.arm]
    status: TrialStatus
    gates: tuple[GateResult, ...] = ()
    if row.infra_class is not None:
        status = "infra_error"
    else:
        status = "pass" if row.success else "fail"
        gates = (
            GateResult(
                name="verify",
                kind="published",
                passed=row.success,
                exit_code=row.verify_exit,
                counts=verify_counts(row.verify_summary),
                duration_s=0.0,
                output_tail=row.verify_summary or "",
                details=""
                if row.success
                else f"published verification failed: "
                f"{row.verify_summary or f'exit code {row.verify_exit}'}",
            ),
        )
    extra: dict[str, Any] = {
        "source": row.at,
        "source_trial": row.trial,
        "blocked": row.blocked,
        "published_cost_usd": row.published_cost,
        "verify_exit": row.verify_exit,
    }
    unmeasured_roles = sorted({role_of(row, m) for m in row.unmeasured})
    if unmeasured_roles:
        extra["unmeasured_roles"] = unmeasured_roles
        extra["unmeasured_models"] = sorted(row.unmeasured)
    return TrialRecord(
        trial_id=f"{row.arm}.{row.task}.r{replicate}",
        arm=row.arm,
        arm_kind=arm.kind,
        task=row.task,
        replicate=replicate,
        seed=0,
        status=status,
        stop_reason="model_error" if status == "infra_error" else "finished",
        wall_s=row.wall_s,
        iterations=row.iterations,
        simulated=False,
        started_at=0.0,
        ended_at=0.0,
        infra_class=row.infra_class,
        error=row.error,
        calls=_calls(row),
        gates=gates,
        extra=extra,
    )


def _config(rows: list[FepRow], ids: dict[Family, set[str]]) -> dict[str, Any]:
    """A stand-in for the run config: models keyed by model id, arms with their description."""
    arms_seen = sorted({r.arm for r in rows})
    families = {f for a in arms_seen for f in ARMS[a].roles}
    models: dict[str, dict[str, Any]] = {}
    by_family: dict[Family, list[str]] = {}
    for family in sorted(families):
        for model_id in sorted(ids.get(family) or {MODEL_IDS[family]}):
            entry: dict[str, Any] = {"provider": PROVIDERS[family], "model": model_id}
            if family == "qwen":
                entry["local"] = True
                if any(model_id in r.unmeasured for r in rows):
                    entry["tokens_recorded"] = False
            models[model_id] = entry
            by_family.setdefault(family, []).append(model_id)
    arms: dict[str, dict[str, Any]] = {}
    for name in arms_seen:
        arm = ARMS[name]
        entry = {"kind": arm.kind, "description": arm.description}
        for family, role in arm.roles.items():
            field_name = "model" if role == "solo" else role
            chosen = by_family[family]
            entry[field_name] = chosen[0] if len(chosen) == 1 else chosen
        arms[name] = entry
    return {
        "name": "free-executor-paradox",
        "pack": None,
        "tasks": {t: TASKS[t] for t in sorted({r.task for r in rows})},
        "models": models,
        "arms": arms,
    }


def _card(ids: set[str]) -> tuple[RateCard, dict[str, str]]:
    rates = {}
    for model_id in sorted(ids):
        family = family_of(model_id, "usage_by_role")
        if family == "qwen":  # tokens recorded after all: the data priced them at $0
            rates[f"ollama/{model_id}"] = ModelRates(local=True)
            continue
        given, output = PRICES[family]
        rates[f"anthropic/{model_id}"] = ModelRates(
            input=given,
            output=output,
            cache_write_5m=round(given * CACHE_WRITE, 6),
            cache_read=round(given * CACHE_READ, 6),
        )
    override = RateCard(rates, PRICE_SOURCE)
    priced = [
        PricedModel(key=key, provider=key.split("/")[0], model=key.split("/", 1)[1])
        for key in rates
    ]
    return effective_card(priced, override)


def notes(form: Literal["jsonl", "csv"], rows: list[FepRow]) -> list[str]:
    said = [
        "Imported from free-executor-paradox's published per-trial data, not run by armbench: "
        "verdicts are the study's own verification (mypy, ruff and pytest on typer 0.26.8, "
        "its exit code as gate `verify`), not armbench's judge.",
        "Tokens are per model per trial, not per call: each trial has one ledger row per model "
        "(n_calls counts models, not calls), with no latencies, seeds or timestamps (all 0). "
        "A rate card with long-context tiers would misprice these sums; the run's own card "
        "has none.",
        "Costs use the prices the study was costed with: Opus $15/$75 and Haiku $1/$5 per "
        "million input/output tokens, cache writes ×1.25 (priced as 5-minute writes) and cache "
        "reads ×0.10 of input.",
        "No trial is marked `limit`: the data does not say whether a trial stopped at its "
        "iteration cap, and `blocked` (the model declaring itself blocked) is kept in each "
        "trial's extra; status follows the published verification.",
    ]
    if any(r.infra_class is not None and not r.usage for r in rows):
        said.append(
            "The study's harness records no tokens for a trial that raised, so what its "
            "infra_error trials spent before failing is unknown (they have no ledger rows)."
        )
    if any(r.unmeasured for r in rows):
        said.append(
            "The local Qwen executor's tokens were never recorded (arm B), so its cost is "
            "unknown, not $0: those trials have no executor ledger rows and list the role in "
            "extra.unmeasured_roles."
        )
    if form == "csv":
        said.append(
            "Read from trials.csv, which names models only by family (ids taken as the jsonl "
            "files give them: claude-opus-4-7, claude-haiku-4-5-20251001) and carries no error "
            "texts: a trial without verification is infra_error of class `harness` whatever "
            "its real cause."
        )
    return said


def load(paths: Sequence[Path]) -> ImportedRun:
    """Read and check PATH(s); nothing is written. Raises ImportDataError naming the file, the
    line and the field of the first problem."""
    absolute = [p.resolve() for p in paths]
    rows, files, form = read_rows(absolute)
    if not rows:
        raise ImportDataError(f"{', '.join(str(p) for p in files)}: no rows")
    ids: dict[Family, set[str]] = {}
    for row in rows:
        for model_id in [*row.usage, *row.unmeasured]:
            ids.setdefault(family_of(model_id, row.at), set()).add(model_id)
    replicates = Replicates()
    trials = [_trial(row, replicates.next(row.arm, row.task)) for row in rows]
    config = _config(rows, ids)
    anthropic = {m for m, entry in config["models"].items() if entry["provider"] == "anthropic"}
    card, provenance = _card({c.model for t in trials for c in t.calls} | anthropic)
    source = absolute[0] if len(absolute) == 1 else Path(*_common_parts(absolute))
    return ImportedRun(
        importer="fep",
        name="free-executor-paradox",
        source=source,
        files=tuple(files),
        config=config,
        card=card,
        provenance=provenance,
        trials=tuple(trials),
        notes=tuple(notes(form, rows)),
        details={"form": form},
    )


def _common_parts(paths: list[Path]) -> tuple[str, ...]:
    parts = [p.parent.parts for p in paths]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return tuple(common) or ("/",)
