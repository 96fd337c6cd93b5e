"""The file editor tool: view, create, str_replace, insert — confined to the workspace.

Paths are resolved with symlinks followed before the confinement check, so a link inside the
workspace that points outside it is refused like any other escape.
"""

from __future__ import annotations

from pathlib import Path

MAX_VIEW_LINES = 2000
_HIDDEN_DIRS = {".git", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".venv"}


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
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def resolve(self, path: str) -> Path:
        """The real path for `path` (relative to the workspace, or absolute inside it)."""
        if not path:
            raise EditorError("path is required")
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        real = candidate.resolve()
        if not real.is_relative_to(self.root):
            raise EditorError(f"{path}: outside the workspace; only files under it can be edited")
        return real

    def _shown(self, real: Path) -> str:
        return real.relative_to(self.root).as_posix() or "."

    def _read(self, real: Path, path: str) -> str:
        if not real.is_file():
            raise EditorError(f"{path}: no such file")
        try:
            return real.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise EditorError(f"{path}: not a UTF-8 text file") from exc

    def view(self, path: str, view_range: tuple[int, int] | None = None) -> str:
        real = self.resolve(path)
        if real.is_dir():
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
            note = f"\n[... showing {MAX_VIEW_LINES} lines; use view_range for the rest ...]"
        numbered = "\n".join(f"{n:6}\t{line}" for n, line in enumerate(shown, start))
        return numbered + note

    def _listing(self, folder: Path) -> str:
        entries: list[str] = []
        for child in sorted(folder.rglob("*")):
            rel = child.relative_to(folder)
            if len(rel.parts) > 2 or _HIDDEN_DIRS.intersection(rel.parts):
                continue
            entries.append(self._shown(child) + ("/" if child.is_dir() else ""))
        return "\n".join(entries) or "(empty directory)"

    def create(self, path: str, file_text: str) -> str:
        real = self.resolve(path)
        if real.exists():
            raise EditorError(f"{path}: already exists; use str_replace or insert to change it")
        real.parent.mkdir(parents=True, exist_ok=True)
        real.write_text(file_text, encoding="utf-8")
        return f"created {self._shown(real)} ({len(file_text.splitlines())} lines)"

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
        real.write_text(text.replace(old_str, new_str, 1), encoding="utf-8")
        first = text.count("\n", 0, start) + 1
        return f"edited {self._shown(real)}\n" + self._snippet(real, first, new_str.count("\n") + 1)

    def insert(self, path: str, insert_line: int, new_str: str) -> str:
        real = self.resolve(path)
        lines = self._read(real, path).splitlines(keepends=True)
        if not 0 <= insert_line <= len(lines):
            raise EditorError(f"{path}: insert_line {insert_line} is outside 0..{len(lines)}")
        if lines and not lines[-1].endswith("\n") and insert_line == len(lines):
            lines[-1] += "\n"
        added = new_str if new_str.endswith("\n") else new_str + "\n"
        lines[insert_line:insert_line] = [added]
        real.write_text("".join(lines), encoding="utf-8")
        return f"edited {self._shown(real)}\n" + self._snippet(
            real, insert_line + 1, added.count("\n")
        )

    def _snippet(self, real: Path, first: int, count: int, context: int = 3) -> str:
        lines = real.read_text(encoding="utf-8").splitlines()
        lo = max(first - context, 1)
        hi = min(first + count - 1 + context, len(lines))
        return "\n".join(f"{n:6}\t{lines[n - 1]}" for n in range(lo, hi + 1))
