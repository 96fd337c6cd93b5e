"""`agent: claude-code` (npm `@anthropic-ai/claude-code`): Claude Code in print mode.

Headless: `-p` with the prompt, `--output-format stream-json --verbose` (one JSON event a line;
the last, `result`, carries its own account), `--permission-mode bypassPermissions` (print
mode otherwise refuses every edit and command yet exits 0) with `IS_SANDBOX=1`, which it needs
to accept that mode as root. Offline: `ANTHROPIC_BASE_URL` at the gateway,
`CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1` and `DISABLE_TELEMETRY=1`; it always streams.

Its own account: the `result` event's `usage` (input, output, cache reads, and cache writes
split into 5-minute and 1-hour) and `total_cost_usd` at its own prices.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path

from armbench.arms.external.adapter import Adapter, Launch, OwnReport
from armbench.core import Usage


def _command(launch: Launch) -> str:
    claude = launch.install / "node_modules" / ".bin" / "claude"
    argv = [
        str(claude),
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "bypassPermissions",
        "--model",
        launch.model,
    ]
    return shlex.join(argv) + ' -p "$ARMBENCH_PROMPT" </dev/null'


def _environ(launch: Launch) -> Mapping[str, str]:
    return {
        "ANTHROPIC_BASE_URL": launch.base_url,
        "ANTHROPIC_API_KEY": launch.key,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "IS_SANDBOX": "1",
    }


def own_report(output: str, _home: Path) -> OwnReport | None:
    result = None
    for line in output.splitlines():
        if line.startswith("{") and '"type":"result"' in line.replace(" ", ""):
            try:
                result = json.loads(line)
            except ValueError:
                continue
    if not isinstance(result, dict) or not isinstance(result.get("usage"), dict):
        return None
    usage = result["usage"]
    split = usage.get("cache_creation") or {}
    mapped = Usage(
        input=int(usage.get("input_tokens") or 0),
        output=int(usage.get("output_tokens") or 0),
        cache_write_5m=int(split.get("ephemeral_5m_input_tokens") or 0),
        cache_write_1h=int(split.get("ephemeral_1h_input_tokens") or 0),
        cache_read=int(usage.get("cache_read_input_tokens") or 0),
    )
    return OwnReport(
        tokens={k: v for k, v in usage.items() if isinstance(v, int)},
        usage=mapped,
        cost_usd=result.get("total_cost_usd"),
        calls=None,
        source="stream-json `result` event: usage and total_cost_usd",
        raw={"num_turns": result.get("num_turns"), "modelUsage": result.get("modelUsage")},
    )


CLAUDE_CODE = Adapter(
    "claude-code",
    "npm",
    "@anthropic-ai/claude-code",
    "2.1.197",
    _command,
    _environ,
    own_report,
)
