"""One exit-status convention for every verb (armbench.cli.app.EXIT_CODES): every command exits
2 on bad input, says its statuses in its help, and the README lists the same statuses; the end
of a run names every infra error with its reason and exits 3."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from run_helpers import make_run, trial
from typer.core import TyperGroup
from typer.testing import CliRunner

from armbench.cli import app
from armbench.cli.app import EXIT_BAD_INPUT, EXIT_CODES, EXIT_RUN_PROBLEM
from armbench.cli.runs import _finish
from armbench.runner import RunOutcome

runner = CliRunner()
ROOT = Path(__file__).parents[2]
DEMO_CONFIG = ROOT / "src" / "armbench" / "examples" / "demo.yaml"


def _commands(group: TyperGroup, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, TyperGroup):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(typer.main.get_group(app))


def bad_input(tmp: Path) -> dict[tuple[str, ...], list[str]]:
    """For every command, an invocation with one bad input."""
    not_a_run = str(tmp)
    blocked = str(tmp / "a-file" / "out")
    return {
        ("run",): [str(DEMO_CONFIG), "--out", blocked],
        ("resume",): [not_a_run],
        ("demo",): ["--out", blocked],
        ("show",): [not_a_run],
        ("report",): [not_a_run],
        ("export",): [not_a_run],
        ("reprice",): [not_a_run, "--price-date", "2026-01-01"],
        ("inject",): [not_a_run, "--mypy", "1", "--python", "/nonexistent/python"],
        ("tasks", "list"): ["no-such-pack"],
        ("tasks", "validate"): ["no-such-pack"],
        ("tasks", "make"): [not_a_run, "--out", not_a_run],
        ("import", "fep"): [str(tmp / "missing.jsonl"), "--out", str(tmp)],
        ("import", "hce"): [str(tmp / "missing.jsonl"), "--out", str(tmp)],
        ("serve-sim",): ["--api", "openai", "--model-skill", "weak"],
        ("gateway",): ["--api", "openai", "--upstream", "ftp://x", "--ledger", str(tmp / "l")],
        ("agents", "list"): ["no-such-agent"],
        ("agents", "install"): ["no-such-agent"],
    }


def test_every_command_has_a_bad_input_case() -> None:
    """A new verb must join the convention (add its case above)."""
    assert sorted(COMMANDS) == sorted(bad_input(Path("/x")))


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_bad_input_exits_2_with_one_error_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    (tmp_path / "a-file").write_text("")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = runner.invoke(app, [*command, *bad_input(tmp_path)[command]])
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_states_its_exit_status(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert re.search(r"Exit\s+(status|2)", result.stdout), result.stdout


def test_the_readme_lists_the_same_statuses() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exit statuses", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d) \| (.+?) \|$", section, flags=re.MULTILINE))
    assert {int(code) for code in rows} == set(EXIT_CODES)
    for code, meaning in EXIT_CODES.items():
        assert rows[str(code)].startswith(meaning), (code, rows[str(code)])
    top = runner.invoke(app, ["--help"], terminal_width=200).stdout
    assert "Exit status, for every command: 0 success; 1 the command ran" in " ".join(top.split())


def test_the_end_of_a_run_names_every_infra_error_and_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path, recorded=1, planned=3)
    failures = [
        trial(
            "A-t-2",
            "infra_error",
            infra_class="server",
            error="HTTP 502 from the API\nretried 4 times",
        ),
        trial("A-t-1", "infra_error", infra_class="sandbox", error="bwrap: cannot mount /proc"),
    ]
    with run.database() as db:
        for record in failures:
            db.record(record)
    _finish(run, RunOutcome(failures, stopped_early=None), max_infra_errors=5)  # exit 0
    listed = [line for line in capsys.readouterr().err.splitlines() if "infra_error" in line]
    assert listed == [
        "infra_error A-t-1: sandbox: bwrap: cannot mount /proc",
        "infra_error A-t-2: server: HTTP 502 from the API retried 4 times",
    ]
    with pytest.raises(typer.Exit) as info:
        _finish(run, RunOutcome(failures, stopped_early=None), max_infra_errors=1)
    assert info.value.exit_code == EXIT_RUN_PROBLEM
    err = capsys.readouterr().err
    assert "error: 2 infra errors (1 sandbox, 1 server); at most 1 allowed" in err


def test_a_run_stopped_early_says_how_to_finish_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path, recorded=2, planned=3)
    with pytest.raises(typer.Exit) as info:
        _finish(run, RunOutcome([], stopped_early="auth error in A-t-2: bad key"), 0)
    assert info.value.exit_code == EXIT_RUN_PROBLEM
    out, err = capsys.readouterr()
    assert f"error: 2 of 3 trials recorded; run `armbench resume {run.path}` to run the rest" in err
    assert out.splitlines()[-1] == str(run.path)
