"""Tests for reading a `script` model's file: every problem is one line naming the file (and the
turn and field), and it is found when the run's models are set up, not in every trial."""

from __future__ import annotations

from pathlib import Path

import pytest

from armbench.config import ScriptModelConfig
from armbench.models.factory import ModelFactory
from armbench.models.script import load_script


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "cannot read the script (No such file or directory); a script is a YAML list"),
        (b"- text: [oops\n", "not valid YAML at line 2, column 1: expected ',' or ']'"),
        (b"text: hi\n", "a YAML dict; a script is a YAML list of turns"),
        (b"[]\n", "an empty list; a script is a YAML list of turns"),
        (b"- text: hi\n- usage: {input: 1, outptu: 2}\n", "turn 2: usage.outptu: Extra inputs"),
        (b"- error: gremlins\n", "turn 1: error: Input should be "),
        (b"- text: caf\xe9\n", "the script is not UTF-8 text; save it as UTF-8"),
    ],
    ids=["missing", "syntax", "not a list", "empty", "unknown field", "unknown class", "bytes"],
)
def test_a_bad_script_is_one_line_naming_the_file(
    tmp_path: Path, text: bytes | None, expected: str
) -> None:
    path = tmp_path / "turns.yaml"
    if text is not None:
        path.write_bytes(text)
    with pytest.raises(ValueError) as info:
        load_script(path)
    assert str(info.value).startswith(f"{path}: {expected}"), str(info.value)
    assert "\n" not in str(info.value)


def test_the_script_is_checked_when_the_runs_models_are_set_up(tmp_path: Path) -> None:
    path = tmp_path / "turns.yaml"
    path.write_text("- text: hi\n  tool_calls: [{name: bash}]\n  usage: {input: 3, output: 1}\n")
    config = ScriptModelConfig(provider="script", path=path, model="r")
    factory = ModelFactory({"r": config}, environ={})
    assert factory.build("r").identity.model == "r"
    path.write_text("- text: hi\n  tool_calls: {name: bash}\n")
    with pytest.raises(ValueError, match=r"turns\.yaml: turn 1: tool_calls: Input should be"):
        ModelFactory({"r": config}, environ={})
