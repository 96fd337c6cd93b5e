"""Bad input to any verb: one `error:` line naming the file or flag and the fix, exit 2, and
nothing written — no run directory, no report, no half-mutated repository."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from run_helpers import files, make_run
from typer.testing import CliRunner, Result

from armbench.cli import app
from armbench.core import fingerprint_tree
from armbench.store import DATABASE

runner = CliRunner()
DEMO_PACK = Path(__file__).parents[2] / "src" / "armbench" / "packs" / "demo"
DEMO_CONFIG = Path(__file__).parents[2] / "src" / "armbench" / "examples" / "demo.yaml"
LEDGER = Path(__file__).parents[1] / "data" / "inject" / "ledger"


def error_line(result: Result) -> str:
    """The one line a refused command prints; the test fails on anything more (a traceback)."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def _empty(db: Path) -> None:
    db.write_bytes(b"")


def _dropped(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE calls")
    conn.commit()
    conn.close()


def _corrupt(db: Path) -> None:
    data = bytearray(db.read_bytes())
    data[:16] = b"garbage garbage!"
    db.write_bytes(bytes(data))


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "empty": (_empty, "an empty file (0 bytes)"),
    "dropped table": (_dropped, "no table calls"),
    "corrupt": (_corrupt, "not a readable SQLite database"),
}
READ_VERBS = {
    "show": [],
    "report": [],
    "export": ["--format", "csv"],
    "reprice": ["--price-date", "2026-01-01"],
}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("verb", READ_VERBS)
def test_a_read_verb_refuses_a_damaged_database_and_changes_nothing(
    tmp_path: Path, verb: str, damage: str
) -> None:
    run = make_run(tmp_path)
    harm, expected = DAMAGE[damage]
    harm(run.path / DATABASE)
    before = files(run.path)
    line = error_line(runner.invoke(app, [verb, str(run.path), *READ_VERBS[verb]]))
    assert f"{run.path / DATABASE}: {expected}" in line
    assert files(run.path) == before


@pytest.mark.parametrize("verb", ["show", "report"])
def test_an_incomplete_run_says_how_to_finish_it(tmp_path: Path, verb: str) -> None:
    partial = make_run(tmp_path / "partial", recorded=2, planned=3)
    shown = runner.invoke(app, [verb, str(partial.path)])
    assert shown.exit_code == 0, shown.output
    assert f"2 of 3 trials recorded; run `armbench resume {partial.path}` to run the rest" in (
        shown.stdout
    )
    whole = runner.invoke(app, [verb, str(make_run(tmp_path / "whole").path)])
    assert whole.exit_code == 0 and "trials recorded" not in whole.stdout


def test_outputs_are_checked_before_anything_is_read_or_written(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    before = files(tmp_path)
    cases = {
        "--html": ["report", str(run.path), "--html", str(blocker / "r.html")],
        "--output": ["export", str(run.path), "-o", str(blocker / "x.csv")],
        "--json": ["report", str(run.path), "--json", str(tmp_path / "missing" / "r.json")],
    }
    for option, argv in cases.items():
        line = error_line(runner.invoke(app, argv))
        assert line.startswith(f"error: {option} "), line
    (run.path / "repricings").write_text("in the way")
    line = error_line(runner.invoke(app, ["reprice", str(run.path), "--price-date", "2026-01-01"]))
    assert "repricings: is a file" in line
    (run.path / "repricings").unlink()
    assert files(tmp_path) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["run", str(DEMO_CONFIG)],
        ["demo"],
        ["import", "fep", str(Path(__file__).parents[1] / "data" / "importers" / "fep")],
    ],
    ids=["run", "demo", "import"],
)
def test_an_unwritable_out_is_refused_before_any_work(tmp_path: Path, argv: list[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = error_line(runner.invoke(app, [*argv, "--out", str(blocker / "runs")]))
    assert line == (
        f"error: --out {blocker / 'runs'}: {blocker} is not a folder; give a path inside a folder"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def _pack_with(tmp_path: Path, text: bytes) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(DEMO_PACK / "tasks", pack / "tasks")
    (pack / "pack.yaml").write_bytes(text)
    return pack


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"name: [oops\n", "not valid YAML: expected ',' or ']', but got '<stream end>' at line 2"),
        (b"- a\n- b\n", "a YAML list, not a mapping of settings; a pack.yaml may set name, "),
        (b"nmae: x\n", "nmae: Extra inputs are not permitted (a pack.yaml may set name, "),
        (b"name: caf\xe9\n", "not UTF-8 text (byte 9 is not UTF-8); save it as UTF-8"),
    ],
    ids=["syntax", "shape", "unknown field", "not utf-8"],
)
def test_a_bad_pack_file_is_one_line_naming_it(tmp_path: Path, text: bytes, expected: str) -> None:
    pack = _pack_with(tmp_path, text)
    for argv in (["tasks", "list", str(pack)], ["tasks", "validate", str(pack)]):
        line = error_line(runner.invoke(app, argv))
        assert line.startswith(f"error: {pack / 'pack.yaml'}: {expected}"), line


def test_checks_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    checks = tmp_path / "checks.yaml"
    checks.write_bytes(b"env: {A: caf\xe9}\n")
    line = error_line(
        runner.invoke(app, ["inject", str(tmp_path), "--mypy", "1", "--checks", str(checks)])
    )
    assert (
        line == f"error: --checks {checks}: not UTF-8 text (byte 12 is not UTF-8); save it as UTF-8"
    )


@pytest.mark.parametrize(
    "flags",
    [
        ["--python", "/nonexistent/python"],
        ["--manifest", "{file}/manifest.json"],
        ["--manifest", "{missing}/manifest.json"],
    ],
    ids=["python", "manifest under a file", "manifest in a missing folder"],
)
def test_inject_checks_its_inputs_and_outputs_before_touching_the_repository(
    tmp_path: Path, flags: list[str]
) -> None:
    repo = tmp_path / "ledger"
    shutil.copytree(LEDGER, repo)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    argv = [f.format(file=blocker, missing=tmp_path / "missing") for f in flags]
    before = fingerprint_tree(repo)
    line = error_line(runner.invoke(app, ["inject", str(repo), "--mypy", "1", *argv]))
    assert line.startswith(f"error: {flags[0]} "), line
    assert fingerprint_tree(repo) == before


def test_python_is_checked_by_every_verb_that_takes_it(tmp_path: Path) -> None:
    for argv in (
        ["tasks", "validate", "demo"],
        ["tasks", "make", str(tmp_path), "--out", str(tmp_path / "p")],
    ):
        line = error_line(runner.invoke(app, [*argv, "--python", "/nonexistent/python"]))
        assert line.startswith("error: --python /nonexistent/python: no such interpreter"), line
    assert not (tmp_path / "p").exists()


def test_tasks_make_refuses_an_existing_out(tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    line = error_line(
        runner.invoke(app, ["tasks", "make", str(tmp_path), "--out", str(tmp_path / "pack")])
    )
    assert line == f"error: --out {tmp_path / 'pack'}: exists; give a new folder for the pack"


def _config(tmp_path: Path, card: str, script: str) -> Path:
    (tmp_path / "card.toml").write_text(card)
    (tmp_path / "turns.yaml").write_text(script)
    config = tmp_path / "config.yaml"
    config.write_text(
        "name: c\npack: demo\ntasks: [feature]\nrate_card: card.toml\n"
        "models:\n  strong: {provider: sim}\n  replay: {provider: script, path: turns.yaml}\n"
        "arms:\n  A: {kind: solo, model: strong}\n  B: {kind: solo, model: replay}\n"
    )
    return config


SIM_CARD = '[models."sim/strong"]\ninput = 5.0\noutput = 25.0\ncache_write_5m = 6.25\n'
SCRIPT_CARD = '[models."script/replay"]\ninput = 1.0\noutput = 2.0\n'


@pytest.mark.parametrize(
    ("card", "script", "expected"),
    [
        (
            SIM_CARD + "cache_write_1h = 10.0\ncache_read = 0.5\n" + SCRIPT_CARD,
            "- text: hi\n  usage: {input: 1, outptu: 2}\n",
            "{dir}/turns.yaml: turn 1: usage.outptu: Extra inputs are not permitted",
        ),
        (
            SIM_CARD + SCRIPT_CARD,
            "- text: done\n",
            '{dir}/card.toml: [models."sim/strong"] has no cache_write_1h, cache_read price',
        ),
    ],
    ids=["script", "card without cache prices"],
)
def test_a_run_refuses_what_would_break_it_later_before_it_starts(
    tmp_path: Path, card: str, script: str, expected: str
) -> None:
    config = _config(tmp_path, card, script)
    out = tmp_path / "runs"
    line = error_line(runner.invoke(app, ["run", str(config), "--out", str(out)]))
    assert line.startswith(f"error: {expected.format(dir=tmp_path)}"), line
    assert not out.exists()


def test_resume_refuses_an_empty_database_instead_of_running_everything_again(
    tmp_path: Path,
) -> None:
    run = make_run(tmp_path, recorded=2, planned=3)
    run.write_transcript("A-t-0", "{}")
    (run.path / DATABASE).write_bytes(b"")
    before = files(run.path)
    line = error_line(runner.invoke(app, ["resume", str(run.path)]))
    assert line.startswith(f"error: {run.path / DATABASE}: an empty file (0 bytes)"), line
    assert files(run.path) == before
