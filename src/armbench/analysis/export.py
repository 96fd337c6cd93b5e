"""Exporting a run: one row per trial (or per ledger row), as JSON lines, CSV or Parquet.

Trial rows carry the contract fields: run_id, trial_id, arm, arm_kind, task, replicate, seed,
status, infra_class, wall_s, iterations (answered model calls, every role), n_calls (attempts),
tokens (the six kinds), tokens_by_role, cost_usd, cost_by_role, delegation_tax_tokens /
_usd / _estimated, cloud_fraction_calls / _tokens (routed arms; null otherwise),
format_score / execution_score / contract / contract_effect (single-shot arms; null otherwise),
gates, simulated, attempts (1, or more when infra errors were retried: the row is the latest
attempt; earlier ones stay in the run's history). In CSV, nested values are JSON-encoded cells.

Parquet is for pandas, polars and duckdb users, so nested values are real nested types rather
than JSON strings that every query would have to parse:

- `tokens`: struct of the six token kinds (int64), e.g. duckdb `tokens.cache_read`.
- `tokens_by_role`: struct with one field per role (armbench.core.Role), each a struct
  of the six kinds; a role the trial did not use is null, not zeros — "had no executor" and
  "its executor read nothing" stay distinguishable. A struct rather than a map because the
  roles are a closed vocabulary and a struct reads as a dict in pandas and a plain path in
  duckdb and polars (`tokens_by_role.executor.output`), where a map is a list of pairs.
- `cost_by_role`: struct of float64 per role, null where the role was not used.
- `gates`: list of struct `{name, passed, exit_code, counts, duration_s}`; `counts` is a
  map<string, int64>, because each gate kind counts different things.

Column names, order and types come from an explicit schema (`trial_schema`, `call_schema`), so
a run with no trials, or a column that is null in every row, still yields the same columns and
types. Every file is written to a temporary name beside the target and renamed into place: a
failure part-way (an unknown price, a full disk) leaves no half-written export behind. pyarrow
is imported only when Parquet is written, so the CLI starts fast.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from armbench.analysis.arms import (
    cloud_fraction,
    contract_effects,
    delegation_tax,
    single_shot_scores,
)
from armbench.analysis.records import RunRecords
from armbench.core import ROLES, TOKEN_KINDS
from armbench.pricing.costing import call_cost, cost_by_role, tokens_by_role, trial_tokens

TextFormat = Literal["jsonl", "csv"]
Format = Literal["jsonl", "csv", "parquet"]
PARQUET_BATCH_ROWS = 50_000
"""Rows converted to Arrow at a time: bounds the memory Parquet adds on a run of millions."""


def trial_rows(run: RunRecords) -> Iterator[dict[str, Any]]:
    """One row per trial, read one trial at a time."""
    effects = contract_effects(
        list(run.iter_trials(calls=False)), run.manifest.config.get("arms", {})
    )
    earlier = run.earlier_attempts
    for t in run.iter_trials():
        scores = single_shot_scores(t)
        by_role = cost_by_role(t, run.rate_card)
        tax = delegation_tax(t, run.rate_card)
        cloud = cloud_fraction(t)
        yield {
            "run_id": run.run_id,
            "trial_id": t.trial_id,
            "arm": t.arm,
            "arm_kind": t.arm_kind,
            "task": t.task,
            "replicate": t.replicate,
            "seed": t.seed,
            "status": t.status,
            "infra_class": t.infra_class,
            "stop_reason": t.stop_reason,
            "wall_s": round(t.wall_s, 3),
            "iterations": t.iterations,
            "n_calls": len(t.calls),
            "tokens": trial_tokens(t).as_dict(),
            "tokens_by_role": {role: u.as_dict() for role, u in tokens_by_role(t).items()},
            "cost_usd": round(sum(by_role.values()), 6),
            "cost_by_role": {role: round(c, 6) for role, c in by_role.items()},
            "delegation_tax_tokens": None if tax is None else tax.tokens,
            "delegation_tax_usd": None if tax is None else round(tax.usd, 6),
            "delegation_tax_estimated": None if tax is None else tax.estimated,
            "cloud_fraction_calls": None
            if cloud is None or cloud.calls is None
            else round(cloud.calls, 4),
            "cloud_fraction_tokens": None if cloud is None else round(cloud.tokens, 4),
            "format_score": None if scores is None else scores[0],
            "execution_score": None if scores is None else scores[1],
            "contract": t.extra.get("contract") if t.arm_kind == "single_shot" else None,
            "contract_effect": effects.get(t.trial_id),
            "gates": [g.summary() for g in t.gates],
            "simulated": t.simulated,
            "attempts": 1 + earlier.get(t.trial_id, 0),
        }


def call_rows(run: RunRecords) -> Iterator[dict[str, Any]]:
    """One row per ledger row, read one trial at a time."""
    for t in run.iter_trials():
        for c in t.calls:
            yield {
                "run_id": run.run_id,
                "trial_id": t.trial_id,
                "arm": t.arm,
                "task": t.task,
                "seq": c.seq,
                "role": c.role,
                "route": c.route,
                "provider": c.provider,
                "model": c.model,
                "model_id": c.model_id,
                "attempt": c.attempt,
                "status": c.status,
                "error_class": c.error_class,
                **c.usage.as_dict(),
                "cost_usd": round(call_cost(c, run.rate_card), 8),
                "latency_s": round(c.latency_s, 4),
                "latency_simulated": c.latency_simulated,
                "request_id": c.request_id,
                "simulated": t.simulated,
            }


def text_chunks(rows: Iterable[dict[str, Any]], fmt: TextFormat) -> Iterator[str]:
    """The export as text, a row at a time."""
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, sort_keys=False) + "\n"
        return
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    for row in rows:
        flat = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()}
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(flat), lineterminator="\n")
            writer.writeheader()
        writer.writerow(flat)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


# --- Parquet -----------------------------------------------------------------------------------


def _pa() -> Any:
    import pyarrow  # imported late, only for Parquet: see the module docstring

    return pyarrow


def _field(name: str, type_: Any, *, nullable: bool = True) -> Any:
    return _pa().field(name, type_, nullable=nullable)


def _kinds() -> Any:
    pa = _pa()
    return pa.struct([_field(k, pa.int64(), nullable=False) for k in TOKEN_KINDS])


def trial_schema() -> Any:
    """The Arrow schema of a Parquet trial export: the fields of `trial_rows`, in order."""
    pa = _pa()
    string, int64, float64, bool_ = pa.string(), pa.int64(), pa.float64(), pa.bool_()
    gate = pa.struct(
        [
            _field("name", string, nullable=False),
            _field("passed", bool_, nullable=False),
            _field("exit_code", int64),
            _field("counts", pa.map_(string, int64)),
            _field("duration_s", float64, nullable=False),
        ]
    )
    fields = [
        *(_field(n, string, nullable=False) for n in ("run_id", "trial_id", "arm", "arm_kind")),
        _field("task", string, nullable=False),
        _field("replicate", int64, nullable=False),
        _field("seed", int64, nullable=False),
        _field("status", string, nullable=False),
        _field("infra_class", string),
        _field("stop_reason", string, nullable=False),
        _field("wall_s", float64, nullable=False),
        _field("iterations", int64, nullable=False),
        _field("n_calls", int64, nullable=False),
        _field("tokens", _kinds(), nullable=False),
        _field("tokens_by_role", pa.struct([_field(r, _kinds()) for r in ROLES]), nullable=False),
        _field("cost_usd", float64, nullable=False),
        _field("cost_by_role", pa.struct([_field(r, float64) for r in ROLES]), nullable=False),
        _field("delegation_tax_tokens", int64),
        _field("delegation_tax_usd", float64),
        _field("delegation_tax_estimated", bool_),
        _field("cloud_fraction_calls", float64),
        _field("cloud_fraction_tokens", float64),
        _field("format_score", int64),
        _field("execution_score", int64),
        _field("contract", bool_),
        _field("contract_effect", string),
        _field("gates", pa.list_(_field("item", gate, nullable=False)), nullable=False),
        _field("simulated", bool_, nullable=False),
        _field("attempts", int64, nullable=False),
    ]
    return pa.schema(fields)


def call_schema() -> Any:
    """The Arrow schema of a Parquet ledger export: the fields of `call_rows`, in order."""
    pa = _pa()
    string, int64, float64, bool_ = pa.string(), pa.int64(), pa.float64(), pa.bool_()
    fields = [
        *(_field(n, string, nullable=False) for n in ("run_id", "trial_id", "arm", "task")),
        _field("seq", int64, nullable=False),
        _field("role", string, nullable=False),
        _field("route", string),
        _field("provider", string, nullable=False),
        _field("model", string, nullable=False),
        _field("model_id", string, nullable=False),
        _field("attempt", int64, nullable=False),
        _field("status", string, nullable=False),
        _field("error_class", string),
        *(_field(k, int64, nullable=False) for k in TOKEN_KINDS),
        _field("cost_usd", float64, nullable=False),
        _field("latency_s", float64, nullable=False),
        _field("latency_simulated", bool_, nullable=False),
        _field("request_id", string),
        _field("simulated", bool_, nullable=False),
    ]
    return pa.schema(fields)


def _check_roles(row: dict[str, Any]) -> None:
    """A role outside the schema's struct would be dropped without a word: refuse instead."""
    for column in ("tokens_by_role", "cost_by_role"):
        unknown = set(row[column]) - set(ROLES)
        if unknown:
            raise ValueError(
                f"trial {row['trial_id']}: role(s) {', '.join(sorted(unknown))} are not among "
                f"{', '.join(ROLES)}; export this run as jsonl"
            )


def write_parquet(rows: Iterable[dict[str, Any]], schema: Any, path: Path) -> int:
    """Write `rows` to `path` (replaced only when complete) in batches; returns the row count."""
    import pyarrow.parquet as pq

    pa = _pa()
    nested = "tokens_by_role" in schema.names
    count = 0
    with _replacing(path) as tmp:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            batch: list[dict[str, Any]] = []
            for row in rows:
                if nested:
                    _check_roles(row)
                batch.append(row)
                if len(batch) >= PARQUET_BATCH_ROWS:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    count += len(batch)
                    batch.clear()
            if batch or count == 0:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count += len(batch)
        _fsync(tmp)
    return count


def write_rows(rows: Iterable[dict[str, Any]], fmt: Format, path: Path, *, calls: bool) -> int:
    """Write an export to `path` in `fmt` (rows from `call_rows` when `calls`, else
    `trial_rows`); the file appears only once complete. Returns the number of rows."""
    if fmt == "parquet":
        return write_parquet(rows, call_schema() if calls else trial_schema(), path)
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    with _replacing(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        for chunk in text_chunks(counted(), fmt):
            handle.write(chunk)
        _flush(handle)
    return count


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A fresh temporary path beside `path` (not yet created, so the file gets the usual
    permissions, not mkstemp's 0600), renamed onto `path` when the block succeeds, else removed."""
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path.parent}: no such directory")
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _flush(handle: IO[str]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
