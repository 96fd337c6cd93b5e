"""Sweeps: a grid of config values expanded into arms.

A config's `sweep:` is a list of entries. Each names the arms it varies (`arms:`, every arm
when absent) and the values to give them: a `grid:` (every combination of its lists, as in a
Hydra multirun or a W&B grid sweep) and/or explicit `cases:` (combinations that are not a
product). Paths are dotted and relative to the arm: `returns.max_chars`, `strategy.threshold`,
`executor`, `limits.max_iterations`, `prompts.orchestrator.system.text`.

The expansion works on the raw mapping, before anything is validated, so every arm it makes is
validated like one written by hand, and a problem is named where the sweep set the value
(`sweep[0].grid.returns.max_chars=50: ...`). Each varied arm is replaced by the arms made from
it, named from it and their values (`B.max_chars=4000`), each recording its point
(`ArmSettings.sweep`). The sweep itself is not kept: the validated config, and so the
manifest, the canonical hash and `resume`, holds the arms it made, as if written by hand.

A sweep varies arms only. Run-wide settings (seed, replicates, tasks, pack) are one per run:
a study's "3 seeds" are armbench's `replicates: 3`, each replicate with its own derived seed.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError, model_validator

from armbench.config.arms import ARM_SETTINGS
from armbench.config.base import ConfigError, ConfigModel


class SweepEntry(ConfigModel):
    """One entry of `sweep:`: which arms it varies and the values it gives them. Every arm it
    varies is replaced by one arm per point, named `<arm>.<field>=<value>...` (the shortest
    unique end of each path; a value that is not a short plain word or number is shown as
    `v<n>`, its place among the path's values)."""

    arms: tuple[str, ...] | None = None
    """Names of the arms to vary; every arm of the config when absent."""
    grid: dict[str, Any] = Field(default_factory=dict)
    """Dotted field path, relative to the arm, → the list of values it takes; every
    combination of the lists is one point (a grid of 3 × 2 values makes 6 arms from each arm).
    A nested mapping continues the path (`returns: {max_chars: [1000, 4000]}`)."""
    cases: tuple[dict[str, Any], ...] = ()
    """Explicit points, for combinations that are not a product: each a mapping of dotted
    field path → one value. With a grid too, each case is combined with every grid point.
    An empty case `{}` keeps the arm as it is written."""

    @model_validator(mode="after")
    def _varies_something(self) -> SweepEntry:
        if not self.grid and not self.cases:
            raise ValueError("give a `grid`, `cases` or both")
        return self


@dataclass(frozen=True)
class Setting:
    """One value a sweep gives one field of an arm."""

    path: str
    """The dotted path as written (`returns.max_chars`)."""
    keys: tuple[str, ...]
    """The keys it sets in the arm's mapping (a prompt id, dots and all, is one key)."""
    where: str
    """Where the sweep sets it (`sweep[0].grid.returns.max_chars`)."""
    value: Any


@dataclass(frozen=True)
class Expansion:
    """The arms a sweep made, each with the arm it came from and the settings it was given;
    it names a problem of such an arm where the user wrote the value."""

    made: Mapping[str, tuple[str, tuple[Setting, ...]]]

    def where(self, arm: str, keys: Sequence[str]) -> str:
        """The dotted place of field `keys` of arm `arm`: in the sweep when the sweep set it
        (or a field around or inside it), else in the arm as written."""
        if arm not in self.made:
            return ".".join(("arms", arm, *keys))
        base, settings = self.made[arm]
        for setting in settings:
            n = min(len(keys), len(setting.keys))
            if n and tuple(keys[:n]) == setting.keys[:n]:
                return f"{setting.where}={_shown(setting.value)}"
        return ".".join(("arms", base, *keys))

    def explain(self, exc: ValidationError, union_tags: frozenset[str]) -> str:
        """Each problem, named by its dotted field path (`where` for an arm's field), without
        the discriminator tags pydantic adds to a path, each once."""
        lines = []
        for err in exc.errors():
            parts = [str(p) for i, p in enumerate(err["loc"]) if not (i == 2 and p in union_tags)]
            if len(parts) >= 2 and parts[0] == "arms":
                where = self.where(parts[1], parts[2:])
            else:
                where = ".".join(parts)
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {message}" if where else message)
        return "; ".join(dict.fromkeys(lines))


NO_SWEEP = Expansion({})

_KINDS = {get_args(cls.model_fields["kind"].annotation)[0]: cls for cls in ARM_SETTINGS}
_UNSWEPT = frozenset({"kind", "sweep"})
"""Fields a sweep may not set: the kind decides which fields exist; `sweep` is its record."""
_PLAIN = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,31}")
"""A value short and plain enough to name an arm as it is."""


def expand(raw: dict[str, Any]) -> tuple[dict[str, Any], Expansion]:
    """`raw` without its `sweep`, each arm the sweep varies replaced (in place, in order) by
    the arms made from it; ConfigError naming every problem of the sweep itself."""
    if "sweep" not in raw:
        return raw, NO_SWEEP
    out = {key: value for key, value in raw.items() if key != "sweep"}
    arms = out.get("arms")
    if not isinstance(arms, dict):
        return out, NO_SWEEP  # the config's own validation names the problem
    problems: list[str] = []
    points: dict[str, list[tuple[Setting, ...]]] = {}
    for i, entry in _entries(raw["sweep"], problems):
        for base in entry.arms if entry.arms is not None else tuple(arms):
            if base not in arms:
                problems.append(f"sweep[{i}].arms: no arm {base!r} (arms: {', '.join(arms)})")
            elif (model := _model_of(arms[base])) is not None:  # else validation names it
                points.setdefault(base, []).extend(_points(i, entry, model, problems))
    taken = {name for name in arms if name not in points}
    expanded: dict[str, Any] = {}
    made: dict[str, tuple[str, tuple[Setting, ...]]] = {}
    for base, arm in arms.items():
        if base not in points:
            expanded[base] = arm
            continue
        for name, point in zip(_names(base, points[base]), points[base], strict=True):
            if name in taken or name in made:
                problems.append(
                    f"sweep: arm {name!r} is made twice, or is also in `arms` (each point "
                    "needs values of its own)"
                )
            expanded[name] = _arm_at(base, arm, point, problems)
            made[name] = (base, point)
    if problems:
        raise ConfigError("; ".join(dict.fromkeys(problems)))
    return {**out, "arms": expanded}, Expansion(made)


def _model_of(arm: Any) -> type[BaseModel] | None:
    kind = arm.get("kind") if isinstance(arm, dict) else None
    return _KINDS.get(kind) if isinstance(kind, str) else None


def _entries(raw: Any, problems: list[str]) -> list[tuple[int, SweepEntry]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append("sweep: expected a list of entries, each with `grid` and/or `cases`")
        return []
    entries = []
    for i, item in enumerate(raw):
        try:
            entries.append((i, SweepEntry.model_validate(item)))
        except ValidationError as exc:
            for err in exc.errors():
                where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
                problems.append(f"sweep[{i}]{where}: {err['msg'].removeprefix('Value error, ')}")
    return entries


def _points(
    i: int, entry: SweepEntry, model: type[BaseModel], problems: list[str]
) -> list[tuple[Setting, ...]]:
    """The entry's points on an arm of `model`'s kind: grid × cases."""
    axes = []
    for path, values in _flatten(entry.grid):
        where = f"sweep[{i}].grid.{path}"
        keys = _keys(model, path, where, problems)
        if not isinstance(values, list) or not values:
            problems.append(f"{where}: expected a list of values (one arm each)")
        elif keys:
            axes.append([Setting(path, keys, where, value) for value in values])
    cases = [
        [
            Setting(path, keys, f"sweep[{i}].cases[{j}].{path}", value)
            for path, value in case.items()
            if (keys := _keys(model, path, f"sweep[{i}].cases[{j}].{path}", problems))
        ]
        for j, case in enumerate(entry.cases)
    ]
    points = [(*combo, *case) for combo in itertools.product(*axes) for case in cases or [[]]]
    for point in points:
        for n, later in enumerate(point):
            for earlier in point[:n]:
                k = min(len(later.keys), len(earlier.keys))
                if later.keys[:k] == earlier.keys[:k]:
                    problems.append(f"{later.where}: overlaps {earlier.where}")
    return points


def _flatten(grid: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in grid.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _keys(model: type[BaseModel], path: str, where: str, problems: list[str]) -> tuple[str, ...]:
    """The keys `path` sets in an arm of `model`'s kind; () after adding the problem."""
    kind = get_args(model.model_fields["kind"].annotation)[0]
    article = "an" if kind[0] in "aeiou" else "a"
    try:
        return _resolve(model, path.split("."), f"{article} {kind} arm")
    except ValueError as exc:
        hint = ""
        if not any(path.split(".")[0] in kind.model_fields for kind in ARM_SETTINGS):
            hint = "; a sweep varies arms (seed, replicates and the like hold for the whole run)"
        problems.append(f"{where}: {exc}{hint}")
        return ()


def _resolve(model: type[BaseModel], parts: list[str], what: str) -> tuple[str, ...]:
    head, rest = parts[0], parts[1:]
    own = model.__annotations__  # the kind's own fields first, then those all arms have
    fields = sorted(
        (f for f in model.model_fields if f not in _UNSWEPT), key=lambda f: f not in own
    )
    if head not in fields:
        raise ValueError(f"{head!r} is not a field of {what} (its fields: {', '.join(fields)})")
    if not rest:
        return (head,)
    annotation = model.model_fields[head].annotation
    mapping = get_origin(annotation) is dict
    inner = _model_in(get_args(annotation)[1] if mapping else annotation)
    if inner is None:
        raise ValueError(f"{head!r} of {what} is one value: it has no field {rest[0]!r}")
    if not mapping:
        return (head, *_resolve(inner, rest, f"`{head}`"))
    # A key may hold dots (prompt ids: `orchestrator.system`): the shortest one the rest fits.
    for n in range(1, len(rest)):
        key = ".".join(rest[:n])
        try:
            return (head, key, *_resolve(inner, rest[n:], f"`{head}.{key}`"))
        except ValueError:
            continue
    return (head, ".".join(rest))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _arm_at(
    base: str, arm: dict[str, Any], point: tuple[Setting, ...], problems: list[str]
) -> dict[str, Any]:
    """A copy of the raw arm with the point's values set and its place recorded."""
    made = copy.deepcopy(arm)
    for setting in point:
        node = made
        for n, key in enumerate(setting.keys[:-1]):
            if node.get(key) is None:
                node[key] = {}
            elif not isinstance(node[key], dict):
                inside = ".".join(setting.keys[: n + 1])
                problems.append(f"{setting.where}: arms.{base}.{inside} is not a mapping")
                break
            node = node[key]
        else:
            node[setting.keys[-1]] = copy.deepcopy(setting.value)
    made["sweep"] = {"base": base, "values": {s.path: s.value for s in point}}
    return made


def _names(base: str, points: list[tuple[Setting, ...]]) -> list[str]:
    """`<base>.<label>=<value>...` for each point, the paths in their first order."""
    order = list(dict.fromkeys(s.keys for point in points for s in point))
    labels = {keys: _label(keys, order) for keys in order}
    values: dict[tuple[str, ...], dict[str, str]] = {keys: {} for keys in order}

    def shown(setting: Setting) -> str:
        seen = values[setting.keys]
        key = json.dumps(setting.value, sort_keys=True, default=str)
        if key not in seen:
            plain = _shown(setting.value)
            seen[key] = plain if _PLAIN.fullmatch(plain) else f"v{len(seen) + 1}"
        return seen[key]

    return [
        base
        + "".join(
            f".{labels[s.keys]}={shown(s)}"
            for s in sorted(point, key=lambda s: order.index(s.keys))
        )
        for point in points
    ]


def _label(keys: tuple[str, ...], paths: list[tuple[str, ...]]) -> str:
    """The shortest end of `keys` no other of `paths` ends with."""
    for n in range(1, len(keys)):
        if not any(other != keys and other[-n:] == keys[-n:] for other in paths):
            return ".".join(keys[-n:])
    return ".".join(keys)


def _shown(value: Any) -> str:
    """A value on one line: a plain word or number as it is, `true`, `null`, anything else as
    JSON (a string quoted), shortened."""
    plain = isinstance(value, str) and _PLAIN.fullmatch(value)
    text = value if plain else json.dumps(value, default=str)
    return text if len(text) <= 40 else f"{text[:37]}..."
