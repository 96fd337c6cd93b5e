"""Tests for armbench.models.tokenizer and armbench.models.prompt_cache (the cache simulator)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armbench.core import (
    CacheBreakpoint,
    Message,
    ModelRequest,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    Usage,
)
from armbench.models.prompt_cache import PromptCache, Segment, linearize, uncached_usage
from armbench.models.tokenizer import BLOCK_OVERHEAD, MESSAGE_OVERHEAD, count_tokens

# --- tokenizer -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("a", 1),
        ("abcd", 1),  # letters: ceil(4 / 4)
        ("abcde", 2),
        ("abcdefgh", 2),
        ("abcdefghi", 3),
        ("123", 1),  # digits: ceil(len / 3)
        ("1234", 2),
        ("1234567", 3),
        ("hi there", 3),  # 1 + free space + ceil(5 / 4)
        ("x = 12345", 4),  # x, =, 12345 (2); single spaces are free
        ("    return x\n", 5),  # indent 1, return 2, x 1, newline 1
        ("   ", 0),  # three spaces: free
        ("    ", 1),  # four spaces: indentation
        ("\t", 0),
        (" \n ", 1),  # one whitespace run containing a newline
        ("\n\n\n", 1),
        ("a_b", 3),  # the underscore is punctuation
        ("snake_case_name", 6),  # snake 2, _ 1, case 1, _ 1, name 1
        ("f(x),", 5),
        ("abc123def", 3),  # letters and digits are separate runs
        ("=>!=", 4),
        ("héllo wörld", 4),  # non-ASCII letters are letters
        ("😀", 1),
    ],
)
def test_count_tokens(text: str, tokens: int) -> None:
    assert count_tokens(text) == tokens


def test_count_tokens_of_a_python_snippet() -> None:
    code = "def add(a, b):\n    return a + b\n"
    # def 1, add 1, ( 1, a 1, , 1, b 1, ) 1, : 1, "\n    " 1, return 2, a 1, + 1, b 1, "\n" 1
    assert count_tokens(code) == 15


# --- linearize -------------------------------------------------------------------------------

TOOL = ToolSpec(name="t", description="d", input_schema={})
TOOL_TEXT = json.dumps(TOOL.model_dump(), sort_keys=True)


def _request(*breakpoints: CacheBreakpoint, system: str = "You are helpful.") -> ModelRequest:
    return ModelRequest(
        system=system,
        tools=(TOOL,),
        messages=(
            Message(role="user", content=(TextBlock(text="Fix the bug"), TextBlock(text="ok"))),
            Message(
                role="assistant",
                content=(ToolUseBlock(id="u1", name="bash", input={"command": "ls"}),),
            ),
            Message(
                role="user", content=(ToolResultBlock(tool_use_id="u1", content="a.py\nb.py"),)
            ),
        ),
        cache_breakpoints=breakpoints,
    )


def test_linearize_segment_order_and_tokens() -> None:
    segments, breakpoints = linearize(_request())
    assert breakpoints == []
    assert [s.tokens for s in segments] == [
        count_tokens(TOOL_TEXT),  # tool definition, no overhead
        5 + BLOCK_OVERHEAD,  # system: You 1, are 1, helpful 2, . 1
        3 + BLOCK_OVERHEAD + MESSAGE_OVERHEAD,  # "Fix the bug", first block of its message
        1 + BLOCK_OVERHEAD,  # "ok", second block
        11 + BLOCK_OVERHEAD + MESSAGE_OVERHEAD,  # bash{"command": "ls"}
        7 + BLOCK_OVERHEAD + MESSAGE_OVERHEAD,  # a.py\nb.py
    ]
    assert [s.tokens for s in segments] == [count_tokens(TOOL_TEXT), 8, 10, 4, 18, 14]
    # Digests chain: deterministic, and distinct per position.
    again, _ = linearize(_request())
    assert [s.digest for s in segments] == [s.digest for s in again]
    assert len({s.digest for s in segments}) == len(segments)


def test_linearize_digest_chain_changes_from_the_first_difference() -> None:
    base, _ = linearize(_request())
    other_system, _ = linearize(_request(system="You are terse."))
    assert base[0].digest == other_system[0].digest
    assert all(a.digest != b.digest for a, b in zip(base[1:], other_system[1:], strict=True))
    shorter = _request().model_copy(update={"messages": _request().messages[:2]})
    prefix, _ = linearize(shorter)
    assert [s.digest for s in prefix] == [s.digest for s in base[:5]]


def test_linearize_breakpoint_indices() -> None:
    request = _request(
        CacheBreakpoint(where="message", message_index=-1),
        CacheBreakpoint(where="tools"),
        CacheBreakpoint(where="system"),
        CacheBreakpoint(where="message", message_index=0, block_index=1),
        CacheBreakpoint(where="message", message_index=-2),
        CacheBreakpoint(where="message", message_index=2),  # same as -1: deduplicated
    )
    _, breakpoints = linearize(request)
    assert breakpoints == [0, 1, 3, 4, 5]


def test_linearize_without_tools_starts_with_system() -> None:
    request = _request(CacheBreakpoint(where="system")).model_copy(update={"tools": ()})
    segments, breakpoints = linearize(request)
    assert breakpoints == [0]
    assert segments[0].tokens == 8


@pytest.mark.parametrize(
    ("breakpoint", "match"),
    [
        (CacheBreakpoint(where="message", message_index=3), "points past the messages"),
        (CacheBreakpoint(where="message", message_index=-4), "points past the messages"),
        (CacheBreakpoint(where="message", block_index=2), "points past the message's blocks"),
        (CacheBreakpoint(where="message", block_index=-1), "points past the message's blocks"),
    ],
)
def test_linearize_bad_breakpoints_raise(breakpoint: CacheBreakpoint, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        linearize(_request(breakpoint))


def test_linearize_breakpoint_on_an_empty_part_raises() -> None:
    no_tools = _request(CacheBreakpoint(where="tools")).model_copy(update={"tools": ()})
    with pytest.raises(ValueError, match="marks an empty part"):
        linearize(no_tools)
    with pytest.raises(ValueError, match="marks an empty part"):
        linearize(_request(CacheBreakpoint(where="system"), system=""))


def test_uncached_usage() -> None:
    segments, _ = linearize(_request())
    assert uncached_usage(segments) == Usage(input=sum(s.tokens for s in segments))


# --- PromptCache: exact accounting -----------------------------------------------------------


def chain(*parts: tuple[str, int]) -> list[Segment]:
    """Segments for (label, tokens) pairs, digests chained like a real prompt's."""
    out: list[Segment] = []
    digest = b""
    for label, tokens in parts:
        digest = hashlib.sha256(digest + label.encode()).digest()
        out.append(Segment(tokens, digest))
    return out


BASE = [("tools", 600), ("system", 600), ("m1", 100), ("m2", 100)]  # cumulative 600..1400


def test_invalid_ttl() -> None:
    with pytest.raises(ValueError, match="cache ttl must be one of"):
        PromptCache(ttl="10m")


def test_first_request_writes_then_identical_request_reads() -> None:
    cache = PromptCache()
    segments = chain(*BASE)
    first = cache.account(segments, [1], now=0.0)
    assert first == Usage(input=200, cache_write_5m=1200)
    second = cache.account(segments, [1], now=10.0)
    assert second == Usage(input=200, cache_read=1200)


def test_write_covers_tokens_up_to_the_last_breakpoint() -> None:
    cache = PromptCache()
    first = cache.account(chain(*BASE), [1, 3], now=0.0)
    assert first == Usage(cache_write_5m=1400)


def test_growth_reads_old_prefix_via_lookback_and_writes_the_delta() -> None:
    cache = PromptCache()
    cache.account(chain(*BASE), [1], now=0.0)
    grown = chain(*BASE, ("m3", 50), ("m4", 50))
    usage = cache.account(grown, [5], now=20.0)
    assert usage == Usage(input=0, cache_read=1200, cache_write_5m=300)
    # ...and the grown prefix is now cached too.
    assert cache.account(grown, [5], now=30.0) == Usage(cache_read=1500)


def test_lookback_window() -> None:
    filler = [(f"f{i}", 10) for i in range(30)]
    # An entry 19 blocks before the breakpoint is found...
    near = PromptCache(lookback=20)
    near.account(chain(*BASE), [1], now=0.0)
    segments = chain(*BASE, *filler[:18])  # indices 0..21; the entry is at 1
    usage = near.account(segments, [20], now=1.0)
    assert usage.cache_read == 1200
    # ...one 21 blocks before is out of reach: a miss, everything up to the breakpoint written.
    far = PromptCache(lookback=20)
    far.account(chain(*BASE), [1], now=0.0)
    segments = chain(*BASE, *filler[:20])
    usage = far.account(segments, [22], now=1.0)
    assert usage == Usage(cache_write_5m=1400 + 19 * 10, input=10)


def test_entry_expires_after_the_ttl() -> None:
    segments = chain(*BASE)
    cache = PromptCache()
    cache.account(segments, [1], now=0.0)
    assert cache.account(segments, [1], now=299.0).cache_read == 1200
    late = PromptCache()
    late.account(segments, [1], now=0.0)
    assert late.account(segments, [1], now=300.0) == Usage(input=200, cache_write_5m=1200)
    later = PromptCache()
    later.account(segments, [1], now=0.0)
    assert later.account(segments, [1], now=301.0) == Usage(input=200, cache_write_5m=1200)


def test_one_hour_ttl_writes_as_1h_and_lives_an_hour() -> None:
    segments = chain(*BASE)
    cache = PromptCache(ttl="1h")
    assert cache.account(segments, [1], now=0.0) == Usage(input=200, cache_write_1h=1200)
    assert cache.account(segments, [1], now=3599.0) == Usage(input=200, cache_read=1200)
    expired = PromptCache(ttl="1h")
    expired.account(segments, [1], now=0.0)
    assert expired.account(segments, [1], now=3601.0) == Usage(input=200, cache_write_1h=1200)


def test_a_read_refreshes_the_ttl() -> None:
    segments = chain(*BASE)
    cache = PromptCache()
    cache.account(segments, [1], now=0.0)
    assert cache.account(segments, [1], now=200.0).cache_read == 1200  # expiry now 500
    assert cache.account(segments, [1], now=450.0).cache_read == 1200  # past the first 300 s
    assert cache.account(segments, [1], now=749.0).cache_read == 1200
    assert cache.account(segments, [1], now=1100.0).cache_read == 0  # 351 s after last read


def test_prefixes_below_min_tokens_are_never_cached() -> None:
    segments = chain(("a", 500), ("b", 500), ("c", 100))
    cache = PromptCache(min_tokens=1024)
    assert cache.account(segments, [0, 1], now=0.0) == Usage(input=1100)
    assert cache.account(segments, [0, 1], now=1.0) == Usage(input=1100)
    # The longer breakpoint passes the minimum; the short one alone is not written.
    assert cache.account(segments, [0, 2], now=2.0) == Usage(cache_write_5m=1100)
    assert cache.account(chain(("a", 500), ("x", 700)), [0], now=3.0) == Usage(input=1200)


def test_a_change_early_in_the_prefix_misses() -> None:
    cache = PromptCache()
    cache.account(chain(*BASE), [3], now=0.0)
    changed = chain(("tools", 600), ("other system", 600), ("m1", 100), ("m2", 100))
    assert cache.account(changed, [3], now=1.0) == Usage(cache_write_5m=1400)


def test_a_change_after_a_cached_breakpoint_reads_up_to_it() -> None:
    cache = PromptCache()
    cache.account(chain(*BASE), [1, 3], now=0.0)
    changed = chain(("tools", 600), ("system", 600), ("m1 edited", 100), ("m2", 100))
    assert cache.account(changed, [1, 3], now=1.0) == Usage(cache_read=1200, cache_write_5m=200)


def test_no_breakpoints_means_no_caching() -> None:
    cache = PromptCache(min_tokens=0)
    segments = chain(*BASE)
    assert cache.account(segments, [], now=0.0) == Usage(input=1400)
    assert cache.account(segments, [], now=1.0) == Usage(input=1400)


# --- PromptCache: properties -----------------------------------------------------------------

LABELS = st.sampled_from(["a", "b", "c"])
Request = tuple[list[Segment], list[int], float]


@st.composite
def histories(draw: st.DrawFn) -> tuple[PromptCache, list[Request]]:
    base = draw(st.lists(st.tuples(LABELS, st.integers(0, 700)), min_size=1, max_size=14))
    cache = PromptCache(
        ttl=draw(st.sampled_from(["5m", "1h"])),
        min_tokens=draw(st.sampled_from([0, 1, 300, 1024])),
        lookback=draw(st.integers(1, 25)),
    )
    requests: list[Request] = []
    now = 0.0
    for _ in range(draw(st.integers(1, 8))):
        cut = draw(st.integers(1, len(base)))
        parts = list(base[:cut])
        if draw(st.booleans()):  # edit one block, keeping its token count
            i = draw(st.integers(0, cut - 1))
            parts[i] = (parts[i][0] + "'", parts[i][1])
        bps = sorted(set(draw(st.lists(st.integers(0, cut - 1), max_size=4))))
        now += draw(st.sampled_from([0.0, 1.0, 100.0, 299.0, 300.0, 1000.0, 3599.0, 4000.0]))
        requests.append((chain(*parts), bps, now))
    return cache, requests


def _cumulative(segments: Sequence[Segment]) -> list[int]:
    out, running = [], 0
    for s in segments:
        running += s.tokens
        out.append(running)
    return out


@settings(max_examples=300, deadline=None)
@given(histories())
def test_usage_always_adds_up(history: tuple[PromptCache, list[Request]]) -> None:
    cache, requests = history
    for segments, bps, now in requests:
        usage = cache.account(segments, bps, now)
        total = sum(s.tokens for s in segments)
        assert usage.input + usage.cache_write_5m + usage.cache_write_1h + usage.cache_read == total
        assert min(usage.input, usage.cache_write_5m, usage.cache_write_1h, usage.cache_read) >= 0
        assert usage.output == usage.reasoning == 0
        if cache.ttl == "5m":
            assert usage.cache_write_1h == 0
        else:
            assert usage.cache_write_5m == 0


@settings(max_examples=300, deadline=None)
@given(histories())
def test_reads_only_come_from_live_written_prefixes(
    history: tuple[PromptCache, list[Request]],
) -> None:
    cache, requests = history
    ttl = 300.0 if cache.ttl == "5m" else 3600.0
    # An over-approximation of what may be live: every prefix that could have been written
    # (any breakpoint prefix of at least min_tokens) or read, with its last possible touch.
    touched: dict[bytes, float] = {}
    for segments, bps, now in requests:
        cumulative = _cumulative(segments)
        usage = cache.account(segments, bps, now)
        written = usage.cache_write_5m + usage.cache_write_1h
        live = [i for i, s in enumerate(segments) if touched.get(s.digest, -1e9) + ttl > now]
        if usage.cache_read > 0:
            candidates = [i for i in live if cumulative[i] == usage.cache_read]
            assert candidates, "cache_read of a prefix that was never written or has expired"
            assert usage.cache_read <= max(cumulative[i] for i in live)
            for i in candidates:
                touched[segments[i].digest] = now
        if written > 0:
            assert any(cumulative[bp] == usage.cache_read + written for bp in bps)
        for bp in bps:
            if cumulative[bp] >= cache.min_tokens:
                touched[segments[bp].digest] = now


@settings(max_examples=300, deadline=None)
@given(histories(), st.floats(0, 299.0))
def test_repeating_a_request_within_ttl_reads_what_it_wrote(
    history: tuple[PromptCache, list[Request]], gap: float
) -> None:
    cache, requests = history
    for segments, bps, now in requests[:-1]:
        cache.account(segments, bps, now)
    segments, bps, now = requests[-1]
    first = cache.account(segments, bps, now)
    second = cache.account(segments, bps, now + gap)
    written = first.cache_write_5m + first.cache_write_1h
    assert second.cache_read >= first.cache_read + written
    assert second.cache_write_5m == second.cache_write_1h == 0
