"""Which model each hybrid-coding-eval row used on each side, named as the study's own pricing
table names it, and the rate card that prices them (`pricing_tables.json`, read here).

- Models come from the row (`cloud_model_id`, `local_model_id`), else from the backends its
  calls name (`planner/cloud/gpt-5.5`, `devstral:24b`), else — for rows that name none — the
  only model the file names on that side, marked as inferred. A `name:tag` model is local
  (Ollama's convention, as the study's own pricing assumes).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from armbench.core import ROUTES as SIDES  # the study's ROUTES (armbench.importers.hce): R1…R5
from armbench.core import Route
from armbench.importers.common import Fields, ImportDataError, read_text
from armbench.importers.hce.rows import RAW, HceRow
from armbench.pricing.effective import PricedModel, effective_card
from armbench.pricing.ratecard import ModelRates, PricedKind, RateCard, UnknownPriceError

PRICING = "pricing_tables.json"
LOCAL_KEY = "__local__"
LOCAL_PROVIDER = "ollama"
_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")


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
    recorded: frozenset[PricedKind] = frozenset(
        {"input", "output", "cache_read"}
    )  # all the sweep's data holds
    models = [
        PricedModel(
            key=f"{m.provider}/{m.name}",
            provider=m.provider,
            model=m.name,
            local=m.local,
            kinds=recorded,
        )
        for m in sorted(priced, key=lambda m: (m.provider, m.name))
    ]
    try:
        return effective_card(models, RateCard(override, str(table_path)), at=at)
    except UnknownPriceError as exc:
        raise ImportDataError(
            f"{exc}\n(put the study's {PRICING} beside {RAW} to price with its own prices)"
        ) from exc
