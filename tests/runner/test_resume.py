"""Resume: it runs the recorded experiment or nothing — a changed config file, pack or prompt
is refused naming what differs — it never rewrites a finished run's end, and it runs infra
errors again only when asked, keeping every earlier attempt in the run's history.

The runs are small and real: `script` models answering single-shot tasks of a pack made here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import armbench
from armbench.analysis.export import trial_rows
from armbench.analysis.facts import load_run_facts
from armbench.analysis.records import load_run_records
from armbench.cli import app
from armbench.config import ConfigError
from armbench.runner import check_packs, preflight, reopen
from armbench.store import RunDirectory
from armbench.store.attempts import earlier_attempts

ANSWER = "FILE: solution.py\n```python\nprint('ok')\n```\n"


def _pack(root: Path) -> Path:
    pack = root / "pack"
    for task in ("ok", "other"):
        folder = pack / "tasks" / task
        (folder / "solution").mkdir(parents=True)
        (folder / "solution" / "solution.py").write_text("print('ok')\n")
        (folder / "expected.txt").write_text("ok\n")
        spec = {
            "kind": "single_shot",
            "id": task,
            "title": "Print ok",
            "prompt": "Write `solution.py`, which prints ok.",
            "files": ["solution.py"],
            "run": [{"command": "python solution.py", "timeout_s": 20}],
            "check": [{"kind": "stdout", "step": 0, "expected": "expected.txt", "match": "lines"}],
            "solution": {"overlay": "solution"},
        }
        (folder / "task.yaml").write_text(yaml.safe_dump(spec))
    (pack / "pack.yaml").write_text("name: tiny\ndescription: two tasks that print ok\n")
    return pack


def _script(path: Path, *, fails: bool) -> None:
    turns = [{"error": "server_error"}] if fails else [{"text": ANSWER}]
    path.write_text(yaml.safe_dump(turns))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Two single-shot arms on task `ok`, two replicates: `good` answers, `flaky` meets a
    server error (one attempt per call: no retry delays)."""
    _script(tmp_path / "good.yaml", fails=False)
    _script(tmp_path / "flaky.yaml", fails=True)
    (tmp_path / "card.toml").write_text('[models."script/replay"]\ninput = 1.0\noutput = 2.0\n')
    raw: dict[str, Any] = {
        "name": "res",
        "pack": "./pack",
        "tasks": ["ok"],
        "replicates": 1,
        "rate_card": "card.toml",
        "sandbox": "local",
        "retry": {"max_attempts": 1},
        "models": {
            key: {"provider": "script", "path": f"{key}.yaml", "model": "replay"}
            for key in ("good", "flaky")
        },
        "arms": {
            "g": {"kind": "single_shot", "model": "good"},
            "f": {"kind": "single_shot", "model": "flaky"},
        },
    }
    _pack(tmp_path)
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _run(config: Path) -> Path:
    result = armbench.run(config, out=config.parent / "runs", overrides=["replicates=2"])
    return result.path


def _manifest(run: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run / "manifest.json").read_text())
    return data


def _ended_long_ago(run: Path) -> str:
    """Backdate the run's end, so that a rewrite shows (it is written to the second)."""
    manifest = _manifest(run)
    assert manifest["finished_at"] is not None
    manifest["finished_at"] = "2020-01-02T03:04:05Z"
    (run / "manifest.json").write_text(json.dumps(manifest))
    return str(manifest["finished_at"])


def test_a_finished_run_keeps_its_end_and_has_nothing_to_do(config: Path) -> None:
    run = _run(config)
    finished = _ended_long_ago(run)
    assert armbench.resume(run).records == []
    assert _manifest(run)["finished_at"] == finished
    result = CliRunner().invoke(app, ["resume", str(run)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert f"finished at {finished}" in said and "nothing to resume" in said
    assert _manifest(run)["finished_at"] == finished


def test_what_a_killed_execution_left_in_the_run_is_removed_before_anything_runs(
    config: Path,
) -> None:
    run = _run(config)
    # A trial's transcript written before its transaction (never committed), an earlier
    # attempt's transcript whose move to the history never committed, a kept workspace.
    (run / "transcripts" / "f.ok.r3.json").write_text("{}")
    (run / "transcripts" / "f.ok.r1.attempt1.json").write_text("{}")
    (run / "work" / "f.ok.r3").mkdir(parents=True)
    result = CliRunner().invoke(app, ["resume", str(run)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "removed transcripts/f.ok.r3.json: its trial was never recorded" in said
    assert sorted(p.name for p in (run / "transcripts").iterdir()) == [
        f"{arm}.ok.r{r}.json" for arm in "fg" for r in (1, 2)
    ]
    assert not any((run / "work").iterdir())


def test_resume_refuses_a_pack_whose_planned_tasks_changed(config: Path) -> None:
    run = _run(config)
    directory = RunDirectory.open(run)
    pre = preflight(reopen(directory).config)
    check_packs(pre, directory.read_manifest(), directory)  # unchanged: fine
    pack = config.parent / "pack" / "tasks"
    (pack / "other" / "expected.txt").write_text("changed\n")  # a task the run does not plan
    check_packs(preflight(reopen(directory).config), directory.read_manifest(), directory)
    (pack / "ok" / "expected.txt").write_text("OK\n")
    with pytest.raises(ConfigError, match=r"pack tiny \(.*\): the files of task ok changed"):
        check_packs(preflight(reopen(directory).config), directory.read_manifest(), directory)
    # Through the CLI: exit 2, and nothing was retried (the refusal comes first).
    result = CliRunner().invoke(app, ["resume", str(run), "--retry-infra", "all"])
    assert result.exit_code == 2
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "task ok changed" in said and "mix two experiments" in said
    with directory.read_database() as db:
        assert earlier_attempts(db) == {} and len(db.trial_ids()) == 4


def test_resume_refuses_a_config_file_that_no_longer_gives_the_run(config: Path) -> None:
    run = _run(config)  # the file says 1 replicate; --set replicates=2 was recorded
    directory = RunDirectory.open(run)
    assert _manifest(run)["overrides"] == ["replicates=2"]
    assert reopen(directory).notes == ()
    raw = yaml.safe_load(config.read_text())
    raw["seed"] = 3
    raw["arms"]["g"]["contract"] = True
    config.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as refused:
        reopen(directory)
    assert "arms.g.contract, seed differ" in str(refused.value)
    assert "with --set replicates=2" in str(refused.value)
    config.unlink()  # gone: the manifest is the record; the resume says so and goes on
    [note] = reopen(directory).notes
    assert "is gone or moved" in note and "recorded in the manifest" in note


def test_infra_errors_run_again_only_when_asked_up_to_the_cap_keeping_each_attempt(
    config: Path,
) -> None:
    run = _run(config)
    finished = _ended_long_ago(run)
    flaky = ["f.ok.r1", "f.ok.r2"]
    assert armbench.resume(run, retry_infra=["rate_limit"]).records == []  # not that class
    # Attempt 2 fails again; with at most 2 attempts, a third is not made.
    again = armbench.resume(run, retry_infra=None, max_attempts=2).records
    assert sorted(r.trial_id for r in again) == flaky
    assert armbench.resume(run, retry_infra=None, max_attempts=2).records == []
    _script(config.parent / "flaky.yaml", fails=False)
    records = armbench.resume(run, retry_infra=["server_error"], max_attempts=3).records
    assert sorted((r.trial_id, r.status) for r in records) == [(t, "pass") for t in flaky]

    facts = load_run_facts(run)
    assert len(facts.trials) == 4  # each trial once, as its latest attempt
    assert facts.earlier.by_trial == {t: 2 for t in flaky}
    assert facts.earlier.cost_usd == 0.0  # the failed attempts' calls were billed nothing
    rows = {row["trial_id"]: row for row in trial_rows(load_run_records(run))}
    assert {t: rows[t]["attempts"] for t in rows} == {
        "g.ok.r1": 1,
        "g.ok.r2": 1,
        "f.ok.r1": 3,
        "f.ok.r2": 3,
    }
    transcripts = sorted(p.name for p in (run / "transcripts").iterdir())
    assert transcripts == sorted(
        [f"{t}.json" for t in rows] + [f"{t}.attempt{k}.json" for t in flaky for k in (1, 2)]
    )
    assert _manifest(run)["finished_at"] == finished  # the run's end is when it first ended
    shown = CliRunner().invoke(app, ["show", str(run)])
    assert "4 earlier attempt(s) of 2 retried trial(s)" in " ".join(shown.output.split())


def test_the_cli_retries_the_classes_it_is_given_and_refuses_unknown_ones(config: Path) -> None:
    run = _run(config)
    bogus = CliRunner().invoke(app, ["resume", str(run), "--retry-infra", "server_error,oops"])
    assert bogus.exit_code == 2 and "oops: not an infra class" in " ".join(bogus.output.split())
    result = CliRunner().invoke(
        app, ["resume", str(run), "--retry-infra", "server_error", "--max-attempts", "2"]
    )
    # They fail again: infra errors over the threshold (0) exit 3, as for any run.
    assert result.exit_code == 3, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "2 of 4 trials left, 2 of them infra errors run again" in said
    with RunDirectory.open(run).read_database() as db:
        assert earlier_attempts(db) == {"f.ok.r1": 1, "f.ok.r2": 1}
