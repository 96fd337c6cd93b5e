"""Prompt templates as data: one YAML file per prompt, loaded by id, rendered with Jinja.

A prompt is part of what an arm *is*: rewording the orchestrator's system prompt can change
what an experiment measures (the published free-executor study told its orchestrator never to
edit). So prompts live in files beside this module, every run records the id and sha256 of each
prompt it used, and an arm may replace one from its config. The file format:

    id: orchestrator.system        # how code and configs name it
    role: orchestrator             # who receives it: solo, orchestrator, executor, router,
                                   # single_shot
    description: ...               # what it is for
    variables:                     # what the template may use, each with its type:
      may_edit: {type: flag, description: ...}   # flag: true/false; text: a string;
                                                 # list: a list of strings
    template: |-                   # Jinja (StrictUndefined: an unknown variable is an error)
      ...

The sim and serve-sim tell a request's role by asking the registry which prompt a text is a
rendering of (`PromptSet.identify`), never by comparing it with a copied prefix.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from armbench.core import Role, format_validation_error

if TYPE_CHECKING:
    import jinja2

PROMPTS_DIR = Path(__file__).resolve().parent
BUILTIN = "armbench"
"""The source of the prompts that ship with armbench."""

VariableType = Literal["flag", "text", "list"]


class PromptError(ValueError):
    """A prompt file or override that cannot be used; the message names it and the problem."""


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    class Variable(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        type: VariableType
        description: str

    id: str
    role: Role
    description: str
    variables: dict[str, Variable] = {}
    template: str


@functools.cache
def _jinja() -> jinja2.Environment:
    """The one Jinja environment (imported on first use: the CLI starts without it)."""
    import jinja2

    return jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


@dataclass(frozen=True)
class Prompt:
    """One prompt template, where it came from, and what it may be rendered with."""

    id: str
    role: Role
    template: str
    variables: Mapping[str, VariableType]
    source: str
    """`armbench` for a built-in prompt; the config field for an arm's override."""

    @property
    def sha256(self) -> str:
        """sha256 of the template text: what the manifest records for this prompt."""
        return hashlib.sha256(self.template.encode()).hexdigest()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the cached compiled template and patterns: a jinja2 Template does not
        pickle, and a prompt crosses to backend workers once it has been rendered."""
        return {k: v for k, v in self.__dict__.items() if k not in {"_compiled", "_patterns"}}

    @functools.cached_property
    def _compiled(self) -> jinja2.Template:
        return _jinja().from_string(self.template)

    def render(self, **values: Any) -> str:
        """The prompt text for `values`, one per declared variable."""
        missing = sorted(set(self.variables) - set(values))
        extra = sorted(set(values) - set(self.variables))
        if missing or extra:
            raise PromptError(
                f"prompt {self.id}: rendered with {sorted(values)}, but it takes "
                f"{sorted(self.variables)}"
            )
        return self._compiled.render(**values)

    @functools.cached_property
    def _patterns(self) -> tuple[re.Pattern[str], ...]:
        """One regex per combination of flag values; text and list variables match anything."""
        flags = [n for n, t in self.variables.items() if t == "flag"]
        patterns = []
        for combo in itertools.product((True, False), repeat=len(flags)):
            values: dict[str, Any] = dict(zip(flags, combo, strict=True))
            holes: dict[str, str] = {}
            for name, kind in self.variables.items():
                if kind == "flag":
                    continue
                hole = f"\x00{len(holes)}\x00"
                holes[hole] = name
                values[name] = [hole] if kind == "list" else hole
            rendered = re.escape(self.render(**values))
            for hole in holes:
                rendered = rendered.replace(re.escape(hole), "(?s:.*?)")
            patterns.append(re.compile(rendered, re.DOTALL))
        return tuple(patterns)

    def matches(self, text: str) -> bool:
        """Whether `text` is a rendering of this prompt (with any values)."""
        return any(p.fullmatch(text) for p in self._patterns)


def _check_variables(prompt: Prompt) -> None:
    """PromptError when the template uses a variable its prompt does not provide;
    jinja2.TemplateSyntaxError when it is not Jinja."""
    import jinja2.meta

    used = jinja2.meta.find_undeclared_variables(_jinja().parse(prompt.template))
    unknown = sorted(used - set(prompt.variables))
    if unknown:
        allowed = ", ".join(sorted(prompt.variables)) or "none"
        raise PromptError(
            f"{prompt.source}: the template uses {', '.join(unknown)}, which prompt "
            f"{prompt.id} does not provide (its variables: {allowed})"
        )


def _syntax_error() -> type[jinja2.TemplateSyntaxError]:
    import jinja2

    return jinja2.TemplateSyntaxError


def load_prompt_file(path: Path) -> Prompt:
    """A prompt from its YAML file, checked: the schema, the Jinja syntax, the variables."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = _File.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise PromptError(f"{path}: cannot read the prompt: {exc}") from exc
    except ValidationError as exc:
        raise PromptError(f"{path}: {format_validation_error(exc)}") from exc
    if f"{spec.id}.yaml" != path.name:
        raise PromptError(f"{path}: id {spec.id!r} must match the file name ({spec.id}.yaml)")
    prompt = Prompt(
        id=spec.id,
        role=spec.role,
        template=spec.template,
        variables={name: v.type for name, v in spec.variables.items()},
        source=BUILTIN,
    )
    try:
        _check_variables(prompt)
    except _syntax_error() as exc:
        raise PromptError(f"{path}: line {exc.lineno}: {exc.message}") from exc
    return prompt


@functools.cache
def builtin_prompts() -> Mapping[str, Prompt]:
    """Every prompt that ships with armbench, by id."""
    return {p.id: p for p in map(load_prompt_file, sorted(PROMPTS_DIR.glob("*.yaml")))}


def override(prompt_id: str, template: str, *, source: str) -> Prompt:
    """Built-in prompt `prompt_id` with its template replaced (same id, role and variables)."""
    base = builtin_prompts().get(prompt_id)
    if base is None:
        known = ", ".join(sorted(builtin_prompts()))
        raise PromptError(f"{source}: no prompt {prompt_id!r} (the prompts: {known})")
    replaced = Prompt(base.id, base.role, template, base.variables, source)
    try:
        _check_variables(replaced)
    except _syntax_error() as exc:
        raise PromptError(f"{source}: line {exc.lineno}: {exc.message}") from exc
    return replaced


class PromptSet:
    """The prompts one arm renders: the built-in ones, with the arm's overrides in their place."""

    def __init__(self, overrides: Iterable[Prompt] = ()) -> None:
        self._prompts = dict(builtin_prompts())
        self._prompts.update({p.id: p for p in overrides})

    def __getitem__(self, prompt_id: str) -> Prompt:
        return self._prompts[prompt_id]

    def render(self, prompt_id: str, **values: Any) -> str:
        return self._prompts[prompt_id].render(**values)

    def identify(self, text: str) -> Prompt | None:
        """The prompt `text` is a rendering of, if any (the first by id when several fit)."""
        for prompt_id in sorted(self._prompts):
            if self._prompts[prompt_id].matches(text):
                return self._prompts[prompt_id]
        return None

    def role_of(self, text: str) -> Role | None:
        """The role of whoever receives `text` as a prompt, if it is one of these prompts."""
        found = self.identify(text)
        return found.role if found is not None else None
