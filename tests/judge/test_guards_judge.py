"""Each guarded contract of the judge goes red when it is broken.

The file gates (protected files, editable scope, no new suppressions) and the checker-version
refusal are what stop an agent from passing by editing the test, leaving its lane, silencing a
checker, or being judged by a drifted checker. These tests judge real workspaces of a small task
and refuse real (fake) interpreters, so `make mutants` can show each contract is caught.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml

from armbench.checks import toolchain
from armbench.core import GateResult
from armbench.judge.gates import judge
from armbench.tasks.prepare import Prepared, apply_solution, prepare
from armbench.tasks.spec import load_task

APP = 'def greet(name: str) -> str:\n    return "hi " + name\n'
SOLVED = 'def greet(name: str) -> str:\n    return "hello " + name\n'
TEST = (
    "from app.greeting import greet\n\n\n"
    "def test_greet() -> None:\n"
    '    assert greet("ann") == "hello ann"\n'
)
TASK = {
    "id": "greet",
    "title": "Say hello",
    "prompt": "Make greet say hello.",
    "fixture": "fixture",
    "solution": {"overlay": "solution"},
    "gates": [{"kind": "ruff"}, {"kind": "pytest", "min_passed": 1}],
    "editable": ["app/**"],
    "protected": ["tests/test_greeting.py"],
    "rules": ["no_new_suppressions"],
}


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    folder = tmp_path_factory.mktemp("task")
    write(
        folder,
        {
            "task.yaml": yaml.safe_dump(TASK),
            "fixture/app/__init__.py": "",
            "fixture/app/greeting.py": APP,
            "fixture/tests/test_greeting.py": TEST,
            "fixture/README.md": "A greeting.\n",
            "solution/app/greeting.py": SOLVED,
        },
    )
    task = load_task(folder)
    return prepare(task, folder.parent / "template", inject_seed=None, python=sys.executable)


def judged(prepared: Prepared, tmp_path: Path, edits: dict[str, str | None]) -> dict[str, bool]:
    """The verdict of every gate on the solved workspace after `edits` (None: delete)."""
    workspace = tmp_path / "ws"
    prepared.materialize(workspace)
    apply_solution(workspace, prepared.solution)
    for rel, text in edits.items():
        if text is None:
            (workspace / rel).unlink()
        else:
            write(workspace, {rel: text})
    gates: tuple[GateResult, ...] = judge(workspace, prepared, python=sys.executable)
    return {g.name: g.passed for g in gates}


def test_the_reference_solution_passes_every_gate(prepared: Prepared, tmp_path: Path) -> None:
    verdict = judged(prepared, tmp_path, {})
    assert verdict == {
        "protected": True,
        "scope": True,
        "harness_files": True,
        "no_new_suppressions": True,
        "ruff": True,
        "pytest": True,
    }


def test_editing_the_protected_test_fails_the_protected_gate(
    prepared: Prepared, tmp_path: Path
) -> None:
    weakened = TEST.replace('"hello ann"', 'greet("ann")')
    verdict = judged(prepared, tmp_path, {"tests/test_greeting.py": weakened})
    assert verdict["protected"] is False
    assert not all(verdict.values())


def test_deleting_the_protected_test_fails_the_protected_gate(
    prepared: Prepared, tmp_path: Path
) -> None:
    verdict = judged(prepared, tmp_path, {"tests/test_greeting.py": None})
    assert verdict["protected"] is False


def test_a_change_outside_the_editable_paths_fails_the_scope_gate(
    prepared: Prepared, tmp_path: Path
) -> None:
    verdict = judged(prepared, tmp_path, {"README.md": "Rewritten.\n"})
    assert verdict["scope"] is False
    assert verdict["protected"] is True  # the README is not protected, only out of scope


def test_a_new_file_outside_the_editable_paths_fails_the_scope_gate(
    prepared: Prepared, tmp_path: Path
) -> None:
    verdict = judged(prepared, tmp_path, {"conftest.py": "collect_ignore = []\n"})
    assert verdict["scope"] is False


@pytest.mark.parametrize(
    "comment", ["  # type: ignore", "  # noqa: E501", "  # noqa", "  # pyright: ignore"]
)
def test_a_new_suppression_fails_the_suppressions_gate(
    prepared: Prepared, tmp_path: Path, comment: str
) -> None:
    silenced = SOLVED.replace("name\n", "name" + comment + "\n", 1)
    verdict = judged(prepared, tmp_path, {"app/greeting.py": silenced})
    assert verdict["no_new_suppressions"] is False
    assert verdict["scope"] is True  # the edit itself is allowed, the silencer is not


def fake_python(tmp_path: Path, versions: dict[str, str]) -> str:
    """This interpreter, in a folder (`tmp_path`, the cwd the versions are read in) whose
    stand-in checker modules shadow the installed ones, as `python -m` finds them from there;
    a checker not in `versions` is made unimportable."""
    modules = {
        "mypy": ("mypy/__init__.py", "mypy/version.py", "__version__ = {v!r}\n"),
        "pytest": ("pytest/__init__.py", "pytest/__init__.py", "__version__ = {v!r}\n"),
        "ruff": ("ruff/__init__.py", "ruff/__main__.py", "print('ruff {v}')\n"),
    }
    for name, (package, module, text) in modules.items():
        (tmp_path / package).parent.mkdir(exist_ok=True)
        (tmp_path / package).write_text("")
        version = versions.get(name)
        body = text.format(v=version) if version else "raise ImportError('not installed')\n"
        (tmp_path / module).write_text(body)
    return sys.executable


def test_a_checker_of_another_version_is_refused(tmp_path: Path) -> None:
    pins = toolchain.pinned_versions()
    drifted = {**pins, "ruff": "0.0.1"}
    with pytest.raises(toolchain.ToolchainError, match=r"ruff 0\.0\.1 \(pinned "):
        toolchain.verify_toolchain(fake_python(tmp_path, drifted), tmp_path)
    assert toolchain.verify_toolchain(fake_python(tmp_path, pins), tmp_path) == pins


def test_a_missing_checker_is_refused(tmp_path: Path) -> None:
    pins = toolchain.pinned_versions()
    without_pytest = {k: v for k, v in pins.items() if k != "pytest"}
    with pytest.raises(toolchain.ToolchainError, match="pytest missing"):
        toolchain.verify_toolchain(fake_python(tmp_path, without_pytest), tmp_path)


def test_the_pins_name_every_checker_exactly() -> None:
    pins = toolchain.pinned_versions()
    assert set(pins) == {"mypy", "ruff", "pytest"}
    assert all(v[0].isdigit() for v in pins.values())


@pytest.mark.parametrize(
    "requirements",
    [[], ["mypy==2.4.1", "ruff==0.17.6"], ["mypy>=2", "ruff==0.17.6", "pytest==9.2.0"]],
)
def test_missing_or_loose_pins_are_an_error_not_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, requirements: list[str]
) -> None:
    monkeypatch.setattr(toolchain, "requires", lambda _name: requirements)
    with pytest.raises(toolchain.ToolchainError, match="pin"):
        toolchain.verify_toolchain(sys.executable, tmp_path)


# --- the judged copy, the reference's tests, the files that steer the checkers -------------


def test_preparation_records_the_tests_the_reference_passes(prepared: Prepared) -> None:
    assert prepared.reference_tests == {1: ("tests/test_greeting.py::test_greet",)}
    assert list(prepared.reference_bodies) == ["tests/test_greeting.py::test_greet"]
    assert prepared.suppressions == {}


def test_a_conftest_or_a_startup_hook_fails_the_harness_files_gate(
    prepared: Prepared, tmp_path: Path
) -> None:
    for rel in ("app/conftest.py", "app/sitecustomize.py", "app/evil.pth"):
        verdict = judged(prepared, tmp_path / rel.replace("/", "-"), {rel: "x = 1\n"})
        assert verdict["harness_files"] is False, rel
        assert verdict["scope"] is True  # app/** is editable: only the harness rule catches it


def test_files_outside_the_editable_paths_never_reach_the_checkers(
    prepared: Prepared, tmp_path: Path
) -> None:
    # A test file that would fail if it ran: it fails the scope gate, and pytest never sees it.
    workspace = tmp_path / "ws"
    prepared.materialize(workspace)
    apply_solution(workspace, prepared.solution)
    write(workspace, {"tests/test_extra.py": "def test_no() -> None:\n    assert False\n"})
    gates = {g.name: g for g in judge(workspace, prepared, python=sys.executable)}
    assert not gates["scope"].passed
    assert gates["pytest"].passed and gates["pytest"].counts["passed"] == 1


def test_a_template_changed_after_preparation_stops_the_judge(tmp_path: Path) -> None:
    from armbench.tasks import TemplateChanged

    folder = tmp_path / "task"
    write(
        folder,
        {
            "task.yaml": yaml.safe_dump(TASK),
            "fixture/app/__init__.py": "",
            "fixture/app/greeting.py": APP,
            "fixture/tests/test_greeting.py": TEST,
            "solution/app/greeting.py": SOLVED,
        },
    )
    ready = prepare(
        load_task(folder), tmp_path / "template", inject_seed=None, python=sys.executable
    )
    workspace = tmp_path / "ws"
    ready.materialize(workspace)
    target = ready.template / "app" / "greeting.py"
    assert not os.access(target, os.W_OK) or os.geteuid() == 0  # read-only, except for root
    target.chmod(0o644)
    target.write_text(SOLVED)  # a poisoned template: the next copy would start solved
    with pytest.raises(TemplateChanged, match=r"app/greeting\.py"):
        judge(workspace, ready, python=sys.executable)
    with pytest.raises(TemplateChanged):
        ready.materialize(tmp_path / "ws2")
