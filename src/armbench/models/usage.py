"""The two wire formats' usage objects in armbench's six token kinds, read by attribute as the
official SDKs' types are: by the providers (armbench.models.anthropic_messages, .openai_chat)
and by the metering gateway, which reads relayed JSON through the same functions. Kept apart
from the providers so that reading usage does not import an SDK (seconds of start-up for every
process that only meters).

A response without usage, or without one of its counts, is a `malformed_response` infra error,
never zero tokens.
"""

from __future__ import annotations

from typing import Any

from armbench.core import ModelError, Usage


def anthropic_usage(usage: Any, requested_ttl: str) -> Usage:
    """Anthropic usage in the six kinds. Writes without a TTL breakdown (older deployments)
    are attributed to the TTL that was requested."""
    if usage is None:
        raise ModelError("the response carries no usage", "malformed_response")
    for field_name in ("input_tokens", "output_tokens"):
        if not isinstance(getattr(usage, field_name, None), int):
            raise ModelError(f"the response's usage has no {field_name}", "malformed_response")
    written = usage.cache_creation_input_tokens or 0
    breakdown = getattr(usage, "cache_creation", None)
    if breakdown is not None:
        write_5m = breakdown.ephemeral_5m_input_tokens or 0
        write_1h = breakdown.ephemeral_1h_input_tokens or 0
    elif requested_ttl == "1h":
        write_5m, write_1h = 0, written
    else:
        write_5m, write_1h = written, 0
    details = getattr(usage, "output_tokens_details", None)
    return Usage(
        input=usage.input_tokens,
        output=usage.output_tokens,
        cache_write_5m=write_5m,
        cache_write_1h=write_1h,
        cache_read=usage.cache_read_input_tokens or 0,
        reasoning=getattr(details, "thinking_tokens", 0) or 0,
    )


def openai_usage(usage: Any) -> Usage:
    """OpenAI usage in the six kinds (prompt tokens include the cached ones)."""
    if usage is None:
        raise ModelError("the response carries no usage", "malformed_response")
    for field_name in ("prompt_tokens", "completion_tokens"):
        if not isinstance(getattr(usage, field_name, None), int):
            raise ModelError(f"the response's usage has no {field_name}", "malformed_response")
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(prompt_details, "cached_tokens", 0) or 0
    completion_details = getattr(usage, "completion_tokens_details", None)
    if cached > usage.prompt_tokens:
        raise ModelError(
            f"usage says {cached} cached of {usage.prompt_tokens} prompt tokens",
            "malformed_response",
        )
    return Usage(
        input=usage.prompt_tokens - cached,
        output=usage.completion_tokens,
        cache_read=cached,
        reasoning=getattr(completion_details, "reasoning_tokens", 0) or 0,
    )
