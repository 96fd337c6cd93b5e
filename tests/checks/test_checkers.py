"""Tests for armbench.checks.runners: the JUnit parser, and real mypy/ruff/pytest runs."""

from __future__ import annotations

import shlex
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from armbench.checks import (
    COLLECTION,
    CheckReport,
    Finding,
    parse_junit,
    run_mypy,
    run_pytest,
    run_ruff,
)
from armbench.checks.runners import _module_path
from armbench.env import LOCAL, Environment

PY = sys.executable
ZERO = {"passed": 0, "failed": 0, "errored": 0, "skipped": 0, "collection_errors": 0}


def _counts(**nonzero: int) -> dict[str, int]:
    return {**ZERO, **nonzero}


def _suite(*cases: str) -> str:
    body = "".join(cases)
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
        f'<testsuite name="pytest" errors="0" failures="0" tests="1">{body}</testsuite>'
        "</testsuites>"
    )


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


# --- parse_junit on hand-written reports -----------------------------------------------------


def test_parse_junit_passed_and_skipped(tmp_path: Path) -> None:
    xml = _suite(
        '<testcase classname="tests.test_a" name="test_ok" time="0.001" />',
        '<testcase classname="tests.test_a" name="test_two" time="0.001"></testcase>',
        '<testcase classname="tests.test_a" name="test_skip" time="0.000">'
        '<skipped type="pytest.skip" message="nope">tests/test_a.py:12: nope</skipped>'
        "</testcase>",
    )
    counts, findings = parse_junit(xml, tmp_path)
    assert counts == _counts(passed=2, skipped=1)
    assert findings == []


def test_parse_junit_failure(tmp_path: Path) -> None:
    _write(tmp_path, {"tests/test_a.py": ""})
    xml = _suite(
        '<testcase classname="tests.test_a.TestK" name="test_m" time="0.000">'
        '<failure message="assert 0">self = ...\nE   assert 0</failure></testcase>'
    )
    counts, findings = parse_junit(xml, tmp_path)
    assert counts == _counts(failed=1)
    assert findings == [Finding("tests/test_a.py", 0, "failed", "test_m: assert 0")]


def test_parse_junit_error_at_setup(tmp_path: Path) -> None:
    _write(tmp_path, {"tests/test_a.py": ""})
    xml = _suite(
        '<testcase classname="tests.test_a" name="test_err" time="0.000">'
        '<error message="failed on setup with &quot;RuntimeError: setup boom&quot;">'
        "E   RuntimeError: setup boom</error></testcase>"
    )
    counts, findings = parse_junit(xml, tmp_path)
    assert counts == _counts(errored=1)
    assert findings == [
        Finding(
            "tests/test_a.py",
            0,
            "errored",
            'test_err: failed on setup with "RuntimeError: setup boom"',
        )
    ]


def test_parse_junit_collection_failure(tmp_path: Path) -> None:
    _write(tmp_path, {"tests/test_b.py": ""})
    text = 'tests/test_b.py::test_p: in "parametrize" the number of names (2)'
    xml = _suite(
        '<testcase classname="" name="tests.test_b" time="0.000">'
        f'<error message="collection failure">{text}</error></testcase>',
        '<testcase classname="tests.test_a" name="test_ok" time="0.000" />',
    )
    counts, findings = parse_junit(xml, tmp_path)
    assert counts == _counts(passed=1, collection_errors=1)
    assert findings == [Finding("tests/test_b.py", 0, COLLECTION, f"tests.test_b: {text}")]


def test_parse_junit_failure_with_teardown_error_in_one_testcase_counts_once(
    tmp_path: Path,
) -> None:
    _write(tmp_path, {"tests/test_a.py": ""})
    xml = _suite(
        '<testcase classname="tests.test_a" name="test_fail_td" time="0.000">'
        '<failure message="assert False">E   assert False</failure>'
        '<error message="failed on teardown with &quot;RuntimeError: td&quot;">E</error>'
        "</testcase>"
    )
    counts, findings = parse_junit(xml, tmp_path)
    assert counts == _counts(failed=1)
    assert findings == [Finding("tests/test_a.py", 0, "failed", "test_fail_td: assert False")]


def test_parse_junit_failure_with_teardown_error_as_pytest_writes_it(tmp_path: Path) -> None:
    # Verbatim shape of pytest 9.2.0's --junitxml output for such a test.
    _write(tmp_path, {"tests/test_a.py": ""})
    xml = _suite(
        '<testcase classname="tests.test_a" name="test_fail_td" time="0.000">'
        '<failure message="assert False">E   assert False</failure></testcase>',
        '<testcase classname="tests.test_a" name="test_fail_td" time="0.000">'
        '<error message="failed on teardown with &quot;RuntimeError: td&quot;">E</error>'
        "</testcase>",
    )
    counts, findings = parse_junit(xml, tmp_path)
    assert counts == _counts(failed=1)
    assert len(findings) == 1


def test_parse_junit_reads_line_attribute_and_nested_suites(tmp_path: Path) -> None:
    xml = (
        "<testsuites><testsuite><testsuite>"
        '<testcase classname="pkg.test_x" name="test_y" line="41">'
        '<failure message="boom" /></testcase>'
        "</testsuite></testsuite></testsuites>"
    )
    counts, findings = parse_junit(xml, tmp_path)
    assert counts == _counts(failed=1)
    # No such file under the root: the best-effort path is the dotted name as a path.
    assert findings == [Finding("pkg/test_x.py", 41, "failed", "test_y: boom")]


def test_parse_junit_rejects_malformed_xml(tmp_path: Path) -> None:
    with pytest.raises(ET.ParseError):
        parse_junit("<testsuites><testcase", tmp_path)


def test_module_path_finds_the_longest_existing_module(tmp_path: Path) -> None:
    _write(tmp_path, {"tests/test_money.py": "", "tests/sub/test_deep.py": "", "top.py": ""})
    assert _module_path("tests.test_money.TestParse", tmp_path) == "tests/test_money.py"
    assert _module_path("tests.test_money", tmp_path) == "tests/test_money.py"
    assert _module_path("tests.sub.test_deep.TestA.TestB", tmp_path) == "tests/sub/test_deep.py"
    assert _module_path("top.TestX", tmp_path) == "top.py"
    assert _module_path("tests.test_gone.TestX", tmp_path) == "tests/test_gone/TestX.py"


def test_module_path_of_empty_name_is_empty(tmp_path: Path) -> None:
    assert _module_path("", tmp_path) == ""
    xml = _suite('<testcase classname="" name="x"><failure message="m" /></testcase>')
    assert parse_junit(xml, tmp_path)[1] == [Finding("", 0, "failed", "x: m")]


# --- CheckReport.passed ----------------------------------------------------------------------


def _report(tool: str, **kw: object) -> CheckReport:
    fields: dict[str, object] = dict(
        tool=tool,
        command="x",
        exit_code=0,
        parsed=True,
        findings=(),
        counts={"errors": 0} if tool != "pytest" else _counts(passed=3),
        duration_s=0.0,
        timed_out=False,
        output_tail="",
    )
    fields.update(kw)
    return CheckReport(**fields)  # type: ignore[arg-type]


def test_check_report_passed_rules() -> None:
    assert _report("mypy").passed
    assert not _report("mypy", parsed=False).passed
    assert not _report("mypy", timed_out=True).passed
    assert not _report("mypy", exit_code=1).passed
    assert not _report("mypy", exit_code=None).passed
    assert not _report("ruff", counts={"errors": 1}).passed
    assert _report("pytest").passed
    assert _report("pytest", min_passed=3).passed
    assert not _report("pytest", min_passed=4).passed
    assert not _report("pytest", counts=_counts(passed=3, errored=1)).passed
    assert not _report("pytest", counts=_counts(passed=3, collection_errors=1)).passed
    assert not _report("pytest", counts=_counts(), min_passed=1).passed
    assert _report("pytest", counts=_counts(passed=1, skipped=9), min_passed=1).passed


# --- real checker runs on tiny repos ----------------------------------------------------------

PYPROJECT = """\
[tool.mypy]
strict = true
files = ["pkg"]

[tool.ruff.lint]
select = ["E", "F", "I"]

[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
"""

CALC = """\
def add(a: int, b: int) -> int:
    return a + b


def double(a: int) -> int:
    return add(a, a)
"""

TEST_CALC = """\
from pkg.calc import add, double


def test_add() -> None:
    assert add(1, 2) == 3


def test_double() -> None:
    assert double(2) == 4
"""


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def _repo(root: Path, changes: dict[str, str] | None = None) -> Environment:
    files = {
        "pyproject.toml": PYPROJECT,
        "pkg/__init__.py": "",
        "pkg/calc.py": CALC,
        "tests/test_calc.py": TEST_CALC,
        **(changes or {}),
    }
    _write(root, files)
    return LOCAL(root)


def test_mypy_clean_repo_passes(tmp_path: Path, mypy_cache: Path) -> None:
    env = _repo(tmp_path)
    report = run_mypy(env, python=PY, cache_dir=mypy_cache)
    assert report.tool == "mypy"
    assert report.command.startswith(shlex.join([PY, "-m", "mypy", "-O", "json"]))
    assert (report.exit_code, report.parsed, report.problem) == (0, True, "")
    assert report.findings == ()
    assert report.counts == {"errors": 0}
    assert report.passed


def test_mypy_type_error_is_one_finding(tmp_path: Path, mypy_cache: Path) -> None:
    env = _repo(tmp_path, {"pkg/calc.py": CALC + '\n\ndef bad() -> int:\n    return "x"\n'})
    report = run_mypy(env, python=PY, cache_dir=mypy_cache)
    assert report.exit_code == 1
    assert report.parsed
    assert not report.passed
    assert report.counts == {"errors": 1}
    assert report.findings == (
        Finding(
            path="pkg/calc.py",
            line=10,
            code="return-value",
            message='Incompatible return value type (got "str", expected "int")',
        ),
    )


def test_mypy_bad_configuration_is_not_a_parsed_report(tmp_path: Path, mypy_cache: Path) -> None:
    bad_files = PYPROJECT.replace('files = ["pkg"]', 'files = ["does_not_exist.py"]')
    env = _repo(tmp_path, {"pyproject.toml": bad_files})
    report = run_mypy(env, python=PY, cache_dir=mypy_cache)
    assert report.exit_code == 2
    assert not report.parsed
    assert not report.passed
    assert report.problem == "mypy exited 2 (crash or bad configuration)"
    assert "does_not_exist.py" in report.output_tail


def test_ruff_clean_and_violation(tmp_path: Path) -> None:
    env = _repo(tmp_path)
    clean = run_ruff(env, python=PY)
    assert (clean.exit_code, clean.parsed, clean.counts) == (0, True, {"errors": 0})
    assert clean.passed
    _write(tmp_path, {"pkg/extra.py": '"""Extra."""\n\nimport os\n'})
    dirty = run_ruff(env, python=PY)
    assert dirty.exit_code == 1
    assert dirty.parsed
    assert not dirty.passed
    assert dirty.findings == (Finding("pkg/extra.py", 3, "F401", "`os` imported but unused"),)


def test_ruff_never_fixes_even_when_the_project_says_fix_true(tmp_path: Path) -> None:
    """A checker reads; it must not change what it judges (humanize's config says `fix = true`)."""
    env = _repo(tmp_path)
    pyproject = PYPROJECT.replace("[tool.ruff.lint]", "[tool.ruff]\nfix = true\n\n[tool.ruff.lint]")
    unused = '"""Extra."""\n\nimport os\n'
    _write(tmp_path, {"pyproject.toml": pyproject, "pkg/extra.py": unused})
    report = run_ruff(env, python=PY)
    assert (tmp_path / "pkg/extra.py").read_text() == unused
    assert [f.code for f in report.findings] == ["F401"] and not report.passed


def test_ruff_bad_configuration_is_not_a_parsed_report(tmp_path: Path) -> None:
    env = _repo(tmp_path)
    _write(tmp_path, {"pyproject.toml": PYPROJECT.replace('"I"]', '"NOPE999"]')})
    report = run_ruff(env, python=PY)
    assert report.exit_code == 2
    assert not report.parsed
    assert not report.passed
    assert report.problem == "ruff exited 2 (crash or bad configuration)"


def test_pytest_clean_repo_passes_and_min_passed_is_enforced(tmp_path: Path) -> None:
    env = _repo(tmp_path)
    report = run_pytest(env, python=PY, min_passed=2)
    assert (report.exit_code, report.parsed, report.problem) == (0, True, "")
    assert report.counts == _counts(passed=2)
    assert report.findings == ()
    assert report.passed
    too_few = run_pytest(env, python=PY, min_passed=3)
    assert too_few.parsed
    assert too_few.counts == _counts(passed=2)
    assert not too_few.passed


def test_pytest_failing_test(tmp_path: Path) -> None:
    failing = TEST_CALC + "\n\ndef test_wrong() -> None:\n    assert add(2, 2) == 5\n"
    env = _repo(tmp_path, {"tests/test_calc.py": failing})
    report = run_pytest(env, python=PY, min_passed=1)
    assert report.exit_code == 1
    assert report.parsed
    assert not report.passed
    assert report.counts == _counts(passed=2, failed=1)
    assert len(report.findings) == 1
    finding = report.findings[0]
    assert (finding.path, finding.code) == ("tests/test_calc.py", "failed")
    assert finding.message.startswith("test_wrong: assert 4 == 5")


def test_pytest_collection_error_does_not_stop_other_modules(tmp_path: Path) -> None:
    bad = (
        "import pytest\n\n\n"
        '@pytest.mark.parametrize("a,b", [(1,)])\n'
        "def test_p(a: int, b: int) -> None:\n    pass\n"
    )
    env = _repo(tmp_path, {"tests/test_bad.py": bad})
    report = run_pytest(env, python=PY, min_passed=1)
    assert report.parsed
    assert report.exit_code == 1
    assert not report.passed
    assert report.counts == _counts(passed=2, collection_errors=1)
    assert len(report.findings) == 1
    finding = report.findings[0]
    assert (finding.path, finding.line, finding.code) == ("tests/test_bad.py", 0, COLLECTION)
    assert finding.message.startswith("tests.test_bad: ")
    assert "parametrize" in finding.message


def test_pytest_without_a_report_is_not_parsed(tmp_path: Path) -> None:
    env = _repo(tmp_path, {"tests/conftest.py": 'raise RuntimeError("conftest boom")\n'})
    report = run_pytest(env, python=PY)
    assert report.exit_code == 4
    assert not report.parsed
    assert not report.passed
    assert report.problem == "pytest wrote no JUnit report (exit 4)"
    assert "conftest boom" in report.output_tail


HANGS = """\
import os


def test_hangs() -> None:
    read_end, _write_end = os.pipe()
    os.read(read_end, 1)  # nobody writes: blocks for ever, as a deadlocked child pipe does
"""


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_pytest_a_hung_test_fails_alone_named_and_the_rest_still_run(
    tmp_path: Path, workers: tuple[str, ...]
) -> None:
    env = _repo(tmp_path, {"tests/test_hangs.py": HANGS})
    report = run_pytest(env, python=PY, args=workers, timeout_s=90, test_timeout_s=2)
    assert report.parsed, report.problem or report.output_tail
    assert report.counts == _counts(passed=2, failed=1)
    (finding,) = report.findings
    assert finding.path == "tests/test_hangs.py"
    assert "ran past 2 s" in finding.message
    assert not report.passed
