"""The breakage catalogue: realistic mistakes, each adding exactly one error to one checker.

Every operator finds candidate sites in a parsed module and turns each into one byte-exact
text edit computed from AST positions, so every byte it does not touch stays identical (no
`ast.unparse`). The injector verifies each chosen edit with the real checkers and drops the
ones that do not yield exactly one error of their kind, so the site filters below only need to
be good heuristics; they are tuned to keep that rejection rate low.

| id                              | kind    | the mistake, and what the checker says           |
|---------------------------------|---------|--------------------------------------------------|
| `return_value_dropped`          | mypy    | `return total` → `return` where `-> int`:        |
|                                 |         | [return-value] (local)                           |
| `default_quoted`                | mypy    | `retries: int = 3` → `retries: int = "3"`:       |
|                                 |         | [assignment] (local)                             |
| `optional_default_dropped`      | mypy    | `x: T | None = None` → `x: T = None`: [assignment] |
| `attribute_typo`                | mypy    | `self.total` → `self.toatl`: [attr-defined]      |
| `optional_return_dropped`       | mypy    | `-> T | None` → `-> T` over one `return None`:   |
|                                 |         | [return-value]                                   |
| `f_string_without_placeholders` | ruff    | `"no accounts"` → `f"no accounts"`: F541         |
| `comparison_to_none`            | ruff    | `x is None` → `x == None` (`!=`): E711           |
| `membership_test_negated`       | ruff    | `a not in b` → `not a in b`: E713                |
| `unused_import`                 | ruff    | `import copy` added in isort order: F401         |
| `parametrize_argname_typo`      | collect | `"amount, cents"` → `"amuont, cents"`: "function |
|                                 |         | uses no argument 'amuont'"                       |
| `parametrize_arity`             | collect | one case `(1, 2)` → `(1,)`: "the number of names |
|                                 |         | (2) must be equal to the number of values (1)"   |

Why each is realistic:

* `return_value_dropped` — an early exit written as a bare `return` in a function that must
  return a value; the caller gets None at runtime.
* `default_quoted` — a number typed as a string, as a config value would be.
* `optional_default_dropped` — the pre-PEP 484 implicit-Optional habit, still common in code
  ported from older type-hinted projects; no runtime change.
* `attribute_typo` — two swapped keys; mypy sees it, ruff cannot; the code fails only when run.
* `optional_return_dropped` — a signature "tidied" without reading the body; no runtime change.
* `f_string_without_placeholders` — an f-string whose placeholder was edited away.
* `comparison_to_none` — equality habit from other languages.
* `membership_test_negated` — English word order ("not x in y").
* `unused_import` — an import left behind by a refactor.
* `parametrize_argname_typo` — a parameter renamed in the test but not in the decorator.
* `parametrize_arity` — a case written with a value missing (or a column added elsewhere).

*Local* operators (the two above, and every ruff and collect one) change no type anything
outside their statement or signature sees, so their error stays where it is made; the others
are `remote` (a changed signature reaches every caller). Selection takes local sites first and
a remote one only when the local ones run out: on a tightly connected code base (typer with
its vendored click) a changed signature raises errors at call sites elsewhere.

Kinds: `mypy` and `ruff` mutations each add one finding of that checker; `collect` mutations
each make one test module fail pytest collection (so at most one per module). None of them
changes what the code does at runtime, except `attribute_typo`, `return_value_dropped` and
`default_quoted`, which may make a test fail (realistic, and not counted).

Sites are filtered to avoid known side effects. A misspelt attribute has type Any, so typos
are taken only where that Any goes nowhere — a discarded expression (`self.items.append(x)`)
or a direct call argument — never in a `return` (mypy adds `[no-any-return]`), a condition (a
lost narrowing adds errors) or an assignment (the Any spreads). f-strings are never made from
docstrings, annotations, subscripts, dict keys or identifier-like strings (`Literal` values,
modes, keys), whose literal type matters to mypy. Overloads are left alone.

A site's `extent` is the code it belongs to: the statement (only the header of a compound
statement) for expression-level edits, the signature for a default, the whole function for a
return annotation or a test's parametrize, the import block for an import. Two mutations never
share any byte of extent, so they cannot land in the same statement or test function, and the
injector attributes each checker finding to the mutation whose extent contains its line.
"""

from __future__ import annotations

from armbench.tasks.inject.operators_collect import ARGNAME_TYPO, PARAMETRIZE_ARITY
from armbench.tasks.inject.operators_local import DEFAULT_QUOTED, RETURN_VALUE_DROPPED
from armbench.tasks.inject.operators_mypy import (
    ATTRIBUTE_TYPO,
    OPTIONAL_DEFAULT_DROPPED,
    OPTIONAL_RETURN_DROPPED,
)
from armbench.tasks.inject.operators_ruff import (
    COMPARISON_TO_NONE,
    F_STRING,
    MEMBERSHIP_NEGATED,
    UNUSED_IMPORT,
)
from armbench.tasks.inject.sites import Kind, Module, Operator, RepoContext, Site, typo

# The site vocabulary is re-exported: callers look up operators and sites in one place.
__all__ = [
    "CATALOGUE",
    "KINDS",
    "OPERATORS",
    "Kind",
    "Module",
    "Operator",
    "RepoContext",
    "Site",
    "find_sites",
    "typo",
]

KINDS: tuple[Kind, ...] = ("mypy", "ruff", "collect")

# --- the catalogue --------------------------------------------------------------------------

CATALOGUE: tuple[Operator, ...] = (
    RETURN_VALUE_DROPPED,
    DEFAULT_QUOTED,
    OPTIONAL_DEFAULT_DROPPED,
    ATTRIBUTE_TYPO,
    OPTIONAL_RETURN_DROPPED,
    F_STRING,
    COMPARISON_TO_NONE,
    MEMBERSHIP_NEGATED,
    UNUSED_IMPORT,
    ARGNAME_TYPO,
    PARAMETRIZE_ARITY,
)
OPERATORS: dict[str, Operator] = {op.id: op for op in CATALOGUE}


def find_sites(module: Module, ctx: RepoContext, kinds: frozenset[Kind]) -> list[Site]:
    """Every site in `module` for operators of the given kinds: catalogue order, source order."""
    sites: list[Site] = []
    for operator in CATALOGUE:
        if operator.kind in kinds:
            found = sorted(operator.find(module, ctx), key=lambda s: (s.edit.start, s.edit.end))
            sites.extend(_dedupe(found))
    return sites


def _dedupe(sites: list[Site]) -> list[Site]:
    """One site per edit (a node can be reached twice, e.g. nested classes)."""
    seen: set[tuple[int, int, bytes]] = set()
    unique: list[Site] = []
    for site in sites:
        key = (site.edit.start, site.edit.end, site.edit.new)
        if key not in seen:
            seen.add(key)
            unique.append(site)
    return unique
