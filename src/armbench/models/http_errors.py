"""What an HTTP failure of a model API means for a trial: its infra class and when to retry.

Both official SDKs surface the same facts (status, error type and code, headers), so the
mapping is written once. Quota and billing problems are told apart from plain rate limits,
because they must stop a run rather than be retried: OpenAI sends 429 `insufficient_quota`,
Anthropic 402 `billing_error` (or, on older deployments, a 400 about the credit balance).
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping

from armbench.core import InfraClass

_QUOTA_CODES = frozenset({"insufficient_quota", "billing_error", "billing_hard_limit_reached"})
_QUOTA_WORDS = ("credit balance",)
"""Quota is told by its code (or Anthropic's credit-balance message), never by the word "quota"
alone: some servers word ordinary per-minute limits that way, and those must be retried."""


def classify_status(
    status: int, error_type: str | None, code: str | None, message: str
) -> InfraClass:
    """The infra class of an HTTP error response."""
    codes = {x.lower() for x in (error_type, code) if x}
    credit = any(word in message.lower() for word in _QUOTA_WORDS)
    if status == 402 or codes & _QUOTA_CODES or credit:
        return "quota"
    if status in (401, 403):
        return "auth"
    if status == 429:
        return "rate_limit"
    if status == 408:
        return "timeout"
    if status in (503, 529) or "overloaded_error" in codes:
        return "overloaded"
    if status == 409 or status >= 500:
        return "server_error"
    return "harness"  # 400, 404, 413, 422: the request itself was refused


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The wait a response asks for: `retry-after-ms`, else `retry-after` (seconds or a date)."""
    if (ms := _number(headers.get("retry-after-ms"))) is not None:
        return max(ms / 1000, 0.0)
    raw = headers.get("retry-after")
    if raw is None:
        return None
    if (seconds := _number(raw)) is not None:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _number(raw: str | None) -> float | None:
    """A finite number, or None (absent, garbage, nan, inf)."""
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
