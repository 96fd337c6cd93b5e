"""Tests for armbench.config: loading, overrides, errors named by field, hashing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from armbench.config import (
    ConfigError,
    RunConfig,
    ScriptModelConfig,
    SimModelConfig,
    apply_overrides,
    load_config,
    parse_config,
)
from armbench.core import DEFAULT_LIMITS, Limits

VALID = """\
name: demo-1
pack: ./packs/mine
replicates: 3
seed: 42
rate_card: prices.toml
limits: {max_iterations: 10, wall_s: 600}
models:
  strong: {provider: sim, skill: 0.95, verbosity: 0.6}
  replay: {provider: script, path: scripts/turns.yaml, model: recorded}
arms:
  strong-solo: {kind: solo, model: strong}
  replay-solo: {kind: solo, model: replay, limits: {bash_timeout_s: 30}}
"""


def _raw(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": "r",
        "pack": "demo",
        "models": {"x": {"provider": "sim"}},
        "arms": {"A": {"kind": "solo", "model": "x"}},
    }
    raw.update(changes)
    return raw


def _error(raw: Any) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source="run.yaml", base_dir=Path("/base"))
    return str(info.value)


# --- loading ---------------------------------------------------------------------------------


def test_valid_config_loads_with_relative_paths_resolved(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(VALID)
    config = load_config(path)
    base = tmp_path.resolve()
    assert config.name == "demo-1"
    assert config.pack == str(base / "packs" / "mine")
    assert config.rate_card == base / "prices.toml"
    assert (config.replicates, config.seed, config.concurrency) == (3, 42, 2)
    assert config.tasks is None
    assert config.keep_workspaces is False
    assert config.limits == Limits(max_iterations=10, wall_s=600)
    strong = config.models["strong"]
    assert isinstance(strong, SimModelConfig)
    assert (strong.skill, strong.verbosity, strong.cache, strong.cache_ttl) == (
        0.95,
        0.6,
        True,
        "5m",
    )
    replay = config.models["replay"]
    assert isinstance(replay, ScriptModelConfig)
    assert replay.path == base / "scripts" / "turns.yaml"
    assert config.arms["replay-solo"].limits == Limits(bash_timeout_s=30)
    assert config.model_name("strong") == "strong"
    assert config.model_name("replay") == "recorded"


def test_builtin_pack_name_and_absolute_paths_are_kept(tmp_path: Path) -> None:
    raw = _raw(rate_card="/etc/prices.toml")
    raw["models"]["s"] = {"provider": "script", "path": "/abs/turns.yaml"}
    config = parse_config(raw, source="x", base_dir=tmp_path)
    assert config.pack == "demo"
    assert config.rate_card == Path("/etc/prices.toml")
    script = config.models["s"]
    assert isinstance(script, ScriptModelConfig)
    assert script.path == Path("/abs/turns.yaml")


def test_the_example_config_loads() -> None:
    import armbench

    example = Path(armbench.__file__).parent / "examples" / "demo.yaml"
    config = load_config(example)
    assert config.name == "demo"
    assert config.arms
    assert all(
        key in config.models for arm in config.arms.values() for key in arm.model_keys().values()
    )
    assert {arm.kind for arm in config.arms.values()} == {
        "solo",
        "orchestrated",
        "routed",
        "single_shot",
    }
    assert config.rate_card == (example.parent / "demo-prices.toml").resolve()


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML") as info:
        load_config(bad)
    assert str(bad) in str(info.value)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: expected a mapping at the top level"


# --- overrides -------------------------------------------------------------------------------


def test_apply_overrides_parses_yaml_scalars_and_nested_keys() -> None:
    raw = yaml.safe_load(VALID)
    out = apply_overrides(
        raw,
        [
            "replicates=5",
            "models.strong.skill=0.5",
            "keep_workspaces=true",
            "name=other",
            "tasks=[refactor, feature]",
            "limits.wall_s=90.5",
            "models.new.provider=sim",
            "seed=007",
        ],
    )
    assert out is raw
    assert out["replicates"] == 5
    assert out["models"]["strong"] == {"provider": "sim", "skill": 0.5, "verbosity": 0.6}
    assert out["keep_workspaces"] is True
    assert out["name"] == "other"
    assert out["tasks"] == ["refactor", "feature"]
    assert out["limits"] == {"max_iterations": 10, "wall_s": 90.5}
    assert out["models"]["new"] == {"provider": "sim"}
    assert out["seed"] == 7


def test_apply_overrides_value_may_contain_equals() -> None:
    assert apply_overrides({}, ["name=a=b"]) == {"name": "a=b"}


@pytest.mark.parametrize("item", ["replicates", "=5", ""])
def test_apply_overrides_needs_key_equals_value(item: str) -> None:
    with pytest.raises(ConfigError, match="expected key=value"):
        apply_overrides({}, [item])


def test_apply_overrides_refuses_to_descend_into_a_scalar() -> None:
    with pytest.raises(ConfigError, match="'replicates' is not a mapping"):
        apply_overrides({"replicates": 3}, ["replicates.x=1"])


def test_load_config_with_overrides(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(VALID)
    config = load_config(path, ["replicates=7", "arms.strong-solo.limits.max_iterations=3"])
    assert config.replicates == 7
    assert config.arms["strong-solo"].limits == Limits(max_iterations=3)
    with pytest.raises(ConfigError, match="replicates: Input should be greater than or equal"):
        load_config(path, ["replicates=0"])


# --- errors ----------------------------------------------------------------------------------


def test_unknown_model_in_an_arm() -> None:
    raw = _raw(arms={"A": {"kind": "solo", "model": "ghost"}})
    assert _error(raw) == "run.yaml: arms.A.model: unknown model 'ghost' (known: x)"


def test_unknown_top_level_key() -> None:
    assert _error(_raw(bogus=1)) == "run.yaml: bogus: Extra inputs are not permitted"


def test_field_errors_are_config_errors_naming_the_field() -> None:
    message = _error(_raw(replicates=0, concurrency="many"))
    assert message.startswith("run.yaml: ")
    assert "replicates: Input should be greater than or equal to 1" in message
    assert "concurrency: Input should be a valid integer" in message
    assert "name: String should match pattern" in _error(_raw(name="bad name!"))
    assert "limits.wall_s: Input should be greater than 0" in _error(_raw(limits={"wall_s": 0}))


def test_missing_required_fields() -> None:
    message = _error({"name": "r"})
    for field in ("pack", "models", "arms"):
        assert f"{field}: Field required" in message
    assert "models: Dictionary should have at least 1 item" in _error(_raw(models={}))


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            _raw(models={"x": {"provider": "sim", "skill": 2}}),
            "run.yaml: models.x.skill: Input should be less than or equal to 1",
        ),
        (
            _raw(models={"x": {"provider": "sim", "bogus": 1}}),
            "run.yaml: models.x.bogus: Extra inputs are not permitted",
        ),
        (
            _raw(arms={"A": {"kind": "solo", "model": "x", "bogus": 1}}),
            "run.yaml: arms.A.bogus: Extra inputs are not permitted",
        ),
    ],
)
def test_nested_errors_name_the_dotted_field(raw: dict[str, Any], expected: str) -> None:
    assert _error(raw) == expected


def test_nested_errors_keep_a_key_that_looks_like_a_tag() -> None:
    # Only the discriminator tag pydantic inserts is dropped, not a user key of the same name.
    raw = _raw(models={"sim": {"provider": "sim", "verbosity": -0.1}})
    raw["arms"] = {"solo": {"kind": "solo", "model": "sim", "limits": {"wall_s": -1}}}
    message = _error(raw)
    assert "models.sim.verbosity: Input should be greater than or equal to 0" in message
    assert "arms.solo.limits.wall_s: Input should be greater than 0" in message
    script = _error(_raw(models={"x": {"provider": "script"}}))
    assert script == "run.yaml: models.x.path: Field required"


def test_unknown_provider_is_named() -> None:
    message = _error(_raw(models={"x": {"provider": "nope"}}))
    assert message.startswith("run.yaml: models.x: ")
    assert "'nope'" in message


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_api_providers_need_a_model_id_and_forbid_keys_in_the_file(provider: str) -> None:
    assert "models.x.model: Field required" in _error(_raw(models={"x": {"provider": provider}}))
    leaked = _raw(models={"x": {"provider": provider, "model": "m", "api_key": "sk-oops"}})
    assert "models.x.api_key: Extra inputs are not permitted" in _error(leaked)


def test_api_provider_settings_load_with_their_defaults(tmp_path: Path) -> None:
    raw = _raw(
        models={
            "opus": {"provider": "anthropic", "model": "claude-opus-4-7", "cache_ttl": "1h"},
            "qwen": {
                "provider": "openai",
                "model": "qwen3.5:9b",
                "base_url": "http://localhost:11434/v1",
            },
        },
        arms={"A": {"kind": "solo", "model": "opus"}},
    )
    config = parse_config(raw, source="run.yaml", base_dir=tmp_path)
    opus, qwen = config.models["opus"], config.models["qwen"]
    assert opus.provider == "anthropic" and opus.api_key_env == "ANTHROPIC_API_KEY"
    assert opus.cache_breakpoints == ("tools", "system", "last_user")
    assert qwen.provider == "openai" and qwen.base_url == "http://localhost:11434/v1"
    assert config.retry.retry_after_cap_s == 60


def test_every_arm_kind_names_its_models_by_role() -> None:
    raw = _raw(
        models={"x": {"provider": "sim"}, "y": {"provider": "sim"}},
        arms={
            "A": {"kind": "solo", "model": "x"},
            "B": {"kind": "orchestrated", "orchestrator": "x", "executor": "nope"},
            "R": {"kind": "routed", "local": "y", "cloud": "x", "strategy": {"name": "classifier"}},
            "S": {"kind": "single_shot", "model": "gone", "contract": True},
            "bad/name": {"kind": "solo", "model": "x"},
        },
    )
    message = _error(raw)
    assert "arms.B.executor: unknown model 'nope'" in message
    assert "arms.R.strategy.classifier: the classifier needs a model" in message
    assert "arms.S.model: unknown model 'gone'" in message
    assert "arms.bad/name: arm names are letters, digits and . _ + = -" in message


def test_arm_kinds_load_with_their_defaults(tmp_path: Path) -> None:
    raw = _raw(
        models={"x": {"provider": "sim"}, "y": {"provider": "sim"}},
        arms={
            "B": {"kind": "orchestrated", "orchestrator": "x", "executor": "y"},
            "R": {"kind": "routed", "local": "y", "cloud": "x", "strategy": {"name": "cascade"}},
            "S": {"kind": "single_shot", "model": "x"},
        },
    )
    arms = parse_config(raw, source="run.yaml", base_dir=tmp_path).arms
    assert arms["B"].model_keys() == {"orchestrator": "x", "executor": "y"}
    assert arms["B"].returns.policy == "free" and arms["B"].orchestrator_may_edit
    assert arms["B"].executor_limits.max_iterations == 20
    assert arms["R"].model_keys() == {"local": "y", "cloud": "x"}
    assert arms["S"].model_keys() == {"model": "x"} and not arms["S"].contract


# --- Limits and hashing ----------------------------------------------------------------------


def test_limits_over_fills_unset_fields_from_fallback() -> None:
    assert Limits(max_iterations=5).over(DEFAULT_LIMITS) == Limits(
        max_iterations=5, wall_s=1800, bash_timeout_s=120
    )
    assert Limits().over(DEFAULT_LIMITS) == DEFAULT_LIMITS
    full = Limits(max_iterations=1, wall_s=2, bash_timeout_s=3)
    assert full.over(DEFAULT_LIMITS) == full
    assert Limits(wall_s=9).over(Limits(bash_timeout_s=4)) == Limits(wall_s=9, bash_timeout_s=4)
    assert Limits().over(Limits()) == Limits()


def test_limits_validation() -> None:
    with pytest.raises(ValueError):
        Limits(max_iterations=0)
    with pytest.raises(ValueError):
        Limits(wall_s=0)


def test_canonical_hash_is_stable_under_key_order_and_formatting(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    a.write_text(VALID)
    raw = yaml.safe_load(VALID)
    reordered = {k: raw[k] for k in reversed(list(raw))}
    reordered["models"] = {k: dict(reversed(list(v.items()))) for k, v in raw["models"].items()}
    b = tmp_path / "b.yaml"
    b.write_text(yaml.safe_dump(reordered, default_flow_style=False, sort_keys=False))
    assert a.read_text() != b.read_text()
    hash_a = load_config(a).canonical_hash()
    assert hash_a == load_config(b).canonical_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", hash_a)
    # Defaults spelled out make no difference; a changed value does.
    assert load_config(a, ["concurrency=2"]).canonical_hash() == hash_a
    assert load_config(a, ["seed=43"]).canonical_hash() != hash_a


# sha256 of the JSON of `_raw()` with every default filled in, keys sorted; checked once by
# hand (hashlib over that JSON). A golden value, because hashing twice in one process cannot
# show the hash depending on the process (hash seed, set order) or drifting between versions.
# A new config field with a default changes it: update it then, on purpose.
GOLDEN_HASH = "0f8370dbc0809967fdc4d6664808b805ef642e55846030397dce7571408e0dd1"


def test_canonical_hash_of_a_fixed_config_is_the_golden_value() -> None:
    config = RunConfig.model_validate(_raw())
    assert config.canonical_hash() == GOLDEN_HASH
    assert RunConfig.model_validate(_raw(seed=1)).canonical_hash() != GOLDEN_HASH


# --- prompt overrides ------------------------------------------------------------------------


def _orchestrated(prompts: dict[str, Any]) -> dict[str, Any]:
    return _raw(
        arms={
            "B": {
                "kind": "orchestrated",
                "orchestrator": "x",
                "executor": "x",
                "prompts": prompts,
            }
        }
    )


def test_an_arm_may_replace_a_prompt_inline_or_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "never-edit.j2").write_text("Never edit.{% if not may_edit %} Ever.{% endif %}")
    prompts = {
        "orchestrator.system": {"file": "never-edit.j2"},
        "executor.system": {"text": "Do what you are told."},
    }
    arm = parse_config(_orchestrated(prompts), source="run.yaml", base_dir=tmp_path).arms["B"]
    assert arm.prompts["orchestrator.system"].file == tmp_path / "never-edit.j2"
    assert arm.prompts["orchestrator.system"].template().startswith("Never edit.")
    assert arm.prompts["executor.system"].template() == "Do what you are told."


@pytest.mark.parametrize(
    ("prompts", "expected"),
    [
        (
            {"router.system": {"text": "x"}},
            "arms.B.prompts: router.system: not a prompt of this kind of arm "
            "(its prompts: orchestrator.system, executor.system)",
        ),
        (
            {"executor.system": {"text": "{{ may_edit }}"}},
            "arms.B.prompts.executor.system: the template uses may_edit",
        ),
        (
            {"executor.system": {"text": "x", "file": "y"}},
            "arms.B.prompts.executor.system: give the template as `text` or as a "
            "`file`, not both or neither",
        ),
        ({"executor.system": {"file": "missing.j2"}}, "arms.B.prompts.executor.system.file:"),
        ({"executor.system": {"text": "{% if %}"}}, "arms.B.prompts.executor.system: line 1:"),
    ],
)
def test_a_bad_prompt_override_is_refused_naming_its_field(
    tmp_path: Path, prompts: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_orchestrated(prompts), source="run.yaml", base_dir=tmp_path)
    assert expected in str(info.value)


def test_configs_without_overrides_dump_and_hash_as_before() -> None:
    config = RunConfig.model_validate(_raw())
    assert all("prompts" not in arm for arm in config.model_dump(mode="json")["arms"].values())
    with_prompts = RunConfig.model_validate(_orchestrated({"executor.system": {"text": "x"}}))
    assert with_prompts.model_dump(mode="json")["arms"]["B"]["prompts"] == {
        "executor.system": {"text": "x", "file": None}
    }
