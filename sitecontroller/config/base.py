"""The base of every configuration model: unknown keys and wrong types are errors, never defaulted."""

from __future__ import annotations

import json
from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Strict, frozen configuration section.

    `extra="forbid"` turns a misspelt key into an error; `strict=True` refuses "50" for an int.
    Configuration is JSON, so validate it in pydantic's JSON mode (`from_data`): arrays become
    tuples, ints are accepted for floats, NaN and infinities are refused.
    """

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, validate_default=True, allow_inf_nan=False
    )

    @classmethod
    def from_data(cls, data: Any) -> Self:
        """Validate already-parsed JSON data (a dict from a file, a twin patch, a payload)."""
        return cls.model_validate_json(json.dumps(data, allow_nan=True))
