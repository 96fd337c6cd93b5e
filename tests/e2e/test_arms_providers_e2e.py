"""Every arm kind through the real providers (official SDKs) against serve-sim: the orchestrator
on the Anthropic API with an executor on an OpenAI-compatible one, a routed arm across both
with a classifier, single-shot completions — the sim behind each, told its role by what it
is sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from armbench.analysis.records import load_run_records as load_run
from armbench.serve import SimServer
from armbench.tasks.packs import combine, load_pack

pytestmark = pytest.mark.slow
ARMBENCH = [sys.executable, "-m", "armbench.cli"]
KEY_ENV = "ARMBENCH_ARMS_KEY"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[SimServer, SimServer]]:
    pack = combine([load_pack("demo"), load_pack("oneshot")])
    skills = {"local-coder": 0.7}
    anthropic = SimServer("anthropic", pack=pack, default_skill=1.0, model_skills=skills)
    openai = SimServer("openai", pack=pack, default_skill=1.0, model_skills=skills)
    with anthropic.start() as cloud, openai.start() as local:
        yield cloud, local


@pytest.fixture(scope="module")
def run(
    servers: tuple[SimServer, SimServer], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[dict[str, Any]]]:
    cloud, local = servers
    tmp = tmp_path_factory.mktemp("arms-providers")
    card = tmp / "card.toml"
    card.write_text(
        '[models."openai/local-coder"]\nlocal = true\n'
        '[models."openai/router"]\ninput = 0.1\noutput = 0.4\ncache_read = 0.01\n'
    )
    config = {
        "name": "arms-over-http",
        "pack": ["demo", "oneshot"],
        "tasks": ["feature", "roman"],
        "rate_card": str(card),
        "retry": {"base_delay_s": 0.01, "max_delay_s": 0.05},
        "models": {
            "opus": {
                "provider": "anthropic",
                "model": "claude-opus-4-7",
                "base_url": cloud.sdk_base_url,
                "api_key_env": KEY_ENV,
            },
            "qwen": {
                "provider": "openai",
                "model": "local-coder",
                "base_url": local.sdk_base_url,
                "local": True,
            },
            "router": {"provider": "openai", "model": "router", "base_url": local.sdk_base_url},
        },
        "arms": {
            "solo": {"kind": "solo", "model": "opus"},
            "orch": {
                "kind": "orchestrated",
                "orchestrator": "opus",
                "executor": "qwen",
                "orchestrator_may_edit": False,
            },
            "routed": {
                "kind": "routed",
                "local": "qwen",
                "cloud": "opus",
                "strategy": {"name": "classifier", "classifier": "router"},
            },
            "oneshot": {"kind": "single_shot", "model": "opus"},
            "oneshot-c": {"kind": "single_shot", "model": "opus", "contract": True},
        },
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, KEY_ENV: "sk-arms-" + "9" * 24}
    result = subprocess.run(
        [*ARMBENCH, "run", str(path), "--out", str(tmp / "runs")],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    exported = subprocess.run(
        [*ARMBENCH, "export", str(run_dir)], capture_output=True, text=True
    ).stdout
    return run_dir, [json.loads(line) for line in exported.splitlines()]


def test_every_arm_kind_passes_through_the_real_providers(
    run: tuple[Path, list[dict[str, Any]]],
) -> None:
    run_dir, rows = run
    assert {r["arm_kind"] for r in rows} == {"solo", "orchestrated", "routed", "single_shot"}
    assert all(r["simulated"] for r in rows)  # the sim answered, through real SDKs
    status = {r["arm"]: r["status"] for r in rows if r["task"] == "feature"}
    assert status == {"solo": "pass", "orch": "pass", "routed": "pass"}
    providers = {(c.role, c.provider) for t in load_run(run_dir).trials for c in t.calls}
    assert {
        ("orchestrator", "anthropic"),
        ("executor", "openai"),
        ("router", "openai"),
    } <= providers
    assert ("single_shot", "anthropic") in providers


def test_measures_are_recorded_as_for_the_sim(run: tuple[Path, list[dict[str, Any]]]) -> None:
    _, rows = run
    (orch,) = [r for r in rows if r["arm"] == "orch"]
    assert orch["delegation_tax_tokens"] > 0 and orch["delegation_tax_estimated"] is True
    assert orch["cost_by_role"]["executor"] == 0  # the local executor is free...
    assert orch["cost_by_role"]["orchestrator"] > 0  # ...its orchestrator is not
    (routed,) = [r for r in rows if r["arm"] == "routed"]
    assert routed["cloud_fraction_calls"] is not None and "router" in routed["tokens_by_role"]
    shots = [r for r in rows if r["arm_kind"] == "single_shot"]
    assert all(r["format_score"] is not None and r["contract_effect"] is not None for r in shots)
