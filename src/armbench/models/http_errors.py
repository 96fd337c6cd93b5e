"""What an HTTP failure of a model API means for a trial: its infra class and when to retry.

Both official SDKs surface the same facts (status, error type and code, headers), so the
mapping is written once. Quota and billing problems are told apart from plain rate limits,
because they must stop a run rather than be retried: OpenAI sends 429 `insufficient_quota`,
Anthropic 402 `billing_error` (or, on older deployments, a 400 about the credit balance).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

from armbench.models.types import InfraClass

_QUOTA_MARKERS = ("insufficient_quota", "billing", "credit balance", "quota")


def classify_status(
    status: int, error_type: str | None, code: str | None, message: str
) -> InfraClass:
    """The infra class of an HTTP error response."""
    said = " ".join(x for x in (error_type, code, message) if x).lower()
    if status == 402 or any(marker in said for marker in _QUOTA_MARKERS):
        return "quota"
    if status in (401, 403):
        return "auth"
    if status == 429:
        return "rate_limit"
    if status == 408:
        return "timeout"
    if status in (503, 529) or "overloaded" in said:
        return "overloaded"
    if status == 409 or status >= 500:
        return "server_error"
    return "harness"  # 400, 404, 413, 422: the request itself was refused


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The wait a response asks for: `retry-after-ms`, else `retry-after` (seconds or a date)."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)
