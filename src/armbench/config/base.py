"""The base of every config model: unknown keys are errors, values are frozen, and each
field's docstring is its documentation (`use_attribute_docstrings`); and the one error a
config that cannot run raises."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ConfigError(ValueError):
    """A config that cannot run; the message names the file, the field and the problem."""
