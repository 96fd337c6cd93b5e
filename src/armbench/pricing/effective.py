"""The effective rate card of a run: the user's card layered over genai-prices.

Each model a run calls gets its prices from exactly one place, recorded as its provenance:

1. the user's rate card, if it names the model (a negotiated price, a time-priced local model);
2. nothing else for simulated models (`sim`, `script`): their tokens are make-believe and only
   a card can say what they should stand for;
3. $0 for models marked `local` (you run them; only a card can price their time);
4. genai-prices' bundled snapshot for everything else.

Every model without a price is collected first and reported in one error, so a user fixes a
config in one go instead of one model per attempt. A card entry must also price every token
kind its model can produce (`PROVIDER_KINDS`): a card without cache prices for an Anthropic
model would pass this check, run, and then make every view of the run fail on the first cache
token. (genai-prices entries and `local` entries price every kind by construction.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from armbench.core import SIMULATED_PROVIDERS
from armbench.pricing.genai import GENAI_PRICES_VERSION, NoGenaiPrice, genai_match
from armbench.pricing.ratecard import (
    PRICED_KINDS,
    ModelRates,
    PricedKind,
    RateCard,
    UnknownPriceError,
)

LOCAL_SOURCE = "local model: $0 unless priced by time in a rate card"

PROVIDER_KINDS: Mapping[str, frozenset[PricedKind]] = {
    # Both cache-write TTLs: a request chooses its TTL, so either can appear in any run.
    "anthropic": frozenset(PRICED_KINDS),
    # Chat Completions reports cached prompt tokens; it has no cache writes.
    "openai": frozenset({"input", "output", "cache_read"}),
    # The sim bills through the prompt-cache model, Anthropic's rules, either TTL.
    "sim": frozenset(PRICED_KINDS),
}
"""The token kinds each provider's models can produce, as rate-card prices: `reasoning` is
part of `output` and priced at its rate, so it needs no price of its own. A provider not named
here (a new one) must price every kind; a `script` model produces input and output, plus the
kinds its turns state (`script_kinds`)."""


@dataclass(frozen=True)
class PricedModel:
    """What pricing needs to know about one configured model."""

    key: str
    """`provider/model`, the rate-card key."""
    provider: str
    model: str
    base_url: str | None = None
    local: bool = False
    kinds: frozenset[PricedKind] | None = None
    """The token kinds it can produce; None: what its provider reports (`PROVIDER_KINDS`). An
    importer names the kinds its data records."""

    def produces(self) -> frozenset[PricedKind]:
        if self.kinds is not None:
            return self.kinds
        return PROVIDER_KINDS.get(self.provider, frozenset(PRICED_KINDS))


def script_kinds(path: object) -> frozenset[PricedKind]:
    """What a `script` model can produce: input and output (a turn without `usage` is counted
    so), and every kind a turn's `usage` states (reasoning as output). A script that cannot be
    read here is refused by its own check before the run (armbench.models.script)."""
    kinds: set[str] = {"input", "output"}
    try:
        turns = yaml.safe_load(Path(str(path)).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        turns = None
    for turn in turns if isinstance(turns, list) else ():
        usage = turn.get("usage") if isinstance(turn, dict) else None
        if isinstance(usage, dict):
            kinds |= {"output" if k == "reasoning" else str(k) for k, n in usage.items() if n}
    return frozenset(k for k in PRICED_KINDS if k in kinds)


def priced_models(config_models: dict[str, Any]) -> list[PricedModel]:
    """The priced models of a config's `models` table as stored in a manifest (plain dicts).

    Read leniently (`.get` with defaults) because `base_url` and `local` exist only for some
    providers, and older manifests predate them.
    """
    models = []
    for name, entry in config_models.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("provider"), str):
            raise ValueError(f"models.{name}: no provider in the run's config")
        provider = entry["provider"]
        model = entry.get("model") or name
        models.append(
            PricedModel(
                key=f"{provider}/{model}",
                provider=provider,
                model=model,
                base_url=entry.get("base_url"),
                local=bool(entry.get("local", False)),
                kinds=script_kinds(entry.get("path")) if provider == "script" else None,
            )
        )
    return models


def genai_source(at: datetime | None) -> str:
    """Provenance of genai-prices' prices: its version, and the (UTC) day they were in effect
    when one was asked for, since the bundled snapshot keeps price history."""
    if at is None:
        return f"genai-prices {GENAI_PRICES_VERSION}"
    day = (at.astimezone(UTC) if at.tzinfo is not None else at).date()
    return f"genai-prices {GENAI_PRICES_VERSION} at {day.isoformat()}"


def _missing_message(
    problems: dict[str, str], override: RateCard | None, providers: set[str]
) -> str:
    where = override.source if override is not None else "a rate card (`rate_card` in the config)"
    kinds = ", ".join(f"{k} = ..." for k in PRICED_KINDS)
    lines = [f"no price for {', '.join(sorted(problems))}:"]
    lines += [f"  {key}: {why}" for key, why in sorted(problems.items())]
    fix = (
        f'fix: add [models."provider/model"] with {kinds} ($ per million tokens) for each of '
        f"them to {where}"
    )
    if "openai" in providers:  # the one provider whose config has `local`
        fix += "; a model you serve yourself (provider openai) can instead be marked `local: true`"
    if providers & SIMULATED_PROVIDERS:
        fix += "; a simulated model standing in for a free one takes prices of 0"
    lines.append(fix)
    return "\n".join(lines)


def _unpriced_kinds(m: PricedModel, rates: ModelRates, card: RateCard) -> str | None:
    """One line naming the kinds `m` can produce that its card entry leaves without a price."""
    missing = [k for k in PRICED_KINDS if k in m.produces() and getattr(rates, k) is None]
    if not missing:
        return None
    reports = ", ".join(k for k in PRICED_KINDS if k in m.produces())
    note = " (reasoning tokens are priced as output)" if "output" in missing else ""
    return (
        f'{card.source}: [models."{m.key}"] has no {", ".join(missing)} price, and this model '
        f"can produce {reports}{note}; add {', '.join(f'{k} = ...' for k in missing)} "
        "($ per million tokens) to it, or `local = true` for a model you run yourself"
    )


def describe_layers(layers: dict[str, str]) -> str:
    """A card's `source`: each place prices came from and for how many models, in order of
    precedence (cards, then local models, then genai-prices)."""
    counts: dict[str, int] = {}
    for source in layers.values():
        counts[source] = counts.get(source, 0) + 1

    def rank(source: str) -> tuple[int, str]:
        order = 2 if source.startswith("genai-prices") else 1 if source == LOCAL_SOURCE else 0
        return order, source

    parts = [
        f"{s} ({counts[s]} model{'s' if counts[s] != 1 else ''})" for s in sorted(counts, key=rank)
    ]
    return "effective card: " + ("; ".join(parts) if parts else "no models")


def effective_card(
    models: Sequence[PricedModel], override: RateCard | None, *, at: datetime | None = None
) -> tuple[RateCard, dict[str, str]]:
    """The card a run is costed with and, per model key, where its prices came from.

    `at` picks genai-prices' prices in effect then (None: now). Raises one UnknownPriceError
    naming every model without a price, and ValueError when one price key would need two
    different genai prices (the same model name behind two endpoints).
    """
    by_key: dict[str, PricedModel] = {}
    for m in models:
        seen = by_key.setdefault(m.key, m)
        if (seen.base_url, seen.local) != (m.base_url, m.local) and (
            override is None or m.key not in override.rates
        ):
            raise ValueError(
                f"{m.key} is configured twice with different endpoints or `local` flags; give "
                "each its own `model` name or price it in a rate card"
            )
    rates: dict[str, ModelRates] = {}
    provenance: dict[str, str] = {}
    layers: dict[str, str] = {}
    problems: dict[str, str] = {}
    incomplete: list[str] = []
    for key in sorted(by_key):
        m = by_key[key]
        if override is not None and key in override.rates:
            rates[key] = override.rates[key]
            provenance[key] = layers[key] = f"rate card {override.source}"
            if (line := _unpriced_kinds(m, rates[key], override)) is not None:
                incomplete.append(line)
        elif m.provider in SIMULATED_PROVIDERS:
            problems[key] = "a simulated model is priced only by a rate card"
        elif m.local:
            rates[key] = ModelRates(local=True)
            provenance[key] = layers[key] = LOCAL_SOURCE
        else:
            try:
                match = genai_match(m.provider, m.model, base_url=m.base_url, at=at)
            except NoGenaiPrice as exc:
                problems[key] = exc.reason
                continue
            rates[key] = match.rates
            layers[key] = genai_source(at)
            provenance[key] = f"{layers[key]} ({match.provider_id}/{match.model_id})"
    if problems or incomplete:
        providers = {by_key[key].provider for key in problems}
        lines = [_missing_message(problems, override, providers)] if problems else []
        raise UnknownPriceError("\n".join([*lines, *incomplete]))
    return RateCard(rates, describe_layers(layers)), provenance


def card_record(card: RateCard, provenance: dict[str, str]) -> dict[str, Any]:
    """What a manifest stores as `rate_card`: `RateCard.from_mapping` reads it back."""
    return {
        "source": card.source,
        "sha256": card.digest(),
        "provenance": dict(sorted(provenance.items())),
        **card.to_mapping(),
    }
