"""The sim's edit planner: its str_replace edits, applied as the editor applies them, reach the
target exactly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from armbench.agent.editor import occurrences
from armbench.sim import plan_edits, unnumber

LINES = st.lists(
    st.sampled_from(["a", "b", "c", "def f():", "    return 1", "", "x = 1"]), max_size=12
)


def apply_like_editor(text: str, edits: list[tuple[str, str]]) -> str:
    for old, new in edits:
        assert occurrences(text, old) == 1, f"edit not unique or missing: {old!r}"
        text = text.replace(old, new, 1)
    return text


@settings(max_examples=400)
@given(current=LINES.filter(bool), target=LINES)
def test_edits_reach_the_target(current: list[str], target: list[str]) -> None:
    edits = list(plan_edits(current, target))
    assert apply_like_editor("\n".join(current), edits) == "\n".join(target)


def test_no_edits_when_already_at_target() -> None:
    assert list(plan_edits(["a", "b"], ["a", "b"])) == []


def test_edits_carry_context_only_when_needed() -> None:
    edits = list(plan_edits(["x = 1", "y = 2", "z = 3"], ["x = 1", "y = 20", "z = 3"]))
    assert edits == [("y = 2", "y = 20")]
    repeated = list(plan_edits(["a", "x", "b", "x"], ["a", "x", "b", "y"]))
    assert repeated == [("b\nx", "b\ny")]


def test_unnumber_reads_editor_view_lines() -> None:
    assert occurrences("a\na\na", "a\na") == 2
    assert unnumber("     1\tdef f():\n     2\t    return 1\n     3\t") == [
        "def f():",
        "    return 1",
        "",
    ]
