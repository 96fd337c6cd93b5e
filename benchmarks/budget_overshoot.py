"""Does a run's budget ever overshoot? 100 simulated runs, each with a budget that binds.

Runs go through the Python API (`armbench.run`) in this process, each small enough that 100 fit
in minutes, priced by a rate card with the demo's prices (`src/armbench/examples/demo-prices.toml`,
`sim/strong`: $5 input, $25 output per million tokens). Two workloads (--via):

- `serve-sim` (the default): the `oneshot` pack's ten single-shot tasks × --replicates (3),
  two arms (with and without the execution contract) on a model of provider `anthropic` whose
  `base_url` is `armbench serve-sim`, started here with the fault `slow=--slow`: every call
  takes that long, so at --concurrency 8 up to eight calls are in flight together, each
  holding its reservation (the SDK's worst case: the request's bytes plus 1024 tokens, and
  `max_tokens` of output), and the larger budgets are crossed while several are;
- `sim`: the demo pack's `feature` task, two solo arms on in-process sims (the exact worst
  case: armbench's own token count), --replicates (2) each. A sim answers at once, so calls
  seldom overlap: this checks the accounting of multi-call trials stopped half-way.

1. A reference run with a budget far above its cost gives the unbudgeted cost, and the
   reservation of its first call (the smallest budget that lets a trial start).
2. --runs runs of the same config, each with `budget_usd` drawn uniformly (random.Random seeded
   by --seed) between that first reservation and --fraction of the unbudgeted cost. For each:
   the spend recomputed from its ledger (the `calls` table of its database, every token kind at
   the card's price, independently of armbench's pricing code) minus its budget; the share of
   the budget left unspent (what reserving worst cases costs), also counted in worst cases of
   a first call (the README's bound: about `concurrency` of them); trials recorded of those planned
   (a trial the budget stops before its first call is not recorded, by design, so that a
   resume with a larger budget runs it); trials that ended `limit` for the budget; and the most
   reservations held at once on the run's budget (`Budget.reserve` and `settle` are wrapped
   here to count them: calls in flight together).

Printed: the largest overshoot (must be ≤ 0: the script exits 1 otherwise), the median and
range of the unspent share, recorded and planned trials, how many runs the budget stopped. The
machine may be shared; its load average is printed before and after.

    .venv/bin/python benchmarks/budget_overshoot.py [--via serve-sim|sim] [--runs 100]
        [--concurrency 8] [--slow 0.3] [--max-tokens 1024] [--replicates N]
        [--fraction 0.8] [--seed 12] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # a sibling module, not a package
from benchlib import ROOT, load, machine, serve_sim, show_machine

import armbench
from armbench.config import RunConfig, parse_config
from armbench.models.budget import Budget, Reservation

DEMO_PRICES = Path(armbench.__file__).parent / "examples" / "demo-prices.toml"
MODEL = "claude-sim"
KEY_VARIABLE = "ARMBENCH_BENCH_API_KEY"
UNBOUNDED_USD = 1e6
KINDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
"""The priced token kinds (reasoning is part of output, never priced twice)."""


class InFlight:
    """Counts the reservations held at once on the run's budget (not the trials' own
    `max_cost_usd` accounts, which have no limit here), and the first one made."""

    def __init__(self) -> None:
        self.open: set[int] = set()
        self.most = 0
        self.first: float | None = None
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.open, self.most, self.first = set(), 0, None

    def install(self) -> None:
        reserve, settle = Budget.reserve, Budget.settle

        @functools.wraps(reserve)
        def counted_reserve(budget: Budget, usd: float) -> Reservation | None:
            held = reserve(budget, usd)
            if held is not None and budget.limit_usd is not None:
                with self._lock:
                    self.first = usd if self.first is None else self.first
                    self.open.add(id(held))
                    self.most = max(self.most, len(self.open))
            return held

        @functools.wraps(settle)
        def counted_settle(budget: Budget, reservation: Reservation, actual: float | None) -> None:
            settle(budget, reservation, actual)
            with self._lock:
                self.open.discard(id(reservation))

        Budget.reserve = counted_reserve  # type: ignore[method-assign,assignment]
        Budget.settle = counted_settle  # type: ignore[method-assign,assignment]


def write_card(folder: Path) -> Path:
    """The demo's card, with `sim/strong`'s prices for the serve-sim model too."""
    text = DEMO_PRICES.read_text()
    strong = tomllib.loads(text)["models"]["sim/strong"]
    lines = [f"{kind} = {strong[kind]}" for kind in KINDS]
    card = folder / "prices.toml"
    card.write_text(text + f'\n[models."anthropic/{MODEL}"]\n' + "\n".join(lines) + "\n")
    return card


def config_for(
    args: argparse.Namespace, card: Path, base_url: str | None, budget: float
) -> RunConfig:
    raw: dict[str, Any] = {
        "name": "budget-overshoot",
        "seed": args.seed,
        "rate_card": str(card),
        "concurrency": args.concurrency,
        "replicates": args.replicates,
        "budget_usd": budget,
    }
    if base_url is not None:
        model = {
            "provider": "anthropic",
            "model": MODEL,
            "base_url": base_url,
            "api_key_env": KEY_VARIABLE,
            "max_tokens": args.max_tokens,
        }
        raw |= {
            "pack": "oneshot",
            "models": {"m": model},
            "arms": {
                "oneshot": {"kind": "single_shot", "model": "m"},
                "oneshot+c": {"kind": "single_shot", "model": "m", "contract": True},
            },
        }
    else:
        raw |= {
            "pack": "demo",
            "tasks": ["feature"],
            "models": {
                "strong": {"provider": "sim", "skill": 0.95, "verbosity": 0.6},
                "cheap": {"provider": "sim", "skill": 0.8, "verbosity": 0.4},
            },
            "arms": {
                "strong": {"kind": "solo", "model": "strong"},
                "cheap": {"kind": "solo", "model": "cheap"},
            },
        }
    return parse_config(raw, source="budget_overshoot.py", base_dir=ROOT)


def ledger_spend(run_dir: Path, prices: dict[str, dict[str, Any]]) -> float:
    """Dollars the run's ledger records, every kind at the card's price; a model the card marks
    `local` (and prices no time of) is free. A used kind the card does not price is an error."""
    db = sqlite3.connect(f"file:{run_dir / 'armbench.sqlite'}?mode=ro", uri=True)
    try:
        rows = db.execute(f"SELECT provider, model, {', '.join(KINDS)} FROM calls").fetchall()
    finally:
        db.close()
    total = 0.0
    for provider, model, *tokens in rows:
        rates = prices[f"{provider}/{model}"]
        if rates.get("local"):
            continue
        for kind, count in zip(KINDS, tokens, strict=True):
            if count:
                total += count * rates[kind] / 1_000_000
    return total


@contextlib.contextmanager
def endpoint(args: argparse.Namespace) -> Iterator[str | None]:
    """serve-sim's base URL (None for in-process sims)."""
    if args.via == "sim":
        yield None
        return
    with serve_sim("anthropic", [f"slow={args.slow:g},times=0"], ["oneshot"]) as server:
        yield server.base_url


def one_run(config: RunConfig, out: Path, flight: InFlight, card: Path) -> dict[str, Any]:
    flight.reset()
    # armbench takes API keys out of its environment once a run has read them: give it again.
    os.environ[KEY_VARIABLE] = "armbench-benchmark-not-a-key"
    started = time.perf_counter()
    result = armbench.run(config, out=out)
    wall = time.perf_counter() - started
    prices = tomllib.loads(card.read_text())["models"]
    spend = ledger_spend(result.path, prices)
    budget = config.budget_usd
    assert budget is not None
    manifest = json.loads((result.path / "manifest.json").read_text())
    return {
        "budget_usd": budget,
        "spend_usd": spend,
        "overshoot_usd": spend - budget,
        "unspent_share": (budget - spend) / budget,
        "recorded": len(result.records),
        "planned": manifest["trials_planned"],
        "budget_stopped": sum(r.stop_reason == "budget" for r in result.records),
        "exhausted": bool(result.outcome.budget and result.outcome.budget.exhausted),
        "statuses": dict(result.statuses()),
        "most_in_flight": flight.most,
        "first_reservation_usd": flight.first,
        "wall_s": wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--via", choices=("serve-sim", "sim"), default="serve-sim")
    parser.add_argument("--runs", type=int, default=100, help="budgeted runs")
    parser.add_argument("--concurrency", type=int, default=8, help="trials at once")
    parser.add_argument("--slow", type=float, default=0.3, help="seconds each call takes")
    parser.add_argument("--max-tokens", type=int, default=1024, help="the API model's max_tokens")
    parser.add_argument("--replicates", type=int, help="default: 3 (serve-sim), 2 (sim)")
    parser.add_argument("--fraction", type=float, default=0.8, help="of the unbudgeted cost")
    parser.add_argument("--seed", type=int, default=12, help="seeds the runs and the budgets")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.replicates is None:
        args.replicates = 3 if args.via == "serve-sim" else 2
    info = machine()
    show_machine(info)
    flight = InFlight()
    flight.install()
    rng = random.Random(args.seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="armbench-budget-") as tmp, endpoint(args) as url:
        out = Path(tmp)
        card = write_card(out)
        reference = one_run(config_for(args, card, url, UNBOUNDED_USD), out, flight, card)
        low = reference["first_reservation_usd"]
        high = args.fraction * reference["spend_usd"]
        if low is None or high <= low:
            raise SystemExit(f"no budget can bind (reference run: {reference})")
        print(
            f"reference run ({args.via}, no binding budget): {reference['recorded']} trials, "
            f"${reference['spend_usd']:.4f} spent in {reference['wall_s']:.1f} s, "
            f"{reference['most_in_flight']} calls in flight at most; first call's reservation "
            f"${low:.4f}; budgets drawn from ${low:.4f} to ${high:.4f}"
        )
        for index in range(args.runs):
            budget = rng.uniform(low, high)
            row = one_run(config_for(args, card, url, budget), out, flight, card)
            row["unspent_worst_cases"] = (budget - row["spend_usd"]) / low
            rows.append(row)
            print(
                f"run {index + 1:>3}: budget ${budget:.4f} spent ${row['spend_usd']:.4f} "
                f"({row['overshoot_usd']:+.4f}, {row['unspent_share']:.0%} unspent), trials "
                f"{row['recorded']}/{row['planned']}, {row['budget_stopped']} stopped by it, "
                f"{row['most_in_flight']} calls in flight at most, {row['wall_s']:.1f} s, "
                f"load {load()[0]}"
            )
    overshoot = max(r["overshoot_usd"] for r in rows)
    unspent = [r["unspent_share"] for r in rows]
    info["load_after"] = load()
    summary = {
        "runs": len(rows),
        "max_overshoot_usd": overshoot,
        "unspent_share_median": statistics.median(unspent),
        "unspent_share_min": min(unspent),
        "unspent_share_max": max(unspent),
        "unspent_worst_cases_median": statistics.median(r["unspent_worst_cases"] for r in rows),
        "unspent_worst_cases_max": max(r["unspent_worst_cases"] for r in rows),
        "recorded": sum(r["recorded"] for r in rows),
        "planned": sum(r["planned"] for r in rows),
        "budget_stopped_trials": sum(r["budget_stopped"] for r in rows),
        "runs_exhausted": sum(r["exhausted"] for r in rows),
        "most_in_flight": max(r["most_in_flight"] for r in rows),
        "wall_s": sum(r["wall_s"] for r in rows) + reference["wall_s"],
    }
    print(
        f"\n{summary['runs']} runs ({args.via}): largest overshoot ${overshoot:+.6f} (must be "
        f"≤ 0); unspent: median {summary['unspent_share_median']:.0%} of the budget (from "
        f"{summary['unspent_share_min']:.0%} to {summary['unspent_share_max']:.0%}), in first "
        f"calls' worst cases: median {summary['unspent_worst_cases_median']:.1f}, at most "
        f"{summary['unspent_worst_cases_max']:.1f} (concurrency {args.concurrency}); trials "
        f"recorded {summary['recorded']} of {summary['planned']} planned, "
        f"{summary['budget_stopped_trials']} of them stopped by the budget; the budget "
        f"stopped {summary['runs_exhausted']} runs; up to {summary['most_in_flight']} calls "
        f"in flight together; {summary['wall_s']:.0f} s in all"
    )
    print(f"load after: {info['load_after']}")
    if args.json:
        report = {"machine": info, "args": vars(args), "reference": reference, "summary": summary}
        args.json.write_text(json.dumps({**report, "runs": rows}, indent=2, default=str) + "\n")
    if overshoot > 0:
        print("OVERSHOOT: a run spent more than its budget")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
