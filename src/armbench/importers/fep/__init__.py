"""free-executor-paradox (github.com/kenimo49/free-executor-paradox): four arms on three tasks
on typer 0.26.8 — A Opus solo, B Opus orchestrating a local Qwen executor, C Opus orchestrating
Haiku, D Haiku solo; T1 breakage, T2 refactor, T3 feature-add.

How rows become trials, and why — each module says its part:

- `armbench.importers.fep.rows`: reading the rows from either form and reading their status
  (`FepRow`, `read_rows`);
- `armbench.importers.fep.trials`: a row as a trial — its gate, its ledger rows, the roles
  whose tokens were never recorded (`build_trial`);
- here: the run — its config, the study's prices as its rate card, the manifest's notes
  (`load`).

Every row is a trial, in file order. Rows that share (arm, task, trial) — an API failure and
its rerun — get their own replicate numbers; the published trial number stays in `extra`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from armbench.importers.common import ImportDataError, ImportedRun, Replicates
from armbench.importers.fep.rows import (
    ARMS,
    CLOUD_FAMILIES,
    CSV_COLUMNS,
    MODEL_IDS,
    PROVIDERS,
    TASKS,
    USAGE_KEYS,
    Family,
    FepArm,
    FepRow,
    family_of,
    parse_csv_row,
    parse_jsonl_row,
    read_csv,
    read_rows,
    verify_counts,
)
from armbench.importers.fep.trials import ROLE_ORDER, build_trial, role_of
from armbench.pricing.effective import PricedModel, effective_card
from armbench.pricing.ratecard import ModelRates, PricedKind, RateCard

__all__ = [
    "ARMS",
    "CACHE_READ",
    "CACHE_WRITE",
    "CLOUD_FAMILIES",
    "CSV_COLUMNS",
    "MODEL_IDS",
    "PRICES",
    "PRICE_SOURCE",
    "PROVIDERS",
    "ROLE_ORDER",
    "TASKS",
    "USAGE_KEYS",
    "Family",
    "FepArm",
    "FepRow",
    "build_trial",
    "family_of",
    "load",
    "notes",
    "parse_csv_row",
    "parse_jsonl_row",
    "read_csv",
    "read_rows",
    "role_of",
    "verify_counts",
]

PRICES: dict[Family, tuple[float, float]] = {"opus": (15.0, 75.0), "haiku": (1.0, 5.0)}
"""$ per million input and output tokens, as the data was costed."""
CACHE_WRITE, CACHE_READ = 1.25, 0.10
PRICE_SOURCE = (
    "free-executor-paradox's own prices (Opus $15/$75, Haiku $1/$5 per MTok; "
    "cache write ×1.25, cache read ×0.10 of input)"
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
    # The study's data holds these kinds only (5-minute writes), so its card prices no more.
    recorded: frozenset[PricedKind] = frozenset({"input", "output", "cache_write_5m", "cache_read"})
    priced = [
        PricedModel(key=key, provider=key.split("/")[0], model=key.split("/", 1)[1], kinds=recorded)
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
    said += _stopping_rule(rows)
    if form == "csv":
        said.append(
            "Read from trials.csv, which names models only by family (ids taken as the jsonl "
            "files give them: claude-opus-4-7, claude-haiku-4-5-20251001) and carries no error "
            "texts: a trial without verification is infra_error of class `harness` whatever "
            "its real cause."
        )
    return said


def _stopping_rule(rows: list[FepRow]) -> list[str]:
    """What sampling each cell until its r-th success does to its pass rate, when the data
    shows that rule: every cell has the same number of passes, its last trial among them."""
    cells: dict[tuple[str, str], list[FepRow]] = {}
    for row in rows:
        if row.infra_class is None:
            cells.setdefault((row.arm, row.task), []).append(row)
    passes = {sum(r.success for r in c) for c in cells.values()}
    stopped = all(max(c, key=lambda r: r.trial).success for c in cells.values())
    if len(passes) != 1 or not stopped or (r := passes.pop()) < 2:
        return []
    biased = sorted(
        f"{arm} {task}: {r}/{len(c)} = {r / len(c):.0%} → {(r - 1) / (len(c) - 1):.0%}"
        for (arm, task), c in cells.items()
        if len(c) > r
    )
    return [
        f"Each cell was sampled until it passed {r} times (every cell has {r} passes, the last "
        f"judged trial among them). Under that rule the number of trials, not of passes, is "
        f"the random quantity, and passes/trials overstates the pass rate; the unbiased "
        f"estimate is ({r} - 1)/(trials - 1) (Haldane). Where they differ: "
        + ("; ".join(biased) if biased else "nowhere (every cell passed all its trials)")
        + ". The report's pass rates and intervals assume a fixed number of trials."
    ]


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
    trials = [build_trial(row, replicates.next(row.arm, row.task)) for row in rows]
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
