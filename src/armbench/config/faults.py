"""What serve-sim's fault injection can do, as data: a rule (`FaultRule`) and its
command-line form (`parse_fault`). The plan that applies rules to a server's requests is
`armbench.serve.faults`; the rules are here so a run config can name them (a sim model's
`faults`, injected when it answers an external agent over HTTP).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

FaultKind = Literal["status", "slow", "malformed", "no_usage", "drop", "cut_off"]
FAULT_KINDS: tuple[FaultKind, ...] = ("status", "slow", "malformed", "no_usage", "drop", "cut_off")


class FaultRule(BaseModel):
    """One kind of failure and the requests it applies to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: FaultKind
    status: int | None = Field(None, ge=400, le=599)
    """The HTTP status of a `status` fault."""
    error_type: str | None = None
    """Overrides the API's usual error type for the status (e.g. `insufficient_quota`,
    `billing_error`); OpenAI also gets it as the error's `code`."""
    retry_after: float | None = Field(None, ge=0)
    """Seconds, sent as `retry-after` (rounded up to whole seconds) and `retry-after-ms`."""
    delay_s: float = Field(0.0, ge=0)
    """How long a `slow` fault waits before answering normally."""
    after: int = Field(0, ge=0)
    """Requests to let through before the rule may fire."""
    times: int = Field(1, ge=0)
    """How many times the rule fires in all; 0: without end."""
    every: int = Field(1, ge=1)
    """Fire on every `every`-th request once `after` have passed (1: each one)."""

    @model_validator(mode="after")
    def _consistent(self) -> FaultRule:
        if self.kind == "status" and self.status is None:
            raise ValueError("a status fault needs a status, e.g. status=429")
        if self.kind != "status" and self.status is not None:
            raise ValueError(f"a {self.kind} fault takes no status")
        if self.kind == "slow" and self.delay_s <= 0:
            raise ValueError("a slow fault needs a delay in seconds, e.g. slow=3")
        return self

    def due(self, seen: int, applied: int) -> bool:
        """Whether the rule may fire on the `seen`-th request (1-based), having fired
        `applied` times."""
        if seen <= self.after or (self.times and applied >= self.times):
            return False
        return (seen - self.after - 1) % self.every == 0

    def retry_headers(self) -> dict[str, str]:
        """The headers that tell a client when to retry (none without `retry_after`)."""
        if self.retry_after is None:
            return {}
        return {
            "retry-after": str(math.ceil(self.retry_after)),
            "retry-after-ms": str(round(self.retry_after * 1000)),
        }

    def describe(self) -> str:
        """The rule in `parse_fault` syntax (only the fields that differ from defaults)."""
        head = {"status": f"status={self.status}", "slow": f"slow={self.delay_s:g}"}
        parts = [head.get(self.kind, self.kind)]
        if self.error_type is not None:
            parts.append(f"error_type={self.error_type}")
        if self.retry_after is not None:
            parts.append(f"retry_after={self.retry_after:g}")
        parts += [f"{k}={getattr(self, k)}" for k, d in _SCHEDULE_DEFAULTS if getattr(self, k) != d]
        return ",".join(parts)


_SCHEDULE_DEFAULTS = (("after", 0), ("times", 1), ("every", 1))
_KEYS = {
    "status": "status",
    "error_type": "error_type",
    "type": "error_type",
    "retry_after": "retry_after",
    "delay": "delay_s",
    "delay_s": "delay_s",
    "slow": "delay_s",
    "after": "after",
    "times": "times",
    "every": "every",
}


def parse_fault(spec: str) -> FaultRule:
    """A rule from its command-line form: comma-separated `key=value` items, the first naming
    the kind (`status=429`, `slow=3`, `drop`, `malformed`, `no_usage`, `cut_off`).

    e.g. `status=529,retry_after=0.2,times=2`, `drop,after=1`, `malformed,every=5,times=0`,
    `cut_off,after=2` (the third answer breaks off partway, mid-stream when streamed).
    """
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if not items:
        raise ValueError("empty fault spec; e.g. status=429,retry_after=2,times=3")
    fields: dict[str, Any] = {}
    head, _, head_value = items[0].partition("=")
    if head not in FAULT_KINDS:
        raise ValueError(
            f"fault {spec!r}: {head!r} is not a fault kind (kinds: {', '.join(FAULT_KINDS)})"
        )
    fields["kind"] = head
    if head_value:
        if head not in ("status", "slow"):
            raise ValueError(f"fault {spec!r}: {head!r} takes no value")
        fields[_KEYS[head]] = head_value
    for item in items[1:]:
        key, sep, value = item.partition("=")
        if key not in _KEYS or key == "slow":
            known = ", ".join(k for k in _KEYS if k != "slow")
            raise ValueError(f"fault {spec!r}: unknown key {key!r} (known: {known})")
        if not sep or not value:
            raise ValueError(f"fault {spec!r}: key {key!r} needs a value ({key}=...)")
        fields[_KEYS[key]] = value
    try:
        return FaultRule.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'rule'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ValueError(f"fault {spec!r}: {problems}") from exc


def rules_from_json(payload: Any) -> list[FaultRule]:
    """Rules from a JSON list whose items are rule objects or `parse_fault` strings."""
    if not isinstance(payload, list):
        raise ValueError("expected a JSON list of fault rules")
    rules = []
    for index, item in enumerate(payload):
        try:
            rules.append(
                parse_fault(item) if isinstance(item, str) else FaultRule.model_validate(item)
            )
        except (ValueError, ValidationError) as exc:
            raise ValueError(f"rule {index}: {exc}") from exc
    return rules
