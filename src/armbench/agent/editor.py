"""The file editor tool: view, create, str_replace, insert — confined to the workspace.

Every read and write goes through the trial's Environment, which resolves each path with
symlinks followed and refuses one that leads outside the workspace, so a link inside the
workspace that points elsewhere is refused like any other escape, whatever the backend.
"""

from __future__ import annotations

import io

from armbench.env import Environment, OutsideWorkspace

MAX_VIEW_LINES = 2000
VIEW_CUT = "use view_range for the rest"
"""Ends the note of a `view` cut at MAX_VIEW_LINES: the reader asks for the rest by range."""
_HIDDEN_DIRS = frozenset(
    {".git", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".venv"}
)


def occurrences(text: str, needle: str) -> int:
    """How many times `needle` occurs in `text`, overlapping matches included.

    `str.count` skips overlaps, so "a\\na" would look unique in "a\\na\\na"; an edit target
    must be unambiguous, so the editor counts every match.
    """
    count, start = 0, text.find(needle)
    while start != -1:
        count += 1
        start = text.find(needle, start + 1)
    return count


class EditorError(Exception):
    """A refused or failed edit; the message is shown to the model as the tool's error."""


class FileEditor:
    def __init__(self, env: Environment) -> None:
        self.env = env

    def resolve(self, path: str) -> str:
        """The workspace-relative real path of `path` (relative, or absolute inside it)."""
        if not path:
            raise EditorError("path is required")
        try:
            return self.env.resolve(path)
        except OutsideWorkspace as exc:
            raise EditorError(
                f"{path}: outside the workspace; only files under it can be edited"
            ) from exc

    def _read(self, real: str, path: str) -> str:
        if self.env.kind(real) != "file":
            raise EditorError(f"{path}: no such file")
        try:
            # Universal newlines, as text files are read: an edit writes `\n` line ends.
            return io.TextIOWrapper(io.BytesIO(self.env.read_bytes(real)), encoding="utf-8").read()
        except UnicodeDecodeError as exc:
            raise EditorError(f"{path}: not a UTF-8 text file") from exc

    def _write(self, real: str, text: str) -> None:
        self.env.write_bytes(real, text.encode("utf-8"))

    def view(self, path: str, view_range: tuple[int, int] | None = None) -> str:
        real = self.resolve(path)
        if self.env.kind(real) == "dir":
            return self._listing(real)
        lines = self._read(real, path).splitlines()
        start, end = 1, len(lines)
        if view_range is not None:
            start, end = view_range
            end = len(lines) if end == -1 else end
            if not 1 <= start <= max(end, 1) or not 1 <= end <= len(lines):
                raise EditorError(
                    f"{path}: view_range {list(view_range)} is outside 1..{len(lines)}"
                )
        shown = lines[start - 1 : end]
        note = ""
        if len(shown) > MAX_VIEW_LINES:
            shown = shown[:MAX_VIEW_LINES]
            note = f"\n[... showing {MAX_VIEW_LINES} lines; {VIEW_CUT} ...]"
        numbered = "\n".join(f"{n:6}\t{line}" for n, line in enumerate(shown, start))
        return numbered + note

    def _listing(self, folder: str) -> str:
        entries = self.env.listing(folder, depth=2, hidden=_HIDDEN_DIRS)
        shown = [path + ("/" if is_dir else "") for path, is_dir in entries]
        return "\n".join(shown) or "(empty directory)"

    def create(self, path: str, file_text: str) -> str:
        real = self.resolve(path)
        if self.env.kind(real) is not None:
            raise EditorError(f"{path}: already exists; use str_replace or insert to change it")
        self._write(real, file_text)
        return f"created {real} ({len(file_text.splitlines())} lines)"

    def str_replace(self, path: str, old_str: str, new_str: str) -> str:
        real = self.resolve(path)
        text = self._read(real, path)
        if not old_str:
            raise EditorError("old_str must not be empty")
        count = occurrences(text, old_str)
        if count == 0:
            raise EditorError(f"{path}: old_str not found; view the file and copy the text exactly")
        if count > 1:
            lines = [
                i + 1 for i, line in enumerate(text.splitlines()) if old_str.splitlines()[0] in line
            ]
            raise EditorError(
                f"{path}: old_str occurs {count} times (lines {lines}); "
                "add surrounding lines to make it unique"
            )
        start = text.index(old_str)
        edited = text.replace(old_str, new_str, 1)
        self._write(real, edited)
        first = text.count("\n", 0, start) + 1
        return f"edited {real}\n" + self._snippet(edited, first, new_str.count("\n") + 1)

    def insert(self, path: str, insert_line: int, new_str: str) -> str:
        real = self.resolve(path)
        lines = self._read(real, path).splitlines(keepends=True)
        if not 0 <= insert_line <= len(lines):
            raise EditorError(f"{path}: insert_line {insert_line} is outside 0..{len(lines)}")
        if lines and not lines[-1].endswith("\n") and insert_line == len(lines):
            lines[-1] += "\n"
        added = new_str if new_str.endswith("\n") else new_str + "\n"
        lines[insert_line:insert_line] = [added]
        edited = "".join(lines)
        self._write(real, edited)
        return f"edited {real}\n" + self._snippet(edited, insert_line + 1, added.count("\n"))

    @staticmethod
    def _snippet(text: str, first: int, count: int, context: int = 3) -> str:
        lines = text.splitlines()
        lo = max(first - context, 1)
        hi = min(first + count - 1 + context, len(lines))
        return "\n".join(f"{n:6}\t{lines[n - 1]}" for n in range(lo, hi + 1))
