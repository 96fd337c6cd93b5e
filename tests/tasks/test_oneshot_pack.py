"""The built-in `oneshot` pack: it loads beside `demo`, and every task discriminates."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from typer.testing import CliRunner

from armbench.cli import app
from armbench.core import render_answer
from armbench.judge.single_shot import score
from armbench.judge.validate import SingleShotValidation, validate_pack
from armbench.tasks.packs import builtin_pack_names, load_pack
from armbench.tasks.single_shot import SingleShotTask
from armbench.tasks.spec import Task

runner = CliRunner()


def test_the_pack_loads_with_only_single_shot_tasks() -> None:
    pack = load_pack("oneshot")
    assert "oneshot" in builtin_pack_names()
    assert pack.name == "oneshot" and pack.description
    assert len(pack.tasks) >= 8
    assert all(isinstance(t, SingleShotTask) for t in pack.tasks)
    assert pack.single_shot_tasks == pack.tasks and pack.agentic_tasks == ()
    assert pack.task("csv-totals").id == "csv-totals"


def test_the_demo_pack_is_unchanged() -> None:
    pack = load_pack("demo")
    assert [t.id for t in pack.tasks] == ["breakage", "feature", "refactor"]
    assert all(isinstance(t, Task) for t in pack.tasks)
    assert pack.single_shot_tasks == ()


def test_every_prompt_names_its_files_and_commands() -> None:
    for task in load_pack("oneshot").single_shot_tasks:
        for path in task.files:
            assert f"`{path}`" in task.spec.prompt, task.id
        for step in task.spec.run:
            program = re.sub(r" .*", "", step.command.removeprefix("python "))
            assert program in task.spec.prompt, task.id
        kinds = {c.kind for c in task.spec.check}
        assert kinds <= {"stdout", "command"}


def test_the_pack_mixes_match_modes_and_checkers() -> None:
    checks = [c for t in load_pack("oneshot").single_shot_tasks for c in t.spec.check]
    assert {c.kind for c in checks} == {"stdout", "command"}
    assert {getattr(c, "match", None) for c in checks} >= {"exact", "lines", "json"}


def test_every_task_validates() -> None:
    results = validate_pack(load_pack("oneshot"), python=sys.executable, repeats=1)
    assert all(isinstance(r, SingleShotValidation) for r in results)
    assert {r.task: r.problems for r in results if not r.ok} == {}
    for result in results:
        assert all(g.passed for gates in result.reference for g in gates)
        assert not any(g.passed for gates in result.untouched for g in gates)


def test_reference_answers_without_the_contract_still_execute(tmp_path: Path) -> None:
    for task in load_pack("oneshot").single_shot_tasks:
        answer = render_answer(task.reference_files(), task.run_line, contract=False)
        result = score(task, answer, python=sys.executable, scratch=tmp_path)
        assert (result.format_score, result.execution_score) == (0, 1), (task.id, result.gates)


def test_the_cli_lists_and_validates_the_pack() -> None:
    listed = runner.invoke(app, ["tasks", "list", "oneshot"])
    assert listed.exit_code == 0, listed.output
    assert "csv-totals" in listed.output and "stdout" in listed.output
    result = runner.invoke(app, ["tasks", "validate", "oneshot", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok oneshot/") == len(load_pack("oneshot").tasks)
