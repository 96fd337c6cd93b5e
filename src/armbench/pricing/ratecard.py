"""Rate cards (TOML): `[models."provider/model"]` with $ per million tokens of each kind.

```toml
[models."anthropic/claude-test"]
input = 5.0
output = 25.0
cache_write_5m = 6.25
cache_write_1h = 10.0
cache_read = 0.5

# Long-context pricing: once a call's prompt (input + cache writes + cache reads) is above
# the threshold, the tier's prices apply to ALL tokens of those kinds in that call.
[[models."anthropic/claude-test".tiers]]
above_input_tokens = 200000
input = 10.0
output = 37.5

# A model you run yourself: tokens are free (prices default to 0), its time is not.
[models."openai/qwen3.5:9b"]
local = true
per_hour = 0.5            # $ per hour of model wall time, or:
# watts = 65              # power draw while answering, together with
# usd_per_kwh = 0.30      # the price of electricity
```

Reasoning tokens are part of output and priced as output; they are never priced twice. A model
without a card entry, or a token kind it used without a price, is an error — never $0. Only an
entry marked `local = true` gets $0 for the kinds it does not price, because that is a
statement ("this model costs nothing per token") rather than an omission.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from armbench.core import Usage, format_validation_error

PricedKind = Literal["input", "output", "cache_write_5m", "cache_write_1h", "cache_read"]
PRICED_KINDS: tuple[PricedKind, ...] = (
    "input",
    "output",
    "cache_write_5m",
    "cache_write_1h",
    "cache_read",
)


class UnknownPriceError(LookupError):
    """A price the rate card does not have; the message names the model, the kind and the fix."""


class _Prices(BaseModel):
    """The five token prices, $ per million tokens; None means "no price" (an error if used)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    input: float | None = Field(None, ge=0)
    output: float | None = Field(None, ge=0)
    cache_write_5m: float | None = Field(None, ge=0)
    cache_write_1h: float | None = Field(None, ge=0)
    cache_read: float | None = Field(None, ge=0)


class PriceTier(_Prices):
    """Prices that replace the base prices for a whole call once its prompt is long enough.

    The comparison is genai-prices' own (`prompt > above_input_tokens`, prompt counting cache
    reads and writes), so a card converted from genai-prices costs a call exactly as it would.
    """

    above_input_tokens: int = Field(ge=0)

    @model_validator(mode="after")
    def _prices_something(self) -> PriceTier:
        if all(getattr(self, kind) is None for kind in PRICED_KINDS):
            raise ValueError(
                f"the tier above {self.above_input_tokens} input tokens prices nothing; give it "
                f"at least one of {', '.join(PRICED_KINDS)}"
            )
        return self


class ModelRates(_Prices):
    """One model's prices: per token kind, optional long-prompt tiers, optional time price."""

    tiers: tuple[PriceTier, ...] = ()
    """Sorted by threshold. For each kind, the highest crossed tier that prices the kind wins;
    a kind no crossed tier prices keeps its base price."""
    per_hour: float | None = Field(None, ge=0)
    """$ per hour of model wall time (a rented GPU, a local machine's amortised cost)."""
    watts: float | None = Field(None, ge=0)
    """Power drawn while the model answers; priced with `usd_per_kwh`."""
    usd_per_kwh: float | None = Field(None, ge=0)
    local: bool = False
    """A model run locally: token kinds without a price cost $0 instead of being an error."""

    @model_validator(mode="before")
    @classmethod
    def _local_prices_default_to_zero(cls, data: Any) -> Any:
        # Filled in at load time (not at cost time) so the stored mapping, the digest and the
        # TOML written back all state the zeros explicitly.
        if isinstance(data, Mapping) and data.get("local") is True:
            return {**dict.fromkeys(PRICED_KINDS, 0.0), **data}
        return data

    @field_validator("tiers")
    @classmethod
    def _sorted_distinct_thresholds(cls, tiers: tuple[PriceTier, ...]) -> tuple[PriceTier, ...]:
        ordered = tuple(sorted(tiers, key=lambda t: t.above_input_tokens))
        thresholds = [t.above_input_tokens for t in ordered]
        if len(set(thresholds)) != len(thresholds):
            raise ValueError(f"two tiers share a threshold: {thresholds}")
        return ordered

    @model_validator(mode="after")
    def _one_time_price(self) -> ModelRates:
        if (self.watts is None) != (self.usd_per_kwh is None):
            raise ValueError("watts and usd_per_kwh price time together; give both or neither")
        if self.per_hour is not None and self.watts is not None:
            raise ValueError("give per_hour or watts with usd_per_kwh, not both")
        return self

    @property
    def usd_per_hour(self) -> float:
        """What an hour of the model's wall time costs; 0 when it is priced by tokens only."""
        if self.per_hour is not None:
            return self.per_hour
        if self.watts is not None and self.usd_per_kwh is not None:
            return self.watts / 1000 * self.usd_per_kwh
        return 0.0

    def price(self, kind: PricedKind, prompt_tokens: int) -> float | None:
        """$ per million tokens of `kind` in a call whose prompt was `prompt_tokens` long."""
        price: float | None = getattr(self, kind)
        for tier in self.tiers:
            if not prompt_tokens > tier.above_input_tokens:
                break
            tier_price: float | None = getattr(tier, kind)
            if tier_price is not None:
                price = tier_price
        return price

    def to_mapping(self) -> dict[str, Any]:
        """Only what is set, so cards written before tiers and time prices keep their digest."""
        mapping = self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        if "local" in mapping:  # first: it explains the zeros that follow
            mapping = {"local": mapping.pop("local"), **mapping}
        if "tiers" in mapping:  # threshold first: it is what a reader of the TOML looks for
            mapping["tiers"] = [
                {"above_input_tokens": t.pop("above_input_tokens"), **t} for t in mapping["tiers"]
            ]
        return mapping


def _toml_string(text: str) -> str:
    """A TOML basic string (tomllib only reads, so armbench writes its few strings itself)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)  # shortest exact form; valid TOML for every finite float
    raise TypeError(f"cannot write {value!r} to a rate card")


class RateCard:
    def __init__(self, rates: dict[str, ModelRates], source: str) -> None:
        self.rates = rates
        self.source = source

    @classmethod
    def load(cls, path: Path) -> RateCard:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"{path}: cannot read the rate card: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML: {exc}") from exc
        return cls.from_mapping(raw, source=str(path))

    @classmethod
    def from_mapping(cls, raw: object, *, source: str) -> RateCard:
        """A card from a TOML table or from `to_mapping()` output. Other top-level keys (a
        manifest's `source`, `sha256`, `provenance`) are ignored: only `models` holds prices."""
        models = raw.get("models") if isinstance(raw, dict) else None
        if not isinstance(models, dict):
            raise ValueError(f'{source}: expected [models."provider/model"] tables')
        rates: dict[str, ModelRates] = {}
        for key, value in models.items():
            if "/" not in key:
                raise ValueError(f'{source}: models."{key}": keys are "provider/model"')
            try:
                rates[key] = ModelRates.model_validate(value)
            except ValidationError as exc:
                raise ValueError(
                    f'{source}: models."{key}": {format_validation_error(exc)}'
                ) from exc
        return cls(rates, source)

    def to_mapping(self) -> dict[str, Any]:
        """`{"models": {key: {...}}}`, what a manifest stores; `from_mapping` reads it back."""
        return {"models": {key: rates.to_mapping() for key, rates in sorted(self.rates.items())}}

    def to_toml(self) -> str:
        """The card as a TOML file that `load` reads back to the same digest."""
        lines = [f"# {line}" for line in f"rate card: {self.source}".splitlines()]
        for key, entry in self.to_mapping()["models"].items():
            table = f"models.{_toml_string(key)}"
            lines += ["", f"[{table}]"]
            lines += [f"{name} = {_toml_value(v)}" for name, v in entry.items() if name != "tiers"]
            for tier in entry.get("tiers", ()):
                lines += ["", f"[[{table}.tiers]]"]
                lines += [f"{name} = {_toml_value(v)}" for name, v in tier.items()]
        return "\n".join(lines) + "\n"

    def digest(self) -> str:
        """sha256 of the effective prices (tiers and time prices included), independent of file
        formatting."""
        return hashlib.sha256(json.dumps(self.to_mapping(), sort_keys=True).encode()).hexdigest()

    def _fix(self, key: str) -> str:
        kinds = ", ".join(f"{k} = ..." for k in PRICED_KINDS)
        return (
            f'add [models."{key}"] with {kinds} ($ per million tokens) to {self.source} '
            "(or `local = true` for a model you run yourself)"
        )

    def require(self, keys: Iterable[str]) -> None:
        """Fail before a run starts if any model it will call has no price at all."""
        missing = sorted({k for k in keys if k not in self.rates})
        if missing:
            raise UnknownPriceError(
                f"no price for {', '.join(missing)} in {self.source}; " + self._fix(missing[0])
            )

    def thresholds(self) -> list[int]:
        """Every prompt size above which some model's tier starts, ascending."""
        return sorted({t.above_input_tokens for r in self.rates.values() for t in r.tiers})

    def cost(
        self, key: str, usage: Usage, *, seconds: float = 0.0, prompt_tokens: int | None = None
    ) -> float:
        """Dollars for `usage` of model `key`, plus `seconds` of its wall time if the card
        prices time (local models). Tiers are chosen by the prompt size of one call:
        `usage.prompt_tokens`, or `prompt_tokens` when `usage` sums several calls that all fall
        in the same tier (see `thresholds`)."""
        rates = self.rates.get(key)
        if rates is None:
            raise UnknownPriceError(f"no price for model {key!r}; {self._fix(key)}")
        if seconds < 0 or not math.isfinite(seconds):
            raise ValueError(f"{key}: cannot price {seconds} seconds of model time")
        prompt = usage.prompt_tokens if prompt_tokens is None else prompt_tokens
        total = 0.0
        for kind in PRICED_KINDS:
            tokens = getattr(usage, kind)
            if not tokens:
                continue
            rate = rates.price(kind, prompt)
            if rate is None:
                raise UnknownPriceError(
                    f"{key} used {tokens} {kind} tokens, but {self.source} has no {kind} price "
                    "for it"
                )
            total += tokens * rate
        total /= 1_000_000
        hourly = rates.usd_per_hour
        if seconds and hourly:
            total += seconds * hourly / 3600
        return total
