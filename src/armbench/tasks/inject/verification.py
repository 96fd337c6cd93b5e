"""Verification: counting each checker finding against the mutation that caused it.

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
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from armbench.checks import COLLECTION, CheckReport, Finding
from armbench.tasks.inject.apply import line_ranges, sorted_sites, write_copy
from armbench.tasks.inject.catalogue import OPERATORS, Kind
from armbench.tasks.inject.checkers import Checkers, Reports
from armbench.tasks.inject.manifest import ExpectedFinding, InjectionError, InjectionRequest
from armbench.tasks.inject.selection import Selection
from armbench.tasks.inject.sites import Site

MAX_ROUNDS = 6
"""Verification rounds (one run of each checker per round) before giving up."""


# --- the baseline ---------------------------------------------------------------------------


def require_green(reports: Iterable[CheckReport]) -> None:
    for report in reports:
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
        f"{head}: {detail}\nFix these (or the checkers' arguments and configuration) first: "
        "breaking a repository on purpose needs one where mypy, ruff and pytest all pass."
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


def _counted(reports: Reports) -> list[tuple[Kind, ExpectedFinding, Finding]]:
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


def _verdict(reports: Reports, sources: Mapping[str, bytes], chosen: Sequence[Site]) -> _Verdict:
    ranges = line_ranges(sources, chosen)
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


# --- the rounds -----------------------------------------------------------------------------


def verify_rounds(
    checkers: Checkers,
    work: Path,
    sources: Mapping[str, bytes],
    pool: Sequence[Site],
    request: InjectionRequest,
) -> tuple[tuple[Site, ...], dict[Site, ExpectedFinding]]:
    """Verify, drop and replace until every mutation is good, or give up."""
    selection = Selection(pool, request)
    chosen = selection.fill([])
    written: set[str] = set()
    history: list[str] = []
    for round_no in range(MAX_ROUNDS):
        written = write_copy(work, sources, chosen, written, round_no)
        verdict = _verdict(checkers.run(), sources, chosen)
        if verdict.clean:
            return sorted_sites(chosen), verdict.evidence
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
