"""Rate cards (TOML): `[models."provider/model"]` with $ per million tokens of each kind.

```toml
[models."anthropic/claude-test"]
input = 5.0
output = 25.0
cache_write_5m = 6.25
cache_write_1h = 10.0
cache_read = 0.5
```

Reasoning tokens are part of output and priced as output; they are never priced twice. A model
without a card entry, or a token kind it used without a price, is an error — never $0.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from armbench.models.types import Usage

PRICED_KINDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


class UnknownPriceError(LookupError):
    """A price the rate card does not have; the message names the model, the kind and the fix."""


class ModelRates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    input: float | None = Field(None, ge=0)
    output: float | None = Field(None, ge=0)
    cache_write_5m: float | None = Field(None, ge=0)
    cache_write_1h: float | None = Field(None, ge=0)
    cache_read: float | None = Field(None, ge=0)


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
                problems = "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
                )
                raise ValueError(f'{source}: models."{key}": {problems}') from exc
        return cls(rates, source)

    def to_mapping(self) -> dict[str, dict[str, dict[str, float]]]:
        return {
            "models": {
                key: {k: v for k, v in rates.model_dump().items() if v is not None}
                for key, rates in sorted(self.rates.items())
            }
        }

    def digest(self) -> str:
        """sha256 of the effective prices, independent of file formatting."""
        return hashlib.sha256(json.dumps(self.to_mapping(), sort_keys=True).encode()).hexdigest()

    def _fix(self, key: str) -> str:
        kinds = ", ".join(f"{k} = ..." for k in PRICED_KINDS)
        return f'add [models."{key}"] with {kinds} ($ per million tokens) to {self.source}'

    def require(self, keys: Iterable[str]) -> None:
        """Fail before a run starts if any model it will call has no price at all."""
        missing = sorted({k for k in keys if k not in self.rates})
        if missing:
            raise UnknownPriceError(
                f"no price for {', '.join(missing)} in {self.source}; " + self._fix(missing[0])
            )

    def cost(self, key: str, usage: Usage) -> float:
        """Dollars for `usage` of model `key`."""
        rates = self.rates.get(key)
        if rates is None:
            raise UnknownPriceError(f"no price for model {key!r}; {self._fix(key)}")
        total = 0.0
        for kind in PRICED_KINDS:
            tokens = getattr(usage, kind)
            if not tokens:
                continue
            rate = getattr(rates, kind)
            if rate is None:
                raise UnknownPriceError(
                    f"{key} used {tokens} {kind} tokens, but {self.source} has no {kind} price "
                    "for it"
                )
            total += tokens * rate
        return total / 1_000_000
