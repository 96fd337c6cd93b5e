"""Kill a running sweep with SIGKILL at 20 seeded random moments, resume after each, and check
that nothing was lost, nothing doubled and nothing of the killed runs is left.

The sweep is small and fast: four arms of `script` models on a pack of two tasks made here,
on plain processes (`--sandbox local`, where a killed armbench's grandchildren used to outlive
it: bubblewrap's PID namespace ends them anyway). Every command leaves something behind to
clean if its armbench dies: the agent's command starts a background `sleep` and the task's
tests start one from pytest (a checker's child), each with a marker in its command line. The
moments fall before the first trial (preflight, preparation), while a command runs, and right
as a trial is recorded; on every other kill the run's watchdog is killed first, so the next
resume (not the watchdog) must find and clean what was left.

Everything a killed run could leave is found by marks this test controls, not by armbench's
own marker: the private TMPDIR every process of the run inherits (in its environment) and the
command-line markers.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ARMBENCH = [sys.executable, "-m", "armbench.cli"]
AGENTIC = ("a", "b")
"""Solo arms on the agentic task: `a` fixes the bug, `b` does not."""
SINGLE_SHOT = ("c", "d")
"""Single-shot arms on the single-shot task: `c` answers right, `d` wrong."""
REPLICATES = 4
KILLS = 20
MARK = "4171"
"""Command-line marker of the background processes: `sleep 4171.<n>`."""

CALC = "def add(a: int, b: int) -> int:\n    return a - b\n"
FIXED = "def add(a: int, b: int) -> int:\n    return a + b\n"
TEST = f"""import subprocess


def test_add() -> None:
    subprocess.Popen(["sleep", "{MARK}.2"])  # a checker's child, left running
    from calc import add

    assert add(2, 3) == 5
"""
ANSWER = f"""import subprocess

subprocess.Popen(["sleep", "{MARK}.3"])  # a child the answer leaves running
print({{answer}})
"""


def make_pack(root: Path) -> Path:
    """An agentic task whose tests start a process, and a single-shot task whose answer
    does."""
    pack = root / "pack"
    (pack / "fixture" / "tests").mkdir(parents=True)
    (pack / "pack.yaml").write_text("name: killpack\ndescription: tasks that leave processes\n")
    (pack / "fixture" / "calc.py").write_text(CALC)
    (pack / "fixture" / "tests" / "test_calc.py").write_text(TEST)
    fix = pack / "tasks" / "fix"
    (fix / "solution").mkdir(parents=True)
    (fix / "solution" / "calc.py").write_text(FIXED)
    spec: dict[str, object] = {
        "id": "fix",
        "title": "Fix add",
        "prompt": "Make `add` add; `python -m pytest -q` tests it.",
        "fixture": "../../fixture",
        "solution": {"overlay": "solution"},
        "gates": [{"kind": "pytest", "min_passed": 1}],
        "editable": ["calc.py"],
        "check_commands": ["python -m pytest -q"],
    }
    (fix / "task.yaml").write_text(yaml.safe_dump(spec))
    spawn = pack / "tasks" / "spawn"
    (spawn / "solution").mkdir(parents=True)
    (spawn / "solution" / "solution.py").write_text(ANSWER.format(answer="'ok'"))
    (spawn / "expected.txt").write_text("ok\n")
    spec = {
        "kind": "single_shot",
        "id": "spawn",
        "title": "Print ok",
        "prompt": "Write `solution.py`, which prints ok.",
        "files": ["solution.py"],
        "run": [{"command": "python solution.py", "timeout_s": 20}],
        "check": [{"kind": "stdout", "step": 0, "expected": "expected.txt", "match": "lines"}],
        "solution": {"overlay": "solution"},
    }
    (spawn / "task.yaml").write_text(yaml.safe_dump(spec))
    return pack


def _turn(tool: str, **arguments: str) -> dict[str, object]:
    return {"text": "", "tool_calls": [{"name": tool, "input": arguments}]}


def make_config(root: Path) -> Path:
    """The sweep: its agent's command leaves a background process, its tests and answers
    leave one each."""
    scripts: dict[str, list[dict[str, object]]] = {}
    for arm in AGENTIC:
        turns = [_turn("bash", command=f"(sleep {MARK}.1 &) ; sleep 0.5")]
        if arm == "a":
            edit = {"path": "calc.py", "old_str": "a - b", "new_str": "a + b"}
            turns.append(_turn("editor", command="str_replace", **edit))
        scripts[arm] = [*turns, {"text": "done"}]
    for arm, answer in zip(SINGLE_SHOT, ("'ok'", "'no'"), strict=True):
        text = "FILE: solution.py\n```python\n" + ANSWER.format(answer=answer) + "```\n"
        scripts[arm] = [{"text": text}]
    models = {}
    for arm, turns in scripts.items():
        path = root / f"script-{arm}.yaml"
        path.write_text(yaml.safe_dump(turns))
        models[arm] = {"provider": "script", "path": str(path), "model": "replay"}
    card = root / "card.toml"
    card.write_text('[models."script/replay"]\ninput = 1.0\noutput = 2.0\n')
    arms = {arm: {"kind": "solo", "model": arm} for arm in AGENTIC}
    arms.update({arm: {"kind": "single_shot", "model": arm} for arm in SINGLE_SHOT})
    config = root / "sweep.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "sweep",
                "pack": str(make_pack(root)),
                "replicates": REPLICATES,
                "seed": 7,
                "concurrency": 2,
                "rate_card": str(card),
                "sandbox": "local",
                "models": models,
                "arms": arms,
            }
        )
    )
    return config


def _environ_has(pid: str, entry: bytes) -> bool:
    try:
        return entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _state(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


def marked(tmpdir: Path) -> dict[int, str]:
    """Live processes (zombies excluded) that inherited this test's TMPDIR or carry its
    command-line marker: every process a run of this test started, at any depth."""
    entry = f"TMPDIR={tmpdir}".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        pid = proc.name
        if not pid.isdigit() or int(pid) == os.getpid() or _state(pid) in ("Z", "X"):
            continue
        cmdline = _cmdline(pid)
        if _environ_has(pid, entry) or f"sleep {MARK}." in cmdline:
            found[int(pid)] = cmdline
    return found


def _kill_all(pids: dict[int, str]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _recorded(database: Path) -> int:
    try:
        with sqlite3.connect(database, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM trials").fetchone()[0])
    except sqlite3.Error:  # not created yet
        return 0


def _wait(condition: object, proc: subprocess.Popen[bytes], deadline: float) -> bool:
    """Poll `condition` until it holds, the process ends or the deadline passes."""
    assert callable(condition)
    while time.monotonic() < deadline and proc.poll() is None:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _watchdogs(tmpdir: Path, armbench: int) -> list[int]:
    return [
        pid for pid, cmd in marked(tmpdir).items() if pid != armbench and "--watch" in cmd
    ]


@pytest.mark.slow
def test_sigkill_at_20_random_moments_then_resume_loses_doubles_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    rng = random.Random(20260612)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    config = make_config(tmp_path)
    runs = tmp_path / "runs"
    run_dir: Path | None = None
    seen: dict[str, int] = {"command": 0, "trial": 0, "early": 0, "watchdog": 0, "finished": 0}
    left_by_kills: list[int] = []
    try:
        for kill in range(KILLS):
            argv = (
                [*ARMBENCH, "run", str(config), "--out", str(runs)]
                if run_dir is None
                else [*ARMBENCH, "resume", str(run_dir)]
            )
            proc = subprocess.Popen(
                argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            deadline = time.monotonic() + 60
            database = (
                run_dir / "armbench.sqlite" if run_dir is not None else runs / "none.sqlite"
            )
            before = _recorded(database) if run_dir is not None else 0
            moment = rng.choice(("early", "command", "trial"))
            if moment == "early":  # preflight, preparation, or the first trial's set-up
                _wait(lambda: False, proc, time.monotonic() + rng.uniform(0.1, 2.5))
            elif moment == "command":  # an agent's command or the judge's pytest running
                hit = _wait(
                    lambda: any(f"sleep {MARK}." in c for c in marked(tmpdir).values()),
                    proc,
                    deadline,
                )
                time.sleep(rng.uniform(0.0, 0.2))
                seen["command"] += hit
            else:  # just as a trial is recorded

                def grew() -> bool:
                    found = list(runs.glob("*/armbench.sqlite"))
                    return bool(found) and _recorded(found[0]) > before

                seen["trial"] += _wait(grew, proc, deadline)
            if moment == "early":
                seen["early"] += 1
            if proc.poll() is not None:
                seen["finished"] += 1
            if kill % 2 == 1:  # the watchdog dies too: the next resume must clean up
                dogs = _watchdogs(tmpdir, proc.pid)
                _kill_all(dict.fromkeys(dogs, ""))
                seen["watchdog"] += bool(dogs)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if run_dir is None:
                found = list(runs.glob("*/manifest.json"))
                if found and (found[0].parent / "armbench.sqlite").exists():
                    run_dir = found[0].parent
            left_by_kills.append(len(marked(tmpdir)))
        assert run_dir is not None, "no kill left a run directory to resume"
        done = subprocess.run(
            [*ARMBENCH, "resume", str(run_dir)], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        # The watchdogs of the last killed runs may still be finishing their cleanup.
        deadline = time.monotonic() + 30
        while marked(tmpdir) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = marked(tmpdir)
    finally:
        _kill_all(marked(tmpdir))
    # The test exercised what it claims to: commands were running when armbench was killed
    # (their processes are what must not survive), trials were being recorded, watchdogs died.
    assert seen["command"] >= 3 and seen["trial"] >= 3 and seen["watchdog"] >= 1, seen
    assert max(left_by_kills) > 0, "no kill ever left a process to clean"

    replicates = range(1, REPLICATES + 1)
    planned = {f"{arm}.fix.r{r}" for arm in AGENTIC for r in replicates}
    planned |= {f"{arm}.spawn.r{r}" for arm in SINGLE_SHOT for r in replicates}
    with sqlite3.connect(run_dir / "armbench.sqlite") as conn:
        ids = [r[0] for r in conn.execute("SELECT trial_id FROM trials")]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        transcripts = {r[0] for r in conn.execute("SELECT transcript FROM trials")}
        orphan_calls = conn.execute(
            "SELECT count(*) FROM calls WHERE trial_id NOT IN (SELECT trial_id FROM trials)"
        ).fetchone()[0]
    assert sorted(ids) == sorted(planned)  # every planned trial, each exactly once
    assert integrity == "ok" and orphan_calls == 0
    on_disk = {f"transcripts/{p.name}" for p in (run_dir / "transcripts").iterdir()}
    assert on_disk == transcripts  # no transcript without its trial, none missing
    assert left == {}, left
    assert sorted(p.name for p in tmpdir.iterdir() if p.name.startswith("armbench-")) == [
        f"armbench-leases-{os.getuid()}"
    ]
    assert not list((tmpdir / f"armbench-leases-{os.getuid()}").iterdir())
    assert not (run_dir / "work").exists()
