"""Reading and checking free-executor-paradox's published trials, in either of its forms, into
`FepRow`s; the study's arms, tasks and model ids they are checked against.

Two forms of the same trials: `data/results/{A,B,C,D}.jsonl` (tokens per model id, the error
text of a failed trial, the verification summary) and `data/trials.csv` flattened from them
(tokens per model family in columns, the verification's exit code, no error texts). A folder is
read through its jsonl files when it has any, since they say more.

- Status is the published verdict (`success`: the verification's exit code was 0). A row whose
  trial raised (`error` set, no verification) is `infra_error`: its class is read from the
  error text (a 400 "credit balance is too low" is `quota`), or `harness` when the text names
  no provider failure — it was the peer's harness that stopped, and the trial has no verdict.
  In the CSV such a row shows only as an empty `verify_exit`; the CSV does not name the cause,
  and the trial's error says so.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from armbench.core import InfraClass, Role, Usage
from armbench.importers.common import (
    Fields,
    ImportDataError,
    classify_provider_failure,
    read_jsonl,
    read_text,
)

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
USAGE_KEYS = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_creation_input_tokens": "cache_write_5m",
    "cache_read_input_tokens": "cache_read",
}
CSV_COLUMNS = {"in": "input", "out": "output", "cache_w": "cache_write_5m", "cache_r": "cache_read"}
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
