"""Delegation instructions round-trip: what the orchestrator writes, the executor reads."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from armbench.sim import parse_instruction, render_instruction

PATHS = st.sampled_from(["a.py", "pkg/b.py", "tests/test_c.py", "d.txt"])
CONTENT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r"), max_size=200
).map(lambda t: t.rstrip("\n") + "\n")


@given(
    files=st.dictionaries(PATHS, st.one_of(st.none(), CONTENT), max_size=4),
    checks=st.lists(st.sampled_from(["python -m mypy", "python -m pytest -q"]), max_size=2),
)
def test_an_instruction_reads_back_as_what_was_written(
    files: dict[str, str | None], checks: list[str]
) -> None:
    brief = parse_instruction(render_instruction(files, checks))
    assert dict(brief.solution) == files
    assert list(brief.check_commands) == checks


def test_content_with_backticks_keeps_its_fences() -> None:
    content = 'DOC = """\n```python\nx = 1\n```\n"""\n'
    brief = parse_instruction(render_instruction({"m.py": content}, []))
    assert brief.solution == {"m.py": content}


def test_prose_around_blocks_is_ignored() -> None:
    text = "Please do this.\n\nFILE: a.py\n```\nA = 1\n```\nThanks!\nCHECK: python -m pytest -q\n"
    brief = parse_instruction(text)
    assert brief.solution == {"a.py": "A = 1\n"} and brief.check_commands == (
        "python -m pytest -q",
    )
