"""Selection, application, verification and restoration of injected breakage: `inject`.

`inject` never trusts an operator's promise: it copies the repository to a temporary folder,
checks the copy is green, picks sites, applies them and runs mypy, ruff and pytest on the copy,
keeping only mutations that each produced exactly one finding of their own kind. The real
repository is written only once the counts are exact, so any failure leaves it untouched.

Each step has its module: `scope` (which files each kind may touch), `selection` (the
selection rule, and `plan`), `apply` (edits, the scratch copy, writing back, `restore`),
`checkers` and `verification` (how findings are attributed and mutations kept or dropped).
This module keeps `inject` and re-exports the public names others import from here.

Everything depends only on the repository's bytes, the seed and the checkers' behaviour, so the
same inputs give byte-identical files and manifest.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from armbench.checks import DEFAULT_CHECK_ARGS, CheckArgs, installed_versions
from armbench.env import LOCAL, EnvironmentFactory
from armbench.tasks.inject.apply import (
    apply_sites,
    build_manifest,
    copy_repo,
    restore,
    write_back,
)
from armbench.tasks.inject.checkers import Checkers
from armbench.tasks.inject.manifest import InjectionManifest, InjectionRequest
from armbench.tasks.inject.scope import (
    Scope,
    discover,
    discover_scope,
    read_sources,
    repo_context,
)
from armbench.tasks.inject.selection import Plan, candidates, plan, seeded_pool
from armbench.tasks.inject.verification import MAX_ROUNDS, require_green, verify_rounds
from armbench.tasks.shared_mypy_cache import publish, seed, shared_cache

__all__ = [
    "MAX_ROUNDS",
    "Checkers",
    "Plan",
    "Scope",
    "candidates",
    "discover_scope",
    "inject",
    "plan",
    "read_sources",
    "repo_context",
    "require_green",
    "restore",
]


def inject(
    repo: Path,
    request: InjectionRequest,
    python: str = sys.executable,
    *,
    extra_env: Mapping[str, str] | None = None,
    environments: EnvironmentFactory = LOCAL,
    args: CheckArgs = DEFAULT_CHECK_ARGS,
) -> InjectionManifest:
    """Inject exactly the requested breakage into `repo`, verified by the real checkers.

    The repository is changed only on success; InjectionError (with what to do) otherwise.
    `extra_env` is added to the checkers' environment and `args` are the project's checker
    arguments (a task's template is verified the way its judge will run). The baseline runs
    the cheap checkers first: a repository mypy or ruff already fails is refused in seconds.
    mypy starts from the user's shared cache (armbench.tasks.shared_mypy_cache).
    """
    repo = repo.resolve()
    if request.total == 0:
        return InjectionManifest(seed=request.seed, requested=request.counts)
    with tempfile.TemporaryDirectory(prefix="armbench-inject-") as tmp:
        work = Path(tmp) / "repo"
        copy_repo(repo, work)
        cache = Path(tmp) / "mypy-cache"
        shared = shared_cache(python, repo, args.mypy)
        seeded = seed(cache, shared)
        checkers = Checkers(work, python, cache, extra_env, environments, args)
        sources = read_sources(work)
        with ThreadPoolExecutor(max_workers=1) as executor:
            listing = executor.submit(discover, checkers, work, sources, args)
            try:
                require_green(checkers.fast())
                if not seeded:
                    publish(cache, shared)
                require_green((checkers.collect(),))
            finally:
                scope = listing.result()
        pool = seeded_pool(sources, scope, request.seed)
        chosen, evidence = verify_rounds(checkers, work, sources, pool, request)
        manifest = build_manifest(
            request,
            sources,
            chosen,
            evidence,
            installed_versions(python, work, environments=environments),
        )
        write_back(repo, sources, apply_sites(sources, chosen))
    return manifest
