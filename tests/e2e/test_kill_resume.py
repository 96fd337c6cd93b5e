"""Kill a running sweep with SIGKILL at 20 seeded random moments, resume after each, and check
that nothing was lost, nothing doubled and nothing of the killed runs is left.

The sweep is small and fast: a `sweep:` grid makes four arms of `script` models (two agentic,
two single-shot) on a pack of two tasks made here, on plain processes (`--sandbox local`, where
a killed armbench's grandchildren used to outlive it; bubblewrap's PID namespace ends them
anyway). Every command leaves something behind if its armbench dies: the agent's command
starts a background `sleep`, the task's tests start one from pytest (a checker's child), the
single-shot answers start one, each with a marker in its command line. The moments fall before
the first trial (preflight, preparation), while a command runs, and right as a trial is
recorded; on every other kill the run's watchdog is killed first, so the next resume (not the
watchdog) must find and clean what was left.

Everything a killed run could leave is found by marks this test controls, not by armbench's
own marker: the private TMPDIR every process of the run inherits (in its environment) and the
command-line markers.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
import yaml

ARMBENCH = [sys.executable, "-m", "armbench.cli"]
REPLICATES = 4
KILLS = 20
COMMAND_S = 1.5
"""How long the agent's command runs after starting its background `sleep`: the window in
which a kill at the "command" moment must land for that `sleep` to be orphaned (when the
command ends, armbench kills its process group, background included)."""
MARK = f"4171.{os.getpid() % 10**6:06d}"
"""Command-line marker of the background processes, `sleep 4171.<this process><n>`: unique to
this test process, so that another run of the suite on the machine is not taken for ours."""

CALC = "def add(a: int, b: int) -> int:\n    return a - b\n"
FIXED = "def add(a: int, b: int) -> int:\n    return a + b\n"
TEST = f"""import subprocess


def test_add() -> None:
    subprocess.Popen(["sleep", "{MARK}2"])  # a checker's child, left running
    from calc import add

    assert add(2, 3) == 5
"""
ANSWER = f"""import subprocess

subprocess.Popen(["sleep", "{MARK}3"])  # a child the answer leaves running
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
    """The sweep: `solo` and `one`, each swept over two models (one that gets it right, one
    that does not). The agent's command leaves a background process; the task's tests and
    the single-shot answers leave one each."""
    scripts: dict[str, list[dict[str, object]]] = {}
    command = _turn("bash", command=f"(sleep {MARK}1 &) ; sleep {COMMAND_S}")
    edit = {"path": "calc.py", "old_str": "a - b", "new_str": "a + b"}
    scripts["a"] = [command, _turn("editor", command="str_replace", **edit), {"text": "done"}]
    scripts["b"] = [command, {"text": "done"}]
    for model, answer in (("c", "'ok'"), ("d", "'no'")):
        text = "FILE: solution.py\n```python\n" + ANSWER.format(answer=answer) + "```\n"
        scripts[model] = [{"text": text}]
    models = {}
    for model, turns in scripts.items():
        path = root / f"script-{model}.yaml"
        path.write_text(yaml.safe_dump(turns))
        models[model] = {"provider": "script", "path": str(path), "model": "replay"}
    card = root / "card.toml"
    card.write_text('[models."script/replay"]\ninput = 1.0\noutput = 2.0\n')
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
                "arms": {
                    "solo": {"kind": "solo", "model": "a"},
                    "one": {"kind": "single_shot", "model": "c"},
                },
                "sweep": [
                    {"arms": ["solo"], "grid": {"model": ["a", "b"]}},
                    {"arms": ["one"], "grid": {"model": ["c", "d"]}},
                ],
            }
        )
    )
    return config


def planned() -> set[str]:
    """The sweep's trials: its arms (named by the sweep) × their tasks × replicates."""
    replicates = range(1, REPLICATES + 1)
    return {f"solo.model={m}.fix.r{r}" for m in "ab" for r in replicates} | {
        f"one.model={m}.spawn.r{r}" for m in "cd" for r in replicates
    }


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
        if _environ_has(pid, entry) or f"sleep {MARK}" in cmdline:
            found[int(pid)] = cmdline
    return found


def _kill_all(pids: Iterable[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _recorded(runs: Path) -> int:
    """Trials recorded so far by the run under `runs` (0 before its database exists)."""
    found = list(runs.glob("*/armbench.sqlite"))
    if not found:
        return 0
    try:
        with sqlite3.connect(found[0], timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM trials").fetchone()[0])
    except sqlite3.Error:  # its schema is still being made
        return 0


def _agent_sleeps(tmpdir: Path) -> set[int]:
    """The background `sleep`s agents' commands started that are still alive."""
    return {pid for pid, c in marked(tmpdir).items() if f"sleep {MARK}1" in c}


def _wait(condition: Callable[[], object], proc: subprocess.Popen[bytes], seconds: float) -> bool:
    """Poll `condition` until it holds, the process ends or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _scratch(tmpdir: Path) -> list[str]:
    """What runs left in TMPDIR, but for the lease folder (empty when nothing is leased)."""
    return sorted(p.name for p in tmpdir.iterdir() if not p.name.startswith("armbench-leases-"))


def _kill_at_a_moment(
    proc: subprocess.Popen[bytes], moment: str, rng: random.Random, tmpdir: Path, runs: Path
) -> bool:
    """Wait for the moment, then SIGKILL armbench; whether the moment came (a run that ended
    first is killed too late to count)."""
    before = _recorded(runs)
    if moment == "early":  # preflight, preparing the template, setting up the first trials
        came = not _wait(lambda: False, proc, rng.uniform(0.1, 2.5)) and proc.poll() is None
    elif moment == "command":  # an agent's command (the judge's and the answers' come by chance)
        earlier = _agent_sleeps(tmpdir)  # orphans of an earlier kill, not yet cleaned
        came = _wait(lambda: bool(_agent_sleeps(tmpdir) - earlier), proc, 60)
        time.sleep(rng.uniform(0.0, 0.2))
    else:  # a trial has just been recorded; the next are under way
        came = _wait(lambda: _recorded(runs) > before, proc, 60)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return came


@pytest.mark.slow
@pytest.mark.heavy
def test_sigkill_at_20_random_moments_then_resume_loses_doubles_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    rng = random.Random(20260612)
    tmpdir, runs = tmp_path / "tmp", tmp_path / "runs"
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    config = make_config(tmp_path)
    run_dir: Path | None = None
    moments: Counter[str] = Counter()
    left: list[tuple[int, int]] = []
    """Right after each kill: (marked commands' processes alive, folders in TMPDIR)."""
    try:
        for kill in range(KILLS):
            argv = ["resume", str(run_dir)] if run_dir else ["run", str(config), "--out", str(runs)]
            proc = subprocess.Popen(
                [*ARMBENCH, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            moment = rng.choice(("early", "command", "trial"))
            if kill % 2 == 1:
                # Its watchdog is killed first (as `kill -9` of every armbench process would):
                # then the next resume, not the watchdog, must find and clean what is left.
                _wait(functools.partial(_watchdogs, tmpdir, proc.pid), proc, 60)
                dogs = _watchdogs(tmpdir, proc.pid)
                _kill_all(dogs)
                moments["watchdog killed"] += bool(dogs)
            moments[moment] += _kill_at_a_moment(proc, moment, rng, tmpdir, runs)
            orphans = [c for c in marked(tmpdir).values() if f"sleep {MARK}" in c]
            left.append((len(orphans), len(_scratch(tmpdir))))
            found = list(runs.glob("*/armbench.sqlite"))
            run_dir = run_dir or (found[0].parent if found else None)
        assert run_dir is not None, "no kill left a run directory to resume"
        done = subprocess.run(
            [*ARMBENCH, "resume", str(run_dir)], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        # The last killed runs' watchdogs may still be finishing (a generous bound, not a
        # timing assertion: they take milliseconds).
        deadline = time.monotonic() + 30
        while marked(tmpdir) and time.monotonic() < deadline:
            time.sleep(0.1)
        alive = marked(tmpdir)
    finally:
        _kill_all(marked(tmpdir))
    print(f"moments: {dict(moments)}; right after each kill (orphans, folders): {left}")
    # It tested what it claims: armbench was killed while commands ran (their processes are
    # what must not survive), as trials were recorded, with and without its watchdog.
    assert moments["command"] >= 3 and moments["trial"] >= 3 and moments["early"] >= 3, moments
    assert moments["watchdog killed"] >= 5, moments
    # And the kills left what used to stay for good: orphaned processes, scratch folders.
    assert max(p for p, _ in left) > 0 and max(f for _, f in left) > 0, left

    with sqlite3.connect(run_dir / "armbench.sqlite") as conn:
        ids = [r[0] for r in conn.execute("SELECT trial_id FROM trials")]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        transcripts = {r[0] for r in conn.execute("SELECT transcript FROM trials")}
        orphan_calls = conn.execute(
            "SELECT count(*) FROM calls WHERE trial_id NOT IN (SELECT trial_id FROM trials)"
        ).fetchone()[0]
    assert sorted(ids) == sorted(planned())  # every planned trial, each exactly once
    assert integrity == "ok" and orphan_calls == 0
    assert json.loads((run_dir / "manifest.json").read_text())["finished_at"] is not None
    on_disk = {f"transcripts/{p.name}" for p in (run_dir / "transcripts").iterdir()}
    assert on_disk == transcripts  # no transcript without its trial, none missing
    assert alive == {}, alive  # no process of any killed run
    assert _scratch(tmpdir) == []  # no scratch folder, workspace or temporary folder
    assert not list((tmpdir / f"armbench-leases-{os.getuid()}").iterdir())
    assert not (run_dir / "work").exists()


def _watchdogs(tmpdir: Path, armbench: int) -> list[int]:
    return [pid for pid, cmd in marked(tmpdir).items() if pid != armbench and "--watch" in cmd]
