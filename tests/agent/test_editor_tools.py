"""Tests for armbench.agent.editor (FileEditor) and armbench.agent.tools (Toolbox)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from armbench.agent.editor import MAX_VIEW_LINES, EditorError, FileEditor
from armbench.agent.tools import BASH, EDITOR, Toolbox
from armbench.core import ToolResultBlock, ToolUseBlock
from armbench.env import DEFAULT_OUTPUT_CAP, LOCAL, CommandResult
from armbench.env.host_files import HostFiles


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("top secret\n")
    return folder


def _numbered(first: int, *lines: str) -> str:
    return "\n".join(f"{n:6}\t{line}" for n, line in enumerate(lines, first))


# --- view ------------------------------------------------------------------------------------


def test_view_numbers_every_line(ws: Path) -> None:
    (ws / "f.py").write_text("alpha\n\tbeta\n\ngamma\n")
    assert FileEditor(LOCAL(ws)).view("f.py") == (
        "     1\talpha\n     2\t\tbeta\n     3\t\n     4\tgamma"
    )


def test_view_range(ws: Path) -> None:
    (ws / "f.py").write_text("a\nb\nc\nd\n")
    editor = FileEditor(LOCAL(ws))
    assert editor.view("f.py", (2, 3)) == _numbered(2, "b", "c")
    assert editor.view("f.py", (3, -1)) == _numbered(3, "c", "d")
    assert editor.view("f.py", (4, 4)) == _numbered(4, "d")
    assert editor.view("f.py", (1, -1)) == editor.view("f.py")


@pytest.mark.parametrize("bad", [(0, 2), (3, 2), (1, 5), (5, -1), (-1, 2)])
def test_view_range_outside_the_file_is_an_error(ws: Path, bad: tuple[int, int]) -> None:
    (ws / "f.py").write_text("a\nb\nc\nd\n")
    with pytest.raises(EditorError) as info:
        FileEditor(LOCAL(ws)).view("f.py", bad)
    assert str(info.value) == f"f.py: view_range {list(bad)} is outside 1..4"


def test_view_range_with_other_negative_end_is_an_error(ws: Path) -> None:
    (ws / "f.py").write_text("a\nb\nc\nd\n")
    with pytest.raises(EditorError):
        FileEditor(LOCAL(ws)).view("f.py", (1, -2))


def test_view_of_a_long_file_is_capped(ws: Path) -> None:
    (ws / "long.txt").write_text("".join(f"line {i}\n" for i in range(1, MAX_VIEW_LINES + 11)))
    shown = FileEditor(LOCAL(ws)).view("long.txt")
    lines = shown.splitlines()
    assert lines[0] == "     1\tline 1"
    assert lines[MAX_VIEW_LINES - 1] == f"{MAX_VIEW_LINES:6}\tline {MAX_VIEW_LINES}"
    assert lines[-1] == f"[... showing {MAX_VIEW_LINES} lines; use view_range for the rest ...]"
    assert len(lines) == MAX_VIEW_LINES + 1


def test_view_missing_and_binary_files(ws: Path) -> None:
    (ws / "blob.bin").write_bytes(b"\xff\xfe\x00garbage")
    editor = FileEditor(LOCAL(ws))
    with pytest.raises(EditorError, match=r"^nope\.py: no such file$"):
        editor.view("nope.py")
    with pytest.raises(EditorError, match=r"^blob\.bin: not a UTF-8 text file$"):
        editor.view("blob.bin")


def test_view_directory_lists_two_levels_and_hides_caches(ws: Path) -> None:
    for rel in [
        "a.py",
        "pkg/b.py",
        "pkg/sub/c.py",
        "pkg/sub/deeper/d.py",
        ".git/config",
        "__pycache__/a.cpython-311.pyc",
        "pkg/__pycache__/b.cpython-311.pyc",
        ".mypy_cache/x.json",
        ".pytest_cache/v",
        ".ruff_cache/y",
        ".venv/bin/python",
    ]:
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text("")
    editor = FileEditor(LOCAL(ws))
    assert editor.view(".").splitlines() == ["a.py", "pkg/", "pkg/b.py", "pkg/sub/"]
    # A subfolder is listed with paths relative to the workspace root.
    assert editor.view("pkg").splitlines() == [
        "pkg/b.py",
        "pkg/sub/",
        "pkg/sub/c.py",
        "pkg/sub/deeper/",
    ]


def test_view_empty_directory(ws: Path) -> None:
    (ws / "empty").mkdir()
    assert FileEditor(LOCAL(ws)).view("empty") == "(empty directory)"


# --- create ----------------------------------------------------------------------------------


def test_create_writes_a_new_file_with_parents(ws: Path) -> None:
    editor = FileEditor(LOCAL(ws))
    assert editor.create("pkg/new.py", "x = 1\ny = 2\n") == "created pkg/new.py (2 lines)"
    assert (ws / "pkg" / "new.py").read_text() == "x = 1\ny = 2\n"


def test_create_refuses_an_existing_file(ws: Path) -> None:
    (ws / "f.py").write_text("original\n")
    (ws / "d").mkdir()
    editor = FileEditor(LOCAL(ws))
    with pytest.raises(EditorError) as info:
        editor.create("f.py", "new\n")
    assert str(info.value) == "f.py: already exists; use str_replace or insert to change it"
    assert (ws / "f.py").read_text() == "original\n"
    with pytest.raises(EditorError, match="already exists"):
        editor.create("d", "new\n")


# --- str_replace -----------------------------------------------------------------------------


def test_str_replace_exact_single_occurrence(ws: Path) -> None:
    (ws / "f.py").write_text("".join(f"line{i}\n" for i in range(1, 11)))
    result = FileEditor(LOCAL(ws)).str_replace("f.py", "line5", "five\nFIVE")
    expected = "".join(f"line{i}\n" for i in range(1, 5)) + "five\nFIVE\n"
    expected += "".join(f"line{i}\n" for i in range(6, 11))
    assert (ws / "f.py").read_text() == expected
    # The snippet shows the edit with three lines of context on each side.
    assert result == "edited f.py\n" + _numbered(
        2, "line2", "line3", "line4", "five", "FIVE", "line6", "line7", "line8"
    )


def test_str_replace_can_delete(ws: Path) -> None:
    (ws / "f.py").write_text("keep\ndrop me\nkeep too\n")
    FileEditor(LOCAL(ws)).str_replace("f.py", "drop me\n", "")
    assert (ws / "f.py").read_text() == "keep\nkeep too\n"


def test_str_replace_not_found(ws: Path) -> None:
    (ws / "f.py").write_text("x = 1\n")
    with pytest.raises(EditorError) as info:
        FileEditor(LOCAL(ws)).str_replace("f.py", "x = 2", "x = 3")
    assert str(info.value) == "f.py: old_str not found; view the file and copy the text exactly"
    assert (ws / "f.py").read_text() == "x = 1\n"


def test_str_replace_multiple_occurrences(ws: Path) -> None:
    (ws / "f.py").write_text("x = 1\ny = 1\nx = 1\n")
    with pytest.raises(EditorError) as info:
        FileEditor(LOCAL(ws)).str_replace("f.py", "x = 1", "x = 2")
    assert str(info.value) == (
        "f.py: old_str occurs 2 times (lines [1, 3]); add surrounding lines to make it unique"
    )
    assert (ws / "f.py").read_text() == "x = 1\ny = 1\nx = 1\n"


def test_str_replace_counts_overlapping_occurrences(ws: Path) -> None:
    # "a\na" occurs at line 1 and at line 2 of "a\na\na": the edit target is ambiguous.
    (ws / "f.py").write_text("a\na\na\n")
    with pytest.raises(EditorError, match=r"^f\.py: old_str occurs 2 times"):
        FileEditor(LOCAL(ws)).str_replace("f.py", "a\na", "b")
    assert (ws / "f.py").read_text() == "a\na\na\n"


def test_str_replace_empty_old_str_and_missing_file(ws: Path) -> None:
    (ws / "f.py").write_text("x\n")
    editor = FileEditor(LOCAL(ws))
    with pytest.raises(EditorError, match=r"^old_str must not be empty$"):
        editor.str_replace("f.py", "", "y")
    with pytest.raises(EditorError, match=r"^gone\.py: no such file$"):
        editor.str_replace("gone.py", "x", "y")


# --- insert ----------------------------------------------------------------------------------


def test_insert_at_top(ws: Path) -> None:
    (ws / "f.py").write_text("a\nb\n")
    result = FileEditor(LOCAL(ws)).insert("f.py", 0, "first")
    assert (ws / "f.py").read_text() == "first\na\nb\n"
    assert result == "edited f.py\n" + _numbered(1, "first", "a", "b")


def test_insert_in_the_middle_keeps_multiline_text(ws: Path) -> None:
    (ws / "f.py").write_text("a\nb\nc\n")
    FileEditor(LOCAL(ws)).insert("f.py", 1, "x\ny\n")
    assert (ws / "f.py").read_text() == "a\nx\ny\nb\nc\n"


def test_insert_at_end_of_file_without_trailing_newline(ws: Path) -> None:
    (ws / "f.py").write_text("a\nb")
    FileEditor(LOCAL(ws)).insert("f.py", 2, "c")
    assert (ws / "f.py").read_text() == "a\nb\nc\n"


def test_insert_into_empty_file(ws: Path) -> None:
    (ws / "f.py").write_text("")
    FileEditor(LOCAL(ws)).insert("f.py", 0, "only")
    assert (ws / "f.py").read_text() == "only\n"


@pytest.mark.parametrize("line", [-1, 3, 100])
def test_insert_line_out_of_range(ws: Path, line: int) -> None:
    (ws / "f.py").write_text("a\nb\n")
    with pytest.raises(EditorError) as info:
        FileEditor(LOCAL(ws)).insert("f.py", line, "x")
    assert str(info.value) == f"f.py: insert_line {line} is outside 0..2"
    assert (ws / "f.py").read_text() == "a\nb\n"


# --- confinement -----------------------------------------------------------------------------


def _refused(action: Any) -> str:
    with pytest.raises(EditorError) as info:
        action()
    assert "outside the workspace" in str(info.value)
    return str(info.value)


def test_parent_escape_is_refused(ws: Path, outside: Path) -> None:
    editor = FileEditor(LOCAL(ws))
    message = _refused(lambda: editor.view("../outside/secret.txt"))
    assert message == (
        "../outside/secret.txt: outside the workspace; only files under it can be edited"
    )
    _refused(lambda: editor.create("../x.py", "x"))
    _refused(lambda: editor.create("pkg/../../x.py", "x"))
    assert not (ws.parent / "x.py").exists()


def test_absolute_path_outside_is_refused(ws: Path, outside: Path) -> None:
    editor = FileEditor(LOCAL(ws))
    secret = str(outside / "secret.txt")
    _refused(lambda: editor.view(secret))
    _refused(lambda: editor.str_replace(secret, "top", "bottom"))
    _refused(lambda: editor.insert(secret, 0, "x"))
    _refused(lambda: editor.create(str(outside / "new.txt"), "x"))
    assert (outside / "secret.txt").read_text() == "top secret\n"
    assert not (outside / "new.txt").exists()


def test_absolute_and_dotted_paths_inside_are_allowed(ws: Path) -> None:
    (ws / "pkg").mkdir()
    (ws / "pkg" / "f.py").write_text("x\n")
    editor = FileEditor(LOCAL(ws))
    assert editor.view(str(ws / "pkg" / "f.py")) == _numbered(1, "x")
    assert editor.view("pkg/../pkg/./f.py") == _numbered(1, "x")


def test_symlink_inside_pointing_outside_is_refused(ws: Path, outside: Path) -> None:
    (ws / "link.txt").symlink_to(outside / "secret.txt")
    (ws / "linkdir").symlink_to(outside)
    (ws / "dangling.txt").symlink_to(outside / "not-yet.txt")
    editor = FileEditor(LOCAL(ws))
    _refused(lambda: editor.view("link.txt"))
    _refused(lambda: editor.str_replace("link.txt", "top", "bottom"))
    _refused(lambda: editor.insert("link.txt", 0, "x"))
    _refused(lambda: editor.view("linkdir/secret.txt"))
    _refused(lambda: editor.create("linkdir/planted.py", "x"))
    _refused(lambda: editor.create("dangling.txt", "x"))
    assert (outside / "secret.txt").read_text() == "top secret\n"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_symlink_inside_pointing_inside_is_allowed(ws: Path) -> None:
    (ws / "real.py").write_text("x\n")
    (ws / "alias.py").symlink_to(ws / "real.py")
    assert FileEditor(LOCAL(ws)).view("alias.py") == _numbered(1, "x")


def test_empty_path_is_an_error(ws: Path) -> None:
    with pytest.raises(EditorError, match=r"^path is required$"):
        FileEditor(LOCAL(ws)).view("")


# --- Toolbox ---------------------------------------------------------------------------------


class FakeEnv(HostFiles):
    """Records what the Toolbox asks an Environment to run; its files are the folder's own."""

    def __init__(self, workdir: Path, result: CommandResult) -> None:
        self._workdir = workdir.resolve()
        self.result = result
        self.calls: list[dict[str, Any]] = []

    @property
    def workdir(self) -> Path:
        return self._workdir

    def run(
        self,
        command: str | Sequence[str],
        *,
        timeout_s: float,
        output_cap: int = DEFAULT_OUTPUT_CAP,
        merge_stderr: bool = True,
        extra_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        self.calls.append({"command": command, "timeout_s": timeout_s, "output_cap": output_cap})
        return self.result


def _result(output: str, exit_code: int | None = 0, timed_out: bool = False) -> CommandResult:
    return CommandResult("c", exit_code, output, "", timed_out, False, 0.1)


def _call(name: str, **args: Any) -> ToolUseBlock:
    return ToolUseBlock(id="toolu_1", name=name, input=args)


def test_toolbox_specs(ws: Path) -> None:
    box = Toolbox(LOCAL(ws), bash_timeout_s=5)
    assert [s.name for s in box.specs] == [EDITOR, BASH]


def test_unknown_tool_is_an_error_result(ws: Path) -> None:
    box = Toolbox(FakeEnv(ws, _result("")), bash_timeout_s=5)
    result = box.execute(_call("python", code="1"), time_left_s=10)
    assert result == ToolResultBlock(
        tool_use_id="toolu_1",
        content="error: unknown tool 'python'; the tools are ['bash', 'editor']",
        is_error=True,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"path": "f.py"}, "error: `command` must be a string"),
        ({"command": "view"}, "error: `path` must be a string"),
        ({"command": "view", "path": 3}, "error: `path` must be a string"),
        ({"command": "delete", "path": "f.py"}, "error: unknown editor command 'delete'"),
        (
            {"command": "view", "path": "f.py", "view_range": [1]},
            "error: `view_range` must be [first, last]",
        ),
        (
            {"command": "view", "path": "f.py", "view_range": ["1", "2"]},
            "error: `view_range` must be [first, last]",
        ),
        (
            {"command": "insert", "path": "f.py", "insert_line": "1", "new_str": "x"},
            "error: `insert_line` must be an integer",
        ),
        ({"command": "create", "path": "g.py"}, "error: `file_text` must be a string"),
        (
            {"command": "str_replace", "path": "f.py", "new_str": "x"},
            "error: `old_str` must be a string",
        ),
        (
            {"command": "view", "path": "../x"},
            "error: ../x: outside the workspace; only files under it can be edited",
        ),
        ({"command": "view", "path": "nope.py"}, "error: nope.py: no such file"),
    ],
)
def test_editor_bad_input_is_an_error_result(ws: Path, args: dict[str, Any], message: str) -> None:
    (ws / "f.py").write_text("a\nb\n")
    box = Toolbox(FakeEnv(ws, _result("")), bash_timeout_s=5)
    result = box.execute(_call(EDITOR, **args), time_left_s=10)
    assert result.is_error
    assert result.content == message
    assert result.tool_use_id == "toolu_1"
    assert (ws / "f.py").read_text() == "a\nb\n"


def test_editor_commands_through_the_toolbox(ws: Path) -> None:
    box = Toolbox(FakeEnv(ws, _result("")), bash_timeout_s=5)
    created = box.execute(
        _call(EDITOR, command="create", path="m.py", file_text="a\n"), time_left_s=10
    )
    assert (created.is_error, created.content) == (False, "created m.py (1 lines)")
    box.execute(
        _call(EDITOR, command="insert", path="m.py", insert_line=1, new_str="b"), time_left_s=10
    )
    box.execute(_call(EDITOR, command="str_replace", path="m.py", old_str="a\n"), time_left_s=10)
    assert (ws / "m.py").read_text() == "b\n"
    viewed = box.execute(
        _call(EDITOR, command="view", path="m.py", view_range=[1, -1]), time_left_s=10
    )
    assert (viewed.is_error, viewed.content) == (False, "     1\tb")


@pytest.mark.parametrize(
    "args",
    [
        {"command": "create", "path": "f.py/inner.py", "file_text": "x"},
        {"command": "view", "path": "f\x00.py"},
    ],
)
def test_os_level_edit_failures_become_error_results(ws: Path, args: dict[str, Any]) -> None:
    (ws / "f.py").write_text("a\n")
    box = Toolbox(FakeEnv(ws, _result("")), bash_timeout_s=5)
    result = box.execute(_call(EDITOR, **args), time_left_s=10)
    assert result.is_error


def test_bash_output_ends_with_exit_code(ws: Path) -> None:
    box = Toolbox(LOCAL(ws), bash_timeout_s=10)
    result = box.execute(_call(BASH, command="echo hi; echo there >&2; exit 3"), time_left_s=30)
    assert result == ToolResultBlock(
        tool_use_id="toolu_1", content="hi\nthere\n[exit code: 3]", is_error=False
    )
    quiet = box.execute(_call(BASH, command="true"), time_left_s=30)
    assert quiet.content == "[exit code: 0]"
    assert not quiet.is_error


def test_bash_runs_in_the_workspace(ws: Path) -> None:
    box = Toolbox(LOCAL(ws), bash_timeout_s=10)
    box.execute(_call(BASH, command="echo made > made.txt"), time_left_s=30)
    assert (ws / "made.txt").read_text() == "made\n"


@pytest.mark.parametrize(
    ("bash_timeout", "time_left", "expected"),
    [(120.0, 30.0, 30.0), (120.0, 500.0, 120.0), (120.0, 0.2, 1.0), (120.0, -5.0, 1.0)],
)
def test_bash_timeout_is_capped_by_time_left(
    ws: Path, bash_timeout: float, time_left: float, expected: float
) -> None:
    env = FakeEnv(ws, _result("out\n"))
    box = Toolbox(env, bash_timeout_s=bash_timeout, output_cap=1234)
    result = box.execute(_call(BASH, command="make test"), time_left_s=time_left)
    assert env.calls == [{"command": "make test", "timeout_s": expected, "output_cap": 1234}]
    assert result.content == "out\n[exit code: 0]"


def test_bash_timeout_kills_and_says_so(ws: Path) -> None:
    box = Toolbox(LOCAL(ws), bash_timeout_s=60)
    result = box.execute(_call(BASH, command="echo start; sleep 30"), time_left_s=1.0)
    assert not result.is_error
    assert result.content == (
        "start\n\n[killed: command exceeded its 1s timeout]\n[exit code: killed (timeout)]"
    )


def test_bash_without_command_is_an_error(ws: Path) -> None:
    env = FakeEnv(ws, _result(""))
    box = Toolbox(env, bash_timeout_s=5)
    result = box.execute(_call(BASH, cmd="ls"), time_left_s=10)
    assert (result.is_error, result.content) == (True, "error: `command` must be a string")
    assert env.calls == []
