"""What the injector tests share: a module parsed from source, an operator's sites in it, and
its edits applied (each checked byte-exact and reversible)."""

from __future__ import annotations

from textwrap import dedent

from armbench.tasks.inject.catalogue import KINDS, Module, RepoContext, Site, find_sites


def parse(source: str | bytes, path: str = "pkg/mod.py") -> Module:
    data = dedent(source).encode() if isinstance(source, str) else source
    module = Module.parse(path, data)
    assert module is not None
    return module


def sites_of(
    operator: str, source: str | bytes, path: str = "pkg/mod.py", ctx: RepoContext | None = None
) -> list[Site]:
    module = parse(source, path)
    found = find_sites(module, ctx or RepoContext(), frozenset(KINDS))
    return [s for s in found if s.operator == operator]


def apply(module_source: str | bytes, site: Site) -> bytes:
    """Apply one site's edit, check the inverse restores the bytes, return the mutated text."""
    data = dedent(module_source).encode() if isinstance(module_source, str) else module_source
    edit = site.edit
    assert data[edit.start : edit.end] == edit.old
    mutated = data[: edit.start] + edit.new + data[edit.end :]
    inverse_end = edit.start + len(edit.new)
    assert mutated[: edit.start] + edit.old + mutated[inverse_end:] == data
    return mutated


def mutations(operator: str, source: str, path: str = "pkg/mod.py") -> list[str]:
    return [apply(source, s).decode() for s in sites_of(operator, source, path)]
