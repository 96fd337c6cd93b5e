"""The file-block format: a `FILE: <path>` line, then one fenced block with the file's content.

It is armbench's one way of carrying whole files in model text: the single-shot execution
contract asks answers to use it (and the judge extracts files from it, strictly for the format
score and leniently for the execution score), and the sim writes delegation instructions in it.
Fences follow CommonMark: a block opens with 3+ backticks or tildes and closes at a fence of the
same character at least as long.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_FILE_LINE = re.compile(r"^\s*FILE:\s*(?P<path>\S+)\s*$")
_RUN_LINE = re.compile(r"^\s*RUN:\s*\S")
_COMMENT = re.compile(r"^\s*(#|//|--|;|/\*|<!--|%|\")")
_MENTION_WINDOW = 3
"""How many non-blank lines before a block `extract_lenient` reads for a file name."""

_LANGUAGES: dict[str, frozenset[str]] = {
    ".py": frozenset({"python", "py", "python3", "py3", "pycon"}),
    ".json": frozenset({"json", "jsonc"}),
    ".sh": frozenset({"bash", "sh", "shell", "zsh"}),
    ".js": frozenset({"javascript", "js", "node"}),
    ".ts": frozenset({"typescript", "ts"}),
    ".md": frozenset({"markdown", "md"}),
    ".yaml": frozenset({"yaml", "yml"}),
    ".yml": frozenset({"yaml", "yml"}),
    ".toml": frozenset({"toml"}),
    ".ini": frozenset({"ini", "cfg"}),
    ".csv": frozenset({"csv"}),
    ".txt": frozenset({"text", "txt", "plain", "plaintext"}),
}
"""Language tags that fit a file by its extension. Files with other extensions fit any tag."""


# --- parsing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    start: int
    """Line index of the opening fence."""
    end: int
    """Line index of the closing fence, or the number of lines when the block is unclosed."""
    lang: str
    """The first word of the info string, lower-cased ('' when untagged)."""
    info: str
    content: str
    closed: bool


def _lines(answer: str) -> list[str]:
    return answer.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _blocks(lines: list[str]) -> list[_Block]:
    """Fenced code blocks, CommonMark style: a fence of 3+ backticks or tildes (indented at
    most 3 spaces) closes at a line holding only a fence of the same character at least as
    long; an unclosed block runs to the end of the text."""
    blocks: list[_Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            i += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        body = [_dedent(line, indent) for line in lines[i + 1 : j]]
        info = opening["info"].strip()
        blocks.append(
            _Block(
                start=i,
                end=j,
                lang=(info.split()[0].lower() if info else "").strip("{}."),
                info=info,
                content="\n".join(body) + "\n" if body else "",
                closed=j < len(lines),
            )
        )
        i = j + 1
    return blocks


def _dedent(line: str, indent: int) -> str:
    stripped = len(line) - len(line.lstrip(" "))
    return line[min(indent, stripped) :]


def _normalise_path(path: str) -> str:
    path = path.strip().strip("`'\"*")
    while path.startswith("./"):
        path = path[2:]
    return path


def _previous_nonblank(lines: list[str], before: int, floor: int) -> int | None:
    i = before - 1
    while i >= floor and not lines[i].strip():
        i -= 1
    return i if i >= floor else None


def _strict_blocks(lines: list[str], blocks: list[_Block]) -> dict[str, _Block]:
    """Closed blocks whose previous non-blank line is `FILE: <path>`, by path (last wins)."""
    found: dict[str, _Block] = {}
    floor = 0
    for block in blocks:
        at = _previous_nonblank(lines, block.start, floor)
        if at is not None and block.closed and (m := _FILE_LINE.match(lines[at])):
            found[_normalise_path(m["path"])] = block
        floor = block.end + 1
    return found


def extract_strict(answer: str, files: Sequence[str]) -> dict[str, str]:
    """The required files the answer gives exactly as the contract asks.

    A file counts only when a line `FILE: <path>` is followed — with nothing but blank lines
    in between — by a fenced code block (any language tag) that is closed. `./` before the
    path, and backticks, quotes or asterisks around it, are ignored. Blocks for files that are
    not required are ignored; when a file is given twice, the last block wins.
    """
    lines = _lines(answer)
    found = _strict_blocks(lines, _blocks(lines))
    return {path: found[path].content for path in files if path in found}


def _mentions(text: str, path: str) -> list[re.Match[str]]:
    """Where `text` mentions `path` as a whole path (`./` allowed, `test_solution.py` is not
    `solution.py`)."""
    return list(re.finditer(rf"(?<![\w./\\-])(?:\./)?{re.escape(path)}(?![\w/\\-])", text))


def _named(lines: list[str], block: _Block, floor: int, files: Sequence[str]) -> str | None:
    """The required file a block names: in a comment on its first line (after a shebang), in
    its info string, else the mention closest to it on the few non-blank lines before it."""
    body = block.content.split("\n")
    first = body[1] if body[0].startswith("#!") and len(body) > 1 else body[0]
    if _COMMENT.match(first):
        for path in files:
            if _mentions(first, path):
                return path
    for path in files:
        if _mentions(block.info, path):
            return path
    at, seen = block.start, 0
    while seen < _MENTION_WINDOW:
        found = _previous_nonblank(lines, at, floor)
        if found is None:
            break
        at, seen = found, seen + 1
        hits = [(m.start(), p) for p in files for m in _mentions(lines[at], p)]
        if hits:
            return max(hits)[1]
    return None


def _fit(block: _Block, path: str) -> int:
    """2: the language tag fits the file; 1: untagged (or a file of unknown type); 0: misfit."""
    known = _LANGUAGES.get(Path(path).suffix.lower())
    if known is None:
        return 1
    if block.lang in known:
        return 2
    return 1 if not block.lang else 0


def extract_lenient(answer: str, files: Sequence[str]) -> dict[str, str]:
    """The required files, found in any fenced code block, for the execution score.

    1. Every file the strict rule finds (`extract_strict`) is taken from its FILE block.
    2. Each remaining file takes the last remaining block that *names* it, unless the block's
       language tag misfits the file (a `bash` block for a `.py` file). A block names a file
       when its first line (after any shebang) is a comment mentioning the path, when its info
       string mentions the path (```` ```python solution.py ````), or else by the mention
       closest to the block on the 3 non-blank lines before it (not reaching back past the
       previous block).
    3. Files still missing take, in the order required, the first remaining block that names
       no required file and whose language fits: a block tagged for the file's type (e.g.
       `python`/`py` for `.py`) first, else an untagged one. Misfitting blocks are never used.

    A block left unclosed at the end of the answer runs to the end (a truncated answer still
    gets its code run).
    """
    lines = _lines(answer)
    blocks = _blocks(lines)
    strict = _strict_blocks(lines, blocks)
    result = {path: strict[path].content for path in files if path in strict}
    used = {id(strict[path]) for path in result}
    floors = [0, *(b.end + 1 for b in blocks)][: len(blocks)]
    names = {id(b): _named(lines, b, floor, files) for b, floor in zip(blocks, floors, strict=True)}
    for path in files:
        if path in result:
            continue
        named = [b for b in blocks if id(b) not in used and names[id(b)] == path and _fit(b, path)]
        if named:
            result[path] = named[-1].content
            used.add(id(named[-1]))
    for path in files:
        if path in result:
            continue
        pool = [b for b in blocks if id(b) not in used and names[id(b)] is None]
        for wanted in (2, 1):
            choice = next((b for b in pool if _fit(b, path) == wanted), None)
            if choice is not None:
                result[path] = choice.content
                used.add(id(choice))
                break
    return {path: result[path] for path in files if path in result}


def prose_lines(answer: str) -> list[str]:
    """The answer's lines outside its code blocks."""
    lines = _lines(answer)
    inside: set[int] = set()
    for block in _blocks(lines):
        inside.update(range(block.start, min(block.end, len(lines) - 1) + 1))
    return [line for i, line in enumerate(lines) if i not in inside]


def file_names(answer: str) -> list[str]:
    """The paths the answer's `FILE:` lines name, in order (outside code blocks)."""
    return [
        _normalise_path(m["path"]) for line in prose_lines(answer) if (m := _FILE_LINE.match(line))
    ]


def has_run_line(answer: str) -> bool:
    """Whether a `RUN: <command>` line appears outside the code blocks."""
    return any(_RUN_LINE.match(line) for line in prose_lines(answer))


# --- rendering -----------------------------------------------------------------------------


_TAGS = {".py": "python", ".json": "json", ".sh": "bash", ".js": "javascript", ".ts": "typescript"}
_TAGS |= {".md": "markdown", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".ini": "ini"}
_TAGS |= {".csv": "csv", ".txt": "text"}


def _language_tag(path: str) -> str:
    return _TAGS.get(Path(path).suffix.lower(), "")


def _fenced(content: str, lang: str) -> str:
    longest = max((len(m) for m in re.findall(r"^ {0,3}(`{3,})", content, re.M)), default=2)
    fence = "`" * max(3, longest + 1)
    body = content if content.endswith("\n") or not content else content + "\n"
    return f"{fence}{lang}\n{body}{fence}\n"


def render_answer(files: Mapping[str, str], run: str | None, *, contract: bool) -> str:
    """An answer giving `files` (path → content), in the contract's format or not.

    With `contract`: a `FILE:` block per file, then `RUN: <run>` — the reference answer, which
    must score format 1. Without: a sentence and a plain fenced block per file (named on the
    line before it when there are several), then the run command in prose — an answer that
    ignores the contract, which must still score on execution.
    """
    parts: list[str] = []
    if contract:
        for path, content in files.items():
            parts.append(f"FILE: {path}\n{_fenced(content, _language_tag(path))}")
        if run:
            parts.append(f"RUN: {run}\n")
        return "\n".join(parts)
    several = len(files) > 1
    parts.append("Here is a solution." if several else "Here is the program:\n")
    for path, content in files.items():
        if several:
            parts.append(f"`{path}`:\n")
        parts.append(_fenced(content, _language_tag(path)))
    if run:
        parts.append(f"Run it with `{run}`.\n")
    return "\n".join(parts)
