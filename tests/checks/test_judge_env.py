"""The judge's pytest sees only the plugins a task asks for, not whatever is installed beside
the pinned checkers (armbench's own dev plugins are, in its venv)."""

from __future__ import annotations

import sys
from pathlib import Path

from armbench.judge.gates import judge
from armbench.tasks.packs import load_pack
from armbench.tasks.prepare import apply_solution, prepare

PROBE = """\\
import sys


PLUGINS = ("_hypothesis_pytestplugin", "xdist.plugin", "pytest_timeout")


def test_no_plugin_was_autoloaded() -> None:
    assert [m for m in sys.modules if m in PLUGINS] == []
"""


def test_installed_plugins_do_not_join_judged_test_runs(tmp_path: Path) -> None:
    import _hypothesis_pytestplugin  # noqa: F401  (it is installed here: the probe means something)

    task = load_pack("demo").task("breakage")
    prepared = prepare(task, tmp_path / "template", inject_seed=1, python=sys.executable)
    workspace = tmp_path / "ws"
    prepared.materialize(workspace)
    apply_solution(workspace, prepared.solution)
    (workspace / "tests" / "test_probe.py").write_text(PROBE)
    gates = {g.name: g for g in judge(workspace, prepared, python=sys.executable)}
    assert gates["pytest"].passed, gates["pytest"].details
    assert gates["pytest"].counts["passed"] == 77  # the suite's 76, and the probe
