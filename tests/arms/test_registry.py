"""The registries name what the configs accept: every arm kind, gate kind, model provider and
environment backend a config or a task may name is registered, and nothing else is."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from armbench.arms import ARM_KINDS, arm_kind
from armbench.config import ARM_SETTINGS, MODEL_CONFIGS
from armbench.env import BACKENDS, EnvironmentFactory, UnknownBackend
from armbench.judge import GATES
from armbench.models import PROVIDERS, provider
from armbench.prompts import builtin_prompts
from armbench.tasks import GateSpec

SRC = Path(__file__).resolve().parents[2] / "src" / "armbench"


def _kinds(classes: tuple[type, ...], field: str) -> set[str]:
    return {get_args(cls.model_fields[field].annotation)[0] for cls in classes}


def test_every_arm_kind_of_the_config_is_registered_with_its_config_model() -> None:
    assert set(ARM_KINDS) == _kinds(ARM_SETTINGS, "kind")
    for name, kind in ARM_KINDS.items():
        assert kind.kind == name
        assert get_args(kind.settings.model_fields["kind"].annotation) == (name,)
    assert arm_kind("single_shot").tasks == "single_shot"
    assert {k.tasks for n, k in ARM_KINDS.items() if n != "single_shot"} == {"agentic"}
    with pytest.raises(KeyError, match="known: external, orchestrated, routed, single_shot, solo"):
        arm_kind("openhands")


def test_every_prompt_an_arm_kind_renders_is_a_built_in_prompt() -> None:
    for settings in ARM_SETTINGS:
        assert settings.PROMPTS and set(settings.PROMPTS) <= set(builtin_prompts())


def test_every_gate_kind_a_task_may_name_has_a_runner() -> None:
    specs = get_args(get_args(GateSpec)[0])
    assert set(GATES) == _kinds(specs, "kind")


def test_every_provider_but_the_sim_is_registered_and_loads() -> None:
    assert set(PROVIDERS) == _kinds(MODEL_CONFIGS, "provider") - {"sim"}
    for name in PROVIDERS:
        found = provider(name)
        assert callable(found.model) and callable(found.key_variable)
    with pytest.raises(KeyError, match="known: anthropic, openai, script"):
        provider("sim")


def test_an_unknown_backend_is_refused_naming_the_known_ones() -> None:
    assert "local" in BACKENDS
    with pytest.raises(UnknownBackend, match="known: bwrap, local"):
        EnvironmentFactory("docker")


def test_no_backend_is_constructed_outside_the_factory() -> None:
    """Every command and file access of a trial goes through an EnvironmentFactory, so a
    confining backend confines all of it: no module but the factory names a backend class."""
    backends = {cls.__name__ for cls in BACKENDS.values()}  # type: ignore[attr-defined]
    offenders = [
        f"{path.relative_to(SRC)}:{n}"
        for path in SRC.rglob("*.py")
        if "packs" not in path.relative_to(SRC).parts and path.parent.name != "env"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if any(re.search(rf"\b{name}\b", line) for name in backends)
    ]
    assert offenders == []
