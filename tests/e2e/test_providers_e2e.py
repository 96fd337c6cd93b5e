"""Runs through the real providers (official SDKs) against serve-sim, end to end.

The ledger must hold exactly the tokens the server reported, costs must match the rate card to
the cent, injected faults must end as a pass after retries or as infra_error of the right class
(never as fail), and the API key must appear in no file of the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
import yaml

from armbench.analysis.records import load_run_records as load_run
from armbench.core import TOKEN_KINDS
from armbench.pricing.costing import trial_cost
from armbench.serve import SimServer, parse_fault
from armbench.tasks.packs import Pack, load_pack

pytestmark = pytest.mark.slow

KEY_ENV = "ARMBENCH_E2E_KEY"
KEY = "sk-e2e-" + "a1b2c3d4e5f6" * 3
OPUS = {"input": 5.0, "output": 25.0, "cache_write_5m": 6.25, "cache_read": 0.5}
"""genai-prices' list prices for claude-opus-4-7, $ per million tokens."""
GPT5 = {"input": 1.25, "output": 10.0, "cache_read": 0.125}
"""The prices `gpt5_card` gives gpt-5 behind serve-sim."""
FAST_RETRY = {"base_delay_s": 0.01, "max_delay_s": 0.05, "retry_after_cap_s": 0.2}
ARMBENCH = [sys.executable, "-m", "armbench.cli"]


@pytest.fixture(scope="module")
def pack() -> Pack:
    return load_pack("demo")


@pytest.fixture
def anthropic_server(pack: Pack) -> Iterator[SimServer]:
    with SimServer("anthropic", pack=pack, default_skill=1.0).start() as server:
        yield server


@pytest.fixture
def openai_server(pack: Pack) -> Iterator[SimServer]:
    with SimServer("openai", pack=pack, default_skill=1.0, reasoning_tokens=7).start() as server:
        yield server


def gpt5_card(tmp_path: Path) -> str:
    """A model behind an endpoint genai-prices does not know has no list price: a card gives
    it one, as a user would for a self-hosted or negotiated model."""
    card = tmp_path / "card.toml"
    card.write_text('[models."openai/gpt-5"]\ninput = 1.25\noutput = 10.0\ncache_read = 0.125\n')
    return str(card)


def model_for(server: SimServer, **settings: object) -> dict[str, object]:
    provider = server.wire.name
    name = "claude-opus-4-7" if provider == "anthropic" else "gpt-5"
    return {"provider": provider, "model": name, "base_url": server.sdk_base_url, **settings}


def run(
    tmp_path: Path,
    model: dict[str, object],
    *,
    extra: dict[str, object] | None = None,
    args: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    config: dict[str, object] = {
        "name": "providers",
        "pack": "demo",
        "tasks": ["feature"],
        "replicates": 1,
        "retry": FAST_RETRY,
        "models": {"m": {"api_key_env": KEY_ENV, **model}},
        "arms": {"solo": {"kind": "solo", "model": "m"}},
    }
    if model["provider"] == "openai":
        config["rate_card"] = gpt5_card(tmp_path)
    config.update(extra or {})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    out = str(tmp_path / "runs")
    return subprocess.run(
        [*ARMBENCH, "run", str(path), "--out", out, *args],
        capture_output=True,
        text=True,
        env={**os.environ, KEY_ENV: KEY},
        timeout=600,
    )


def run_dir(result: subprocess.CompletedProcess[str]) -> Path:
    return Path(result.stdout.strip().splitlines()[-1])


def exported(directory: Path) -> list[dict[str, object]]:
    text = subprocess.run([*ARMBENCH, "export", str(directory)], capture_output=True, text=True)
    return [json.loads(line) for line in text.stdout.splitlines()]


def assert_key_nowhere(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def ledger_totals(directory: Path) -> dict[str, int]:
    totals = dict.fromkeys(TOKEN_KINDS, 0)
    for trial in load_run(directory).trials:
        for call in trial.calls:
            for kind in TOKEN_KINDS:
                totals[kind] += getattr(call.usage, kind)
    return totals


def list_price(tokens: dict[str, int], prices: dict[str, float]) -> float:
    """Dollars for `tokens` at `prices` ($ per million). A kind that has tokens but no price
    is a KeyError here, never $0; reasoning is part of output and not priced again."""
    return sum(prices[kind] * n for kind, n in tokens.items() if kind != "reasoning" and n) / 1e6


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_a_run_records_exactly_what_the_server_reported(
    tmp_path: Path, request: pytest.FixtureRequest, api: str
) -> None:
    server: SimServer = request.getfixturevalue(f"{api}_server")
    result = run(tmp_path, model_for(server))
    assert result.returncode == 0, result.stderr
    directory = run_dir(result)
    model = "claude-opus-4-7" if api == "anthropic" else "gpt-5"
    served = server.stats()["models"][model]
    ledger = ledger_totals(directory)
    assert ledger == {kind: served[kind] for kind in TOKEN_KINDS}  # to the token
    assert ledger["cache_read"] > 0  # caching really happened
    trial = load_run(directory).trials[0]
    assert trial.status == "pass"
    assert trial.simulated and "SIMULATED" in result.stdout  # a real provider, but the sim answered
    assert all(c.request_id and c.model_id == model for c in trial.calls)
    (row,) = exported(directory)
    assert row["simulated"] is True
    prices = OPUS if api == "anthropic" else GPT5
    # Exact up to float summation order (armbench sums per call, this sums the totals): one
    # token priced wrong would move the cost by far more than 1e-12 of it. The export keeps
    # micro-dollars.
    expected = list_price(ledger, prices)
    loaded = load_run(directory)
    assert trial_cost(loaded.trials[0], loaded.rate_card) == pytest.approx(expected, rel=1e-12)
    assert abs(float(str(row["cost_usd"])) - expected) <= 0.5e-6 + 1e-15
    manifest = json.loads((directory / "manifest.json").read_text())
    assert set(manifest["sdks"]) == {"anthropic", "openai", "genai-prices"}
    if api == "anthropic":
        assert ledger["cache_write_5m"] > 0
        assert "genai-prices" in manifest["rate_card"]["provenance"][f"anthropic/{model}"]
    else:  # OpenAI reports no cache writes (they are billed as input) but does report reasoning
        assert ledger["cache_write_5m"] == ledger["cache_write_1h"] == 0
        assert ledger["reasoning"] == 7 * len(trial.calls)
    assert_key_nowhere(directory)


def test_transient_faults_are_retried_to_a_pass_and_every_attempt_is_a_ledger_row(
    tmp_path: Path, anthropic_server: SimServer
) -> None:
    # Two failures on each of three calls: within max_attempts, so every call succeeds.
    anthropic_server.set_faults(
        [
            parse_fault("status=429,retry_after=0.05,after=1,times=1"),
            parse_fault("status=529,after=2,times=1"),
            parse_fault("drop,after=4,times=1"),
            parse_fault("malformed,after=5,times=1"),
            parse_fault("no_usage,after=7,times=1"),
            parse_fault("status=500,after=8,times=1"),
        ]
    )
    result = run(tmp_path, model_for(anthropic_server))
    assert result.returncode == 0, result.stderr
    trial = load_run(run_dir(result)).trials[0]
    assert trial.status == "pass"
    rows = [(c.status, c.attempt, c.error_class) for c in trial.calls]
    assert rows[:10] == [
        ("ok", 1, None),
        ("error", 1, "rate_limit"),
        ("error", 2, "overloaded"),
        ("ok", 3, None),
        ("error", 1, "connection"),
        ("error", 2, "malformed_response"),
        ("ok", 3, None),
        ("error", 1, "malformed_response"),  # no usage: never recorded as zero tokens
        ("error", 2, "server_error"),
        ("ok", 3, None),
    ]
    assert ledger_totals(run_dir(result)) == {
        kind: anthropic_server.stats()["models"]["claude-opus-4-7"][kind] for kind in TOKEN_KINDS
    }


def test_a_slow_server_is_a_timeout_and_is_retried(
    tmp_path: Path, openai_server: SimServer
) -> None:
    openai_server.set_faults([parse_fault("slow=2,after=1,times=1")])
    result = run(tmp_path, model_for(openai_server, timeout_s=0.5))
    assert result.returncode == 0, result.stderr
    trial = load_run(run_dir(result)).trials[0]
    assert trial.status == "pass"
    assert [c.error_class for c in trial.calls if c.status == "error"] == ["timeout"]


def test_a_failure_that_persists_is_an_infra_error_never_a_fail(
    tmp_path: Path, anthropic_server: SimServer
) -> None:
    anthropic_server.set_faults([parse_fault("status=503,after=2,times=0")])
    three_tries = {"retry": {**FAST_RETRY, "max_attempts": 3}}
    result = run(tmp_path, model_for(anthropic_server), extra=three_tries)
    assert result.returncode == 3
    assert "1 infra errors (1 overloaded)" in result.stderr
    trial = load_run(run_dir(result)).trials[0]
    assert (trial.status, trial.infra_class) == ("infra_error", "overloaded")
    assert [c.attempt for c in trial.calls if c.status == "error"] == [1, 2, 3]
    tolerated = run(
        tmp_path, model_for(anthropic_server), extra=three_tries, args=("--max-infra-errors", "1")
    )
    assert tolerated.returncode == 0


@pytest.mark.parametrize(
    ("api", "fault", "infra_class"),
    [
        ("anthropic", "status=401", "auth"),
        ("anthropic", "status=402,error_type=billing_error", "quota"),
        ("openai", "status=429,error_type=insufficient_quota", "quota"),
    ],
)
def test_auth_and_quota_failures_stop_the_run_early(
    tmp_path: Path,
    pack: Pack,
    api: Literal["anthropic", "openai"],
    fault: str,
    infra_class: str,
) -> None:
    faults = [parse_fault(fault + ",times=0")]
    with SimServer(api, pack=pack, default_skill=1.0, faults=faults).start() as server:
        six_trials = {"tasks": ["feature", "refactor", "breakage"], "replicates": 2}
        result = run(tmp_path, model_for(server), extra={**six_trials, "concurrency": 1})
        requests = server.stats()["requests"]
    assert result.returncode == 3
    assert "stopped early" in result.stderr and infra_class in result.stderr
    trials = load_run(run_dir(result)).trials
    assert [t.infra_class for t in trials] == [infra_class]  # the other five never started
    assert requests == 1  # never retried
    assert_key_nowhere(run_dir(result))


def test_a_model_without_a_price_is_refused_before_anything_runs(
    tmp_path: Path, anthropic_server: SimServer
) -> None:
    result = run(tmp_path, model_for(anthropic_server, model="claude-unheard-of-9"))
    assert result.returncode == 2
    assert "anthropic/claude-unheard-of-9" in result.stderr
    assert anthropic_server.stats()["requests"] == 0
    assert not (tmp_path / "runs").exists()


def test_a_missing_key_is_refused_before_anything_runs(
    tmp_path: Path, anthropic_server: SimServer
) -> None:
    result = run(tmp_path, model_for(anthropic_server, api_key_env="ARMBENCH_UNSET_KEY"))
    assert result.returncode == 2
    assert "ARMBENCH_UNSET_KEY is not set" in result.stderr
    assert anthropic_server.stats()["requests"] == 0
