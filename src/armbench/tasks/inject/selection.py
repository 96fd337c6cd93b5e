"""Selection: the candidate sites in scope, the seeded pool, and the greedy pick from it.

Selection rule. Every candidate site is enumerated in a stable order (sorted paths, catalogue
order, source order) and shuffled with `random.Random(seed)`; sites are then taken greedily in
that order — local operators before remote ones (see `catalogue`), the operators of a kind in
turn, one kind after another, most constrained first (collect, mypy, ruff) — skipping
any whose extent overlaps one already taken (so no two mutations share a statement, a
signature or a test function) and any second `collect` site in a test module.

`plan` makes that selection without running any checker; `Selection` is the same greedy pick
with the sites and operators verification has ruled out.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from armbench.tasks.inject.apply import apply_sites, build_manifest, sorted_sites
from armbench.tasks.inject.catalogue import KINDS, OPERATORS, Kind, find_sites
from armbench.tasks.inject.manifest import (
    ExpectedFinding,
    InjectionError,
    InjectionManifest,
    InjectionRequest,
)
from armbench.tasks.inject.scope import Scope, read_sources, repo_context
from armbench.tasks.inject.sites import Module, RepoContext, Site

FILL_ORDER: tuple[Kind, ...] = ("collect", "mypy", "ruff")
"""Kinds in the order sites are picked: the most constrained first."""


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
    chosen = Selection(pool, request).fill([])
    return Plan(request, sources, sorted_sites(chosen), tuple(pool))


def seeded_pool(sources: Mapping[str, bytes], scope: Scope, seed: int) -> list[Site]:
    """Every candidate in scope, shuffled by `seed`: the order sites are drawn in."""
    pool = candidates(sources, scope, repo_context(sources))
    random.Random(seed).shuffle(pool)
    return pool


class Selection:
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
        ordered = sorted(self.pool, key=self._preference())
        for kind in FILL_ORDER:
            for site in ordered:
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

    def _preference(self) -> Callable[[Site], tuple[bool, int]]:
        """Local operators first (a remote one only when the local sites run out), and among
        them one site of each operator in turn, so a dozen errors are a dozen kinds of mistake
        rather than the commonest one twelve times; ties keep the seeded order."""
        turn: dict[Site, int] = {}
        seen: Counter[str] = Counter()
        for site in self.pool:
            turn[site] = seen[site.operator]
            seen[site.operator] += 1
        return lambda site: (OPERATORS[site.operator].remote, turn[site])

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
