"""Tests for sweeps (armbench.config.sweep) and the inputs around them: `--set` on lists and
bad values, and config files that are not UTF-8."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from armbench.config import (
    ConfigError,
    OrchestratedArm,
    RoutedArm,
    RunConfig,
    SweepPoint,
    apply_overrides,
    load_config,
    parse_config,
)

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _raw(sweep: Any, **arms: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "r",
        "pack": "demo",
        "models": {"x": {"provider": "sim"}, "y": {"provider": "sim"}},
        "arms": arms
        or {
            "A": {"kind": "solo", "model": "x"},
            "B": {"kind": "orchestrated", "orchestrator": "x", "executor": "y"},
            "R": {"kind": "routed", "local": "y", "cloud": "x", "strategy": {"name": "cascade"}},
        },
        "sweep": sweep,
    }


def _load(raw: dict[str, Any], base_dir: Path = Path("/base")) -> RunConfig:
    return parse_config(raw, source="run.yaml", base_dir=base_dir)


def _error(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        _load(raw)
    return str(info.value)


# --- expansion -------------------------------------------------------------------------------


def test_a_grid_makes_one_arm_per_combination_in_place_of_the_arm() -> None:
    grid = {"returns.policy": ["free", "tail"], "returns.max_chars": [1000, 4000]}
    config = _load(_raw([{"arms": ["B"], "grid": grid}]))
    assert list(config.arms) == [
        "A",
        "B.policy=free.max_chars=1000",
        "B.policy=free.max_chars=4000",
        "B.policy=tail.max_chars=1000",
        "B.policy=tail.max_chars=4000",
        "R",
    ]
    arm = config.arms["B.policy=tail.max_chars=1000"]
    assert isinstance(arm, OrchestratedArm)
    assert (arm.returns.policy, arm.returns.max_chars, arm.executor) == ("tail", 1000, "y")
    assert arm.sweep == SweepPoint(
        base="B", values={"returns.policy": "tail", "returns.max_chars": 1000}
    )
    assert config.arms["A"].sweep is None


def test_cases_are_explicit_points_and_combine_with_the_grid() -> None:
    sweep = [
        {"arms": ["B"], "grid": {"returns.max_chars": [500, 2000]}},
        {
            "arms": ["B"],
            "grid": {"orchestrator_may_edit": [False]},
            "cases": [{}, {"returns.policy": "structured", "executor": "x"}],
        },
    ]
    config = _load(_raw(sweep))
    assert list(config.arms) == [
        "A",
        "B.max_chars=500",
        "B.max_chars=2000",
        "B.orchestrator_may_edit=false",
        "B.orchestrator_may_edit=false.policy=structured.executor=x",
        "R",
    ]
    arm = config.arms["B.orchestrator_may_edit=false.policy=structured.executor=x"]
    assert isinstance(arm, OrchestratedArm)
    assert (arm.returns.policy, arm.executor, arm.orchestrator_may_edit) == (
        "structured",
        "x",
        False,
    )


def test_without_arms_an_entry_varies_every_arm_and_a_nested_grid_is_a_path() -> None:
    config = _load(_raw([{"grid": {"limits": {"max_iterations": [5, 9]}}}]))
    assert list(config.arms) == [f"{a}.max_iterations={n}" for a in "ABR" for n in (5, 9)]
    assert config.arms["R.max_iterations=9"].limits.max_iterations == 9


def test_names_stay_unique_readable_and_safe_for_any_value() -> None:
    grid = {
        "limits.max_iterations": [5],
        "executor_limits.max_iterations": [5],
        "prompts.executor.system.text": ["Do it.", "Do it, then say what you did."],
        "returns.max_chars": [1000],
    }
    sweep = [{"arms": ["B"], "grid": grid}, {"arms": ["R"], "grid": {"strategy.threshold": [0.5]}}]
    config = _load(_raw(sweep))
    assert list(config.arms) == [
        "A",
        "B.limits.max_iterations=5.executor_limits.max_iterations=5.text=v1.max_chars=1000",
        "B.limits.max_iterations=5.executor_limits.max_iterations=5.text=v2.max_chars=1000",
        "R.threshold=0.5",
    ]
    arm = config.arms[
        "B.limits.max_iterations=5.executor_limits.max_iterations=5.text=v2.max_chars=1000"
    ]
    assert isinstance(arm, OrchestratedArm)
    assert arm.prompts["executor.system"].template() == "Do it, then say what you did."
    assert arm.limits.max_iterations == 5 and arm.executor_limits.max_iterations == 5


def test_a_swept_config_reloads_from_its_dump_unchanged() -> None:
    """`resume` re-parses the manifest's config and checks its hash: the arms a sweep made
    must come back as they were, without being expanded again."""
    config = _load(_raw([{"arms": ["R"], "grid": {"strategy.threshold": [5, 10]}}]))
    again = _load(config.model_dump(mode="json"))
    assert again == config and again.canonical_hash() == config.canonical_hash()
    dumped = config.model_dump(mode="json")["arms"]["R.threshold=10"]
    assert dumped["sweep"] == {"base": "R", "values": {"strategy.threshold": 10}}
    assert "sweep" not in config.model_dump(mode="json")["arms"]["A"]


def test_prompt_files_in_a_sweep_resolve_against_the_config(tmp_path: Path) -> None:
    (tmp_path / "terse.j2").write_text("Be terse.")
    sweep = [{"arms": ["B"], "grid": {"prompts.orchestrator.system.file": ["terse.j2"]}}]
    arm = _load(_raw(sweep), base_dir=tmp_path).arms["B.file=terse.j2"]
    assert arm.prompts["orchestrator.system"].file == tmp_path / "terse.j2"


@pytest.mark.parametrize(
    ("sweep", "expected"),
    [
        (
            [{"arms": ["B"], "grid": {"returns.max_chars": [4000, 50]}}],
            "run.yaml: sweep[0].grid.returns.max_chars=50: Input should be greater than or "
            "equal to 100",
        ),
        (
            [{"arms": ["B"], "cases": [{"executor": "x"}, {"executor": "z"}]}],
            "run.yaml: sweep[0].cases[1].executor=z: unknown model 'z' (known: x, y)",
        ),
        (
            [{"arms": ["B"], "grid": {"returns.max_char": [1]}}],
            "sweep[0].grid.returns.max_char: 'max_char' is not a field of `returns` "
            "(its fields: policy, max_chars)",
        ),
        (
            [{"arms": ["R"], "grid": {"threshold": [1]}}],
            "sweep[0].grid.threshold: 'threshold' is not a field of a routed arm (its fields: "
            "local, cloud, strategy, limits, prompts); a sweep varies arms",
        ),
        ([{"grid": {"/seed": [1, 2]}}], "seed, replicates and the like hold for the whole run"),
        (
            [{"arms": ["B"], "grid": {"executor.model": ["x"]}}],
            "sweep[0].grid.executor.model: 'executor' of an orchestrated arm is one value",
        ),
        ([{"arms": ["C"], "grid": {"model": ["x"]}}], "sweep[0].arms: no arm 'C' (arms: A, B, R)"),
        ([{"arms": ["A"]}], "sweep[0]: give a `grid`, `cases` or both"),
        ([{"arms": ["A"], "grid": {"model": "x"}}], "sweep[0].grid.model: expected a list"),
        ([{"arms": ["A"], "grid": {"model": []}}], "sweep[0].grid.model: expected a list"),
        ([{"arms": ["A"], "grids": {}}], "sweep[0].grids: Extra inputs are not permitted"),
        ({"arms": ["A"]}, "sweep: expected a list of entries"),
        (
            [{"arms": ["B"], "grid": {"returns": [{}], "returns.policy": ["tail"]}}],
            "sweep[0].grid.returns.policy: overlaps sweep[0].grid.returns",
        ),
        (
            [
                {"arms": ["A"], "grid": {"model": ["x"]}},
                {"arms": ["A"], "cases": [{"model": "x"}]},
            ],
            "sweep: arm 'A.model=x' is made twice",
        ),
    ],
)
def test_a_bad_sweep_is_refused_where_it_was_written(sweep: Any, expected: str) -> None:
    assert expected in _error(_raw(sweep))


def test_a_problem_of_the_arm_itself_is_named_once_on_the_arm() -> None:
    raw = _raw(
        [{"arms": ["B"], "grid": {"returns.max_chars": [1000, 2000, 3000]}}],
        B={"kind": "orchestrated", "orchestrator": "x", "executor": "y", "colour": "red"},
    )
    assert _error(raw) == "run.yaml: arms.B.colour: Extra inputs are not permitted"


def test_a_sweep_may_not_reach_inside_a_value_the_arm_gives() -> None:
    raw = _raw(
        [{"arms": ["B"], "grid": {"returns.max_chars": [1000]}}],
        B={"kind": "orchestrated", "orchestrator": "x", "executor": "y", "returns": "free"},
    )
    assert "sweep[0].grid.returns.max_chars: arms.B.returns is not a mapping" in _error(raw)


# --- the example configs ---------------------------------------------------------------------

OFFLINE = {
    "return-cap.yaml": [
        "models.opus={provider: sim, skill: 0.95}",
        "models.qwen={provider: sim, skill: 0.6}",
    ],
    "routing-cascade-threshold.yaml": [
        "models.qwen={provider: sim, model: local, skill: 0.6}",
        "models.gpt={provider: sim, model: strong, skill: 0.95}",
        "rate_card=../src/armbench/examples/demo-prices.toml",
    ],
}


def test_the_routing_threshold_example_sweeps_the_cascade_over_five_thresholds() -> None:
    path = CONFIGS / "routing-cascade-threshold.yaml"
    for config in (load_config(path), load_config(path, OFFLINE[path.name])):
        assert list(config.arms) == [f"R.threshold={t}" for t in (5, 10, 15, 20, 25)]
        assert config.replicates == 3
        for arm, threshold in zip(config.arms.values(), (5, 10, 15, 20, 25), strict=True):
            assert isinstance(arm, RoutedArm)
            assert (arm.strategy.name, arm.strategy.threshold) == ("cascade", threshold)
    assert config.rate_card is not None and config.rate_card.is_file()
    assert {m.provider for m in config.models.values()} == {"sim"}


def test_the_return_cap_example_sets_free_caps_against_structured() -> None:
    path = CONFIGS / "return-cap.yaml"
    config = load_config(path, OFFLINE[path.name])
    caps = [f"B.policy=free.max_chars={n}" for n in (500, 1500, 4000, 16000)]
    assert list(config.arms) == ["A", *caps, "B.policy=structured.max_chars=4000"]
    assert {m.provider for m in config.models.values()} == {"sim"}
    assert list(load_config(path).arms) == list(config.arms)


# --- --set -----------------------------------------------------------------------------------


def test_set_indexes_lists_so_a_sweep_can_be_changed_from_the_command_line() -> None:
    raw = _raw([{"arms": ["B"], "grid": {"returns.max_chars": [1000]}}])
    apply_overrides(raw, ["sweep.0.grid.returns.max_chars=[2000, 8000]", "sweep.0.arms=[B]"])
    assert list(_load(raw).arms) == ["A", "B.max_chars=2000", "B.max_chars=8000", "R"]
    raw = _raw(None)
    apply_overrides(raw, ["sweep=[{arms: [A], grid: {model: [x, y]}}]"])
    assert list(_load(raw).arms) == ["A.model=x", "A.model=y", "B", "R"]


def test_set_uses_a_key_with_dots_whole_where_the_mapping_has_it() -> None:
    raw = _raw(None)
    raw["arms"]["B"]["prompts"] = {"executor.system": {"text": "Do it."}}
    apply_overrides(raw, ["arms.B.prompts.executor.system.text=Do it well."])
    assert raw["arms"]["B"]["prompts"] == {"executor.system": {"text": "Do it well."}}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("name=[", "--set 'name=[': the value is not valid YAML: expected the node content"),
        ("sweep.1.grid.x=[1]", "--set 'sweep.1.grid.x=[1]': 'sweep' is a list of 1: index it"),
        ("sweep.first.arms=[A]", "'sweep' is a list of 1"),
        ("name.x=1", "--set 'name.x=1': 'name' is not a mapping"),
        ("arms..model=x", "expected key=value"),
    ],
)
def test_a_bad_set_is_a_config_error(item: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides(_raw([{"grid": {"limits.max_iterations": [1]}}]), [item])
    assert expected in str(info.value)


def test_set_of_an_unknown_key_or_a_list_for_one_value_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(
        "name: r\npack: demo\nmodels: {x: {provider: sim}}\narms: {A: {kind: solo, model: x}}\n"
    )
    with pytest.raises(ConfigError, match=r"replicates: Input should be a valid integer"):
        load_config(path, ["replicates=[1, 2]"])
    with pytest.raises(ConfigError, match=r"replicate: Extra inputs are not permitted"):
        load_config(path, ["replicate=2"])


# --- files that are not UTF-8 ----------------------------------------------------------------


def test_a_config_that_is_not_utf8_names_the_file_and_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: café\n".encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: not UTF-8 text (byte 0xe9 at offset 9); save it as UTF-8"


def test_a_prompt_file_that_is_not_utf8_is_refused_naming_the_field(tmp_path: Path) -> None:
    (tmp_path / "p.j2").write_bytes(b"\xffDo it.")
    raw = _raw(
        None,
        A={"kind": "solo", "model": "x", "prompts": {"agent.system": {"file": "p.j2"}}},
    )
    with pytest.raises(ConfigError) as info:
        _load(raw, base_dir=tmp_path)
    assert "arms.A.prompts.agent.system.file:" in str(info.value)
    assert "not UTF-8 text (byte 0xff at offset 0)" in str(info.value)
