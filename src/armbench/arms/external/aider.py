"""`agent: aider` (PyPI `aider-chat`): aider in one-message mode.

Headless: `--message-file` (the task, then exit), `--yes-always`, `--no-stream --no-pretty`,
the task's editable files named on the command line (at most `run.MAX_FILES`). Offline:
`--no-check-update --analytics-disable --no-show-release-notes` (with a fresh HOME its release
notes would open a browser), and a model metadata file for the model, without which it tries to
download litellm's price list on every run. It works without git (`--no-git`: no commits, no
commit-message calls, nothing of its own in the repository); its chat history goes to HOME.
Its lint-and-fix loop runs as it ships; `--auto-test` with the task's checks as `--test-cmd`
gives it the same checks the other arms are told to run, and it tries again on a failure.

Its own account is printed after each answer, and kept in its chat history: `Tokens: 2.8k
sent, 42 received.` (and the cost, when it knows a price; here it does not, so it prints none).
The counts are rounded past a thousand (`2.8k`), so the difference from the ledger is shown
with that in mind.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

from armbench.arms.external.adapter import Adapter, Launch, OwnReport

_TOKENS = re.compile(r"^>? ?Tokens: ([\d.]+)(k?) sent, ([\d.]+)(k?) received\.", re.M)
HISTORY = ".aider.chat.history.md"


def _metadata(model: str) -> str:
    """aider's model metadata: the context it may fill, no prices (armbench prices calls)."""
    entry = {
        "max_tokens": 32000,
        "max_input_tokens": 200000,
        "max_output_tokens": 32000,
        "litellm_provider": "openai",
        "mode": "chat",
    }
    return json.dumps({f"openai/{model}": entry})


def _command(launch: Launch) -> str:
    metadata = f"{launch.home}/.aider-model-metadata.json"
    argv = [
        str(launch.install / "bin" / "aider"),
        "--model",
        f"openai/{launch.model}",
        "--openai-api-base",
        launch.base_url,
        "--no-check-update",
        "--analytics-disable",
        "--no-show-release-notes",
        "--no-show-model-warnings",
        "--yes-always",
        "--no-stream",
        "--no-pretty",
        "--no-git",
        "--model-metadata-file",
        metadata,
        "--chat-history-file",
        f"{launch.home}/{HISTORY}",
        "--input-history-file",
        f"{launch.home}/.aider.input.history",
    ]
    if launch.arm.edit_format is not None:
        argv += ["--edit-format", launch.arm.edit_format]
    if launch.checks:
        argv += ["--auto-test", "--test-cmd", " && ".join(launch.checks)]
    argv += ["--message-file", launch.prompt_file, *launch.files]
    return f"printf '%s' {shlex.quote(_metadata(launch.model))} > {shlex.quote(metadata)}\n" + (
        shlex.join(argv) + " </dev/null"
    )


def _environ(launch: Launch) -> Mapping[str, str]:
    return {"OPENAI_API_KEY": launch.key, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def _count(number: str, thousands: str) -> int:
    return round(float(number) * (1000 if thousands else 1))


def own_report(output: str, home: Path) -> OwnReport | None:
    """From its chat history (whole, where the output kept may have lost its middle)."""
    try:
        found = _TOKENS.findall((home / HISTORY).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        found = _TOKENS.findall(output)
    if not found:
        return None
    sent = sum(_count(n, k) for n, k, _r, _rk in found)
    received = sum(_count(r, rk) for _n, _k, r, rk in found)
    return OwnReport(
        tokens={"sent": sent, "received": received},
        calls=len(found),
        source=f"the `Tokens: … sent, … received.` lines of its {HISTORY} (rounded past 1k)",
    )


AIDER = Adapter("aider", "pip", "aider-chat", "0.86.2", _command, _environ, own_report)
