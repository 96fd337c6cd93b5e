"""`armbench gateway`: the metering gateway for an agent run outside armbench.

What must hold: it prints a base URL and a key, forwards a call made with them to the upstream
and appends the call to the ledger file with the tokens the upstream counted, to the token;
another key is refused; bad flags exit 2 and start nothing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from armbench.core import TOKEN_KINDS
from armbench.serve import SimServer

ARMBENCH = [sys.executable, "-m", "armbench.cli"]


def test_a_call_through_the_gateway_verb_is_in_its_ledger_to_the_token(tmp_path: Path) -> None:
    ledger = tmp_path / "calls.jsonl"
    with SimServer("openai") as sim:
        argv = [*ARMBENCH, "gateway", "--api", "openai", "--upstream", sim.sdk_base_url]
        argv += ["--ledger", str(ledger), "--port", "0", "--price-as", "sim/coder"]
        gateway = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert gateway.stdout is not None
            base_url = gateway.stdout.readline().split()[1]
            key = gateway.stdout.readline().split()[1]
            client = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0)
            answer = client.chat.completions.create(
                model="coder", messages=[{"role": "user", "content": "Say hello."}]
            )
            other = openai.OpenAI(base_url=base_url, api_key="sk-" + "1" * 40, max_retries=0)
            with pytest.raises(openai.AuthenticationError):
                other.chat.completions.create(
                    model="coder", messages=[{"role": "user", "content": "x"}]
                )
        finally:
            gateway.send_signal(signal.SIGINT)
            gateway.wait(timeout=30)
        served = sim.stats()["models"]["coder"]
    assert gateway.returncode == 0
    (row,) = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert (row["provider"], row["model"], row["status"]) == ("sim", "coder", "ok")
    assert row["usage"] == {kind: served[kind] for kind in TOKEN_KINDS}
    assert answer.usage is not None and row["usage"]["output"] == answer.usage.completion_tokens


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--upstream", "ftp://x"], "--upstream"),
        (["--upstream", "http://127.0.0.1:9", "--key-env", "ARMBENCH_UNSET_VAR"], "not set"),
        (["--upstream", "http://127.0.0.1:9", "--price-as", "nomodel"], "PROVIDER/MODEL"),
    ],
)
def test_bad_flags_exit_2_and_write_nothing(tmp_path: Path, flags: list[str], says: str) -> None:
    ledger = tmp_path / "calls.jsonl"
    argv = [*ARMBENCH, "gateway", "--api", "openai", "--ledger", str(ledger), *flags]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and says in done.stderr
    assert not ledger.exists()
