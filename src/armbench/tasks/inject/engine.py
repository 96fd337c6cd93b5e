"""Selection, application, verification and restoration of injected breakage.

`inject` never trusts an operator's promise: it copies the repository to a temporary folder,
checks the copy is green, picks sites, applies them and runs mypy, ruff and pytest on the copy,
keeping only mutations that each produced exactly one finding of their own kind. The real
repository is written only once the counts are exact, so any failure leaves it untouched.

Selection rule. Every candidate site is enumerated in a stable order (sorted paths, catalogue
order, source order) and shuffled with `random.Random(seed)`; sites are then taken greedily in
that order — one kind after another, most constrained first (collect, mypy, ruff) — skipping
any whose extent overlaps one already taken (so no two mutations share a statement, a
signature or a test function) and any second `collect` site in a test module.

Verification. Each checker finding is attributed to the mutation whose extent — mapped onto
the mutated file, line shifts from inserted lines included — contains its line (collection
errors: the `collect` mutation in that module). A mutation is good iff exactly one finding of
its own kind and none of another kind is attributed to it. Findings attributed to none mean
mutations interacted; the suspects are dropped: operators marked `remote` in that file or whose
changed name it mentions, else every `remote` one, else every mutation in that file. A mutation
that produced nothing is dropped; a silent ruff operator is not tried again in that file (its
rule is probably disabled there), nor anywhere once it has been silent in two files. Dropped
sites are replaced from the rest of the shuffled pool and everything is re-verified, for at
most `MAX_ROUNDS` rounds. Test failures (not collection errors) are not counted: an
`attribute_typo` may legitimately make a test fail.

Everything depends only on the repository's bytes, the seed and the checkers' behaviour, so the
same inputs give byte-identical files and manifest.
"""

from __future__ import annotations

import fnmatch
import os
import random
import re
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from armbench.checks import (
    COLLECTION,
    CheckReport,
    Finding,
    installed_versions,
    run_mypy,
    run_pytest,
    run_ruff,
)
from armbench.core import IGNORED_DIRS
from armbench.env import LOCAL, EnvironmentFactory
from armbench.tasks.inject.catalogue import (
    KINDS,
    OPERATORS,
    Kind,
    Module,
    RepoContext,
    Site,
    find_sites,
)
from armbench.tasks.inject.manifest import (
    ExpectedFinding,
    FileDigest,
    InjectionError,
    InjectionManifest,
    InjectionRequest,
    MutationRecord,
    TextEdit,
    sha256,
)

MAX_ROUNDS = 6
"""Verification rounds (one run of each checker per round) before giving up."""

FILL_ORDER: tuple[Kind, ...] = ("collect", "mypy", "ruff")
"""Kinds in the order sites are picked: the most constrained first."""

_MYPY_IGNORE = re.compile(rb"^[ \t]*#[ \t]*mypy:.*\bignore[-_]errors\b", re.MULTILINE)
_RUFF_NOQA = re.compile(rb"^[ \t]*#[ \t]*(?:ruff|flake8)[ \t]*:[ \t]*noqa", re.MULTILINE | re.I)
_TYPE_IGNORE = re.compile(rb"#[ \t]*type:[ \t]*ignore\b")
_TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$")


# --- sources and scope ----------------------------------------------------------------------


def read_sources(repo: Path) -> dict[str, bytes]:
    """Every regular `.py` file under `repo` (posix relative path → bytes), in sorted order."""
    found: dict[str, bytes] = {}
    for root, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS and not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if name.endswith(".py") and path.is_file() and not path.is_symlink():
                found[path.relative_to(repo).as_posix()] = path.read_bytes()
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class Scope:
    """Which files each kind of mutation may touch: the files its checker really looks at."""

    mypy: frozenset[str]
    ruff: frozenset[str]
    collect: frozenset[str]

    def kinds_for(self, path: str) -> frozenset[Kind]:
        return frozenset(k for k in KINDS if path in self.files(k))

    def files(self, kind: Kind) -> frozenset[str]:
        return {"mypy": self.mypy, "ruff": self.ruff, "collect": self.collect}[kind]

    def narrowed(self, *, ruff: Iterable[str], collect: Iterable[str]) -> Scope:
        """This scope intersected with what the checkers themselves listed."""
        return Scope(self.mypy, self.ruff & frozenset(ruff), self.collect & frozenset(collect))

    @classmethod
    def static(cls, repo: Path, sources: Mapping[str, bytes]) -> Scope:
        """What can be told without running a checker: markers in files, mypy's `files`."""
        mypy_files = _mypy_configured(repo, sources)
        return cls(
            mypy=frozenset(p for p in mypy_files if not _mypy_skips(sources[p])),
            ruff=frozenset(p for p, data in sources.items() if not _RUFF_NOQA.search(data)),
            collect=frozenset(p for p in sources if _TEST_FILE.search(p)),
        )


def _mypy_skips(data: bytes) -> bool:
    """`# mypy: ignore-errors`, or a `# type: ignore` above the first statement."""
    return bool(_MYPY_IGNORE.search(data)) or _ignored_top(data)


def _ignored_top(data: bytes) -> bool:
    """A `# type: ignore` comment before the first statement makes mypy skip the module."""
    for line in data.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(b"#"):
            return False
        if _TYPE_IGNORE.search(stripped):
            return True
    return False


def _mypy_configured(repo: Path, sources: Mapping[str, bytes]) -> list[str]:
    """Sources inside `[tool.mypy] files`, minus `exclude` and `ignore_errors` overrides."""
    config = _pyproject(repo).get("tool", {}).get("mypy", {})
    files = config.get("files")
    entries = [files] if isinstance(files, str) else list(files or [])
    entries = [e.strip().rstrip("/") for entry in entries for e in str(entry).split(",")]
    excludes = config.get("exclude") or []
    patterns = [excludes] if isinstance(excludes, str) else list(excludes)
    ignored = [
        pattern
        for override in config.get("overrides", [])
        if override.get("ignore_errors")
        for pattern in _as_list(override.get("module"))
    ]
    return [
        path
        for path in sources
        if (not entries or any(_under(path, e) for e in entries if e))
        and not any(re.search(p, path) for p in patterns)
        and not any(_module_matches(_module_name(path), p) for p in ignored)
    ]


def _pyproject(repo: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _under(path: str, entry: str) -> bool:
    entry = entry.removeprefix("./")
    if entry in (".", ""):
        return True
    return path == entry or path.startswith(entry + "/") or fnmatch.fnmatch(path, entry)


def _module_name(path: str) -> str:
    parts = path.removesuffix(".py").split("/")
    if parts[0] in ("src", "lib") and len(parts) > 1:
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _module_matches(module: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        stem = pattern[:-2]
        return module == stem or module.startswith(stem + ".")
    return module == pattern


def repo_context(sources: Mapping[str, bytes]) -> RepoContext:
    """Top-level names the repository provides: an added `import` must not resolve to them."""
    names = {_module_name(path).split(".")[0] for path in sources}
    return RepoContext(local_modules=frozenset(n for n in names if n))


# --- planning -------------------------------------------------------------------------------


def candidates(sources: Mapping[str, bytes], scope: Scope, ctx: RepoContext) -> list[Site]:
    """Every site in scope, in a stable order: sorted paths, catalogue order, source order."""
    sites: list[Site] = []
    for path in sorted(sources):
        kinds = scope.kinds_for(path)
        module = Module.parse(path, sources[path]) if kinds else None
        if module is not None:
            sites.extend(find_sites(module, ctx, kinds))
    return sites


@dataclass(frozen=True)
class Plan:
    """A selection of non-colliding sites, before any checker has looked at it."""

    request: InjectionRequest
    sources: Mapping[str, bytes] = field(repr=False)
    sites: tuple[Site, ...]
    """The chosen sites, sorted by path and offset."""
    pool: tuple[Site, ...] = field(repr=False)
    """Every candidate, in the seeded order replacements are drawn from."""

    def contents(self) -> dict[str, bytes]:
        """The touched files with every chosen edit applied."""
        return apply_sites(self.sources, self.sites)

    def manifest(
        self,
        evidence: Mapping[Site, ExpectedFinding] | None = None,
        checkers: Mapping[str, str] | None = None,
    ) -> InjectionManifest:
        return build_manifest(
            self.request, self.sources, self.sites, evidence or {}, checkers or {}
        )


def plan(repo: Path, request: InjectionRequest, *, scope: Scope | None = None) -> Plan:
    """Pick sites for `request` without running any checker (pure and deterministic).

    Without `scope`, only what can be told statically limits the files (see `Scope.static`);
    `inject` narrows it with what ruff and pytest list. Raises InjectionError when there are
    not enough non-colliding sites of a kind.
    """
    sources = read_sources(repo)
    scope = scope if scope is not None else Scope.static(repo, sources)
    pool = seeded_pool(sources, scope, request.seed)
    chosen = _Selection(pool, request).fill([])
    return Plan(request, sources, _sorted(chosen), tuple(pool))


def seeded_pool(sources: Mapping[str, bytes], scope: Scope, seed: int) -> list[Site]:
    """Every candidate in scope, shuffled by `seed`: the order sites are drawn in."""
    pool = candidates(sources, scope, repo_context(sources))
    random.Random(seed).shuffle(pool)
    return pool


def _sorted(sites: Iterable[Site]) -> tuple[Site, ...]:
    return tuple(sorted(sites, key=lambda s: s.order_key))


class _Selection:
    """Greedy picking from the seeded pool, with the sites and operators ruled out so far."""

    def __init__(self, pool: Sequence[Site], request: InjectionRequest) -> None:
        self.pool = pool
        self.request = request
        self.banned: set[Site] = set()
        self.banned_in_path: set[tuple[str, str]] = set()
        self.banned_ops: set[str] = set()
        self.silent_paths: dict[str, set[str]] = {}

    def usable(self, site: Site) -> bool:
        return not (
            site in self.banned
            or (site.operator, site.path) in self.banned_in_path
            or site.operator in self.banned_ops
        )

    def fill(self, kept: Sequence[Site]) -> list[Site]:
        """`kept` plus pool sites, in pool order, until every kind has its count.

        Kinds are filled scarcest first (`FILL_ORDER`): a collect site needs a whole test
        function to itself, so ruff's plentiful sites must not take those functions first.
        """
        chosen = list(kept)
        need = {k: self.request.of(k) - sum(s.kind == k for s in kept) for k in KINDS}
        for kind in FILL_ORDER:
            for site in self.pool:
                if need[kind] <= 0:
                    break
                if site.kind != kind or not self.usable(site) or site in chosen:
                    continue
                if not any(site.collides(c) for c in chosen):
                    chosen.append(site)
                    need[kind] -= 1
        short = {k: n for k, n in need.items() if n > 0}
        if short:
            raise InjectionError(self._shortage(short))
        return chosen

    def ban(self, site: Site) -> None:
        self.banned.add(site)

    def silence(self, site: Site) -> None:
        """The site produced no finding. A silent ruff site means its rule is likely off in
        that file (or everywhere, once silent in two files), so the rule is not tried there
        again; a silent mypy or collect site says nothing about its operator's other sites."""
        self.banned.add(site)
        if site.kind != "ruff":
            return
        self.banned_in_path.add((site.operator, site.path))
        paths = self.silent_paths.setdefault(site.operator, set())
        paths.add(site.path)
        if len(paths) >= 2:
            self.banned_ops.add(site.operator)

    def _shortage(self, short: Mapping[Kind, int]) -> str:
        parts = []
        for kind, missing in short.items():
            wanted = self.request.of(kind)
            pool = [s for s in self.pool if s.kind == kind]
            ruled_out = sum(not self.usable(s) for s in pool)
            where = len({s.path for s in pool})
            unit = "files" if kind != "collect" else "test modules (one error per module)"
            detail = f"{len(pool)} candidate sites in {where} {unit}"
            if ruled_out:
                detail += (
                    f"; verification ruled out {ruled_out} (no finding: is the rule enabled? "
                    "wrong count, or interference)"
                )
            parts.append(
                f"{kind}: asked for {wanted}, could place only {wanted - missing} ({detail}; "
                "the rest collide with sites already chosen)"
            )
        return (
            "not enough injection sites — "
            + "; ".join(parts)
            + ". Ask for fewer mutations of that kind, or use a larger repository."
        )


# --- applying edits -------------------------------------------------------------------------


def apply_sites(sources: Mapping[str, bytes], sites: Iterable[Site]) -> dict[str, bytes]:
    """The touched files with their sites' edits applied (edits never overlap)."""
    by_path: dict[str, list[Site]] = {}
    for site in sites:
        by_path.setdefault(site.path, []).append(site)
    out: dict[str, bytes] = {}
    for path, group in sorted(by_path.items()):
        data = sources[path]
        for site in sorted(group, key=lambda s: s.edit.start, reverse=True):
            edit = site.edit
            if data[edit.start : edit.end] != edit.old:
                raise InjectionError(f"{path}: site {site.operator} does not match the file")
            data = data[: edit.start] + edit.new + data[edit.end :]
        out[path] = data
    return out


def line_number(data: bytes, offset: int) -> int:
    r"""1-based line of byte `offset`, counting `\n`, `\r\n` and lone `\r` as Python does."""
    head = data[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def _line_ranges(
    sources: Mapping[str, bytes], sites: Sequence[Site]
) -> dict[Site, tuple[int, int]]:
    """Each site's extent as a line range of the mutated file (after every edit in it)."""
    ranges: dict[Site, tuple[int, int]] = {}
    mutated = apply_sites(sources, sites)
    for site in sites:
        same = [s.edit for s in sites if s.path == site.path]
        start = site.extent[0] + sum(e.delta for e in same if e.start < site.extent[0])
        end = site.extent[1] + sum(e.delta for e in same if e.start <= site.extent[1])
        data = mutated[site.path]
        ranges[site] = (line_number(data, start), line_number(data, max(start, end - 1)))
    return ranges


# --- running the checkers -------------------------------------------------------------------


@dataclass(frozen=True)
class _Reports:
    mypy: CheckReport
    ruff: CheckReport
    pytest: CheckReport

    def all(self) -> tuple[CheckReport, CheckReport, CheckReport]:
        return (self.mypy, self.ruff, self.pytest)


class _Checkers:
    """The three checkers on the scratch copy; the mypy cache persists across rounds."""

    def __init__(
        self,
        workdir: Path,
        python: str,
        cache_dir: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        environments: EnvironmentFactory = LOCAL,
    ) -> None:
        self.env = environments(workdir, path_prefix=[Path(python).parent], extra_env=extra_env)
        self.python = python
        self.cache_dir = cache_dir

    def run(self) -> _Reports:
        assert self.cache_dir is not None, "mypy needs a cache dir outside the repository"
        with ThreadPoolExecutor(max_workers=3) as pool:
            mypy = pool.submit(run_mypy, self.env, python=self.python, cache_dir=self.cache_dir)
            ruff = pool.submit(run_ruff, self.env, python=self.python)
            pytest = pool.submit(run_pytest, self.env, python=self.python)
            return _Reports(mypy.result(), ruff.result(), pytest.result())

    def ruff_files(self) -> list[str]:
        """The files ruff checks under the project's configuration (excludes applied)."""
        argv = [self.python, "-m", "ruff", "check", "--show-files", "--no-cache"]
        result = self.env.run(argv, timeout_s=120, merge_stderr=False, output_cap=10_000_000)
        return self._relative(result.output.splitlines())

    def test_modules(self) -> list[str]:
        """The modules pytest collects tests from, under the project's configuration."""
        argv = [self.python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        result = self.env.run(argv, timeout_s=300, merge_stderr=False, output_cap=10_000_000)
        ids = [line.split("::", 1)[0] for line in result.output.splitlines() if "::" in line]
        return self._relative(ids)

    def _relative(self, paths: Iterable[str]) -> list[str]:
        root = self.env.workdir
        out: set[str] = set()
        for raw in paths:
            path = Path(raw.strip())
            absolute = path if path.is_absolute() else root / path
            if absolute.suffix == ".py" and absolute.is_file():
                try:
                    out.add(absolute.resolve().relative_to(root).as_posix())
                except ValueError:
                    continue
        return sorted(out)


def discover_scope(
    repo: Path, python: str = sys.executable, *, environments: EnvironmentFactory = LOCAL
) -> Scope:
    """`Scope.static` narrowed by what ruff and pytest list in `repo` (which they do not touch).

    Use it with `plan` to see what `inject` would choose from, without running mypy.
    """
    repo = repo.resolve()
    checkers = _Checkers(repo, python, environments=environments)
    return _discover(checkers, repo, read_sources(repo))


def _discover(checkers: _Checkers, repo: Path, sources: Mapping[str, bytes]) -> Scope:
    static = Scope.static(repo, sources)
    return static.narrowed(ruff=checkers.ruff_files(), collect=checkers.test_modules())


def _require_green(reports: _Reports) -> None:
    for report in reports.all():
        if not report.passed:
            raise InjectionError(_not_green(report))


def _not_green(report: CheckReport) -> str:
    head = (
        f"the repository is not green under {report.tool}, so injected errors could not be counted"
    )
    if report.problem:
        tail = "\n".join(report.output_tail.strip().splitlines()[-8:])
        detail = f"{report.problem}; its output ended with:\n{tail}"
    elif report.findings:
        shown = "\n".join(
            f"  {f.path}:{f.line}: [{f.code}] {f.message.splitlines()[0] if f.message else ''}"
            for f in report.findings[:5]
        )
        detail = f"{len(report.findings)} finding(s), the first:\n{shown}"
    else:
        detail = f"counts {report.counts}, exit {report.exit_code}"
    return (
        f"{head}: {detail}\nFix these (or the checker's configuration) first: `inject` needs a "
        "repository where mypy, ruff and pytest all pass."
    )


# --- verification ---------------------------------------------------------------------------

_TOOL_KIND: dict[str, Kind] = {"mypy": "mypy", "ruff": "ruff", "pytest": "collect"}


@dataclass
class _Verdict:
    good: list[Site] = field(default_factory=list)
    bad: list[Site] = field(default_factory=list)
    silent: list[Site] = field(default_factory=list)
    suspects: set[Site] = field(default_factory=set)
    evidence: dict[Site, ExpectedFinding] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.bad or self.silent or self.suspects)


def _counted(reports: _Reports) -> list[tuple[Kind, ExpectedFinding, Finding]]:
    """The findings the request counts: every mypy and ruff finding, pytest collection errors."""
    out: list[tuple[Kind, ExpectedFinding, Finding]] = []
    for report in reports.all():
        if not report.parsed:
            raise InjectionError(
                f"{report.tool} could not be run on the mutated copy: {report.problem}. "
                f"Check that `{report.tool}` runs in this repository with the chosen interpreter."
            )
        for f in report.findings:
            if report.tool == "pytest" and f.code != COLLECTION:
                continue  # a failing test is an acceptable side effect, not a counted error
            expected = ExpectedFinding(
                tool=report.tool, code=f.code, line=f.line, message=f.message
            )
            out.append((_TOOL_KIND[report.tool], expected, f))
    return out


def _verdict(reports: _Reports, sources: Mapping[str, bytes], chosen: Sequence[Site]) -> _Verdict:
    ranges = _line_ranges(sources, chosen)
    own: dict[Site, list[ExpectedFinding]] = {s: [] for s in chosen}
    foreign: dict[Site, int] = dict.fromkeys(chosen, 0)
    verdict = _Verdict()
    for kind, expected, finding in _counted(reports):
        owners = _owners(kind, finding, chosen, ranges)
        if any(site.kind == kind for site in owners):
            for site in owners:
                if site.kind == kind:
                    own[site].append(expected)
                else:
                    foreign[site] += 1
            continue
        # No owner of this kind: a far-reaching mutation of this kind that touches this file
        # is the likelier cause than whatever other mutation happens to own the line.
        near = [s for s in _near(finding.path, chosen, sources) if s.kind == kind]
        if owners and not near:
            for site in owners:
                foreign[site] += 1
            continue
        verdict.suspects |= set(near) or _suspects(finding.path, chosen, sources)
        verdict.notes.append(f"{expected.tool} {finding.path}:{finding.line} [{finding.code}]")
    for site in chosen:
        if len(own[site]) == 1 and not foreign[site]:
            verdict.good.append(site)
            verdict.evidence[site] = own[site][0]
        elif not own[site] and not foreign[site]:
            verdict.silent.append(site)
        else:
            verdict.bad.append(site)
    verdict.good = [s for s in verdict.good if s not in verdict.suspects]
    return verdict


def _owners(
    kind: Kind, finding: Finding, chosen: Sequence[Site], ranges: Mapping[Site, tuple[int, int]]
) -> list[Site]:
    if kind == "collect":
        return [s for s in chosen if s.kind == "collect" and s.path == finding.path]
    return [
        s for s in chosen if s.path == finding.path and ranges[s][0] <= finding.line <= ranges[s][1]
    ]


def _near(path: str, chosen: Sequence[Site], sources: Mapping[str, bytes]) -> list[Site]:
    """`remote` mutations in `path` or whose changed name `path` mentions."""
    text = sources.get(path, b"")
    return [
        s
        for s in chosen
        if OPERATORS[s.operator].remote and (s.path == path or _mentions(text, s.symbol))
    ]


def _suspects(path: str, chosen: Sequence[Site], sources: Mapping[str, bytes]) -> set[Site]:
    """Who probably caused a finding no mutation owns.

    Only `remote` operators are expected to reach outside their extent: those in that file or
    whose changed name appears in it first, then every remote one; failing that, whatever is
    in that file, else everything.
    """
    remote = [s for s in chosen if OPERATORS[s.operator].remote]
    here = [s for s in chosen if s.path == path]
    return set(_near(path, chosen, sources) or remote or here or chosen)


def _mentions(text: bytes, name: str) -> bool:
    return bool(name) and re.search(rb"\b" + re.escape(name.encode()) + rb"\b", text) is not None


# --- the engine -----------------------------------------------------------------------------


def inject(
    repo: Path,
    request: InjectionRequest,
    python: str = sys.executable,
    *,
    extra_env: Mapping[str, str] | None = None,
    environments: EnvironmentFactory = LOCAL,
) -> InjectionManifest:
    """Inject exactly the requested breakage into `repo`, verified by the real checkers.

    The repository is changed only on success; InjectionError (with what to do) otherwise.
    `extra_env` is added to the checkers' environment (a task's template is verified the way
    its judge will run).
    """
    repo = repo.resolve()
    if request.total == 0:
        return InjectionManifest(seed=request.seed, requested=request.counts)
    with tempfile.TemporaryDirectory(prefix="armbench-inject-") as tmp:
        work = Path(tmp) / "repo"
        _copy_repo(repo, work)
        checkers = _Checkers(work, python, Path(tmp) / "mypy-cache", extra_env, environments)
        sources = read_sources(work)
        with ThreadPoolExecutor(max_workers=1) as executor:
            listing = executor.submit(_discover, checkers, work, sources)
            baseline = checkers.run()
            scope = listing.result()
        _require_green(baseline)
        pool = seeded_pool(sources, scope, request.seed)
        chosen, evidence = _verify_rounds(checkers, work, sources, pool, request)
        manifest = build_manifest(
            request,
            sources,
            chosen,
            evidence,
            installed_versions(python, work, environments=environments),
        )
        _write_back(repo, sources, apply_sites(sources, chosen))
    return manifest


def _verify_rounds(
    checkers: _Checkers,
    work: Path,
    sources: Mapping[str, bytes],
    pool: Sequence[Site],
    request: InjectionRequest,
) -> tuple[tuple[Site, ...], dict[Site, ExpectedFinding]]:
    """Verify, drop and replace until every mutation is good, or give up."""
    selection = _Selection(pool, request)
    chosen = selection.fill([])
    written: set[str] = set()
    history: list[str] = []
    for round_no in range(MAX_ROUNDS):
        written = _write_copy(work, sources, chosen, written, round_no)
        verdict = _verdict(checkers.run(), sources, chosen)
        if verdict.clean:
            return _sorted(chosen), verdict.evidence
        history.append(_round_summary(verdict))
        for site in [*verdict.bad, *verdict.suspects]:
            selection.ban(site)
        for site in verdict.silent:
            selection.silence(site)
        chosen = selection.fill(verdict.good)
    raise InjectionError(
        f"could not reach exactly {request.mypy} mypy, {request.ruff} ruff and {request.collect} "
        f"collection errors after {MAX_ROUNDS} verification rounds ("
        + "; ".join(history)
        + "). Try another seed or fewer mutations; the repository was left untouched."
    )


def _round_summary(verdict: _Verdict) -> str:
    def ops(sites: Iterable[Site]) -> str:
        return ", ".join(sorted(f"{s.operator}@{s.path}:{s.line}" for s in sites)) or "none"

    unowned = f" (unowned findings: {', '.join(verdict.notes)})" if verdict.notes else ""
    return (
        f"{len(verdict.good)} good, dropped wrong-count: {ops(verdict.bad)}, silent: "
        f"{ops(verdict.silent)}, interacting: {ops(verdict.suspects)}{unowned}"
    )


_STAMP_BASE = 1_000_000_000
"""Mtimes (2001) given to rewritten files of the scratch copy, one second apart per round."""


def _write_copy(
    work: Path,
    sources: Mapping[str, bytes],
    chosen: Sequence[Site],
    written: set[str],
    round_no: int,
) -> set[str]:
    """Bring the scratch copy to `sources` + `chosen`, rewriting only files that change.

    mypy's incremental cache trusts a file whose size and whole-second mtime are unchanged,
    and a swapped-letter typo keeps the size; so every rewrite gets an mtime of its own.
    """
    mutated = apply_sites(sources, chosen)
    stamp = _STAMP_BASE + round_no
    rewrites = {p: sources[p] for p in written - set(mutated)} | mutated
    for path, data in sorted(rewrites.items()):
        (work / path).write_bytes(data)
        os.utime(work / path, (stamp, stamp))
    return set(mutated)


def build_manifest(
    request: InjectionRequest,
    sources: Mapping[str, bytes],
    sites: Iterable[Site],
    evidence: Mapping[Site, ExpectedFinding],
    checkers: Mapping[str, str],
) -> InjectionManifest:
    """The manifest for `sites` applied to `sources`, edits ordered by path then offset."""
    ordered = _sorted(sites)
    mutated = apply_sites(sources, ordered)
    shift: dict[str, int] = {}
    records: list[MutationRecord] = []
    for site in ordered:
        offset = site.edit.start + shift.get(site.path, 0)
        shift[site.path] = shift.get(site.path, 0) + site.edit.delta
        old, new = site.edit.old.decode("utf-8"), site.edit.new.decode("utf-8")
        operator = OPERATORS[site.operator]
        records.append(
            MutationRecord(
                kind=site.kind,
                operator=site.operator,
                path=site.path,
                line=line_number(mutated[site.path], offset),
                description=operator.description,
                change=site.change,
                forward=TextEdit(offset=offset, old=old, new=new),
                inverse=TextEdit(offset=offset, old=new, new=old),
                finding=evidence.get(site),
            )
        )
    files = tuple(
        FileDigest(path=p, sha256_before=sha256(sources[p]), sha256_after=sha256(data))
        for p, data in sorted(mutated.items())
    )
    return InjectionManifest(
        seed=request.seed,
        requested=request.counts,
        checkers=dict(sorted(checkers.items())),
        mutations=tuple(records),
        files=files,
    )


# --- the real repository --------------------------------------------------------------------


def _copy_repo(repo: Path, work: Path) -> None:
    """Copy everything but caches; a `.git` marker keeps ruff honouring `.gitignore`."""
    if not repo.is_dir():
        raise InjectionError(f"{repo} is not a directory")
    shutil.copytree(repo, work, symlinks=True, ignore=lambda _d, names: IGNORED_DIRS & set(names))
    if any((p / ".git").exists() for p in (repo, *repo.parents)):
        (work / ".git").mkdir(exist_ok=True)


def _write_back(repo: Path, originals: Mapping[str, bytes], contents: Mapping[str, bytes]) -> None:
    """Write `contents` into `repo` file by file (temp + rename); undo all on any failure."""
    for path in contents:
        if (repo / path).read_bytes() != originals[path]:
            raise InjectionError(
                f"{path} changed while injecting; nothing was written — run `inject` again"
            )
    done: list[str] = []
    try:
        for path, data in sorted(contents.items()):
            _atomic_write(repo / path, data)
            done.append(path)
    except OSError as exc:
        for path in done:
            _atomic_write(repo / path, originals[path])
        raise InjectionError(f"could not write {repo}: {exc}; the repository was restored") from exc


def _atomic_write(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        shutil.copymode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def restore(repo: Path, manifest: InjectionManifest) -> None:
    """Undo an injection by applying the manifest's inverse edits in reverse order.

    Raises InjectionError, writing nothing, when a touched file no longer holds the injected
    bytes or the result would not hash to the recorded original.
    """
    repo = repo.resolve()
    current: dict[str, bytes] = {}
    for path in manifest.touched_paths:
        try:
            current[path] = (repo / path).read_bytes()
        except OSError as exc:
            raise InjectionError(f"{path}: cannot read it to restore ({exc})") from exc
    originals = manifest.apply_inverse(current)
    _write_back(repo, current, originals)
