"""pack.yaml: what a pack's tasks share, checked when it is loaded (nothing fetched)."""

from __future__ import annotations

from pathlib import Path

import pytest

from armbench.checks import CheckArgs
from armbench.env.local import LocalEnvironment, expand_placeholders
from armbench.tasks import (
    BUILTIN_PACKS,
    MypyGate,
    PackSpec,
    PypiSource,
    PytestGate,
    RuffGate,
    TaskFileError,
    load_pack,
    lock_pins,
)

TASK = """\
id: t
title: T
prompt: p
solution: {{overlay: solution}}
gates:
  - kind: mypy
  - kind: ruff
    args: [src]
  - kind: pytest
{fixture}
"""


def _pack(root: Path, pack_yaml: str, fixture: str = "") -> Path:
    (root / "tasks" / "t" / "solution").mkdir(parents=True)
    (root / "tasks" / "t" / "task.yaml").write_text(TASK.format(fixture=fixture))
    (root / "pack.yaml").write_text(pack_yaml)
    return root


def test_the_packs_checker_args_fill_every_gate_that_gives_none(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    pack_yaml = (
        "source: {kind: path, path: repo}\n"
        "checks: {mypy: [pkg], pytest: [-p, xdist, -n, auto]}\n"
        "env: {TERMINAL_WIDTH: '3000'}\n"
    )
    pack = load_pack(str(_pack(tmp_path, pack_yaml)))
    (task,) = pack.agentic_tasks
    mypy, ruff, pytest_gate = task.spec.gates
    assert isinstance(mypy, MypyGate) and mypy.args == ("pkg",)
    assert isinstance(ruff, RuffGate) and ruff.args == ("src",)  # its own args win
    assert isinstance(pytest_gate, PytestGate) and pytest_gate.args == ("-p", "xdist", "-n", "auto")
    assert task.fixture_dir == (tmp_path / "repo").resolve()
    assert task.setup.environ["TERMINAL_WIDTH"] == "3000"
    assert task.setup.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "1"
    assert task.setup.check_args == CheckArgs(mypy=("pkg",), pytest=("-p", "xdist", "-n", "auto"))


def test_a_task_on_the_source_needs_a_pack_that_has_one(tmp_path: Path) -> None:
    with pytest.raises(TaskFileError, match="declares no `source`"):
        load_pack(str(_pack(tmp_path, "name: x\n")))


@pytest.mark.parametrize(
    ("pack_yaml", "complaint"),
    [
        ("env: {OPENAI_API_KEY: x}\n", "looks like a credential"),
        ("env: {PATH: /evil}\n", "set by armbench itself"),
        ("toolchain: {lock: a.txt, python: /usr/bin/python3}\n", "either"),
        ("source: {kind: pypi, name: typer, version: '1', sha256: abc}\n", "sha256"),
        ("sources: {}\n", "sources"),
    ],
)
def test_a_bad_pack_file_is_refused_naming_the_field(
    tmp_path: Path, pack_yaml: str, complaint: str
) -> None:
    with pytest.raises(TaskFileError, match=complaint) as caught:
        load_pack(str(_pack(tmp_path, pack_yaml, fixture="fixture: .")))
    assert "pack.yaml" in str(caught.value)


def test_outputs_the_pack_ignores_are_not_changes(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    pack = load_pack(
        str(_pack(tmp_path, "source: {kind: path, path: repo}\nignored: ['coverage/']\n"))
    )
    setup = pack.agentic_tasks[0].setup
    assert setup.ignored("coverage/.coverage.host.1234")
    assert not setup.ignored("pkg/coverage.py")


def test_placeholders_become_the_commands_folder_and_home(tmp_path: Path) -> None:
    env = expand_placeholders({"HOME": "/h", "A": "${WORKDIR}/src:${HOME}/x"}, Path("/w"))
    assert env["A"] == "/w/src:/h/x"
    local = LocalEnvironment(tmp_path, home=tmp_path / "home", extra_env={"P": "${WORKDIR}"})
    result = local.run('printf %s "$P"', timeout_s=30)
    assert result.output == str(tmp_path.resolve())


def test_the_typer_pack_declares_the_published_setup() -> None:
    pack = load_pack("typer")
    assert [t.id for t in pack.tasks] == ["T1", "T2", "T3"]
    assert pack.setup is not None
    spec: PackSpec = pack.setup.spec
    assert spec.source == PypiSource(
        kind="pypi",
        name="typer",
        version="0.26.8",
        sha256="c244a6bd558886fe3f8780efb6bdd28bb9aff005a94eedebaa5cb32926fe2f7e",
    )
    assert spec.checks.mypy == ("typer",)
    assert spec.checks.ruff == ("typer", "tests", "docs_src", "scripts")
    assert {"TERMINAL_WIDTH", "_TYPER_FORCE_DISABLE_TERMINAL", "COVERAGE_FILE"} <= spec.env.keys()
    assert spec.toolchain is not None and spec.toolchain.editable_project
    assert pack.setup.environ["ARMBENCH_PROJECT_ROOT"] == "${WORKDIR}"
    t1 = pack.task("T1")
    inject = t1.spec.prepare.inject  # type: ignore[union-attr]
    assert (inject.mypy, inject.ruff, inject.collect, inject.seed) == (10, 10, 5, None)
    for task in pack.agentic_tasks:
        # The bash timeout sits above the judge's suite even on a busy machine (5 min and more).
        assert task.spec.limits.bash_timeout_s is not None and task.spec.limits.bash_timeout_s > 300
    assert lock_pins((BUILTIN_PACKS / "typer" / "toolchain.lock").read_text())["mypy"] == "2.1.0"
