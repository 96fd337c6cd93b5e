"""Repricing a finished run: the same recorded tokens, costed with other prices.

Tokens are the ground truth and cost is derived, so "what would this run have cost with these
prices?" needs no re-run. A repricing is written beside the run, in
`repricings/<utc stamp>-<label>/` (`card.toml`: the card used; `costs.json`: every trial's
original and new cost, totals per arm, the card's sha256 and where each price came from). The
run itself — manifest, database, transcripts — is never touched: it stays the record of what
was run and what it was costed with at the time.

Two ways to pick the new prices (exactly one):

- `rate_card`: a TOML card whose entries replace the run's for the models it names; models it
  does not name keep the prices the run was costed with;
- `price_date`: genai-prices' prices in effect on that date for cloud models; simulated and
  local models keep the run's own entries (genai-prices has nothing to say about them).
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from armbench.core import SIMULATED_PROVIDERS
from armbench.pricing.costing import trial_cost
from armbench.pricing.effective import (
    LOCAL_SOURCE,
    describe_layers,
    effective_card,
    genai_source,
    priced_models,
)
from armbench.pricing.genai import GENAI_PRICES_VERSION
from armbench.pricing.ratecard import PRICED_KINDS, PricedKind, RateCard
from armbench.store.rundir import MANIFEST, RunDirectory, utc_now

REPRICINGS = "repricings"


def _label(rate_card: Path | None, price_date: date | None) -> str:
    if rate_card is not None:
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in rate_card.stem)
        return f"card-{stem or 'card'}"
    assert price_date is not None
    return f"genai-{price_date.isoformat()}"


def _new_folder(run: Path, label: str) -> Path:
    """A fresh folder; written in a hidden temp folder first and renamed, so a half-written
    repricing is never mistaken for a finished one."""
    parent = run / REPRICINGS
    parent.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    name = f"{stamp}-{label}"
    if (parent / name).exists():
        name = f"{name}-{secrets.token_hex(2)}"
    return parent / name


def reprice(
    run_dir: Path, *, rate_card: Path | None = None, price_date: date | None = None
) -> Path:
    """Recompute every trial's cost of the run at `run_dir` with new prices; returns the
    folder the repricing was written to. Raises ValueError (bad arguments, unreadable run or
    card) or UnknownPriceError (a model the new prices do not cover, all named at once)."""
    if (rate_card is None) == (price_date is None):
        raise ValueError("reprice needs exactly one of a rate card or a price date")
    directory = RunDirectory.open(run_dir)
    manifest = directory.read_manifest()
    original = RateCard.from_mapping(
        manifest.rate_card, source=f"{run_dir / MANIFEST} (the run's rate card)"
    )
    config_models = manifest.config.get("models")
    if not isinstance(config_models, dict) or not config_models:
        raise ValueError(f"{run_dir / MANIFEST}: the run's config lists no models")
    with directory.read_database() as db:
        trials = db.trials()
    # The run is over: new prices must cover the token kinds it recorded, not every kind its
    # models could have produced (an imported study's data holds fewer).
    used: dict[str, set[PricedKind]] = {}
    for call in (c for t in trials for c in t.calls):
        kinds = used.setdefault(f"{call.provider}/{call.model}", set())
        kinds.update(k for k in PRICED_KINDS if getattr(call.usage, k))
    models = [
        dataclasses.replace(m, kinds=frozenset(used.get(m.key, ())))
        for m in priced_models(config_models)
    ]

    at: datetime | None = None
    if rate_card is not None:
        user = RateCard.load(rate_card)
        kept = {k: r for k, r in original.rates.items() if k not in user.rates}
        rates = {**kept, **user.rates}
        basis: dict[str, Any] = {"rate_card": str(rate_card)}
    else:
        assert price_date is not None
        at = datetime(price_date.year, price_date.month, price_date.day, tzinfo=UTC)
        keep = {m.key for m in models if m.provider in SIMULATED_PROVIDERS or m.local}
        kept = {k: r for k, r in original.rates.items() if k in keep}
        rates = dict(kept)
        basis = {"price_date": price_date.isoformat()}
    where = str(rate_card) if rate_card is not None else f"{run_dir / MANIFEST} (the run's card)"
    override = RateCard(rates, source=where)
    card, provenance = effective_card(models, override, at=at)
    # Name the run's own card, not the merged override, as the source of the prices it kept.
    recorded = manifest.rate_card.get("provenance")
    recorded = recorded if isinstance(recorded, dict) else {}
    layers = {}
    for key in provenance:
        if key in kept:
            layers[key] = "the run's own card"
            was = recorded.get(key)
            provenance[key] = layers[key] + (f" ({was})" if was else "")
        elif key in rates:
            layers[key] = provenance[key]
        elif provenance[key] == LOCAL_SOURCE:
            layers[key] = LOCAL_SOURCE
        else:
            layers[key] = genai_source(at)
    card = RateCard(card.rates, describe_layers(layers))
    card.require(f"{c.provider}/{c.model}" for t in trials for c in t.calls)

    rows: list[dict[str, Any]] = []
    arms: dict[str, dict[str, Any]] = {}
    total_before = total_after = 0.0
    for t in trials:
        before, after = trial_cost(t, original), trial_cost(t, card)
        rows.append(
            {
                "trial_id": t.trial_id,
                "arm": t.arm,
                "task": t.task,
                "replicate": t.replicate,
                "status": t.status,
                "original_cost_usd": before,
                "cost_usd": after,
            }
        )
        arm = arms.setdefault(t.arm, {"trials": 0, "original_cost_usd": 0.0, "cost_usd": 0.0})
        arm["trials"] += 1
        arm["original_cost_usd"] += before
        arm["cost_usd"] += after
        total_before += before
        total_after += after
    report = {
        "run_id": manifest.run_id,
        "created_at": utc_now(),
        "basis": basis,
        "genai_prices_version": GENAI_PRICES_VERSION,
        "original_card": {
            "source": manifest.rate_card.get("source", original.source),
            "sha256": original.digest(),
            "recorded_sha256": manifest.rate_card.get("sha256"),
        },
        "card": {"source": card.source, "sha256": card.digest(), "provenance": provenance},
        "trials": rows,
        "arms": dict(sorted(arms.items())),
        "total": {
            "trials": len(rows),
            "original_cost_usd": total_before,
            "cost_usd": total_after,
        },
    }

    folder = _new_folder(directory.path, _label(rate_card, price_date))
    staging = folder.parent / f".{folder.name}.tmp"
    staging.mkdir()
    try:
        (staging / "card.toml").write_text(card.to_toml(), encoding="utf-8")
        (staging / "costs.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder
