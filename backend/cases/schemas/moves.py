"""What staff send to move a case in its lifecycle or to add a note to its timeline."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.cases.schemas.intake import known_units
from backend.cases.states import Move


class TransitionIn(BaseModel):
    """A move in the lifecycle, with what that move needs."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    move: Move
    lead_unit_code: Annotated[str | None, Field(max_length=40)] = None
    co_unit_codes: Annotated[list[str], Field(max_length=5)] = []
    reason: Annotated[str | None, Field(max_length=1000)] = None
    reply: Annotated[str | None, Field(max_length=2000)] = None
    note: Annotated[str | None, Field(max_length=1000)] = None

    _units = field_validator("lead_unit_code", "co_unit_codes")(known_units)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    public: bool = False
