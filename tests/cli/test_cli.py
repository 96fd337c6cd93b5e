"""The CLI verbs not exercised by the end-to-end run: tasks, inject, and error paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from armbench.cli import app
from armbench.core import fingerprint_tree

runner = CliRunner()
LEDGER = Path(__file__).parents[1] / "data" / "inject" / "ledger"


def test_every_verb_has_help() -> None:
    for verb in (
        ["run"],
        ["resume"],
        ["demo"],
        ["show"],
        ["export"],
        ["inject"],
        ["tasks", "list"],
        ["tasks", "validate"],
    ):
        result = runner.invoke(app, [*verb, "--help"])
        assert result.exit_code == 0, verb
        assert "Usage" in result.output


def test_tasks_list_shows_the_demo_pack() -> None:
    result = runner.invoke(app, ["tasks", "list"])
    assert result.exit_code == 0
    for task in ("breakage", "refactor", "feature"):
        assert task in result.output


def test_unknown_pack_exits_2() -> None:
    result = runner.invoke(app, ["tasks", "list", "no-such-pack"])
    assert result.exit_code == 2
    assert "no-such-pack" in result.output


@pytest.mark.slow
def test_tasks_validate_demo_passes() -> None:
    result = runner.invoke(app, ["tasks", "validate", "demo", "--repeats", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok demo/") == 3


@pytest.mark.slow
def test_inject_writes_the_manifest_and_refuses_the_impossible(tmp_path: Path) -> None:
    repo = tmp_path / "ledger"
    shutil.copytree(LEDGER, repo)
    before = fingerprint_tree(repo)

    refused = runner.invoke(app, ["inject", str(repo), "--collect", "40", "--seed", "3"])
    assert refused.exit_code == 1
    assert "collect: asked for 40" in refused.output
    assert fingerprint_tree(repo) == before

    manifest = tmp_path / "manifest.json"
    done = runner.invoke(
        app,
        [
            "inject",
            str(repo),
            "--mypy",
            "1",
            "--ruff",
            "1",
            "--seed",
            "3",
            "--manifest",
            str(manifest),
        ],
    )
    assert done.exit_code == 0, done.output
    data = json.loads(manifest.read_text())
    assert [m["kind"] for m in data["mutations"]].count("mypy") == 1
    assert [m["kind"] for m in data["mutations"]].count("ruff") == 1
    assert fingerprint_tree(repo) != before


def test_inject_without_counts_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["inject", str(tmp_path)])
    assert result.exit_code == 2
    assert "nothing to inject" in result.output


def test_show_on_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a run directory" in result.output


def test_a_run_that_asks_for_bwrap_where_it_cannot_run_exits_2_before_any_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("armbench.env.factory.unavailable", lambda: "bwrap is not installed")
    demo = Path(__file__).resolve().parents[2] / "src" / "armbench" / "examples" / "demo.yaml"
    out = tmp_path / "runs"
    result = CliRunner().invoke(
        app, ["run", str(demo), "--sandbox", "bwrap", "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 2
    assert "--sandbox bwrap: bwrap is not installed" in result.output
    assert not out.exists()  # nothing was created


def test_an_unknown_sandbox_is_refused_naming_the_choices(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[2] / "src" / "armbench" / "examples" / "demo.yaml"
    result = CliRunner().invoke(app, ["run", str(demo), "--sandbox", "docker"])
    assert result.exit_code == 2
    assert "auto, bwrap, local" in result.output
