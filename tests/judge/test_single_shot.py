"""Single-shot tasks: the task format, strict and lenient extraction, scoring by execution."""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import pytest

from armbench.analysis.contract import classify_contract_effect
from armbench.core import extract_lenient, extract_strict, has_run_line, render_answer
from armbench.judge.single_shot import SingleShotScore, format_score, score
from armbench.judge.single_shot.execution import _compare
from armbench.prompts import CONTRACT, PromptSet
from armbench.tasks.single_shot import (
    SingleShotTask,
    load_any_task,
    load_single_shot_task,
)
from armbench.tasks.spec import Task, TaskFileError, load_task

PY = sys.executable
ONE = ["solution.py"]
CODE = 'print("hello")\n'


def fence(content: str, lang: str = "python") -> str:
    return f"```{lang}\n{content}```\n"


CONTRACT_SHA256 = "96f8b121898ec8e3e30c1f1295b52bf8183dea3ae94d0ea04b998413324cc2c2"


# --- the contract and rendering -----------------------------------------------------------


def test_the_contract_prompt_appends_the_format_and_the_files() -> None:
    wrapped = PromptSet().render(
        CONTRACT, prompt="Write `a.py` and `b.py`.\n\n", files=["a.py", "b.py"]
    )
    assert wrapped.startswith("Write `a.py` and `b.py`.\n\nAnswer in this exact format.")
    assert wrapped.endswith("\n\nRequired files: a.py, b.py\n")
    assert "FILE: <path>" in wrapped and "RUN: <command>" in wrapped
    # The text the published contract had, byte for byte (its sha256, from before it was data).
    assert hashlib.sha256(wrapped.encode()).hexdigest() == CONTRACT_SHA256


def test_a_contract_answer_extracts_both_ways_and_scores_format() -> None:
    files = {"solution.py": CODE, "lib/util.py": "X = 1\n"}
    answer = render_answer(files, "python solution.py", contract=True)
    assert extract_strict(answer, list(files)) == files
    assert extract_lenient(answer, list(files)) == files
    assert format_score(answer, list(files)) == 1
    assert has_run_line(answer)


def test_a_plain_answer_extracts_only_leniently() -> None:
    files = {"solution.py": CODE, "helper.py": "Y = 2\n"}
    answer = render_answer(files, "python solution.py", contract=False)
    assert extract_strict(answer, list(files)) == {}
    assert extract_lenient(answer, list(files)) == files
    assert format_score(answer, list(files)) == 0
    assert not has_run_line(answer)


def test_render_uses_a_longer_fence_for_content_holding_fences() -> None:
    content = 'DOC = """\n```python\nx = 1\n```\n"""\n'
    answer = render_answer({"solution.py": content}, None, contract=True)
    assert "````python" in answer
    assert extract_strict(answer, ONE) == {"solution.py": content}


# --- strict and lenient extraction ---------------------------------------------------------


def test_code_blocks_without_file_lines() -> None:
    answer = (
        "Here is my solution:\n\n"
        + fence(CODE)
        + "\nRun it like this:\n\n"
        + fence("python solution.py data.csv\n", "bash")
    )
    assert extract_strict(answer, ONE) == {}
    assert extract_lenient(answer, ONE) == {"solution.py": CODE}


def test_a_file_line_with_the_block_further_away() -> None:
    answer = "FILE: solution.py\nThis reads the file and prints totals.\n\n" + fence(CODE)
    assert extract_strict(answer, ONE) == {}
    assert extract_lenient(answer, ONE) == {"solution.py": CODE}
    # Blank lines alone between the FILE line and the block are fine for the strict rule.
    assert extract_strict("FILE: solution.py\n\n\n" + fence(CODE), ONE) == {"solution.py": CODE}


def test_two_files_assigned_by_name_in_any_order() -> None:
    answer = (
        "First the helper, `util.py`:\n"
        + fence("def f() -> int:\n    return 1\n")
        + "\nAnd the entry point, solution.py:\n"
        + fence("from util import f\nprint(f())\n")
    )
    files = ["solution.py", "util.py"]
    found = extract_lenient(answer, files)
    assert found["util.py"].startswith("def f()")
    assert found["solution.py"].startswith("from util import f")
    assert extract_strict(answer, files) == {}


def test_two_files_named_by_first_line_comments_or_else_in_order() -> None:
    files = ["solution.py", "util.py"]
    commented = fence("# util.py\nA = 1\n") + fence(
        "#!/usr/bin/env python3\n# solution.py\nB = 2\n"
    )
    found = extract_lenient(commented, files)
    assert found == {"util.py": "# util.py\nA = 1\n", "solution.py": found["solution.py"]}
    assert found["solution.py"].endswith("B = 2\n")
    unnamed = fence("A = 1\n") + fence("B = 2\n")
    assert extract_lenient(unnamed, files) == {"solution.py": "A = 1\n", "util.py": "B = 2\n"}


def test_strict_and_lenient_with_mixed_file_blocks() -> None:
    files = ["solution.py", "util.py"]
    answer = "FILE: solution.py\n" + fence(CODE) + "\nThe helper:\n" + fence("A = 1\n")
    assert extract_strict(answer, files) == {"solution.py": CODE}
    assert format_score(answer, files) == 0
    assert extract_lenient(answer, files) == {"solution.py": CODE, "util.py": "A = 1\n"}


@pytest.mark.parametrize("tag", ["python", "py", "Python3", "{.python}", "python title=x"])
def test_language_tags_are_accepted(tag: str) -> None:
    answer = f"FILE: solution.py\n```{tag}\n{CODE}```\nRUN: python solution.py\n"
    assert extract_strict(answer, ONE) == {"solution.py": CODE}
    assert extract_lenient(answer, ONE) == {"solution.py": CODE}


def test_lenient_prefers_python_blocks_and_never_uses_misfits() -> None:
    sample = "Expected output:\n" + fence("groceries: 56.00\n", "") + "\n"
    answer = sample + "Code:\n" + fence(CODE, "py") + fence("python solution.py\n", "bash")
    assert extract_lenient(answer, ONE) == {"solution.py": CODE}
    # Untagged is used when nothing is tagged Python; a shell block never is.
    assert extract_lenient(fence(CODE, ""), ONE) == {"solution.py": CODE}
    assert extract_lenient(fence("python solution.py\n", "bash"), ONE) == {}
    # A bash block naming the file is not taken for it either.
    usage = "Save as solution.py:\n" + fence(CODE) + "Then run solution.py:\n"
    usage += fence("python solution.py\n", "sh")
    assert extract_lenient(usage, ONE) == {"solution.py": CODE}


def test_a_missing_closing_fence() -> None:
    answer = "FILE: solution.py\n```python\nimport sys\nprint(sys.argv)\n"
    assert extract_strict(answer, ONE) == {}
    assert format_score(answer, ONE) == 0
    assert extract_lenient(answer, ONE) == {"solution.py": "import sys\nprint(sys.argv)\n\n"}


def test_strict_details_paths_duplicates_and_unrequired_files() -> None:
    answer = (
        "FILE: ./solution.py\n"
        + fence("OLD = 1\n")
        + "FILE: notes.md\n"
        + fence("# notes\n", "markdown")
        + "FILE: `solution.py`\n"
        + fence(CODE)
    )
    assert extract_strict(answer, ONE) == {"solution.py": CODE}
    # Indented FILE lines and tilde fences are fine.
    tilde = "  FILE: solution.py  \n~~~python\n" + CODE + "~~~\n"
    assert extract_strict(tilde, ONE) == {"solution.py": CODE}


def test_a_longer_name_is_not_a_mention() -> None:
    answer = "And test_solution.py:\n" + fence("def test() -> None: ...\n")
    answer = "Here is solution.py:\n" + fence(CODE) + answer
    assert extract_lenient(answer, ONE) == {"solution.py": CODE}


def test_crlf_answers_and_run_lines_inside_blocks() -> None:
    answer = "FILE: solution.py\r\n```python\r\nprint(1)\r\n```\r\nRUN: python solution.py\r\n"
    assert extract_strict(answer, ONE) == {"solution.py": "print(1)\n"}
    assert has_run_line(answer)
    assert not has_run_line(fence("RUN: python solution.py\n"))
    assert extract_strict("", ONE) == extract_lenient("", ONE) == {}


# --- classifying the contract's effect ----------------------------------------------------


@pytest.mark.parametrize(
    ("without", "with_", "effect"),
    [
        ((0, 0), (1, 1), "execution_gain"),
        ((1, 0), (1, 1), "execution_gain"),
        ((0, 1), (1, 1), "format_only"),
        ((1, 1), (0, 0), "regression"),
        ((0, 1), (1, 0), "regression"),
        ((1, 1), (1, 1), "no_effect"),
        ((0, 0), (0, 0), "no_effect"),
        ((1, 1), (0, 1), "no_effect"),
        ((0.2, 0.50), (0.9, 0.50), "format_only"),
        ((0.2, 0.50), (0.9, 0.55), "execution_gain"),
        ((0.9, 0.60), (0.9, 0.55), "regression"),
    ],
)
def test_classify_contract_effect(
    without: tuple[float, float], with_: tuple[float, float], effect: str
) -> None:
    assert classify_contract_effect(without, with_) == effect


def test_classify_contract_effect_with_a_tolerance() -> None:
    assert classify_contract_effect((0.2, 0.50), (0.9, 0.55), tolerance=0.1) == "format_only"
    assert classify_contract_effect((0.2, 0.50), (0.25, 0.45), tolerance=0.1) == "no_effect"


@pytest.mark.parametrize(
    ("expected", "got", "match", "ok"),
    [
        ("a\nb\n", "a\nb\n", "exact", True),
        ("a\nb\n", "a \nb\n\n", "exact", False),
        ("a\nb\n", "a  \r\nb\n\n\n", "lines", True),
        ("a\nb\n", " a\nb\n", "lines", False),
        ('{"a": [1, 2], "b": null}', '{"b":null,"a":[1,2]}', "json", True),
        ('{"a": 1}', '{"a": true}', "json", False),
        ('{"a": 1}', "not json", "json", False),
    ],
)
def test_match_modes(expected: str, got: str, match: str, ok: bool) -> None:
    assert (_compare(expected, got, match) == "") is ok


# --- the task format -----------------------------------------------------------------------

TASK_YAML = """\
kind: single_shot
id: upper
title: Upper-case a file
prompt: |
  Write `solution.py`, run as `python solution.py words.txt`, that prints the file upper-cased.
files: [solution.py]
fixture: fixture
run:
  - {command: "python solution.py words.txt", timeout_s: 5}
check:
  - {kind: stdout, step: 0, expected: expected.txt, match: lines}
  - {kind: command, command: "python check.py", timeout_s: 5}
solution: {overlay: solution}
"""

REFERENCE = """\
import sys
from pathlib import Path

text = Path(sys.argv[1]).read_text()
Path("done.txt").write_text("yes")
print(text.upper(), end="")
"""


def make_task(root: Path, yaml_text: str = TASK_YAML) -> Path:
    folder = root / "upper"
    (folder / "fixture").mkdir(parents=True)
    (folder / "solution").mkdir()
    (folder / "task.yaml").write_text(yaml_text)
    (folder / "fixture" / "words.txt").write_text("alpha\nbeta\n")
    (folder / "fixture" / "check.py").write_text(
        "import pathlib, sys\nsys.exit(pathlib.Path('done.txt').read_text() != 'yes')\n"
    )
    (folder / "expected.txt").write_text("ALPHA\nBETA\n")
    (folder / "solution" / "solution.py").write_text(REFERENCE)
    return folder


def test_a_single_shot_task_loads(tmp_path: Path) -> None:
    task = load_any_task(make_task(tmp_path))
    assert isinstance(task, SingleShotTask)
    assert task.id == "upper"
    assert task.files == ("solution.py",)
    assert task.reference_files() == {"solution.py": REFERENCE}
    assert task.run_line == "python solution.py words.txt"
    assert [g.kind for g in task.spec.gates] == ["stdout", "command"]
    assert task.fixture_dir == (tmp_path / "upper" / "fixture").resolve()


def test_agentic_task_files_still_load(tmp_path: Path) -> None:
    from armbench.tasks.packs import BUILTIN_PACKS

    folder = BUILTIN_PACKS / "demo" / "tasks" / "feature"
    assert isinstance(load_any_task(folder), Task)
    assert load_task(folder).spec.kind == "agentic"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("step: 0, expected", "step: 3, expected"), "check.0.step: 3 names no run step"),
        (
            ("files: [solution.py]", "files: [../solution.py]"),
            "files: '../solution.py' must be a relative path",
        ),
        (("files: [solution.py]", "files: [solution.py, solution.py]"), "duplicate paths"),
        (("title: Upper", "colour: red\ntitle: Upper"), "colour: Extra inputs"),
        (("expected: expected.txt", "expected: nope.txt"), "check.0.expected: file 'nope.txt'"),
        (("files: [solution.py]", "files: [solution.py, lib.py]"), "solution/lib.py is missing"),
        (("fixture: fixture", "fixture: gone"), "fixture: folder 'gone' does not exist"),
        (("kind: single_shot", "kind: multi_shot"), "kind: 'multi_shot' is not"),
        (("{kind: command,", "{kind: shell,"), "check.1"),
    ],
)
def test_bad_task_files_name_the_file_and_field(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    folder = make_task(tmp_path, TASK_YAML.replace(*edit))
    with pytest.raises(TaskFileError) as caught:
        load_any_task(folder)
    assert str(folder / "task.yaml") in str(caught.value)
    assert message in str(caught.value)


def test_load_task_refuses_a_single_shot_file(tmp_path: Path) -> None:
    folder = make_task(tmp_path)
    with pytest.raises(TaskFileError, match="kind: a single-shot task"):
        load_task(folder)
    assert load_single_shot_task(folder).id == "upper"


# --- scoring on real runs ------------------------------------------------------------------


def scored(
    tmp_path: Path, answer: str, yaml_text: str = TASK_YAML, python: str = PY
) -> SingleShotScore:
    task = load_single_shot_task(make_task(tmp_path, yaml_text))
    return score(task, answer, python=python, scratch=tmp_path / "scratch")


def gates_of(result: SingleShotScore) -> dict[str, bool]:
    return {g.name: g.passed for g in result.gates}


def test_a_correct_answer_passes(tmp_path: Path) -> None:
    answer = render_answer(
        {"solution.py": REFERENCE}, "python solution.py words.txt", contract=True
    )
    result = scored(tmp_path, answer)
    assert (result.format_score, result.execution_score, result.run_line) == (1, 1, True)
    assert result.files_strict == result.files_lenient == ["solution.py"]
    assert gates_of(result) == {
        "format": True,
        "file:solution.py": True,
        "run": True,
        "stdout": True,
        "command": True,
    }


def test_a_correct_answer_without_the_format_still_executes(tmp_path: Path) -> None:
    result = scored(tmp_path, "Sure!\n" + fence(REFERENCE))
    assert (result.format_score, result.execution_score, result.run_line) == (0, 1, False)
    assert result.files_strict == [] and result.files_lenient == ["solution.py"]
    assert gates_of(result)["format"] is False


def test_wrong_output_fails_the_stdout_gate(tmp_path: Path) -> None:
    wrong = REFERENCE.replace("text.upper()", "text.title()")
    result = scored(tmp_path, "FILE: solution.py\n" + fence(wrong))
    assert (result.format_score, result.execution_score) == (1, 0)
    gates = {g.name: g for g in result.gates}
    assert gates["run"].passed and gates["command"].passed and not gates["stdout"].passed
    assert "line 1: expected 'ALPHA', got 'Alpha'" in gates["stdout"].details


def test_a_crash_fails_the_run_and_the_checks(tmp_path: Path) -> None:
    crash = "import sys\nraise SystemExit(sys.argv[99])\n"
    result = scored(tmp_path, "FILE: solution.py\n" + fence(crash))
    assert result.execution_score == 0
    gates = {g.name: g for g in result.gates}
    assert gates["run"].exit_code == 1
    assert "exit code 1" in gates["run"].details and "IndexError" in gates["run"].details
    assert not gates["stdout"].passed and not gates["command"].passed


SLEEPER = """\
import os, time
from pathlib import Path

Path("pid").write_text(str(os.getpid()))
time.sleep(5)
Path("finished").touch()
time.sleep(60)
"""


def _running(pid: int) -> bool:
    """True while `pid` runs; a zombie counts as gone (PID 1 in a container may not reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_timeout_is_killed_and_fails(tmp_path: Path) -> None:
    yaml_text = TASK_YAML.replace('words.txt", timeout_s: 5', 'words.txt", timeout_s: 1')
    result = scored(tmp_path, "FILE: solution.py\n" + fence(SLEEPER), yaml_text)
    gates = {g.name: g for g in result.gates}
    assert not gates["run"].passed and gates["run"].exit_code is None
    assert "timed out after 1s" in gates["run"].details
    assert "timed out" in gates["stdout"].details
    assert result.execution_score == 0
    (workspace,) = (tmp_path / "scratch").glob("score-*/workspace")
    # Killed, not left running: polled with a generous deadline, the 60 s sleeper is gone ...
    pid = int((workspace / "pid").read_text())
    deadline = time.monotonic() + 10
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(pid), "the timed-out solution is still running"
    # ... and killed at its 1 s timeout: it would have written `finished` at 5 s.
    assert not (workspace / "finished").exists()


def test_a_missing_file_runs_nothing(tmp_path: Path) -> None:
    result = scored(tmp_path, "I cannot help with that.")
    assert (result.format_score, result.execution_score) == (0, 0)
    gates = {g.name: g for g in result.gates}
    assert not gates["file:solution.py"].passed
    assert all(not g.passed and g.details.startswith("not run") for g in result.gates[2:])
    assert not (tmp_path / "scratch").exists()


def test_the_given_interpreter_is_python_on_path(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "my-python"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\ntouch used-the-given-python\nexec {PY} "$@"\n')
    fake.chmod(0o755)
    yaml_text = TASK_YAML.replace('"python check.py"', '"test -f used-the-given-python"')
    answer = "FILE: solution.py\n" + fence(REFERENCE)
    result = scored(tmp_path, answer, yaml_text, python=str(fake))
    assert result.execution_score == 1, result.gates
    fake.write_text("#!/bin/sh\nexit 7\n")
    result = scored(tmp_path / "again", answer, yaml_text, python=str(fake))
    assert [g.exit_code for g in result.gates if g.kind == "run"] == [7]


def test_expect_exit_and_files_in_folders(tmp_path: Path) -> None:
    yaml_text = TASK_YAML.replace("files: [solution.py]", "files: [solution.py, pkg/shout.py]")
    yaml_text = yaml_text.replace(
        "timeout_s: 5}\ncheck",
        'timeout_s: 5}\n  - {command: "python -m pkg.shout", expect_exit: 4}\ncheck',
    )
    folder = make_task(tmp_path, yaml_text)
    (folder / "solution" / "pkg").mkdir()
    (folder / "solution" / "pkg" / "shout.py").write_text("raise SystemExit(4)\n")
    task = load_single_shot_task(folder)
    answer = render_answer(task.reference_files(), task.run_line, contract=True)
    result = score(task, answer, python=PY, scratch=tmp_path / "scratch")
    assert (result.format_score, result.execution_score) == (1, 1), result.gates
    assert [g.name for g in result.gates if g.kind == "run"] == ["run#1", "run#2"]


def test_validation_reports_vacuous_checks_and_failing_references(tmp_path: Path) -> None:
    from armbench.judge.validate import validate_single_shot_task

    good = validate_single_shot_task(
        load_single_shot_task(make_task(tmp_path / "good")), python=PY, repeats=2
    )
    assert good.ok, good.problems
    assert len(good.untouched) == len(good.blank) == len(good.reference) == 2

    vacuous = TASK_YAML.replace(
        "  - {kind: stdout, step: 0, expected: expected.txt, match: lines}\n", ""
    ).replace('"python check.py"', '"true"')
    result = validate_single_shot_task(
        load_single_shot_task(make_task(tmp_path / "vacuous", vacuous)), python=PY, repeats=1
    )
    assert result.problems == [
        "an answer of empty files scores execution 1: the checks ask for nothing"
    ]

    folder = make_task(tmp_path / "broken")
    (folder / "expected.txt").write_text("something else\n")
    result = validate_single_shot_task(load_single_shot_task(folder), python=PY, repeats=1)
    assert not result.ok
    assert result.problems[0].startswith("the reference answer fails: stdout (lines match failed")
