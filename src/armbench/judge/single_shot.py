"""Scoring single-shot answers: the execution contract, file extraction, and two scores.

A single-shot answer is plain text. It gets two scores, each 0 or 1:

- the **format score** — did the answer follow the execution contract (`CONTRACT`)? Files are
  extracted *strictly*: only a `FILE: <path>` line followed by a fenced block counts;
- the **execution score** — does the code work? Files are extracted *leniently* (any fenced
  block, see `extract_lenient`), written into a copy of the task's fixture, its run steps are
  run and every check must pass. So an answer that ignores the format is judged on its code,
  not zeroed for its format.

`classify_contract_effect` compares the two scores with and without the contract.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from armbench.env.base import CommandResult
from armbench.env.local import JUDGED_ENV, LocalEnvironment
from armbench.store.records import GateResult
from armbench.tasks.files import copy_tree
from armbench.tasks.single_shot import CommandCheck, SingleShotTask, StdoutCheck

CONTRACT = """\
Answer in this exact format.

For each file, write a line `FILE: <path>` and, on the very next line, one fenced code block
holding the complete content of that file:

FILE: <path>
```<language>
<the complete content of the file>
```

Finish with one line `RUN: <command>`: the shell command that runs your program.

Rules:
- give every required file, in full: no placeholders, no "..." and no omitted parts;
- put no other fenced code blocks in the answer: no examples, no usage, no sample output.
"""
"""The execution contract appended to a task's prompt by `wrap_prompt`."""

RUN_OUTPUT_CAP = 1_000_000
"""Bytes of a run step's standard output kept for the stdout checks."""

_TAIL = 2_000
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


def wrap_prompt(prompt: str, files: Sequence[str]) -> str:
    """`prompt` followed by the execution contract and the list of files the answer must give."""
    listed = ", ".join(files)
    return f"{prompt.rstrip()}\n\n{CONTRACT}\nRequired files: {listed}\n"


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


def format_score(answer: str, files: Sequence[str]) -> int:
    """1 iff the strict extraction finds every required file (a RUN line is not needed)."""
    return int(len(extract_strict(answer, files)) == len(files))


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


# --- scoring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SingleShotScore:
    """How one answer scored; `gates` are recorded like an agentic trial's."""

    format_score: int
    """1 iff every required file came in a strict FILE block."""
    execution_score: int
    """1 iff every required file was extracted (leniently), and every run step and check
    passed."""
    run_line: bool
    """Whether the answer had a `RUN: <command>` line (not needed for the format score)."""
    files_strict: list[str]
    """The required files the strict extraction found."""
    files_lenient: list[str]
    """The required files the lenient extraction found (and that were run)."""
    gates: tuple[GateResult, ...]
    """`format`, then `file:<path>` per required file, a `run` gate per step and one gate per
    check (named by kind, numbered when a kind repeats)."""

    @property
    def passed(self) -> bool:
        return self.execution_score == 1


def _numbered(prefix: str, kinds: Sequence[str]) -> list[str]:
    return [
        f"{prefix}{k}" if kinds.count(k) == 1 else f"{prefix}{k}#{kinds[: i + 1].count(k)}"
        for i, k in enumerate(kinds)
    ]


def _tail(text: str) -> str:
    return text[-_TAIL:]


def _shim_dir(python: str, scratch: Path) -> Path:
    """A folder holding `python` and `python3` that exec the given interpreter."""
    resolved = python if "/" in python else (shutil.which(python) or python)
    folder = scratch / "bin"
    folder.mkdir()
    for name in ("python", "python3"):
        shim = folder / name
        shim.write_text(f'#!/bin/sh\nexec {shlex.quote(resolved)} "$@"\n', encoding="utf-8")
        shim.chmod(0o755)
    return folder


def _first_difference(expected: list[str], got: list[str]) -> str:
    for i, (want, have) in enumerate(zip(expected, got, strict=False), start=1):
        if want != have:
            return f"line {i}: expected {want[:120]!r}, got {have[:120]!r}"
    if len(expected) > len(got):
        missing = expected[len(got)][:120]
        return f"output ends after {len(got)} lines; line {len(got) + 1} should be {missing!r}"
    return f"{len(got) - len(expected)} unexpected lines after line {len(expected)}"


def _compare(expected: str, got: str, match: str) -> str:
    """'' when `got` matches `expected`, else why not."""
    if match == "json":
        try:
            want = json.loads(expected)
        except ValueError as exc:
            return f"the expected file is not JSON: {exc}"
        try:
            have = json.loads(got)
        except ValueError as exc:
            return f"the output is not JSON: {exc}"
        return "" if want == have and _same_json(want, have) else "the JSON values differ"
    if match == "lines":
        want_lines = _clean_lines(expected)
        got_lines = _clean_lines(got)
        return "" if want_lines == got_lines else _first_difference(want_lines, got_lines)
    if expected == got:
        return ""
    return _first_difference(expected.split("\n"), got.split("\n"))


def _same_json(a: object, b: object) -> bool:
    """Equality that, unlike ==, tells true from 1 and false from 0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def _clean_lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _not_run(name: str, kind: str, why: str) -> GateResult:
    return GateResult(
        name=name, kind=kind, passed=False, exit_code=None, counts={}, duration_s=0.0, details=why
    )


def _command_details(result: CommandResult, timeout_s: float, expect_exit: int = 0) -> str:
    if result.timed_out:
        return f"timed out after {timeout_s:g}s"
    if result.exit_code != expect_exit:
        return f"exit code {result.exit_code} (expected {expect_exit})"
    return ""


def _format_gate(files: Sequence[str], strict: Mapping[str, str], run_line: bool) -> GateResult:
    missing = [p for p in files if p not in strict]
    return GateResult(
        name="format",
        kind="format",
        passed=not missing,
        exit_code=None,
        counts={"required": len(files), "strict": len(strict), "run_line": int(run_line)},
        duration_s=0.0,
        details=f"no FILE block for: {', '.join(missing)}" if missing else "",
    )


def score(task: SingleShotTask, answer: str, *, python: str, scratch: Path) -> SingleShotScore:
    """Score `answer` to `task`: strictly for format, by running it for execution.

    A fresh workspace (a copy of the task's fixture) is made in a new folder under `scratch`,
    the leniently extracted files are written into it, each run step is run in order, then each
    check. Commands run through `LocalEnvironment` with a scrubbed environment in which
    `python`/`python3` are the interpreter `python`. When a required file is missing nothing
    is run; the run and check gates then fail as "not run".
    """
    files = task.spec.files
    strict = extract_strict(answer, files)
    lenient = extract_lenient(answer, files)
    run_line = has_run_line(answer)
    gates = [_format_gate(files, strict, run_line)]
    for path in files:
        gates.append(
            GateResult(
                name=f"file:{path}",
                kind="file",
                passed=path in lenient,
                exit_code=None,
                counts={"bytes": len(lenient.get(path, "").encode())},
                duration_s=0.0,
                details="" if path in lenient else "no code block found for this file",
            )
        )
    run_names = _numbered("", ["run"] * len(task.spec.run))
    check_names = _numbered("", [c.kind for c in task.spec.check])
    missing = [p for p in files if p not in lenient]
    if missing:
        why = f"not run: the answer gives no {', '.join(missing)}"
        gates += [_not_run(n, "run", why) for n in run_names]
        gates += [
            _not_run(n, c.kind, why) for n, c in zip(check_names, task.spec.check, strict=True)
        ]
    else:
        scratch.mkdir(parents=True, exist_ok=True)
        gates += _execute(
            task,
            lenient,
            python,
            Path(tempfile.mkdtemp(prefix="score-", dir=scratch)),
            run_names,
            check_names,
        )
    execution = int(all(g.passed for g in gates[1:]))
    return SingleShotScore(
        format_score=int(len(strict) == len(files)),
        execution_score=execution,
        run_line=run_line,
        files_strict=[p for p in files if p in strict],
        files_lenient=[p for p in files if p in lenient],
        gates=tuple(gates),
    )


def _execute(
    task: SingleShotTask,
    files: Mapping[str, str],
    python: str,
    root: Path,
    run_names: list[str],
    check_names: list[str],
) -> list[GateResult]:
    workspace = root / "workspace"
    fixture = task.fixture_dir
    if fixture is not None:
        copy_tree(fixture, workspace)
    else:
        workspace.mkdir()
    for rel, content in files.items():
        target = workspace / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.is_dir():
            raise ValueError(f"task {task.id}: the fixture has a link or folder at {rel}")
        target.write_text(content, encoding="utf-8")
    home = root / "home"
    home.mkdir()
    env = LocalEnvironment(
        workspace, home=home, path_prefix=[_shim_dir(python, root)], extra_env=JUDGED_ENV
    )
    gates: list[GateResult] = []
    outputs: list[CommandResult] = []
    for name, step in zip(run_names, task.spec.run, strict=True):
        result = env.run(
            step.command, timeout_s=step.timeout_s, output_cap=RUN_OUTPUT_CAP, merge_stderr=False
        )
        outputs.append(result)
        details = _command_details(result, step.timeout_s, step.expect_exit)
        if details and result.stderr.strip():
            details += ": " + result.stderr.strip().splitlines()[-1][:300]
        gates.append(
            GateResult(
                name=name,
                kind="run",
                passed=not details,
                exit_code=result.exit_code,
                counts={"stdout_bytes": len(result.output.encode())},
                duration_s=result.duration_s,
                output_tail=_tail(result.stderr or result.output),
                details=details,
            )
        )
    for name, check in zip(check_names, task.spec.check, strict=True):
        if isinstance(check, StdoutCheck):
            gates.append(_stdout_gate(name, check, task, outputs[check.step]))
        elif isinstance(check, CommandCheck):
            gates.append(_command_gate(name, check, env))
    return gates


def _stdout_gate(
    name: str, check: StdoutCheck, task: SingleShotTask, result: CommandResult
) -> GateResult:
    started = time.monotonic()
    expected = task.resolve(check.expected).read_bytes().decode("utf-8")
    if result.timed_out:
        why = "its run step timed out"
    elif result.truncated:
        why = f"the output exceeds {RUN_OUTPUT_CAP} bytes"
    else:
        why = _compare(expected, result.output, check.match)
    return GateResult(
        name=name,
        kind="stdout",
        passed=not why,
        exit_code=None,
        counts={"expected_bytes": len(expected.encode()), "got_bytes": len(result.output.encode())},
        duration_s=time.monotonic() - started,
        output_tail=_tail(result.output) if why else "",
        details=f"{check.match} match failed: {why}" if why else "",
    )


def _command_gate(name: str, check: CommandCheck, env: LocalEnvironment) -> GateResult:
    result = env.run(check.command, timeout_s=check.timeout_s)
    details = _command_details(result, check.timeout_s)
    if details and result.output.strip():
        details += ": " + result.output.strip().splitlines()[-1][:300]
    return GateResult(
        name=name,
        kind="command",
        passed=not details,
        exit_code=result.exit_code,
        counts={},
        duration_s=result.duration_s,
        output_tail=_tail(result.output),
        details=details,
    )


# --- comparing with and without the contract ----------------------------------------------

ContractEffect = Literal["format_only", "execution_gain", "regression", "no_effect"]


def classify_contract_effect(
    without: tuple[float, float], with_: tuple[float, float], *, tolerance: float = 0.0
) -> ContractEffect:
    """What the contract did, from (format, execution) scores — or rates — without and with it.

    - `execution_gain`: execution went up (the contract made more answers work);
    - `regression`: execution went down;
    - `format_only`: execution unchanged, format up — the contract changed how answers look,
      not whether they work (what a format-only judge would mistake for a gain);
    - `no_effect`: neither changed, or only format went down.

    Differences no larger than `tolerance` count as unchanged (0 for 0/1 scores; a margin
    such as a confidence half-width for rates).
    """
    (format_without, exec_without), (format_with, exec_with) = without, with_
    if exec_with - exec_without > tolerance:
        return "execution_gain"
    if exec_without - exec_with > tolerance:
        return "regression"
    if format_with - format_without > tolerance:
        return "format_only"
    return "no_effect"
