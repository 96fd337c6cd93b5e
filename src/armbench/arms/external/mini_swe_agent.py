"""`agent: mini-swe-agent` (PyPI `mini-swe-agent`): one `bash` tool, native tool calls.

Headless and offline: `-y` (its default config asks before each command), `--exit-immediately`
(no prompt for another task), `MSWEA_CONFIGURED=true` (skips the first-run setup wizard, which
otherwise exits 1), `LITELLM_LOCAL_MODEL_COST_MAP=True` (litellm's price list from its own copy,
not the network) and `MSWEA_COST_TRACKING=ignore_errors` (a model litellm cannot price costs 0
rather than stopping it). It ends its work with `echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT`.

Its own account is its trajectory file (`-o`): `info.model_stats` (`api_calls`,
`instance_cost` in dollars at litellm's prices) and each answer's `usage` as the API returned
it, summed here (`prompt_tokens` counts cached tokens too, as the OpenAI API does).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path

from armbench.arms.external.adapter import Adapter, Launch, OwnReport

REPORT = ".armbench-agent-report.json"


def _command(launch: Launch) -> str:
    mini = launch.install / "bin" / "mini"
    argv = [
        str(mini),
        "-m",
        f"openai/{launch.model}",
        "-y",
        "--exit-immediately",
        "-c",
        "mini.yaml",
        "-c",
        f"model.model_kwargs.api_base={launch.base_url}",
        "-o",
        launch.report_file,
    ]
    return shlex.join(argv) + ' -t "$ARMBENCH_PROMPT" </dev/null'


def _environ(launch: Launch) -> Mapping[str, str]:
    return {
        "OPENAI_API_KEY": launch.key,
        "MSWEA_CONFIGURED": "true",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "MSWEA_COST_TRACKING": "ignore_errors",
    }


def own_report(_output: str, home: Path) -> OwnReport | None:
    try:
        trajectory = json.loads((home / REPORT).read_text())
        stats = trajectory["info"]["model_stats"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    prompt = completion = 0
    for message in trajectory.get("messages", []):
        usage = (message.get("extra") or {}).get("response", {}).get("usage") or {}
        prompt += int(usage.get("prompt_tokens") or 0)
        completion += int(usage.get("completion_tokens") or 0)
    return OwnReport(
        tokens={"prompt_tokens": prompt, "completion_tokens": completion},
        cost_usd=float(stats.get("instance_cost", 0.0)),
        calls=int(stats.get("api_calls", 0)),
        source=f"trajectory ({REPORT}): info.model_stats and each answer's usage",
    )


MINI_SWE_AGENT = Adapter(
    "mini-swe-agent", "pip", "mini-swe-agent", "2.4.6", _command, _environ, own_report
)
